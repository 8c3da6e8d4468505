"""Broken and hostile feeds and pages through the real ingest path (``load_source``).

Files come from ``tests/corpus/``; HTTP cases use the local server in ``conftest.py``.
"""

from __future__ import annotations

import time

import httpx
import pytest

from claims.split import extract_claims
from claims.types import Document, SourceKind
from pipeline.config import Config
from pipeline.errors import FeedError, IngestError, PageError
from pipeline.http import build_client
from pipeline.ingest import load_source
from pipeline.ingest.pages import fetch
from tests.hostile.conftest import CORPUS, NOW


def _load(locator: str, *, timeout: float = 5.0) -> list[Document]:
    config = Config(timeout=timeout, cache_path=None)
    with build_client(config) as client:
        return load_source(locator, client=client, config=config, now=NOW)


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("feeds/billion_laughs.xml", FeedError, "declares XML entities"),
        ("feeds/xxe_file.xml", FeedError, "declares XML entities"),
        ("feeds/xxe_parameter.xml", FeedError, "declares XML entities"),
        ("feeds/utf16_entities.xml", FeedError, "declares XML entities"),
        ("feeds/empty.xml", FeedError, "has no items"),
        ("feeds/malformed.xml", FeedError, "not a readable feed"),
        ("pages/pdf_named_html.html", PageError, "is a PDF"),
        ("pages/png_named_html.html", PageError, "is a PNG image"),
    ],
)
def test_corpus_file_is_refused_with_a_clear_error(
    name: str, error: type[IngestError], message: str
) -> None:
    path = str(CORPUS / name)
    with pytest.raises(error) as info:
        _load(path)
    assert message in str(info.value) and path in str(info.value)
    assert "INJECTED" not in str(info.value) and "root:" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "title", "text"),
    [
        ("feeds/bom_utf8.xml", "Back pain study", "Exercise therapy reduces pain"),
        ("feeds/utf16_bom.xml", "Back pain study", "Exercise therapy reduces pain"),
        ("feeds/latin1_declared_utf8.xml", "Caf\u00e9 th\u00e9rapie", "th\u00e9rapy"),
        ("feeds/external_dtd.xml", "Back pain study", "Exercise therapy reduces pain"),
        ("pages/latin1_declared_utf8.html", "Th\u00e9rapie", "th\u00e9rapy"),
    ],
)
def test_corpus_file_with_odd_encoding_reads_cleanly(name: str, title: str, text: str) -> None:
    (doc,) = _load(str(CORPUS / name))
    assert doc.title == title and text in doc.text
    assert "\ufffd" not in doc.text and "<rss" not in doc.text


def test_issue_7_utf16_feed_without_content_type_is_a_feed_not_text() -> None:
    # Before: sniff missed the markers in UTF-16 bytes, so the whole XML became "text".
    (doc,) = _load(str(CORPUS / "feeds/utf16_bom.xml"))
    assert doc.url == "https://example.org/a" and doc.kind is SourceKind.FEED


def test_issue_7_feed_item_with_impossible_date_is_kept_without_date() -> None:
    # Before: "0000-00-00" became year -1 in feedparser and datetime raised ValueError.
    docs = _load(str(CORPUS / "feeds/bad_dates.xml"))
    assert [d.url for d in docs] == [f"https://example.org/{n}" for n in range(4)]
    assert docs[0].published is None and docs[2].published is None


def test_issue_7_empty_feed_says_it_has_no_items() -> None:
    with pytest.raises(FeedError, match="has no items; nothing to check"):
        _load(str(CORPUS / "feeds/empty.xml"))


def test_feed_item_links_that_are_not_web_urls_are_never_kept() -> None:
    docs = _load(str(CORPUS / "feeds/hostile_fields.xml"))
    assert len(docs) == 3
    for doc in docs:
        assert doc.url.startswith(str(CORPUS / "feeds/hostile_fields.xml") + "#item-")
    for doc in docs:
        for claim in extract_claims(doc)[0]:
            assert doc.text[claim.start : claim.end] == claim.text


def test_issue_7_escape_sequences_are_removed_whole_at_ingest() -> None:
    (doc,) = _load(str(CORPUS / "pages/ansi_injection.txt"))
    for fragment in ("\x1b", "\x9b", "[2J", "]0;", "owned", "evil.example", "31m"):
        assert fragment not in doc.text
    assert "chronic low back pain for most patients." in doc.text


def test_html_that_is_really_a_feed_and_a_feed_that_is_really_html(web: str) -> None:
    # Served as text/html, but the body is RSS: the body wins.
    docs = _load(f"{web}/no-charset-feed")
    assert docs[0].title == "Caf\u00e9 th\u00e9rapie"
    # Served as RSS, but the body is an HTML page: read as a page, not a broken feed.
    (doc,) = _load(f"{web}/corpus/feeds/html_not_feed.xml")
    assert doc.kind is SourceKind.PAGE and doc.text == "Sorry, this page moved."


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/status/404", "returned HTTP 404"),
        ("/status/410", "returned HTTP 410"),
        ("/status/500", "returned HTTP 500"),
        ("/redirect-loop", "redirects too many times"),
        ("/redirect-file", "could not be fetched"),
        ("/pdf-as-html", "is a PDF"),
        ("/pdf-typed", "is application/pdf"),
        ("/png-as-html", "is a PNG image"),
        ("/huge-declared", "over the 10,485,760-byte limit"),
        ("/huge-chunked", "larger than the 10,485,760-byte limit"),
        ("/gzip-bomb", "larger than the 10,485,760-byte limit"),
        ("/corpus/feeds/billion_laughs.xml", "declares XML entities"),
        ("/corpus/feeds/xxe_file.xml", "declares XML entities"),
    ],
)
def test_broken_http_answers_become_clear_ingest_errors(web: str, path: str, message: str) -> None:
    with pytest.raises(IngestError) as info:
        _load(web + path)
    assert message in str(info.value)
    assert "root:" not in str(info.value)  # /etc/passwd was never read


def test_gzip_encoded_page_is_read_decoded(web: str) -> None:
    (doc,) = _load(f"{web}/gzip-page")
    assert doc.title == "Zipped" and "chronic low back pain" in doc.text


def test_slow_server_times_out(web: str) -> None:
    started = time.monotonic()
    with pytest.raises(PageError, match="timed out"):
        _load(f"{web}/slow-headers", timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_issue_7_slow_drip_body_hits_the_total_download_limit(web: str) -> None:
    # Before: every byte came inside the read timeout, so a drip-feeding server held
    # the run for as long as it liked (here 10 s; in the wild, forever).
    started = time.monotonic()
    with pytest.raises(PageError, match="took more than 0.9s to download"):
        _load(f"{web}/slow-drip", timeout=0.3)
    assert time.monotonic() - started < 3


def test_connection_reset_is_a_page_error(resetting: str) -> None:
    with pytest.raises(PageError, match="could not be fetched"):
        _load(f"{resetting}/article")


@pytest.mark.parametrize(
    "locator",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "data:text/html,<p>hi</p>",
        "javascript:alert(1)",
        "ftp://example.org/a.txt",
        "gopher://127.0.0.1:70/",
    ],
)
def test_only_http_urls_are_fetched(locator: str) -> None:
    with pytest.raises(PageError, match="only http"):
        _load(locator)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:,x", "javascript:alert(1)"])
def test_fetch_refuses_other_schemes_before_any_request(url: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="root:x:0:0")

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(PageError, match="only http"):
            fetch(client, url, max_bytes=1000)
    assert seen == []
