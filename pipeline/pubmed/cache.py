"""SQLite cache of raw E-utilities response bodies. Reads and writes one SQLite file.

Entries are keyed on a SHA-256 of the normalised request: the E-utilities base URL
that answered, the endpoint and the sorted parameters *without* ``api_key``, ``tool``
and ``email``, so the key never depends on, and the file never contains, who asked,
and an answer from one server (a test server, a mirror) is never served for another.
Each entry carries its own expiry: esearch answers change as PubMed grows
(``Config.esearch_ttl``), an efetch by PMID hardly ever (:data:`EFETCH_TTL`).

One connection is shared by all threads behind a lock; SQLite runs in WAL mode so
several processes (parallel CLI runs, benchmarks) can read while one writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

__all__ = ["EFETCH_TTL", "PRIVATE_PARAMS", "ResponseCache", "cache_key"]

EFETCH_TTL = 180 * 24 * 3600.0
"""Seconds an efetch answer stays fresh: records by PMID are nearly immutable."""

PRIVATE_PARAMS = frozenset({"api_key", "tool", "email"})
"""Parameters left out of cache keys and never stored."""

KEY_VERSION = 2
"""``PRAGMA user_version`` of caches keyed by server; older files are emptied on open."""

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    request TEXT NOT NULL,
    body BLOB NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL
)
"""


def _normalise(server: str, endpoint: str, params: Mapping[str, object]) -> str:
    public = sorted((k, str(v)) for k, v in params.items() if k not in PRIVATE_PARAMS)
    return json.dumps([server, endpoint, public], separators=(",", ":"), ensure_ascii=False)


def cache_key(server: str, endpoint: str, params: Mapping[str, object]) -> str:
    """Return the cache key for a request. Pure.

    Args:
        server: The E-utilities base URL the request goes to.
        endpoint: E-utility name, e.g. ``"esearch.fcgi"``.
        params: Request parameters; ``api_key``, ``tool`` and ``email`` are ignored.

    Returns:
        A hex SHA-256 digest.
    """
    return hashlib.sha256(_normalise(server, endpoint, params).encode()).hexdigest()


class ResponseCache:
    """Response bodies by request, with a time-to-live per entry.

    Args:
        path: SQLite file; parent directories are created. ``":memory:"`` works too.
        server: The E-utilities base URL whose answers this cache holds; part of every key.
        clock: Wall-clock seconds (``time.time``); tests pass a fake one to expire entries.
    """

    def __init__(
        self, path: Path | str, *, server: str = "", clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.server = server
        self._clock = clock
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # check_same_thread=False: the lock, not the thread, guards the connection.
        self._conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version < KEY_VERSION:
                dropped = self._conn.execute("DELETE FROM responses").rowcount
                self._conn.execute(f"PRAGMA user_version = {KEY_VERSION}")
                if dropped:
                    log.warning(
                        "claimscan: emptied the E-utilities cache %s (%d responses): an older "
                        "claimscan wrote it without noting which server answered",
                        path,
                        dropped,
                    )
            self._conn.commit()

    def get(self, endpoint: str, params: Mapping[str, object]) -> bytes | None:
        """Return the cached body for a request, or None when absent or expired.

        Args:
            endpoint: E-utility name.
            params: Request parameters (private ones are ignored).
        """
        key = cache_key(self.server, endpoint, params)
        with self._lock:
            row = self._conn.execute(
                "SELECT body, expires_at FROM responses WHERE key = ?", (key,)
            ).fetchone()
        if row is None or row[1] <= self._clock():
            return None
        return bytes(row[0])

    def put(self, endpoint: str, params: Mapping[str, object], body: bytes, ttl: float) -> None:
        """Store a body for ``ttl`` seconds, replacing any older entry.

        Args:
            endpoint: E-utility name.
            params: Request parameters; private ones are neither keyed nor stored.
            body: The raw response body.
            ttl: Seconds the entry stays fresh.
        """
        now = self._clock()
        row = (
            cache_key(self.server, endpoint, params),
            endpoint,
            _normalise(self.server, endpoint, params),
            body,
            now,
        )
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)", (*row, now + ttl)
            )
            self._conn.commit()

    def delete(self, endpoint: str, params: Mapping[str, object]) -> None:
        """Forget one request's entry, e.g. after its body turned out to be unusable."""
        with self._lock:
            self._conn.execute(
                "DELETE FROM responses WHERE key = ?", (cache_key(self.server, endpoint, params),)
            )
            self._conn.commit()

    def purge(self) -> int:
        """Delete expired entries.

        Returns:
            How many entries were deleted.
        """
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM responses WHERE expires_at <= ?", (self._clock(),)
            )
            self._conn.commit()
            return cursor.rowcount

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
