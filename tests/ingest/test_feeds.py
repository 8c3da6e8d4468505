from __future__ import annotations

from datetime import UTC, datetime

import pytest

from claims.types import SourceKind
from pipeline.errors import FeedError
from pipeline.ingest.feeds import parse_feed
from tests.conftest import SEED_FEED, needs_shared

NOW = datetime(2026, 11, 24, tzinfo=UTC)

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
<item><title>Full item</title><link>https://example.org/1</link><dc:creator>Ann</dc:creator>
<pubDate>Mon, 08 Jun 2026 20:44:38 +0000</pubDate>
<description>Short teaser&#8230;</description>
<content:encoded><![CDATA[<p>Exercise reduces back pain.</p><h2>More</h2>
<p>Fat follows injury.</p>]]></content:encoded>
</item>
<item><title>Summary only</title><link>javascript:alert(1)</link>
<description>Vitamin D helps bones.</description></item>
<item><title>Empty</title><link>https://example.org/3</link><description></description></item>
</channel></rss>"""


def test_parse_feed_prefers_content_encoded_and_keeps_metadata() -> None:
    docs = parse_feed(RSS, "https://example.org/feed", NOW, "application/rss+xml")
    assert [d.title for d in docs] == ["Full item", "Summary only"]
    first = docs[0]
    assert first.text == "Exercise reduces back pain.\n\nMore\n\nFat follows injury."
    assert first.author == "Ann" and first.kind is SourceKind.FEED
    assert first.published == datetime(2026, 6, 8, 20, 44, 38, tzinfo=UTC)
    assert first.source == "https://example.org/feed"
    assert first.headings == ((29, "More"),)


def test_parse_feed_never_keeps_non_web_item_links() -> None:
    docs = parse_feed(RSS, "https://example.org/feed", NOW)
    assert docs[1].url == "https://example.org/feed#item-2"


@pytest.mark.parametrize(
    "body",
    [
        b"<rss><channel><item><title>x</title",
        b"<html><body>not a feed</body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>none</title></channel></rss>',
    ],
)
def test_parse_feed_errors_name_the_feed(body: bytes) -> None:
    with pytest.raises(FeedError, match="example.org/bad"):
        parse_feed(body, "https://example.org/bad", NOW)


@needs_shared
def test_parse_feed_reads_the_seed_feed() -> None:
    docs = parse_feed(SEED_FEED.read_bytes(), str(SEED_FEED), NOW)
    assert len(docs) == 1
    doc = docs[0]
    assert doc.title == "The Injury Cycle That Turns Muscle Into Fat"
    assert doc.author == "Dr. Lamb"
    assert "spinal marbling" in doc.text
    assert any(h == "How the Cycle Begins" for _, h in doc.headings)


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_parse_feed_refuses_entity_declarations(doctype: bytes) -> None:
    body = b'<?xml version="1.0"?>' + doctype + RSS.split(b"?>", 1)[1]
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(body, "https://example.org/evil", NOW)
