"""What a scan state holds, per feed, for ``claimscan feed --status``. Reads the state file.

Opens the database read-only and without the run lock; WAL lets it read while a run
writes.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.feedscan.state import connect

__all__ = ["FeedStatus", "read_status"]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One feed as the state holds it. Created by :func:`read_status`."""

    url: str
    last_fetch_at: str | None
    last_status: str | None
    """``ok``, ``not-modified`` or ``failed``."""
    last_error: str | None
    consecutive_failures: int
    items: dict[str, int]
    """Item count per status."""
    failures: tuple[tuple[str, str, int, str], ...]
    """(item id, title, attempts, error) for failed and abandoned items."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "last_fetch_at": self.last_fetch_at,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "consecutive_failures": self.consecutive_failures,
            "items": dict(self.items),
            "failures": [
                {"id": i, "title": t, "attempts": a, "error": e} for i, t, a, e in self.failures
            ],
        }


def read_status(path: str | os.PathLike[str]) -> list[FeedStatus]:
    """Read what a state database holds, per feed, without taking the run lock.

    WAL lets this read while a run writes.

    Raises:
        ConfigError: No state database at ``path``, or an unreadable one.
    """
    db = Path(path)
    if not db.is_file():
        raise ConfigError(f"no state at {db}; run `claimscan feed ... --state {db}` first")
    try:
        conn = connect(db, readonly=True)
        try:
            feeds = conn.execute("SELECT * FROM feeds ORDER BY url").fetchall()
            counts: dict[str, dict[str, int]] = {}
            for r in conn.execute(
                "SELECT feed, status, COUNT(*) AS n FROM items GROUP BY feed, status"
            ):
                counts.setdefault(r["feed"], {})[r["status"]] = r["n"]
            failures: dict[str, list[tuple[str, str, int, str]]] = {}
            for r in conn.execute(
                "SELECT id, feed, title, attempts, error FROM items"
                " WHERE status IN ('failed', 'abandoned') ORDER BY rowid"
            ):
                failures.setdefault(r["feed"], []).append(
                    (r["id"], r["title"], r["attempts"], r["error"] or "")
                )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{db} is not a readable claimscan state database: {exc}") from exc
    return [
        FeedStatus(
            url=f["url"],
            last_fetch_at=f["last_fetch_at"],
            last_status=f["last_status"],
            last_error=f["last_error"],
            consecutive_failures=f["consecutive_failures"],
            items=counts.get(f["url"], {}),
            failures=tuple(failures.get(f["url"], ())),
        )
        for f in feeds
    ]
