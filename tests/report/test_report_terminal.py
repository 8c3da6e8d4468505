"""Terminal renderer: layout, markers, and no escape sequences from source text."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from claims.types import (
    CheckedClaim,
    Claim,
    Document,
    DocumentReport,
    EvidenceItem,
    EvidenceStatus,
    Label,
    Report,
    SourceKind,
    Stance,
    Verdict,
)
from pipeline.report.terminal import render_terminal


def _render(report: Report, color_system: str | None = None) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=color_system)  # type: ignore[arg-type]
    render_terminal(report, console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def _small_report(text: str, sentence: str, title: str = "Coffee") -> Report:
    start = text.index(sentence)
    end = start + len(sentence)
    doc = Document(
        url="https://example.org/coffee",
        source="https://example.org/coffee",
        kind=SourceKind.PAGE,
        title=title,
        text=text,
        author=None,
        published=None,
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    claim = Claim("c1", sentence, doc.url, start, end)
    verdict = Verdict(
        claim_id="c1",
        label=Label.SUPPORTED,
        confidence=0.75,
        scores={"supported": 0.75, "contested": 0.2, "commercial-promotional": 0.05},
        rationale="Two cohorts agree.",
        query="coffee[tiab] AND mortality[tiab]",
        evidence=(
            EvidenceItem(
                pmid="123",
                title="Coffee and mortality",
                year=2020,
                journal="NEJM",
                publication_types=("Journal Article", "Observational Study"),
                sentence="Coffee drinking was associated with lower mortality.",
                stance=Stance.SUPPORTS,
                score=0.88,
            ),
        ),
        evidence_status=EvidenceStatus.FOUND,
    )
    return Report(
        generated_at=datetime(2025, 1, 1, 12, tzinfo=UTC),
        documents=(DocumentReport(doc, (CheckedClaim(claim, verdict),)),),
    )


EXPECTED_SMALL = """\
╭─ Coffee ─────────────────────────────────────────────────────────────────────────────────────────╮
│ Source    https://example.org/coffee                                                             │
│ Author    unknown                                                                                │
│ Published unknown                                                                                │
│ Claims    Supported: 1  Contested: 0  Commercial-promotional: 0                                  │
╰──────────────────────────────────────────────────────────────────────────────────────────────────╯
Intro. [S1] Coffee lowers mortality. Outro.

Claims ─────────────────────────────────────────────────────────────────────────────────────────────
[S1] Supported  confidence 75%
“Coffee lowers mortality.”
Why: Two cohorts agree.
Query: coffee[tiab] AND mortality[tiab]  (evidence found)
  PMID 123 https://pubmed.ncbi.nlm.nih.gov/123/  2020  Observational Study
  Coffee and mortality (NEJM)
  ✓ supports (0.88): “Coffee drinking was associated with lower mortality.”

╭─ Summary ─────────────────────────────────────────╮
│ Documents               1                         │
│ Claims                  1                         │
│ Supported               1                         │
│ Contested               0                         │
│ Commercial-promotional  0                         │
│ Failures                0                         │
│ Generated               2025-01-01T12:00:00+00:00 │
╰───────────────────────────────────────────────────╯
"""


def test_render_terminal_small_report_layout() -> None:
    report = _small_report("Intro. Coffee lowers mortality. Outro.", "Coffee lowers mortality.")
    # rich pads indented blocks with trailing spaces; they carry no meaning.
    lines = [line.rstrip() for line in _render(report).splitlines()]
    assert lines == EXPECTED_SMALL.splitlines()


def test_render_terminal_fixture_contents(report: Report) -> None:
    out = _render(report)
    for text in [
        "[S1]",
        "[C2]",
        "[P3]",
        "Supported  confidence 80%",
        "Contested  confidence 80%",
        "Commercial-promotional  confidence 80%",
        "https://pubmed.ncbi.nlm.nih.gov/28202713/",
        "Meta-Analysis",
        "RETRACTED",
        "✗ refutes (0.91)",
        "⚠ commercial",
        "Failures",
        "FeedError",
    ]:
        assert text in out, text


@pytest.mark.parametrize("color_system", [None, "truecolor"])
def test_render_terminal_strips_escapes_from_source(report: Report, color_system: str) -> None:
    out = _render(report, color_system)
    assert "evil.example" not in out
    if color_system is None:
        assert "\x1b" not in out
        assert "[31m" not in out
    # The payload sat right after "triglycerides"; nothing of it may survive there.
    assert "triglycerides\x1b" not in out
    assert "triglycerides[31m" not in out


def test_render_terminal_prints_markup_literally() -> None:
    report = _small_report(
        "Intro. [bold red]Coffee[/] lowers mortality. Outro.",
        "[bold red]Coffee[/] lowers mortality.",
        title="[link=https://evil.example]click[/link]",
    )
    out = _render(report, "truecolor")
    assert "[bold red]Coffee[/] lowers mortality." in out
    assert "[link=https://evil.example]click[/link]" in out
    assert "\x1b]8;" not in out.split("Claims")[0].split("Source")[0]


def test_render_terminal_long_text_shows_claim_paragraphs() -> None:
    filler = "Unrelated filler sentence about nothing. " * 40
    text = f"{filler}\n\nIntro. Coffee lowers mortality. Outro.\n\n{filler}"
    out = _render(_small_report(text, "Coffee lowers mortality."))
    assert "Unrelated filler" not in out
    assert "…\nIntro. [S1] Coffee lowers mortality. Outro.\n…" in out


def test_render_terminal_unplaced_claim_still_listed() -> None:
    report = _small_report("Intro. Coffee lowers mortality. Outro.", "Coffee lowers mortality.")
    doc = report.documents[0]
    moved = replace(doc.claims[0], claim=replace(doc.claims[0].claim, start=500, end=510))
    out = _render(replace(report, documents=(replace(doc, claims=(moved,)),)))
    assert "(not located in the text)" in out
