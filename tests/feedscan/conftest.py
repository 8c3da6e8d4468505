"""Fixtures for feed scanning: a feed server, an E-utilities server, and a scan runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Config
from pipeline.feedscan import ScanState, ScanSummary, scan_feeds
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from tests.eutils_server import EutilsServer, Record
from tests.fakes import fake_models
from tests.feedscan.feed_server import FeedServer, Item

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECORDS = [
    Record(
        "101",
        "Exercise therapy for chronic low back pain",
        ("Exercise therapy reduces pain in adults with chronic low back pain.",),
    ),
    Record(
        "103",
        "Vitamin C and the common cold",
        ("Vitamin C supplementation did not prevent colds in the general population.",),
    ),
]
CLAIMS = (
    "Exercise therapy reduces pain in chronic low back pain.",
    "Vitamin C supplementation prevents colds in the general population.",
)


def item(n: int, *, edited: bool = False, **kw: Any) -> Item:
    """A feed item with two health claims; ``edited`` changes its text."""
    body = f"{CLAIMS[n % 2]} {CLAIMS[(n + 1) % 2]} Note {n}."
    if edited:
        body += " Updated with a correction."
    kw.setdefault("guid", f"https://example.org/?p={n}")
    kw.setdefault("link", f"https://example.org/post-{n}/")
    return Item(title=f"Post {n}", body=body, **kw)


def config_for(eutils: EutilsServer) -> Config:
    return Config(eutils_url=eutils.base_url, cache_path=None, min_hits=1, max_retries=0)


@pytest.fixture
def eutils() -> Iterator[EutilsServer]:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        yield server


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


Scan = Callable[..., ScanSummary]


@pytest.fixture
def scan(eutils: EutilsServer, tmp_path: Path) -> Scan:
    """Run one scan over feed locators into ``tmp_path/out`` with state ``tmp_path/state.db``."""
    models = fake_models()

    def run(feed_list: list[str], **kw: Any) -> ScanSummary:
        config = config_for(eutils)
        kw.setdefault("models", models)
        with ScanState.open(tmp_path / "state.db") as state, build_client(config) as client:
            pubmed = PubMed(client, config, sleep=lambda s: None)
            return scan_feeds(
                feed_list,
                state=state,
                out_dir=tmp_path / "out",
                config=config,
                client=client,
                pubmed=pubmed,
                now=lambda: NOW,
                **kw,
            )

    return run
