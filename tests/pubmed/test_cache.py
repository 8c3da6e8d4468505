"""ResponseCache tests on a temporary SQLite file with a fake clock."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from pipeline.pubmed.cache import ResponseCache, cache_key

PARAMS = {"db": "pubmed", "term": "vitamin d", "retmax": "10"}
URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path: Path, clock: Clock) -> ResponseCache:
    with ResponseCache(tmp_path / "sub" / "eutils.sqlite", clock=clock) as cache:
        yield cache


def test_cache_round_trip(cache: ResponseCache) -> None:
    cache.put("esearch.fcgi", PARAMS, b"<xml/>", ttl=60)
    assert cache.get("esearch.fcgi", PARAMS) == b"<xml/>"
    assert cache.get("efetch.fcgi", PARAMS) is None


def test_cache_entry_expires(cache: ResponseCache, clock: Clock) -> None:
    cache.put("esearch.fcgi", PARAMS, b"old", ttl=60)
    clock.now += 61
    assert cache.get("esearch.fcgi", PARAMS) is None
    assert cache.purge() == 1
    assert len(cache) == 0


@pytest.mark.parametrize(
    "extra",
    [{"api_key": "SECRET"}, {"tool": "other"}, {"email": "a@b.c"}, {"api_key": "X", "tool": "t"}],
)
def test_cache_key_ignores_private_params(extra: dict[str, str]) -> None:
    assert cache_key(URL, "esearch.fcgi", {**PARAMS, **extra}) == cache_key(
        URL, "esearch.fcgi", PARAMS
    )


def test_cache_key_ignores_param_order() -> None:
    reordered = dict(reversed(list(PARAMS.items())))
    assert cache_key(URL, "esearch.fcgi", reordered) == cache_key(URL, "esearch.fcgi", PARAMS)


def test_cache_never_stores_api_key(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "c.sqlite"
    with ResponseCache(path, clock=clock) as cache:
        cache.put("esearch.fcgi", {**PARAMS, "api_key": "SECRET-KEY-123"}, b"body", ttl=60)
    for name in path.parent.iterdir():
        assert b"SECRET-KEY-123" not in name.read_bytes()
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT request FROM responses").fetchall()
    assert rows and "SECRET" not in rows[0][0]


def test_cache_uses_wal(cache: ResponseCache) -> None:
    path = cache.path
    with closing(sqlite3.connect(path)) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_cache_is_thread_safe(cache: ResponseCache) -> None:
    def worker(n: int) -> None:
        for i in range(20):
            params = {"term": f"t{n}-{i}"}
            cache.put("esearch.fcgi", params, f"{n}-{i}".encode(), ttl=60)
            assert cache.get("esearch.fcgi", params) == f"{n}-{i}".encode()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 80


def test_cache_delete(cache: ResponseCache) -> None:
    cache.put("esearch.fcgi", PARAMS, b"x", ttl=60)
    cache.delete("esearch.fcgi", PARAMS)
    assert cache.get("esearch.fcgi", PARAMS) is None


def test_issue_14_answers_are_kept_per_server(tmp_path: Path) -> None:
    path = tmp_path / "eutils.sqlite"
    with ResponseCache(path, server="http://127.0.0.1:1/eutils/") as cache:
        cache.put("esearch.fcgi", PARAMS, b"<local/>", 60)
    with ResponseCache(path, server=URL) as cache:
        assert cache.get("esearch.fcgi", PARAMS) is None
    with ResponseCache(path, server="http://127.0.0.1:1/eutils/") as cache:
        assert cache.get("esearch.fcgi", PARAMS) == b"<local/>"
    assert cache_key(URL, "esearch.fcgi", PARAMS) != cache_key("http://x/", "esearch.fcgi", PARAMS)


def test_issue_14_a_cache_from_before_server_keys_is_emptied_with_a_notice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with ResponseCache(path) as cache:
        cache.put("esearch.fcgi", PARAMS, b"<old/>", 60)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.close()
    with caplog.at_level("WARNING"), ResponseCache(path, server=URL) as cache:
        assert len(cache) == 0
    assert [r.getMessage() for r in caplog.records if "emptied" in r.getMessage()]
