"""Session: the clients, models and clock built from one Config, and the APIs over it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pipeline
from claims.types import Label
from pipeline.config import Config
from pipeline.errors import ConfigError, PrivateAddressRefused, ScanLocked
from pipeline.feedscan import ItemStatus, ScanState
from pipeline.ingest.pages import fetch
from pipeline.run import Models
from pipeline.session import Session
from tests.eutils_server import EutilsServer
from tests.fakes import fake_models
from tests.feedscan.feed_server import rss
from tests.test_run import RECORDS

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CLAIMS = ["Exercise therapy reduces pain in chronic low back pain."]


@pytest.fixture
def server() -> Iterator[EutilsServer]:
    with EutilsServer(RECORDS, enforce_rate=False) as s:
        yield s


def _config(server: EutilsServer, tmp_path: Path) -> Config:
    return Config(
        eutils_url=server.base_url, cache_path=tmp_path / "cache.sqlite", min_hits=1, max_retries=0
    )


def test_session_loads_models_once_whichever_thread_asks(
    server: EutilsServer, tmp_path: Path
) -> None:
    calls: list[int] = []
    gate = threading.Event()

    def load() -> Models:
        gate.wait(5)
        calls.append(1)
        return fake_models()

    with Session.open(_config(server, tmp_path), models=load) as session:
        assert not session.models_loaded
        got: list[Models] = []
        threads = [threading.Thread(target=lambda: got.append(session.models())) for _ in range(4)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join(10)
        assert len(calls) == 1 and len(got) == 4 and all(m is got[0] for m in got)
        assert session.models_loaded


def test_session_checks_with_its_clock_and_closes_what_it_opened(
    server: EutilsServer, tmp_path: Path
) -> None:
    session = Session.open(_config(server, tmp_path), models=fake_models(), now=lambda: NOW)
    with session:
        report = session.check_claims(CLAIMS)
        assert report.generated_at == NOW
        assert report.documents[0].document.fetched_at == NOW
        assert report.documents[0].claims[0].verdict.label is Label.SUPPORTED
        assert session.pubmed.cache is not None
    assert session.http.is_closed
    with pytest.raises(Exception, match="closed"):
        session.pubmed.cache.get("esearch", {"term": "x"})  # type: ignore[union-attr]


def test_session_public_only_refuses_local_pages_but_reaches_local_eutils(
    server: EutilsServer, tmp_path: Path
) -> None:
    with Session.open(_config(server, tmp_path), public_only=True) as session:
        with pytest.raises(PrivateAddressRefused):
            fetch(session.http, server.base_url + "esearch.fcgi?term=x", max_bytes=10_000)
        assert session.pubmed.search("exercise").count >= 1


def _feed_file(tmp_path: Path) -> Path:
    from tests.feedscan.conftest import item

    path = tmp_path / "feed.xml"
    path.write_bytes(rss([item(1)]))
    return path


def test_scan_feeds_api_checks_new_items_once(server: EutilsServer, tmp_path: Path) -> None:
    feed = _feed_file(tmp_path)
    outcomes: list[ItemStatus] = []
    with Session.open(_config(server, tmp_path), models=fake_models()) as session:
        for _ in range(2):
            summary = pipeline.scan_feeds(
                [str(feed)],
                state=tmp_path / "state.db",
                out=tmp_path / "out",
                formats=("json", "markdown"),
                session=session,
                on_item=lambda o: outcomes.append(o.status),
            )
            assert summary.ok
    assert outcomes == [ItemStatus.NEW]  # the second scan found nothing new
    (line,) = (tmp_path / "out" / "index.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert set(entry["reports"]) == {"json", "markdown"} and entry["claims"] >= 1


def test_scan_feeds_api_refuses_bad_feeds_and_a_held_lock(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only http"):
        pipeline.scan_feeds(["ftp://example.org/feed"], state=tmp_path / "s.db", out=tmp_path)
    with ScanState.open(tmp_path / "s.db"), pytest.raises(ScanLocked):
        pipeline.scan_feeds([str(_feed_file(tmp_path))], state=tmp_path / "s.db", out=tmp_path)


def test_a_dead_url_fails_without_loading_the_models(server: EutilsServer, tmp_path: Path) -> None:
    # A user who mistyped a URL hears so in a second, not after the models load.
    def load() -> Models:
        raise AssertionError("models loaded although no source could be read")

    with Session.open(_config(server, tmp_path), models=load) as session:
        report = session.check(["http://127.0.0.1:9/article"])
        assert not session.models_loaded
    assert report.documents == ()
    assert [f.stage.value for f in report.failures] == ["ingest"]
