"""The scan state stores pending documents as JSON reports write them, and still reads the
flat form that states written before #15 hold."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from claims.types import Document, SourceKind
from pipeline.errors import ConfigError
from pipeline.feedscan.items import FeedItem, document_from_json, document_to_json
from pipeline.feedscan.state import ScanState
from pipeline.report.json import document_to_dict

FEED = "https://example.org/feed"
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DOCS = [
    Document(
        url="https://example.org/post-1/",
        source=FEED,
        kind=SourceKind.FEED,
        title="Post 1",
        text="Intro\nExercise reduces back pain.",
        author="Jane Roe",
        published=datetime(2026, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=2))),
        fetched_at=AT,
        headings=((0, "Intro"),),
    ),
    Document(
        url="https://example.org/post-2/",
        source=FEED,
        kind=SourceKind.FEED,
        title="Post 2",
        text="Vitamin C prevents colds.",
        author=None,
        published=None,
        fetched_at=AT,
    ),
]


def _flat(doc: Document) -> str:
    """A document as ``claimscan feed`` stored it before #15 (state.py's own codec)."""
    return json.dumps(
        {
            "url": doc.url,
            "source": doc.source,
            "kind": doc.kind.value,
            "title": doc.title,
            "text": doc.text,
            "author": doc.author,
            "published": doc.published.astimezone(UTC).isoformat() if doc.published else None,
            "fetched_at": doc.fetched_at.astimezone(UTC).isoformat(),
            "headings": [list(h) for h in doc.headings],
        }
    )


@pytest.mark.parametrize("doc", DOCS, ids=["full", "sparse"])
def test_state_document_is_the_report_form_and_round_trips(doc: Document) -> None:
    stored = json.loads(document_to_json(doc))
    assert stored == json.loads(json.dumps(document_to_dict(doc)))
    assert stored["source"] == {"locator": FEED, "kind": "feed"}
    assert document_from_json(document_to_json(doc)) == doc


@pytest.mark.parametrize("doc", DOCS, ids=["full", "sparse"])
def test_state_written_before_15_keeps_its_pending_items(doc: Document, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with ScanState.open(db) as state:
        state.record_feed_items(
            FEED, [FeedItem("a" * 20, "guid:x", "h", doc)], at=AT, etag=None, last_modified=None
        )
    # Rewrite the stored document in the old flat form, as an older claimscan left it.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE items SET document = ?", (_flat(doc),))
    conn.close()
    with ScanState.open(db) as state:
        (pending,) = state.pending_items([FEED], max_attempts=3)
    assert pending.document == doc
    assert pending.document.published == doc.published  # the same instant, offset aside


@pytest.mark.parametrize(
    "stored", ["not json", '{"url": "x"}', '{"source": "x", "kind": "nonsense"}']
)
def test_state_unreadable_document_says_what_to_do(stored: str) -> None:
    with pytest.raises(ConfigError, match="start a new --state"):
        document_from_json(stored)
