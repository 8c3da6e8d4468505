"""HTML renderer: escaping, links, CSP, highlighted claims."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from claims.types import Report
from pipeline.report.html import render_html


class _Page(HTMLParser):
    """Collects tags, attributes and the text of claim highlights and the script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.claims: dict[str, str] = {}
        self.scripts: list[str] = []
        self._claim: str | None = None
        self._depth = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if self._claim is not None:
            self._depth += 1
        elif tag == "a" and "claim" in (attributes.get("class") or "").split():
            self._claim = attributes["id"] or ""
            self.claims[self._claim] = ""
            self._depth = 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if self._claim is not None:
            if self._depth == 0:
                self._claim = None
            else:
                self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        if self._claim is not None:
            self.claims[self._claim] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert",
        "<script>document",
        "<img",
        'onerror="x',
        'onerror="document',
        "\x1b",
        "evil.example",
    ],
)
def test_render_html_escapes_payloads(report: Report, payload: str) -> None:
    assert payload not in render_html(report)


def test_render_html_has_only_its_own_script_and_safe_attributes(report: Report) -> None:
    page = _parse(render_html(report))
    assert [tag for tag, _ in page.tags if tag == "script"] == ["script"]
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, tag
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("#", "https://", "http://")), href
    assert not any(tag in {"link", "img", "iframe", "object"} for tag, _ in page.tags)


def test_render_html_links_only_http_urls(report: Report) -> None:
    html = render_html(report)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://news.example.org/health/vitamin-d-winter" in hrefs
    assert "https://pubmed.ncbi.nlm.nih.gov/28202713/" in hrefs
    assert not any("javascript" in h.lower() for h in hrefs)
    # The javascript: document URL is still shown, as text.
    assert '<span class="url-text">javascript:alert(1)</span>' in html


def test_render_html_csp_pins_the_inline_script(report: Report) -> None:
    html = render_html(report)
    page = _parse(html)
    csp = next(
        attrs["content"]
        for tag, attrs in page.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert "default-src 'none'" in csp
    assert "img-src 'none'" in csp
    assert f"script-src 'sha256-{digest}'" in csp
    # The CSP must come before anything it should govern.
    assert html.index("Content-Security-Policy") < html.index("<style>")


def test_render_html_highlights_every_claim_with_marker(report: Report) -> None:
    page = _parse(render_html(report))
    markers = {
        "claim-d1-c1": "[S1]",
        "claim-d1-c2": "[C2]",
        "claim-d1-c3": "[P3]",
        "claim-d2-c1": "[S1]",
        "claim-d2-c2": "[C2]",
    }
    assert page.claims.keys() == markers.keys()
    for d, doc in enumerate(report.documents, start=1):
        for c, checked in enumerate(doc.claims, start=1):
            anchor = f"claim-d{d}-c{c}"
            text = page.claims[anchor]
            assert text.startswith(markers[anchor])
            # Control characters are dropped; everything else survives verbatim.
            expected = checked.claim.text.replace("\x1b[31m", "").replace(
                "\x1b]8;;https://evil.example/\x07", ""
            )
            assert text[len(markers[anchor]) :] == expected
            assert any(attrs.get("id") == f"card-d{d}-c{c}" for _, attrs in page.tags)


def test_render_html_text_is_complete(report: Report) -> None:
    # The article text between highlights is kept, not just the claims.
    html = render_html(report)
    assert "Doctors say the effect is largest in people who start out deficient." in html
    assert "A paragraph with no claims in it" in html


def test_render_html_cards(report: Report) -> None:
    html = render_html(report)
    assert "Meta-Analysis" in html
    assert '<strong class="retracted">Retracted</strong>' in html
    assert 'class="stance stance--refutes"' in html
    assert "<code>vitamin d[tiab]</code>" in html
    assert "Commercial context." in html


@pytest.mark.parametrize(("documents", "has_toc"), [(1, False), (2, True)])
def test_render_html_toc_only_for_many_documents(
    report: Report, documents: int, has_toc: bool
) -> None:
    html = render_html(replace(report, documents=report.documents[:documents]))
    assert ('<nav class="toc"' in html) is has_toc


def test_issue_20_how_we_searched_is_collapsed(report: Report) -> None:
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(render_html(report))
    cards = root.xpath('//article[contains(@class, "card")]')
    assert cards
    for card in cards:
        (details,) = card.xpath('.//details[contains(@class, "card__search")]')
        assert details.get("open") is None
        assert details.xpath("./summary")[0].text_content() == "How we searched"
        # Queries appear only inside the collapsed block.
        for code in card.xpath(".//code"):
            assert details in code.iterancestors()


def test_issue_20_no_local_paths(report: Report) -> None:
    doc = report.documents[0]
    local = replace(doc.document, url="/home/alice/drafts/article.md", source="")
    claims = tuple(
        replace(c, verdict=replace(c.verdict, model="stance=/home/alice/claimscan/models/stance"))
        for c in doc.claims
    )
    html = render_html(replace(report, documents=(replace(doc, document=local, claims=claims),)))
    assert "/home/alice" not in html
    assert "article.md" in html and "stance=stance" in html


def test_issue_20_context_without_repeated_words(report: Report) -> None:
    doc = report.documents[0]
    text = "Spine\n\nSpine surgery should be a last resort. Epidurals are problematic."
    claim = doc.claims[0]
    start = text.index("Epidurals")
    moved = replace(
        claim,
        claim=replace(
            claim.claim,
            start=start,
            end=len(text),
            text=text[start:],
            context="Spine Spine surgery should be a last resort.",
        ),
    )
    page = replace(doc, document=replace(doc.document, text=text), claims=(moved,))
    html = render_html(replace(report, documents=(page,)))
    assert "Refers to: Spine surgery should be a last resort.</p>" in html
    assert "Spine Spine" not in html


def test_issue_20_every_label_is_styled_from_the_table(report: Report) -> None:
    from claims.types import Label
    from pipeline.report._common import LABEL_LOOKS

    html = render_html(report)
    for label in Label:
        look = LABEL_LOOKS[label]
        assert f".lab--{label.value} {{ --c: {look.colour};" in html
        assert f'<span class="legend lab lab--{label.value}">' in html
