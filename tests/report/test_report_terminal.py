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


def _render(report: Report, color_system: str | None = None, *, details: bool = True) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=color_system)  # type: ignore[arg-type]
    render_terminal(report, console, details=details)
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
│ Claims    Commercial-promotional 0  Contested 0  Unverified 0  Supported 1                       │
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
│ Commercial-promotional  0                         │
│ Contested               0                         │
│ Unverified              0                         │
│ Supported               1                         │
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


EXPECTED_SUMMARY = """\
╭─ Coffee ─────────────────────────────────────────────────────────────────────────────────────────╮
│ Source    https://example.org/coffee                                                             │
│ Author    unknown                                                                                │
│ Published unknown                                                                                │
│ Claims    Commercial-promotional 0  Contested 0  Unverified 0  Supported 1                       │
╰──────────────────────────────────────────────────────────────────────────────────────────────────╯
[S1] 75% Coffee lowers mortality.                                ✓ PMID 123 2020 Observational Study

Best evidence: ✓ supports, ✗ refutes, – neutral. --details: text, reasons, queries, evidence
sentences.
"""


def test_render_terminal_summary_is_the_default_view() -> None:
    report = _small_report("Intro. Coffee lowers mortality. Outro.", "Coffee lowers mortality.")
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_terminal(report, console)
    assert isinstance(console.file, io.StringIO)
    lines = [line.rstrip() for line in console.file.getvalue().splitlines()]
    assert lines == EXPECTED_SUMMARY.splitlines()


def test_render_terminal_summary_one_line_per_claim_flagged_first(report: Report) -> None:
    out = _render(report, details=False)
    # Each document's part of the report starts with its header panel.
    parts = [p for p in out.split("╭─")[1:] if not p.startswith(" Summary")]
    assert len(parts) == len(report.documents)
    for part, doc in zip(parts, report.documents, strict=True):
        marked = [line for line in part.splitlines() if line.startswith("[")]
        # One line per claim, no continuation lines, in order of attention.
        assert len(marked) == len(doc.claims)
        letters = [line[1] for line in marked]
        assert letters == sorted(letters, key="PCS".index)
    # Queries and rationales belong to the full view.
    assert "[tiab]" not in out and "Query" not in out and "Why:" not in out
    assert "PMID 28202713" in out


def test_render_terminal_details_shows_queries() -> None:
    report = _small_report("Intro. Coffee lowers mortality. Outro.", "Coffee lowers mortality.")
    assert "coffee[tiab] AND mortality[tiab]" in _render(report, details=True)
    assert "coffee[tiab]" not in _render(report, details=False)


@pytest.mark.parametrize(
    ("label", "sgr"),
    [
        # 16-colour terminals: each label keeps a colour of its own (magenta, yellow,
        # blue; red is magenta's twin in Monokai-like themes); the old promotional
        # pink fell back to 37, the theme's plain white.
        (Label.COMMERCIAL_PROMOTIONAL, "35"),
        (Label.CONTESTED, "33"),
        (Label.SUPPORTED, "34"),
    ],
)
def test_render_terminal_labels_keep_a_colour_on_16_colour_terminals(
    label: Label, sgr: str
) -> None:
    report = _small_report("Intro. Coffee lowers mortality. Outro.", "Coffee lowers mortality.")
    doc = report.documents[0]
    checked = replace(doc.claims[0], verdict=replace(doc.claims[0].verdict, label=label))
    report = replace(report, documents=(replace(doc, claims=(checked,)),))
    out = _render(report, "standard", details=False)
    letter = {"35": "P", "33": "C", "34": "S"}[sgr]
    # The marker is drawn bold, in reverse video, in the label's colour.
    assert f"\x1b[1;7;{sgr}m[{letter}1]" in out
    assert ";37m" not in out


def test_render_terminal_rationale_is_not_bold() -> None:
    report = _small_report("Intro. Coffee lowers mortality. Outro.", "Coffee lowers mortality.")
    out = _render(report, "truecolor", details=True)
    assert "\x1b[1mWhy: \x1b[0mTwo cohorts agree." in out


def test_summary_lines_say_doubts_before_the_claim() -> None:
    # "possibly promotional" on a sales pitch labelled otherwise must survive the
    # ellipsis of a long claim in the one-line-per-claim view (new-user trial).
    sentence = "SunBoost Daily Drops are the only vitamin D clinically proven " + "x " * 60
    report = _small_report(f"Intro. {sentence.strip()}. Outro.", sentence.strip())
    doc = report.documents[0]
    checked = doc.claims[0]
    doubtful = replace(checked.verdict, qualifiers=("weak support", "possibly promotional"))
    report = replace(
        report, documents=(replace(doc, claims=(replace(checked, verdict=doubtful),)),)
    )
    line = next(x for x in _render(report, details=False).splitlines() if x.startswith("[S1]"))
    assert "weak support · possibly promotional: SunBoost" in line
