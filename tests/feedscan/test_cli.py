"""``claimscan feed``: usage errors, exit codes, summary, --status, the lock message.

These runs never need models: feeds fail or answer 304, and models load lazily.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.feedscan import ScanState
from tests.eutils_server import EutilsServer
from tests.feedscan.conftest import Scan, item
from tests.feedscan.feed_server import Feed, FeedServer, rss


def _feed(tmp_path: Path, *args: str) -> Result:
    base = ["feed", "--state", str(tmp_path / "state.db")]
    return CliRunner().invoke(cli, [*base, *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["https://example.org/feed"], "--out DIR is required"),
        (["--out", "o"], "at least one feed"),
        (["ftp://example.org/feed", "--out", "o"], "only http(s) feed URLs"),
        (["x.xml", "--out", "o", "--since", "last week"], "is not a date"),
        (["x.xml", "--out", "o", "--format", "terminal"], "terminal"),
    ],
)
def test_cli_feed_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = _feed(tmp_path, *args)
    assert result.exit_code == 2 and message in result.output


def test_cli_feed_failures_exit_1_with_summary(
    feeds: FeedServer, eutils: EutilsServer, tmp_path: Path
) -> None:
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"# newsroom feeds\n\n{feeds.url('/gone.xml')}  # retired\n")
    result = _feed(
        tmp_path,
        "--feeds",
        str(listing),
        "--out",
        str(tmp_path / "out"),
        "--eutils-url",
        eutils.base_url,
        "--summary-json",
        str(tmp_path / "summary.json"),
    )
    assert result.exit_code == 1, result.output
    assert "feeds: 0 fetched, 0 not modified, 1 failed" in result.stderr
    assert "HTTP 404" in result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ok"] is False and summary["feeds"]["failed"] == 1


def test_cli_feed_unchanged_exits_0_and_status_shows_state(
    feeds: FeedServer, eutils: EutilsServer, scan: Scan, tmp_path: Path
) -> None:
    feeds.feeds["/a.xml"] = Feed(rss([item(1), item(2)]))
    url = feeds.url("/a.xml")
    scan([url])
    result = _feed(tmp_path, url, "--out", str(tmp_path / "out"), "--eutils-url", eutils.base_url)
    assert result.exit_code == 0, result.output
    assert "1 not modified" in result.stderr
    result = _feed(tmp_path, "--status")
    assert result.exit_code == 0
    assert url in result.stdout and "2 done" in result.stdout
    result = _feed(tmp_path, "--status", "--summary-json", "-")
    (status,) = json.loads(result.stdout)
    assert status["url"] == url and status["last_status"] == "not-modified"


def test_cli_feed_second_run_is_refused_while_locked(tmp_path: Path) -> None:
    with ScanState.open(tmp_path / "state.db"):
        result = _feed(tmp_path, "x.xml", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "another claimscan feed run" in result.output


def test_cli_feed_status_without_state(tmp_path: Path) -> None:
    result = _feed(tmp_path, "--status")
    assert result.exit_code == 1 and "no state at" in result.output
