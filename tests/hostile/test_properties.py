"""Property tests: random text and bytes through ingest and splitting.

Only :class:`~pipeline.errors.IngestError` subclasses may escape ingest, and every claim's
offsets must point at its text. Small example counts keep the run to a few seconds; the
interesting inputs (markup, controls, BOMs, odd charsets) are mixed into the strategies.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.split import extract_claims, sentence_spans
from claims.types import Document, SourceKind
from pipeline.errors import FeedError, IngestError, PageError
from pipeline.ingest import document_from_bytes, document_from_text
from pipeline.ingest.feeds import parse_feed
from pipeline.ingest.text import decode, html_fragment_to_text, markdown_headings, sniff

NOW = datetime(2026, 11, 24, tzinfo=UTC)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LEFTOVER_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_PIECES = st.sampled_from(
    [
        "Exercise therapy reduces pain in adults with chronic low back pain. ",
        "Dr. Smith et al. found 3.5 mg doses work! ",
        "Vitamin D prevents colds?\n",
        "# Heading ##\n",
        "\n\n",
        "<p onclick='x'>",
        "</p>",
        "<script>alert(1)</script>",
        "<![CDATA[",
        "]]>",
        "&amp;",
        "&x;",
        "<!ENTITY",
        "\x1b[31m",
        "\x1b]0;t\x07",
        "\u202e",
        "\ufeff",
        "\r\n",
        "\u2026 ",
        "...",
        "- ",
        "\u00e9",
        "\x00",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=40).map("".join),
)
_PREFIXES = st.sampled_from(
    [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"<?xml version='1.0'?>", b"<html>", b"%PDF"]
)
BYTES = st.one_of(
    st.binary(max_size=600),
    st.tuples(_PREFIXES, TEXTS, st.sampled_from(["utf-8", "latin-1", "utf-16"])).map(
        lambda t: t[0] + t[1].encode(t[2], "replace")
    ),
)
CTYPES = st.sampled_from(
    ["", "text/html", "text/plain; charset=utf-8", "application/rss+xml; charset=bogus", "a/b"]
)
CHARSETS = st.sampled_from([None, "utf-8", "latin-1", "utf-16", "rot13", "no-such", "ascii"])


def _rss(title: str, body: str, date: str, link: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>c</title>'
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
        f"<description>{body}</description></item></channel></rss>"
    ).encode("utf-8", "surrogatepass")


def _check_document(doc: Document) -> None:
    assert isinstance(doc.text, str) and doc.text
    assert not _LEFTOVER_CONTROLS.search(doc.text)
    for offset, heading in doc.headings:
        assert doc.text[offset : offset + len(heading)] == heading
    claims, _ = extract_claims(doc, max_claims=50)
    for claim in claims:
        assert 0 <= claim.start < claim.end <= len(doc.text)
        assert doc.text[claim.start : claim.end] == claim.text


@FAST
@given(BYTES, CTYPES)
def test_sniff_only_raises_page_error(data: bytes, ctype: str) -> None:
    try:
        sniff(data, ctype)
    except PageError:
        pass


@FAST
@given(BYTES, CHARSETS)
def test_decode_never_raises(data: bytes, declared: str | None) -> None:
    assert isinstance(decode(data, declared), str)


@FAST
@given(BYTES, CTYPES, CHARSETS)
def test_document_from_bytes_only_raises_ingest_errors(
    data: bytes, ctype: str, charset: str | None
) -> None:
    try:
        docs = document_from_bytes(
            data, "https://example.org/x", NOW, content_type=ctype, charset=charset
        )
    except IngestError:
        return
    for doc in docs:
        _check_document(doc)


@FAST
@given(BYTES)
def test_parse_feed_on_random_bytes_only_raises_feed_error(data: bytes) -> None:
    try:
        docs = parse_feed(data, "https://example.org/feed", NOW)
    except FeedError:
        return
    for doc in docs:
        _check_document(doc)


_XMLISH = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=200,
)


@FAST
@given(
    st.one_of(_XMLISH, TEXTS),
    st.one_of(_XMLISH, TEXTS),
    st.one_of(st.sampled_from(["0000-00-00", "Fri, 31 Dec 9999 23:59:59 -1400", ""]), _XMLISH),
    st.sampled_from(["https://example.org/a", "javascript:alert(1)", "file:///etc/passwd", ""]),
)
def test_parse_feed_on_feed_shaped_input(title: str, body: str, date: str, link: str) -> None:
    try:
        docs = parse_feed(_rss(title, body, date, link), "https://example.org/feed", NOW)
    except FeedError:
        return
    for doc in docs:
        assert doc.url.startswith(("https://", "http://"))
        _check_document(doc)


@FAST
@given(TEXTS)
def test_document_from_text_and_claims_keep_offsets(text: str) -> None:
    try:
        doc = document_from_text(text, "note.md", NOW)
    except PageError:
        return
    _check_document(doc)


@FAST
@given(TEXTS)
def test_html_and_markdown_helpers_keep_heading_offsets(text: str) -> None:
    for cleaned, headings in (html_fragment_to_text(text), markdown_headings(text)):
        for offset, heading in headings:
            assert cleaned[offset : offset + len(heading)] == heading


@FAST
@given(TEXTS)
def test_extract_claims_on_any_document_text(text: str) -> None:
    # Documents need not come from ingest (saved reports, the API): raw text is fine too.
    doc = Document(
        url="u",
        source="u",
        kind=SourceKind.TEXT,
        title="t",
        text=text,
        author=None,
        published=None,
        fetched_at=NOW,
    )
    claims, dropped = extract_claims(doc, max_claims=3)
    assert dropped >= 0 and len(claims) <= 3
    for claim in claims:
        assert text[claim.start : claim.end] == claim.text and claim.text.strip()
    spans = list(sentence_spans(text))
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
