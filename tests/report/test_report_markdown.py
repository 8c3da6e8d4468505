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
        ("[x](javascript:alert(1))", r"\[x\]\(javascript:alert(1))"),
        ("<script>alert(1)</script>", r"\<script>alert(1)\</script>"),
        ("![img](http://x/y.png)", r"!\[img\]\(http\://x/y.png)"),
        ("see https://evil.example/x", r"see https\://evil.example/x"),
        ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
        ("# heading", r"\# heading"),
        ("- item", r"\- item"),
        ("> quote", r"\> quote"),
        ("1. first", r"1\. first"),
        ("line one\n\n# two", "line one # two"),
        ("#1 choice", r"\#1 choice"),
        ("ping @team #12", r"ping \@team \#12"),
        ("&lt;b&gt;", r"\&lt;b\&gt;"),
        ("red\x1b[31m text", "red text"),
        ("a | b", r"a \| b"),
        ("__init__ and file_name.txt", r"\_\_init\_\_ and file_name.txt"),
        # Ordinary prose keeps its punctuation (#20: "\:" and "\(" were everywhere).
        ("Note: see (Smith, 2020) & Hand & Wrist.", "Note: see (Smith, 2020) & Hand & Wrist."),
    ],
)
def test_escape_neutralises_markdown(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_render_markdown_structure(report: Report) -> None:
    md = render_markdown(report, details=True)
    assert md.startswith("# claimscan report\n")
    assert "## Vitamin D in winter: what the research says" in md
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
@pytest.mark.parametrize("details", [False, True], ids=["short", "details"])
def test_render_markdown_escapes_source_text(report: Report, pattern: str, details: bool) -> None:
    md = _outside_code_spans(render_markdown(report, details=details))
    assert not re.search(pattern, md), pattern


@pytest.mark.parametrize("details", [False, True], ids=["short", "details"])
def test_render_markdown_links_only_valid_pmids(report: Report, details: bool) -> None:
    md = render_markdown(report, details=details)
    links = [part.split(")")[0] for part in md.split("](")[1:]]
    assert links
    assert all(link.startswith("https://pubmed.ncbi.nlm.nih.gov/") for link in links)


def test_render_markdown_short_is_one_line_per_claim(report: Report) -> None:
    md = render_markdown(report)
    items = [line for line in md.splitlines() if line.startswith("- **[")]
    assert len(items) == sum(len(d.claims) for d in report.documents)
    assert (
        "- **[S1]** 80% · Vitamin D supplementation reduces the risk of acute respiratory "
        "infections. · ✓ [PMID 28202713](https://pubmed.ncbi.nlm.nih.gov/28202713/) "
        "(2017, Meta-Analysis)"
    ) in items
    # Flagged labels first, each under its own heading.
    first = md.split("\n## Vitamin D")[1].split("\n## ")[0]
    headings = [line for line in first.splitlines() if line.startswith("### ")]
    assert headings == ["### Commercial-promotional (1)", "### Contested (1)", "### Supported (1)"]
    assert "Query" not in md and "[tiab]" not in md


def test_render_markdown_names_local_files_without_their_directory(report: Report) -> None:
    from dataclasses import replace

    doc = report.documents[0]
    local = replace(doc.document, url="/home/alice/drafts/article.md", source="")
    md = render_markdown(replace(report, documents=(replace(doc, document=local),)))
    assert "- Source: article.md" in md
    assert "/home/alice" not in md
