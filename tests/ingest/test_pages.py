from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from pipeline.config import Config
from pipeline.errors import PageError
from pipeline.http import build_client
from pipeline.ingest import load_source
from pipeline.ingest.pages import extract_page, fetch
from tests.conftest import SEED_PAGE, needs_shared

NOW = datetime(2026, 11, 24, tzinfo=UTC)
ARTICLE = b"""<!DOCTYPE html><html><head><title>Back pain | Clinic</title>
<meta name="author" content="Jane Roe"></head><body>
<nav><a href="/">Home</a><a href="/s">Services</a></nav>
<article><h1>Back muscles and pain</h1>
<p>Fat infiltration of the multifidus is associated with chronic low back pain in adults.
This was shown in a study of 230 patients over several years of follow-up.</p>
<h2>What it means</h2>
<p>Exercise reduces the risk of muscle loss and weakness as people age, according to trials.</p>
</article><footer>Copyright 2024 Clinic</footer></body></html>"""


def _handler(request: httpx.Request) -> httpx.Response:
    routes = {
        "/article": httpx.Response(200, content=ARTICLE, headers={"content-type": "text/html"}),
        "/gone": httpx.Response(410),
        "/pdf": httpx.Response(
            200, content=b"%PDF-1.4", headers={"content-type": "application/pdf"}
        ),
        "/huge": httpx.Response(200, content=b"x" * 5000, headers={"content-type": "text/html"}),
        "/loop": httpx.Response(302, headers={"location": "/loop"}),
        "/feed": httpx.Response(
            200,
            content=b'<rss version="2.0"><channel><item><title>A</title>'
            b"<link>https://e.org/a</link><description>Vitamin D helps bones.</description>"
            b"</item></channel></rss>",
            headers={"content-type": "text/xml"},
        ),
    }
    return routes.get(request.url.path, httpx.Response(404))


@pytest.fixture
def client() -> httpx.Client:
    return build_client(Config(), transport=httpx.MockTransport(_handler))


def test_extract_page_keeps_article_text_and_headings() -> None:
    doc = extract_page(ARTICLE, "https://example.org/article", NOW)
    assert "multifidus" in doc.text and "Home" not in doc.text and "Copyright" not in doc.text
    assert doc.author == "Jane Roe"
    assert any(h == "What it means" for _, h in doc.headings)
    for offset, heading in doc.headings:
        assert doc.text[offset : offset + len(heading)] == heading


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/gone", "HTTP 410"),
        ("/pdf", "application/pdf"),
        ("/huge", "limit"),
        ("/loop", "redirects"),
        ("/missing", "HTTP 404"),
    ],
)
def test_fetch_fails_clearly(client: httpx.Client, path: str, message: str) -> None:
    with pytest.raises(PageError, match=message):
        fetch(client, f"https://example.org{path}", max_bytes=1000)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)"]
)
def test_load_source_refuses_other_schemes(client: httpx.Client, url: str) -> None:
    with pytest.raises(PageError):
        load_source(url, client=client, config=Config(), now=NOW)


def test_load_source_detects_feeds_and_pages_from_the_response(client: httpx.Client) -> None:
    page = load_source("https://example.org/article", client=client, config=Config(), now=NOW)
    feed = load_source("https://example.org/feed", client=client, config=Config(), now=NOW)
    assert page[0].kind.value == "page" and feed[0].kind.value == "feed"


def test_load_source_reads_stdin_and_files(client: httpx.Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io

    docs = load_source(
        "-",
        client=client,
        config=Config(),
        now=NOW,
        stdin=io.BytesIO(b"# Note\n\nExercise reduces back pain."),
    )
    assert docs[0].title == "Note" and docs[0].url == "<stdin>"
    with pytest.raises(PageError, match="does not exist"):
        load_source(str(tmp_path / "nope.txt"), client=client, config=Config(), now=NOW)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(PageError, match="empty"):
        load_source(str(tmp_path / "empty.txt"), client=client, config=Config(), now=NOW)


@needs_shared
def test_load_source_reads_the_seed_page_as_text(client: httpx.Client) -> None:
    docs = load_source(str(SEED_PAGE), client=client, config=Config(), now=NOW)
    assert docs[0].title == "Your Back Problem May Be Destroying Back Muscles"
    assert "multifidus" in docs[0].text
