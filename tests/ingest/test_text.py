from __future__ import annotations

import pytest

from pipeline.errors import PageError
from pipeline.ingest.text import (
    ContentKind,
    clean_text,
    decode,
    html_fragment_to_text,
    markdown_headings,
    sniff,
)


@pytest.mark.parametrize(
    ("data", "ctype", "kind"),
    [
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
            "",
            ContentKind.FEED,
        ),
        (b'\xef\xbb\xbf<feed xmlns="http://www.w3.org/2005/Atom">', "text/html", ContentKind.FEED),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "text/plain", ContentKind.HTML),
        (b"# Title\n\nVitamin D helps bones.", "", ContentKind.TEXT),
        (b"Plain words about muscles.", "application/rss+xml", ContentKind.FEED),
    ],
)
def test_sniff_detects_from_content_first(data: bytes, ctype: str, kind: ContentKind) -> None:
    assert sniff(data, ctype) is kind


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n...", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"   \n ", "empty"),
        (b"\x00\x01\x02binary", "binary"),
    ],
)
def test_sniff_refuses_binary_and_empty(data: bytes, what: str) -> None:
    with pytest.raises(PageError, match=what):
        sniff(data)


@pytest.mark.parametrize(
    ("data", "declared", "text"),
    [
        ("caf\u00e9".encode(), None, "caf\u00e9"),
        ("caf\u00e9".encode("latin-1"), "utf-8", "caf\u00e9"),
        (b"\xef\xbb\xbfhello", None, "hello"),
        ("\u00fcber".encode("utf-16-le").join([b"\xff\xfe", b""]), None, "\u00fcber"),
        ("na\u00efve".encode("latin-1"), "no-such-codec", "na\u00efve"),
    ],
)
def test_decode_falls_back_sensibly(data: bytes, declared: str | None, text: str) -> None:
    assert decode(data, declared) == text


def test_clean_text_strips_control_sequences_and_extra_blank_lines() -> None:
    # Whole escape sequences go, not just ESC: no "[31m" fragment is left (#7).
    assert clean_text("a\x1b[31m red\r\n\n\n\nb\u00a0 c") == "a red\n\nb c"


def test_html_fragment_to_text_keeps_paragraphs_and_headings() -> None:
    text, headings = html_fragment_to_text(
        "<p>First <b>para</b>.</p><script>alert(1)</script><h2>Why</h2><ul><li>One</li>"
        "<li>Two</li></ul><nav>Menu</nav>"
    )
    assert text == "First para.\n\nWhy\n\nOne\n\nTwo"
    assert headings == ((13, "Why"),)
    assert text[13:16] == "Why"


def test_markdown_headings_are_stripped_and_located() -> None:
    text, headings = markdown_headings("# Title\n\nBody text here.\n## Part\nMore.")
    assert text == "Title\n\nBody text here.\n\nPart\n\nMore."
    assert [(text[o : o + len(h)], h) for o, h in headings] == [
        ("Title", "Title"),
        ("Part", "Part"),
    ]
