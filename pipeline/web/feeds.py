"""What a ``claimscan feed`` state database holds, for the ``/feeds`` page. Reads files.

The state is opened read-only and without the run lock (WAL lets a scan write while
this reads), so the page never disturbs a scheduled run. Label counts come from the
``index.jsonl`` and reports from ``<item id>.json`` in the output directory the state
is bound to (``claimscan feed --out``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, ReportError
from pipeline.feedscan.output import INDEX_NAME
from pipeline.feedscan.state import connect
from pipeline.report._common import http_url

__all__ = ["FeedItemView", "FeedView", "item_report_path", "read_feeds"]

ITEMS_PER_FEED = 100
MAX_INDEX_BYTES = 64 * 1024 * 1024
"""Read at most this much of ``index.jsonl`` (years of a busy newsroom's feeds)."""
_ITEM_ID = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True, slots=True)
class FeedItemView:
    """One item of a feed. Created by :func:`read_feeds`."""

    id: str
    title: str
    link: str
    status: str
    published: str | None
    processed_at: str | None
    labels: dict[str, int]
    error: str | None
    has_report: bool

    @property
    def href(self) -> str | None:
        """The item's link when it is an http(s) URL, safe to put in ``href``."""
        return http_url(self.link)


@dataclass(frozen=True, slots=True)
class FeedView:
    """One feed with its latest items. Created by :func:`read_feeds`."""

    url: str
    last_fetch_at: str | None
    last_status: str | None
    last_error: str | None
    items: tuple[FeedItemView, ...]
    item_count: int


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise ConfigError(f"no feed state at {path}; run `claimscan feed ... --state {path}`")
    return connect(path, readonly=True)


def _out_dir(conn: sqlite3.Connection) -> Path | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'out_dir'").fetchone()
    return Path(row["value"]) if row else None


def _index(out_dir: Path | None) -> dict[str, dict[str, Any]]:
    """The newest index line per item id (a rerun appends a new line for an edited item)."""
    if out_dir is None:
        return {}
    try:
        with (out_dir / INDEX_NAME).open(encoding="utf-8") as fh:
            lines = fh.read(MAX_INDEX_BYTES).splitlines()
    except OSError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash, or the cap above
        if isinstance(entry, dict) and isinstance(entry.get("item_id"), str):
            out[entry["item_id"]] = entry
    return out


def read_feeds(path: Path) -> list[FeedView]:
    """Read each feed and its newest items from a state database and its index.

    Raises:
        ConfigError: No state database at ``path``, or an unreadable one.
    """
    try:
        conn = _open(path)
        try:
            out_dir = _out_dir(conn)
            feeds = conn.execute("SELECT * FROM feeds ORDER BY url").fetchall()
            items: dict[str, list[sqlite3.Row]] = {}
            counts: dict[str, int] = {}
            for f in feeds:
                counts[f["url"]] = conn.execute(
                    "SELECT COUNT(*) FROM items WHERE feed = ?", (f["url"],)
                ).fetchone()[0]
                items[f["url"]] = conn.execute(
                    "SELECT id, title, link, status, error, processed_at FROM items"
                    " WHERE feed = ? ORDER BY COALESCE(processed_at, last_seen) DESC, rowid DESC"
                    " LIMIT ?",
                    (f["url"], ITEMS_PER_FEED),
                ).fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path} is not a readable claimscan feed state: {exc}") from exc
    index = _index(out_dir)
    return [
        FeedView(
            url=f["url"],
            last_fetch_at=f["last_fetch_at"],
            last_status=f["last_status"],
            last_error=f["last_error"],
            items=tuple(_item(r, index.get(r["id"], {})) for r in items[f["url"]]),
            item_count=counts[f["url"]],
        )
        for f in feeds
    ]


def _item(row: sqlite3.Row, entry: dict[str, Any]) -> FeedItemView:
    labels = entry.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    reports = entry.get("reports")
    reports = reports if isinstance(reports, dict) else {}
    published = entry.get("published")
    return FeedItemView(
        id=row["id"],
        title=row["title"],
        link=row["link"],
        status=row["status"],
        published=published if isinstance(published, str) else None,
        processed_at=row["processed_at"],
        labels={str(k): v for k, v in labels.items() if isinstance(v, int)},
        error=row["error"],
        has_report="json" in reports,
    )


def item_report_path(path: Path, item_id: str) -> Path:
    """Return the JSON report file of one item.

    Raises:
        ReportError: The item is unknown or has no JSON report.
    """
    # Item ids are hex digests (pipeline.feedscan.items), so one is a safe file name.
    if not _ITEM_ID.fullmatch(item_id):
        raise ReportError(f"{item_id!r} is not a feed item id")
    try:
        conn = _open(path)
        try:
            out_dir = _out_dir(conn)
            known = conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone()
        finally:
            conn.close()
    except (sqlite3.DatabaseError, ConfigError) as exc:
        raise ReportError(f"the feed state {path} cannot be read: {exc}") from exc
    report = None if out_dir is None else out_dir / f"{item_id}.json"
    if known is None or report is None or not report.is_file():
        raise ReportError(
            f"feed item {item_id} has no JSON report; run `claimscan feed` with --format json"
        )
    return report
