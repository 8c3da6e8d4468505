"""Hostile text from feeds, pages and PubMed never becomes live markup or terminal control.

The report is made by the real pipeline from the hostile corpus files, with PubMed
records whose titles and journals carry markup too; then every renderer runs on it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re

import pytest
from lxml import html as lxml_html

from claims.types import Report
from pipeline.config import Config
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.report import RENDERERS
from pipeline.report.html import _asset
from pipeline.run import run
from tests.eutils_server import EutilsServer, Record
from tests.fakes import fake_models
from tests.hostile.conftest import CORPUS, NOW

RECORDS = [
    Record(
        "101",
        '<script>alert("pm")</script> Exercise therapy for chronic low back pain',
        (
            "Exercise therapy reduces pain in adults with chronic low back pain "
            '<img src=x onerror=alert("abstract")>.',
        ),
        journal='javascript:alert("journal") <a href="javascript:alert(1)">J</a>',
    ),
    Record(
        "103",
        "Vitamin D and respiratory infections <iframe src=data:text/html,x>",
        ("Vitamin D supplements reduce the risk of respiratory infections in adults.",),
    ),
]
SOURCES = ["feeds/hostile_fields.xml", "pages/hostile.html", "pages/ansi_injection.txt"]
ANSI = "\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\\x9b31m\u202e"


@pytest.fixture(scope="module")
def report() -> Report:
    """The pipeline's report on the hostile corpus, plus raw escapes injected past ingest."""
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        config = Config(eutils_url=server.base_url, cache_path=None, min_hits=1)
        with build_client(config) as client:
            made = run(
                [str(CORPUS / name) for name in SOURCES],
                config=config,
                client=client,
                pubmed=PubMed(client, config, sleep=lambda s: None),
                models=fake_models(),
                now=lambda: NOW,
            )
    assert made.failures == () and len(made.documents) == 5
    assert any(c.verdict.evidence for d in made.documents for c in d.claims)
    # Renderers must not rely on ingest's cleaning: put raw escapes and markup in the
    # fields of one document, as a future ingest path or a saved report might.
    first = made.documents[0]
    doc = dataclasses.replace(
        first.document,
        title=f"<script>alert('t')</script>{ANSI}",
        author=f'"><svg onload=alert(1)>{ANSI}',
        url="javascript:alert('url')",
        source="data:text/html;base64,PHNjcmlwdD4=",
    )
    return dataclasses.replace(
        made, documents=(dataclasses.replace(first, document=doc), *made.documents[1:])
    )


def _render(report: Report, fmt: str, *, color: bool = False) -> str:
    out = io.StringIO()
    RENDERERS[fmt](report, out, color=color)
    return out.getvalue()


def test_html_report_has_no_live_script_handler_or_dangerous_url(report: Report) -> None:
    page = _render(report, "html")
    root = lxml_html.document_fromstring(page)
    scripts = root.xpath("//script")
    assert len(scripts) == 1 and scripts[0].text == _asset("report.js")
    assert not root.xpath("//iframe|//img|//svg|//object|//embed|//form|//base")
    for el in root.iter():
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (el.tag, name, value)
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                assert value.startswith(("#", "https://", "http://")), (el.tag, value)
            assert "javascript:" not in value.lower() and "data:" not in value.lower()
    # The hostile text is still there to read, as text.
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page or "&lt;script&gt;" in page
    assert "\x1b" not in page and "\x9b" not in page and "\u202e" not in page


def test_html_csp_allows_only_the_report_script(report: Report) -> None:
    root = lxml_html.document_fromstring(_render(report, "html"))
    (csp,) = root.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_terminal_report_carries_no_escape_from_the_source(report: Report, color: bool) -> None:
    text = _render(report, "terminal", color=color)
    for payload in ("\x1b]0;", "\x1b[2J", "\x1b]8;;http://evil", "\x9b", "\x07", "\u202e"):
        assert payload not in text
    if not color:
        assert "\x1b" not in text


def test_markdown_report_has_no_raw_html_or_script_links(report: Report) -> None:
    text = _render(report, "markdown")
    # A backslash-escaped "\<script\>" is literal text in CommonMark; a bare one is HTML.
    assert not re.search(r"(?<!\\)<(?:script|img|svg|iframe|a\b)", text, re.IGNORECASE)
    assert "](javascript:" not in text and "](data:" not in text
    assert "\x1b" not in text and "\u202e" not in text


def test_json_report_keeps_text_but_escapes_controls(report: Report) -> None:
    text = _render(report, "json")
    assert "\x1b" not in text  # json.dumps writes \u001b
    data = json.loads(text)
    assert data["documents"][0]["title"].startswith("<script>")
