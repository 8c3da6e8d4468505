"""Entity expansion and external entities in feeds and E-utilities answers are never expanded."""

from __future__ import annotations

import time

import pytest

from pipeline.config import Config
from pipeline.errors import FeedError, MalformedResponse, PubMedParseError
from pipeline.http import build_client
from pipeline.ingest.feeds import parse_feed
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.parse import parse_efetch, parse_esearch
from tests.eutils_server import EutilsServer, Scripted
from tests.hostile.conftest import NOW, corpus

_ITEM = (
    b"<item><title>T &x;</title><link>https://example.org/a</link><description>Exercise "
    b"therapy reduces pain in adults with chronic low back pain &x;.</description></item>"
)


def _feed(doctype: bytes, prolog: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0"?>' + prolog + doctype + b'<rss version="2.0"><channel>'
        b"<title>c</title>" + _ITEM + b"</channel></rss>"
    )


@pytest.mark.parametrize(
    "name",
    [
        "feeds/billion_laughs.xml",
        "feeds/xxe_file.xml",
        "feeds/xxe_parameter.xml",
        "feeds/utf16_entities.xml",
    ],
)
def test_feed_declaring_entities_is_refused(name: str) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError, match="declares XML entities in a DOCTYPE; refused as unsafe"):
        parse_feed(corpus(name), "https://example.org/feed", NOW, "application/rss+xml")
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "prolog",
    [b"<!--" + b"x" * 70_000 + b"-->", b"<?pad " + b"y" * 70_000 + b"?>", b" " * 70_000],
    ids=["comment", "processing-instruction", "whitespace"],
)
def test_issue_7_entity_declaration_after_64k_of_padding_is_refused(prolog: bytes) -> None:
    # Before: only the first 64 KiB were searched, and expat expanded the entity.
    data = _feed(b'<!DOCTYPE rss [<!ENTITY x "INJECTED">]>', prolog)
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(data, "https://example.org/feed", NOW)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_issue_7_entity_declaration_in_utf16_or_utf32_feed_is_refused(codec: str) -> None:
    # Before: the byte search for "<!ENTITY" missed it between NUL bytes.
    text = _feed(b'<!DOCTYPE rss [<!ENTITY x "INJECTED">]>').decode()
    data = text.replace('version="1.0"', f'version="1.0" encoding="{codec}"').encode(codec)
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(data, "https://example.org/feed", NOW, "application/rss+xml")


def test_feed_with_external_dtd_is_read_without_fetching_it() -> None:
    # A DOCTYPE naming a local file is harmless as long as nothing loads it.
    (doc,) = parse_feed(corpus("feeds/external_dtd.xml"), "https://example.org/feed", NOW)
    assert "root:" not in doc.text and doc.title == "Back pain study"


@pytest.mark.parametrize("name", ["eutils/efetch_billion_laughs.xml", "eutils/efetch_xxe.xml"])
def test_efetch_declaring_entities_is_refused(name: str) -> None:
    with pytest.raises(MalformedResponse, match="declares XML entities; refusing to parse"):
        parse_efetch(corpus(name), what="efetch for PMIDs 101")


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE eSearchResult [<!ENTITY n "1">]><eSearchResult><Count>&n;</Count>'
        b"</eSearchResult>",
        b'<!DOCTYPE eSearchResult SYSTEM "file:///etc/passwd"><eSearchResult><Count>'
        b"&undefined;</Count></eSearchResult>",
    ],
)
def test_esearch_never_expands_entities(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_esearch(body)


@pytest.mark.parametrize("name", ["eutils/efetch_billion_laughs.xml", "eutils/efetch_xxe.xml"])
def test_efetch_with_entities_through_the_client_fails_clearly(name: str) -> None:
    with EutilsServer(enforce_rate=False) as server:
        server.script("efetch.fcgi", *[Scripted(200, corpus(name))] * 3)
        config = Config(eutils_url=server.base_url, cache_path=None, max_retries=2)
        with build_client(config) as client:
            with pytest.raises(PubMedParseError) as info:
                PubMed(client, config, sleep=lambda s: None).fetch(["101"])
    assert "declares XML entities" in str(info.value) and "root:" not in str(info.value)
