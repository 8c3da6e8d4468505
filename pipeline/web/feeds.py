"""What a ``claimscan feed`` state database holds, for the ``/feeds`` page. Reads files.

The state is opened read-only and without the run lock (WAL lets a scan write while
this reads), so the page never disturbs a scheduled run. Reports are read from the
output directory the state is bound to, by the file names its index lines record.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, ReportError
from pipeline.feedscan.state import connect

__all__ = ["FeedItemView", "FeedView", "item_report_path", "read_feeds"]

ITEMS_PER_FEED = 100


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


def read_feeds(path: Path) -> list[FeedView]:
    """Read each feed and its newest items from a state database.

    Raises:
        ConfigError: No state database at ``path``, or an unreadable one.
    """
    try:
        conn = _open(path)
        try:
            feeds = conn.execute("SELECT * FROM feeds ORDER BY url").fetchall()
            out: list[FeedView] = []
            for f in feeds:
                count = conn.execute(
                    "SELECT COUNT(*) FROM items WHERE feed = ?", (f["url"],)
                ).fetchone()[0]
                rows = conn.execute(
                    "SELECT id, title, link, status, error, processed_at, index_line FROM items"
                    " WHERE feed = ? ORDER BY COALESCE(processed_at, last_seen) DESC, rowid DESC"
                    " LIMIT ?",
                    (f["url"], ITEMS_PER_FEED),
                ).fetchall()
                out.append(
                    FeedView(
                        url=f["url"],
                        last_fetch_at=f["last_fetch_at"],
                        last_status=f["last_status"],
                        last_error=f["last_error"],
                        items=tuple(_item(r) for r in rows),
                        item_count=count,
                    )
                )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path} is not a readable claimscan feed state: {exc}") from exc
    return out


def _index_line(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _item(row: sqlite3.Row) -> FeedItemView:
    line = _index_line(row["index_line"])
    labels = line.get("labels") if isinstance(line.get("labels"), dict) else {}
    reports = line.get("reports") if isinstance(line.get("reports"), dict) else {}
    return FeedItemView(
        id=row["id"],
        title=row["title"],
        link=row["link"],
        status=row["status"],
        published=line.get("published") if isinstance(line.get("published"), str) else None,
        processed_at=row["processed_at"],
        labels={str(k): int(v) for k, v in labels.items() if isinstance(v, int)},
        error=row["error"],
        has_report="json" in reports,
    )


def item_report_path(path: Path, item_id: str) -> Path:
    """Return the JSON report file of one item.

    Raises:
        ReportError: The item is unknown, has no JSON report, or names a file outside
            the state's output directory.
    """
    try:
        conn = _open(path)
        try:
            meta = conn.execute("SELECT value FROM meta WHERE key = 'out_dir'").fetchone()
            row = conn.execute("SELECT index_line FROM items WHERE id = ?", (item_id,)).fetchone()
        finally:
            conn.close()
    except (sqlite3.DatabaseError, ConfigError) as exc:
        raise ReportError(f"the feed state {path} cannot be read: {exc}") from exc
    if meta is None or row is None:
        raise ReportError(f"no feed item {item_id!r} with a report in {path}")
    reports = _index_line(row["index_line"]).get("reports")
    name = reports.get("json") if isinstance(reports, dict) else None
    # Index lines name files in the output directory; anything else is not ours to read.
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        raise ReportError(
            f"feed item {item_id!r} has no JSON report; run `claimscan feed` with --format json"
        )
    return Path(meta["value"]) / name
