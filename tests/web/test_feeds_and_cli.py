"""The /feeds page over a real ``claimscan feed`` state, and the ``serve`` command's rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from pipeline.cli import cli
from pipeline.cli.serve import default_data_dir, is_loopback
from pipeline.config import Config
from pipeline.feedscan import ScanState, scan_feeds
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from tests.fakes import fake_models
from tests.feedscan.feed_server import Item, rss
from tests.web.conftest import BASE, MakeApp

CLAIMS = (
    "Exercise therapy reduces pain in chronic low back pain.",
    "Vitamin C supplementation prevents colds in the general population.",
)


@pytest.fixture
def feed_state(tmp_path: Path, config: Config) -> Path:
    """A state database and reports from one real scan of a feed file with two items,
    one of them titled with markup."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(
        rss(
            [
                Item(
                    guid="a",
                    title="Back pain <b>news</b>",
                    body=" ".join(CLAIMS),
                    link="https://example.org/a",
                ),
                Item(guid="b", title="Colds", body=CLAIMS[1], link="https://example.org/b"),
            ]
        )
    )
    state_path = tmp_path / "state.db"
    with ScanState.open(state_path) as state, build_client(config) as client:
        summary = scan_feeds(
            [str(feed)],
            state=state,
            out_dir=tmp_path / "out",
            config=config,
            client=client,
            pubmed=PubMed(client, config, sleep=lambda s: None),
            models=fake_models(),
            now=lambda: datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
            formats=("json",),
        )
    assert summary.ok and summary.items_new == 2
    return state_path


def test_feeds_page_lists_feeds_items_and_label_counts(make_app: MakeApp, feed_state: Path) -> None:
    with TestClient(make_app(feeds_state=feed_state), base_url=BASE) as client:
        page = client.get("/feeds").text
        assert "feed.xml" in page and "2 items" in page
        assert "Back pain &lt;b&gt;news&lt;/b&gt;" in page and "<b>news" not in page
        assert 'class="mini mini--supported"' in page
        links = sorted(set(re.findall(r'href="(/feeds/items/[0-9a-f]+)"', page)))
        assert len(links) == 2
        item = client.get(links[0])
        assert item.status_code == 200 and 'class="card lab lab--' in item.text
        # Read-only: a feed item's report has no review forms.
        assert "Review this claim" not in item.text
        assert client.get("/feeds/items/ffffffffffffffffffff").status_code == 404


def test_feeds_page_without_a_state_says_how_to_get_one(client: TestClient) -> None:
    page = client.get("/feeds")
    assert page.status_code == 200 and "--feeds-state" in page.text
    assert 'href="/feeds"' not in page.text.split("<main")[0]


def test_feeds_page_with_a_missing_state_says_so(make_app: MakeApp, tmp_path: Path) -> None:
    with TestClient(make_app(feeds_state=tmp_path / "none.db"), base_url=BASE) as client:
        page = client.get("/feeds")
    assert page.status_code == 500 and "no feed state at" in page.text


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.5.5.5", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("newsroom.example", False),
    ],
)
def test_serve_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_serve_refuses_a_public_bind_without_a_token(host: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", host])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "give --token (or set CLAIMSCAN_TOKEN)" in lines[0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XDG_DATA_HOME": "/srv/data"}, Path("/srv/data/claimscan")),
        ({}, Path.home() / ".local" / "share" / "claimscan"),
    ],
)
def test_serve_default_data_dir(env: dict[str, str], expected: Path) -> None:
    assert default_data_dir(env) == expected
