"""The web app's database: checks, their reports, and editors' reviews. SQLite disk I/O.

One file (``<data dir>/claimscan-web.sqlite``, WAL) holds

* ``checks``: one row per submitted check: what was given (a URL, or the text itself),
  its status (``queued`` -> ``running`` -> ``done`` | ``failed``), progress, the error
  a user reads on failure, a preview of the claims found while the check runs, and the
  finished report exactly as ``pipeline.report.json.dump_report`` wrote it;
* ``reviews``: append-only, one row per review an editor saved (who, when, an optional
  label override and note); the newest row per claim is the one in force;
* ``meta``: the secret that signs CSRF tokens, so forms survive a restart.

Every method takes the one connection's lock, so the web handlers and the background
workers can share a :class:`Store`.
"""

from __future__ import annotations

import builtins
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claims.types import Label
from pipeline.errors import ConfigError

__all__ = ["DB_NAME", "CheckRow", "Review", "Store"]

DB_NAME = "claimscan-web.sqlite"
SCHEMA_VERSION = 1
STATUSES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checks (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    input BLOB,
    claims_done INTEGER NOT NULL DEFAULT 0,
    claims_total INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    preview TEXT,
    report TEXT,
    labels TEXT NOT NULL DEFAULT '{}',
    search TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS checks_by_time ON checks (created_at);
CREATE TABLE IF NOT EXISTS reviews (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id TEXT NOT NULL REFERENCES checks (id),
    claim_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    label TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS reviews_by_check ON reviews (check_id, claim_id, seq);
"""

INTERRUPTED = (
    "the server stopped before this check finished; nothing was lost except this "
    "check's progress: submit it again"
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Review:
    """An editor's review of one claim. Created by :meth:`Store.add_review`."""

    claim_id: str
    reviewer: str
    """The name the editor gave; the app has no accounts, so it is not verified."""
    reviewed_at: str
    """ISO 8601, UTC."""
    label: Label | None
    """The label the editor set, or None to keep the model's."""
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "reviewed_at": self.reviewed_at,
            "label": self.label.value if self.label is not None else None,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One check as stored. Created by :meth:`Store.get` and :meth:`Store.list`."""

    id: str
    created_at: str
    updated_at: str
    status: str
    kind: str
    """``url``, ``text`` or ``file``."""
    source: str
    """The URL, the file name, or ``text``."""
    title: str
    claims_done: int
    claims_total: int
    error: str | None
    preview: dict[str, Any] | None
    """While running: ``{"documents": [{"title", "claims": [text, ...]}]}``."""
    report: str | None
    """The JSON report, once done."""
    labels: dict[str, int]
    """Claims per label, a reviewer's label counting in place of the model's."""


class Store:
    """The web app's SQLite database; see the module docstring.

    Use :meth:`open`; it also marks checks a previous process left unfinished as failed.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: str | Path) -> Store:
        """Open (creating if needed) the database in ``data_dir``.

        Raises:
            ConfigError: The directory cannot be created or the file is not ours.
        """
        directory = Path(data_dir).expanduser()
        path = directory / DB_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            conn.isolation_level = None
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigError(f"{path} was written by a newer claimscan; upgrade")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (OSError, sqlite3.DatabaseError) as exc:
            raise ConfigError(
                f"cannot use {path} as the web app's database ({exc}); give another --data"
            ) from exc
        store = cls(path, conn)
        store._fail_interrupted()
        return store

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _fail_interrupted(self) -> None:
        with self._tx() as tx:
            tx.execute(
                "UPDATE checks SET status = 'failed', error = ?, input = NULL, updated_at = ?"
                " WHERE status IN ('queued', 'running')",
                (INTERRUPTED, _now()),
            )

    def secret(self) -> bytes:
        """The key CSRF tokens are signed with, made on first use and kept."""
        with self._tx() as tx:
            row = tx.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                tx.execute("INSERT INTO meta VALUES ('secret', ?)", (value,))
                return bytes.fromhex(value)
            return bytes.fromhex(row["value"])

    # -- checks

    def create(self, *, kind: str, source: str, title: str, data: bytes | None) -> str:
        """Record a new queued check and return its id (unguessable: it is the only key)."""
        check_id = secrets.token_hex(8)
        now = _now()
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO checks (id, created_at, updated_at, status, kind, source, title,"
                " input, search) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (check_id, now, now, kind, source, title, data, f"{title}\n{source}".lower()),
            )
        return check_id

    def take_input(self, check_id: str) -> tuple[str, str, str, bytes | None]:
        """Mark a check running and return (kind, source, title, the text or file given)."""
        with self._tx() as tx:
            row = tx.execute(
                "SELECT kind, source, title, input FROM checks WHERE id = ?", (check_id,)
            ).fetchone()
            tx.execute(
                "UPDATE checks SET status = 'running', updated_at = ? WHERE id = ?",
                (_now(), check_id),
            )
        return row["kind"], row["source"], row["title"], row["input"]

    def set_preview(self, check_id: str, title: str, preview: dict[str, Any], total: int) -> None:
        """Record the documents and claims found, before they are checked."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE checks SET title = ?, preview = ?, claims_total = ?, updated_at = ?,"
                " search = search || ? WHERE id = ?",
                (
                    title,
                    json.dumps(preview, ensure_ascii=False),
                    total,
                    _now(),
                    "\n" + _search_text(preview),
                    check_id,
                ),
            )

    def set_progress(self, check_id: str, done: int, total: int) -> None:
        with self._tx() as tx:
            tx.execute(
                "UPDATE checks SET claims_done = ?, claims_total = ?, updated_at = ? WHERE id = ?",
                (done, total, _now(), check_id),
            )

    def finish(self, check_id: str, report_json: str, labels: dict[str, int]) -> None:
        """Store the finished report; the input and preview are no longer needed."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE checks SET status = 'done', report = ?, labels = ?, input = NULL,"
                " preview = NULL, claims_done = claims_total, updated_at = ? WHERE id = ?",
                (report_json, json.dumps(labels), _now(), check_id),
            )

    def fail(self, check_id: str, error: str) -> None:
        with self._tx() as tx:
            tx.execute(
                "UPDATE checks SET status = 'failed', error = ?, input = NULL, updated_at = ?"
                " WHERE id = ?",
                (error, _now(), check_id),
            )

    def get(self, check_id: str) -> CheckRow | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM checks WHERE id = ?", (check_id,)).fetchone()
        return None if row is None else _check_row(row)

    def list(
        self, *, label: str | None = None, q: str | None = None, limit: int = 50
    ) -> list[CheckRow]:
        """Past checks, newest first.

        Args:
            label: Only checks with at least one claim of this label (reviews counted).
            q: Only checks whose title, source or claims contain this, ignoring case.
            limit: At most this many.
        """
        where, args = [], []
        if q:
            escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("search LIKE ? ESCAPE '\\'")
            args.append(f"%{escaped}%")
        if label:
            where.append("COALESCE(json_extract(labels, '$.\"' || ? || '\"'), 0) > 0")
            args.append(label)
        sql = "SELECT * FROM checks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit)).fetchall()
        return [_check_row(r) for r in rows]

    # builtins.list: inside this class, ``list`` names the method above.
    def pending(self) -> builtins.list[str]:
        """Ids of queued checks, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id FROM checks WHERE status = 'queued' ORDER BY created_at, rowid"
            ).fetchall()
        return [r["id"] for r in rows]

    # -- reviews

    def add_review(
        self, check_id: str, claim_id: str, reviewer: str, label: Label | None, note: str
    ) -> Review:
        """Store a review and recount the check's labels with it."""
        review = Review(claim_id, reviewer, _now(), label, note)
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO reviews (check_id, claim_id, reviewer, reviewed_at, label, note)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (check_id, claim_id, reviewer, review.reviewed_at, _label_value(label), note),
            )
        return review

    def reviews(self, check_id: str) -> dict[str, Review]:
        """The review in force for each reviewed claim of a check (the newest)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM reviews WHERE check_id = ? ORDER BY seq", (check_id,)
            ).fetchall()
        out: dict[str, Review] = {}
        for r in rows:
            label = Label(r["label"]) if r["label"] else None
            out[r["claim_id"]] = Review(
                r["claim_id"], r["reviewer"], r["reviewed_at"], label, r["note"]
            )
        return out

    def set_labels(self, check_id: str, labels: dict[str, int]) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE checks SET labels = ? WHERE id = ?", (json.dumps(labels), check_id))


def _label_value(label: Label | None) -> str | None:
    return None if label is None else label.value


def _search_text(preview: dict[str, Any]) -> str:
    parts: list[str] = []
    for doc in preview.get("documents", ()):
        parts.append(str(doc.get("title", "")))
        parts.extend(str(c) for c in doc.get("claims", ()))
    return "\n".join(parts).lower()


def _check_row(row: sqlite3.Row) -> CheckRow:
    return CheckRow(
        id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=row["status"],
        kind=row["kind"],
        source=row["source"],
        title=row["title"],
        claims_done=row["claims_done"],
        claims_total=row["claims_total"],
        error=row["error"],
        preview=json.loads(row["preview"]) if row["preview"] else None,
        report=row["report"],
        labels=json.loads(row["labels"]),
    )


def effective_labels(
    claims: Sequence[tuple[str, str]], reviews: dict[str, Review]
) -> dict[str, int]:
    """Count claims per label, a review's label replacing the model's. Pure.

    Args:
        claims: (claim id, model label value) for every claim of a check.
        reviews: From :meth:`Store.reviews`.
    """
    counts = {label.value: 0 for label in Label}
    for claim_id, label in claims:
        review = reviews.get(claim_id)
        value = review.label.value if review is not None and review.label is not None else label
        counts[value] = counts.get(value, 0) + 1
    return counts
