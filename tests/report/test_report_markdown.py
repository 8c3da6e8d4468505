"""Markdown renderer: structure and escaping of source text."""

from __future__ import annotations

import re

import pytest

from claims.types import Report
from pipeline.report.markdown import escape, render_markdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("[x](javascript:alert(1))", r"\[x\]\(javascript\:alert\(1\)\)"),
        ("<script>alert(1)</script>", r"\<script\>alert\(1\)\</script\>"),
        ("![img](http://x/y.png)", r"\!\[img\]\(http\://x/y.png\)"),
        ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
        ("# heading", r"\# heading"),
        ("- item", r"\- item"),
        ("> quote", r"\> quote"),
        ("1. first", r"1\. first"),
        ("line one\n\n# two", r"line one \# two"),
        ("ping @team #12", r"ping \@team \#12"),
        ("&lt;b&gt;", r"\&lt;b\&gt;"),
        ("red\x1b[31m text", "red text"),
        ("a | b", r"a \| b"),
    ],
)
def test_escape_neutralises_markdown(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_render_markdown_structure(report: Report) -> None:
    md = render_markdown(report)
    assert md.startswith("# claimscan report\n")
    assert "## Vitamin D in winter\\: what the research says" in md
    assert "> Vitamin D supplementation reduces the risk of acute respiratory infections.\n" in md
    assert "- **[S1] Supported**, confidence 80%" in md
    assert "- **[C2] Contested**, confidence 80%" in md
    assert "- **[P3] Commercial-promotional**, confidence 80%" in md
    assert "[PMID 28202713](https://pubmed.ncbi.nlm.nih.gov/28202713/) (2017, Meta-Analysis)" in md
    assert "**RETRACTED**" in md
    assert "✗ refutes (0.91)" in md
    assert "- Source: <https://news.example.org/health/vitamin-d-winter>" in md
    assert "## Failures" in md


def _outside_code_spans(md: str) -> str:
    # Nothing inside a code span is interpreted, so payloads there are inert.
    return re.sub(r"`[^`\n]*`", "``", md)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?<!\\)<(?!https?://[^>\s]+>)",  # raw HTML; only our autolinks may use "<"
        r"(?<!\\)\]\((?!https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/\))",  # links but ours
        r"(?<!\\)\[(?!PMID \d+\]|[SCP]\d+\])",  # "[" except PMID links, markers
        r"\x1b",
        r"evil\.example",
    ],
)
def test_render_markdown_escapes_source_text(report: Report, pattern: str) -> None:
    md = _outside_code_spans(render_markdown(report))
    assert not re.search(pattern, md), pattern


def test_render_markdown_links_only_valid_pmids(report: Report) -> None:
    md = render_markdown(report)
    links = [part.split(")")[0] for part in md.split("](")[1:]]
    assert links
    assert all(link.startswith("https://pubmed.ncbi.nlm.nih.gov/") for link in links)
