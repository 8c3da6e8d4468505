"""scan_feeds against a local feed server that changes between runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.feedscan import FailureKind, ItemOutcome, ItemStatus, read_status
from pipeline.report.json import load_report
from tests.conftest import SEED_FEED, needs_shared
from tests.eutils_server import EutilsServer, Scripted
from tests.feedscan.conftest import Scan, item
from tests.feedscan.feed_server import Feed, FeedServer, rss


def _index(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "out" / "index.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_scan_first_run_reports_every_item(feeds: FeedServer, scan: Scan, tmp_path: Path) -> None:
    feeds.feeds["/a.xml"] = Feed(rss([item(1), item(2)]))
    summary = scan([feeds.url("/a.xml")], formats=("json", "html", "markdown"))
    assert summary.ok and (summary.feeds_fetched, summary.items_new) == (1, 2)
    entries = _index(tmp_path)
    assert [e["title"] for e in entries] == ["Post 1", "Post 2"]
    for entry in entries:
        assert entry["status"] == "new" and entry["feed"] == feeds.url("/a.xml")
        assert set(entry["reports"]) == {"json", "html", "markdown"}
        report = load_report((tmp_path / "out" / entry["reports"]["json"]).read_text())
        assert report.documents[0].document.title == entry["title"]
        assert entry["claims"] == sum(entry["labels"].values()) > 0
        assert (tmp_path / "out" / entry["reports"]["markdown"]).name.endswith(".md")
    assert sum(summary.claims.values()) == sum(e["claims"] for e in entries)


def test_scan_unchanged_feed_costs_one_304(feeds: FeedServer, scan: Scan, tmp_path: Path) -> None:
    feeds.feeds["/a.xml"] = Feed(rss([item(1)]))
    scan([feeds.url("/a.xml")])
    summary = scan([feeds.url("/a.xml")], models=_no_models)
    assert feeds.statuses("/a.xml") == [200, 304]
    assert summary.ok and summary.feeds_not_modified == 1 and summary.items_new == 0
    assert len(_index(tmp_path)) == 1


def _no_models() -> Any:
    raise AssertionError("models must not load when nothing needs checking")


def test_scan_new_and_edited_items(feeds: FeedServer, scan: Scan, tmp_path: Path) -> None:
    url = feeds.url("/a.xml")
    feeds.feeds["/a.xml"] = Feed(rss([item(1), item(2)]))
    scan([url])
    first = {e["item_id"]: e for e in _index(tmp_path)}
    feeds.feeds["/a.xml"] = Feed(rss([item(1), item(2, edited=True), item(3)]))
    outcomes: list[ItemOutcome] = []
    summary = scan([url], on_item=outcomes.append)
    assert [o.status for o in outcomes] == [ItemStatus.UPDATED, ItemStatus.NEW]
    assert (summary.items_new, summary.items_updated, summary.items_skipped) == (1, 1, 1)
    entries = _index(tmp_path)
    assert [(e["title"], e["status"], e["revision"]) for e in entries[2:]] == [
        ("Post 2", "updated", 2),
        ("Post 3", "new", 1),
    ]
    updated = entries[2]
    assert first[updated["item_id"]]["content_hash"] != updated["content_hash"]
    report = load_report((tmp_path / "out" / updated["reports"]["json"]).read_text())
    assert "correction" in report.documents[0].document.text


def test_scan_feed_errors_are_recorded_and_retried(
    feeds: FeedServer, scan: Scan, tmp_path: Path
) -> None:
    feeds.feeds["/ok.xml"] = Feed(rss([item(1)]))
    feeds.feeds["/bad.xml"] = Feed(b"<rss><channel><item><title>broken", "text/xml")
    feeds.feeds["/flaky.xml"] = Feed(rss([item(2)]))
    feeds.fail("/flaky.xml", 500)
    urls = [feeds.url(p) for p in ("/flaky.xml", "/bad.xml", "/ok.xml", "/missing.xml")]
    summary = scan(urls)
    assert not summary.ok and summary.feeds_failed == 3 and summary.items_new == 1
    messages = {f.subject: f.message for f in summary.failures}
    assert {f.kind for f in summary.failures} == {FailureKind.FEED}
    assert "HTTP 500" in messages[urls[0]] and "HTTP 404" in messages[urls[3]]
    assert urls[1] in messages
    status = {s.url: s for s in read_status(tmp_path / "state.db")}
    assert status[urls[0]].last_status == "failed" and status[urls[0]].consecutive_failures == 1
    summary = scan(urls[:1])
    assert summary.ok and summary.items_new == 1
    assert [e["title"] for e in _index(tmp_path)] == ["Post 1", "Post 2"]


def test_scan_item_failures_retry_then_give_up(
    feeds: FeedServer, eutils: EutilsServer, scan: Scan, tmp_path: Path
) -> None:
    feeds.feeds["/a.xml"] = Feed(rss([item(1)]))
    for attempt, ended in ((1, ItemStatus.FAILED), (2, ItemStatus.ABANDONED)):
        eutils.script("esearch.fcgi", *[Scripted(503)] * 50)
        outcomes: list[ItemOutcome] = []
        summary = scan([feeds.url("/a.xml")], max_attempts=2, on_item=outcomes.append)
        assert summary.items_failed == 1 and not summary.ok
        assert summary.failures[0].final is (attempt == 2)
        assert summary.failures[0].kind is FailureKind.ITEM
        assert [o.status for o in outcomes] == [ended]
        assert summary.to_dict()["failures"][0]["kind"] == "item"
        eutils._scripts.clear()
    entries = _index(tmp_path)
    assert [(e["status"], e["reports"]) for e in entries] == [("failed", {})]
    assert "E-utilities" in entries[0]["error"]
    summary = scan([feeds.url("/a.xml")], max_attempts=2)
    assert summary.ok and summary.items_failed == 0 and len(_index(tmp_path)) == 1


def test_scan_since_and_max_items(feeds: FeedServer, scan: Scan, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    old = item(0, published="Mon, 01 Jan 2024 10:00:00 +0000")
    feeds.feeds["/a.xml"] = Feed(rss([old, item(1), item(2), item(3)]))
    since = datetime(2025, 1, 1, tzinfo=UTC)
    summary = scan([feeds.url("/a.xml")], since=since, max_items=2)
    assert (summary.items_new, summary.items_skipped, summary.items_deferred) == (2, 1, 1)
    summary = scan([feeds.url("/a.xml")], since=since, max_items=2)
    assert summary.feeds_not_modified == 1 and summary.items_new == 1
    assert [e["title"] for e in _index(tmp_path)] == ["Post 1", "Post 2", "Post 3"]


@pytest.mark.parametrize(
    "guid", ["../../etc/passwd", "a/b\\c\x00d", "https://example.org/?p=1&x=<y>"]
)
def test_scan_file_names_never_come_from_guids(
    feeds: FeedServer, scan: Scan, tmp_path: Path, guid: str
) -> None:
    feeds.feeds["/a.xml"] = Feed(rss([item(1, guid=guid.replace("\x00", ""))]))
    scan([feeds.url("/a.xml")])
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 2 and names[1] == "index.jsonl"
    assert names[0][:-5].isalnum() and names[0].endswith(".json")


def test_scan_local_file_and_items_without_guid(scan: Scan, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss([item(1, guid=None, link=None), item(2, guid=None)]))
    assert scan([str(feed)]).items_new == 2
    summary = scan([str(feed)])
    assert summary.feeds_not_modified == 1
    assert len({e["item_id"] for e in _index(tmp_path)}) == 2


@needs_shared
def test_scan_seed_feed_over_http(feeds: FeedServer, scan: Scan, tmp_path: Path) -> None:
    feeds.feeds["/seed.xml"] = Feed(SEED_FEED.read_bytes())
    summary = scan([feeds.url("/seed.xml")], formats=("json", "html"))
    assert summary.ok and summary.items_new == 1
    (entry,) = _index(tmp_path)
    assert entry["title"] == "The Injury Cycle That Turns Muscle Into Fat"
    assert entry["link"] == "https://nmfscience.com/the-injury-cycle-that-turns-muscle-into-fat/"
    assert entry["claims"] > 0
    report = load_report((tmp_path / "out" / entry["reports"]["json"]).read_text())
    assert len(report.documents[0].claims) == entry["claims"]
    assert scan([feeds.url("/seed.xml")]).feeds_not_modified == 1
