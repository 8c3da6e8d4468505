"""The scan state: which feeds and items were seen, in SQLite, behind a run lock. Disk I/O.

One SQLite database (stdlib ``sqlite3``, WAL, ``synchronous=FULL``) holds

* ``feeds``: per feed URL, the saved ETag / Last-Modified and the last fetch's outcome;
* ``items``: per item id, the feed it came from, its latest content hash, its status
  (``pending``, ``running``, ``done``, ``failed``, ``abandoned``, ``skipped``), attempts,
  last error, and while work is owed the document itself, so items survive a crash even
  when the feed answers 304 on the next run;
* ``meta``: the output directory the state belongs to.

Item lifecycle, each arrow one transaction::

    (seen) -> pending -> running -> done            (reports renamed into place first)
                            |-> failed -> running   (retried next run)
                            |-> abandoned           (after max_attempts)
    (seen, older than --since) -> skipped
    done + new content hash -> pending (change "updated")

``attempts`` is counted when an item *starts*, so an item that crashes the process
(or gets it OOM-killed) every time is abandoned after ``max_attempts`` instead of
blocking the feed forever.

An index line owed to ``index.jsonl`` is stored with the ``done``/``abandoned``
transition (``index_pending = 1``) and cleared once the line is fsynced, so a crash
between the two is repaired on the next run without writing the line twice.

A run holds an exclusive ``fcntl.flock`` on ``<state>.lock`` for its whole life; the
kernel drops it when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from claims.types import Document
from pipeline.errors import ConfigError, ScanLocked
from pipeline.feedscan.items import FeedItem, document_from_json, document_to_json
from pipeline.report.json import iso

__all__ = [
    "ItemCounts",
    "PendingItem",
    "ScanLocked",
    "ScanState",
    "connect",
]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_fetch_at TEXT,
    last_status TEXT,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_ok_at TEXT
);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    feed TEXT NOT NULL,
    key TEXT NOT NULL,
    link TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    status TEXT NOT NULL,
    change TEXT NOT NULL DEFAULT 'new',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    document TEXT,
    processed_at TEXT,
    processed_hash TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    index_line TEXT,
    index_pending INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_by_feed ON items (feed, status);
"""


@dataclass(frozen=True, slots=True)
class ItemCounts:
    """What recording one feed body did to the items table."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    """Older than ``--since``; recorded so they are never picked up later."""


@dataclass(frozen=True, slots=True)
class PendingItem:
    """An item owed a check. Created by :meth:`ScanState.pending_items`."""

    id: str
    feed: str
    change: str
    """``new`` or ``updated``."""
    content_hash: str
    attempts: int
    """Attempts started before this one."""
    revision: int
    """Index lines already written for this item."""
    document: Document


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the state database in autocommit mode with dict-like rows (read-only if asked)."""
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(path, timeout=30)
    # Transactions are opened explicitly (BEGIN IMMEDIATE) around each state change.
    conn.isolation_level = None
    conn.row_factory = sqlite3.Row
    return conn


class ScanState:
    """The open, locked state of one scan run.

    Use :meth:`open`; close with :meth:`close` or a ``with`` block, which also
    releases the lock.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd

    # -- lifecycle

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ScanState:
        """Lock and open (creating if needed) the state database at ``path``.

        Raises:
            ScanLocked: Another run holds the lock.
            ConfigError: The file is not a claimscan state database or cannot be created.
        """
        db = Path(path)
        lock_path = db.with_name(db.name + ".lock")
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot create the state lock {lock_path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise ScanLocked(
                f"another claimscan feed run{who} is using {db}; this run did nothing. "
                "Let it finish, or give this run its own --state and --out"
            ) from None
        # The pid is only for the message above; the flock is what excludes.
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            conn = connect(db)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed "done" must survive power loss, not only a killed process.
            conn.execute("PRAGMA synchronous=FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"{db} was written by a newer claimscan (schema {version}); upgrade"
                )
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            os.close(fd)
            raise ConfigError(f"{db} is not a usable claimscan state database: {exc}") from exc
        except ConfigError:
            os.close(fd)
            raise
        return cls(db, conn, fd)

    def close(self) -> None:
        """Close the database and release the lock."""
        self._conn.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> ScanState:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- meta

    def bind_output(self, out_dir: Path) -> None:
        """Tie the state to one output directory, refusing a different one later.

        Raises:
            ConfigError: The state was used with another ``--out``.
        """
        resolved = str(out_dir.resolve())
        with self._tx() as tx:
            row = tx.execute("SELECT value FROM meta WHERE key = 'out_dir'").fetchone()
            if row is None:
                tx.execute("INSERT INTO meta VALUES ('out_dir', ?)", (resolved,))
            elif row["value"] != resolved:
                raise ConfigError(
                    f"{self.path} belongs to --out {row['value']}, not {resolved}; "
                    "use that directory or start a new --state"
                )

    # -- feeds

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the saved (ETag, Last-Modified) for a feed."""
        row = self._conn.execute(
            "SELECT etag, last_modified FROM feeds WHERE url = ?", (url,)
        ).fetchone()
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def _touch_feed(self, tx: sqlite3.Connection, url: str) -> None:
        tx.execute("INSERT OR IGNORE INTO feeds (url) VALUES (?)", (url,))

    def record_not_modified(
        self, url: str, at: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        """Record a 304 (the validators may have been refreshed)."""
        with self._tx() as tx:
            self._touch_feed(tx, url)
            tx.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, last_fetch_at = ?, "
                "last_status = 'not-modified', last_error = NULL, consecutive_failures = 0, "
                "last_ok_at = ? WHERE url = ?",
                (etag, last_modified, iso(at), iso(at), url),
            )

    def record_feed_failure(self, url: str, at: datetime, error: str) -> None:
        """Record a failed fetch or parse; the validators are kept for the next try."""
        with self._tx() as tx:
            self._touch_feed(tx, url)
            tx.execute(
                "UPDATE feeds SET last_fetch_at = ?, last_status = 'failed', last_error = ?, "
                "consecutive_failures = consecutive_failures + 1 WHERE url = ?",
                (iso(at), error, url),
            )

    def record_feed_items(
        self,
        url: str,
        items: Sequence[FeedItem],
        *,
        at: datetime,
        etag: str | None,
        last_modified: str | None,
        since: datetime | None = None,
    ) -> ItemCounts:
        """Record a fetched feed's items and its new validators in one transaction.

        The validators are saved together with the pending items (documents included),
        so a crash can never leave a saved ETag whose items were not recorded.

        Args:
            url: The feed.
            items: From :func:`~pipeline.feedscan.items.feed_items`.
            at: Fetch time.
            etag: New ``ETag`` to send next time.
            last_modified: New ``Last-Modified`` to send next time.
            since: Items published before this are recorded as ``skipped``.
        """
        new = updated = unchanged = skipped = 0
        with self._tx() as tx:
            self._touch_feed(tx, url)
            tx.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, last_fetch_at = ?, "
                "last_status = 'ok', last_error = NULL, consecutive_failures = 0, "
                "last_ok_at = ? WHERE url = ?",
                (etag, last_modified, iso(at), iso(at), url),
            )
            for item in items:
                doc = item.document
                row = tx.execute(
                    "SELECT status, content_hash, processed_hash FROM items WHERE id = ?",
                    (item.id,),
                ).fetchone()
                if row is None:
                    old = since is not None and doc.published is not None and doc.published < since
                    tx.execute(
                        "INSERT INTO items (id, feed, key, link, title, content_hash, first_seen,"
                        " last_seen, status, change, document) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            item.id,
                            url,
                            item.key,
                            doc.url,
                            doc.title,
                            item.content_hash,
                            iso(at),
                            iso(at),
                            "skipped" if old else "pending",
                            "new",
                            None if old else document_to_json(doc),
                        ),
                    )
                    skipped += old
                    new += not old
                elif row["content_hash"] == item.content_hash:
                    tx.execute("UPDATE items SET last_seen = ? WHERE id = ?", (iso(at), item.id))
                    unchanged += 1
                elif row["status"] == "skipped":
                    tx.execute(
                        "UPDATE items SET content_hash = ?, last_seen = ? WHERE id = ?",
                        (item.content_hash, iso(at), item.id),
                    )
                    skipped += 1
                else:
                    # Edited since last seen. Work already owed keeps its "new"/"updated"
                    # change; finished or given-up items are owed a fresh check.
                    owed = row["status"] in ("pending", "running", "failed")
                    tx.execute(
                        "UPDATE items SET feed = ?, link = ?, title = ?, content_hash = ?,"
                        " last_seen = ?, status = 'pending', document = ?, attempts = 0,"
                        " error = NULL, change = CASE WHEN ? THEN change"
                        " WHEN processed_hash IS NULL THEN 'new' ELSE 'updated' END"
                        " WHERE id = ?",
                        (
                            url,
                            doc.url,
                            doc.title,
                            item.content_hash,
                            iso(at),
                            document_to_json(doc),
                            owed,
                            item.id,
                        ),
                    )
                    updated += not owed
                    unchanged += owed
        return ItemCounts(new, updated, unchanged, skipped)

    # -- items

    def recover_interrupted(self) -> int:
        """Turn items left ``running`` by a killed run into failed, retryable work.

        Their attempt was already counted, so an item that kills the process every
        time runs out of attempts like any other failing item.

        Returns:
            How many items were recovered.
        """
        with self._tx() as tx:
            cur = tx.execute(
                "UPDATE items SET status = 'failed', error = 'the run stopped while checking"
                " this item (attempt ' || attempts || ')' WHERE status = 'running'"
            )
            return cur.rowcount

    def _owed(self, feeds: Iterable[str], condition: str, *args: object) -> list[PendingItem]:
        feed_list = list(feeds)
        if not feed_list:
            return []
        marks = ",".join("?" * len(feed_list))
        rows = self._conn.execute(
            "SELECT id, feed, change, content_hash, attempts, revision, document FROM items"
            f" WHERE feed IN ({marks}) AND document IS NOT NULL AND ({condition})"
            " ORDER BY attempts, first_seen, rowid",
            (*feed_list, *args),
        ).fetchall()
        return [
            PendingItem(
                r["id"],
                r["feed"],
                r["change"],
                r["content_hash"],
                r["attempts"],
                r["revision"],
                document_from_json(r["document"]),
            )
            for r in rows
        ]

    def pending_items(self, feeds: Iterable[str], max_attempts: int) -> list[PendingItem]:
        """Items of these feeds owed a check (pending, or failed with attempts left).

        Fewest attempts first, then oldest: an item that keeps failing moves behind
        the others instead of spending every run's first slot.
        """
        return self._owed(
            feeds, "status = 'pending' OR (status = 'failed' AND attempts < ?)", max_attempts
        )

    def exhausted_items(self, feeds: Iterable[str], max_attempts: int) -> list[PendingItem]:
        """Failed items of these feeds with no attempts left, not yet abandoned."""
        return self._owed(feeds, "status = 'failed' AND attempts >= ?", max_attempts)

    def item_error(self, item_id: str) -> str | None:
        """The last error recorded for an item."""
        row = self._conn.execute("SELECT error FROM items WHERE id = ?", (item_id,)).fetchone()
        return row["error"] if row else None

    def start_item(self, item_id: str) -> None:
        """Mark an item ``running`` and count the attempt, before any work on it."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE items SET status = 'running', attempts = attempts + 1 WHERE id = ?",
                (item_id,),
            )

    def finish_item(
        self, item: PendingItem, *, at: datetime, status: str, index_line: str, error: str | None
    ) -> None:
        """Record an item ``done`` or ``abandoned`` and the index line it is owed.

        Call only after its report files are in place. ``status`` is ``done`` or
        ``abandoned``.
        """
        with self._tx() as tx:
            tx.execute(
                "UPDATE items SET status = ?, error = ?, processed_at = ?, processed_hash = ?,"
                " document = NULL, revision = revision + 1, index_line = ?, index_pending = 1"
                " WHERE id = ?",
                (status, error, iso(at), item.content_hash, index_line, item.id),
            )

    def fail_item(self, item_id: str, error: str) -> None:
        """Record a failed attempt; the item is retried next run while attempts remain."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE items SET status = 'failed', error = ? WHERE id = ?", (error, item_id)
            )

    def owed_index_lines(self) -> list[tuple[str, int, str]]:
        """(item id, revision, line) for index lines recorded but not yet known written."""
        rows = self._conn.execute(
            "SELECT id, revision, index_line FROM items WHERE index_pending = 1 ORDER BY rowid"
        ).fetchall()
        return [(r["id"], r["revision"], r["index_line"]) for r in rows]

    def index_written(self, item_id: str) -> None:
        """Record that an item's owed index line is fsynced in ``index.jsonl``."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE items SET index_pending = 0, index_line = NULL WHERE id = ?", (item_id,)
            )
