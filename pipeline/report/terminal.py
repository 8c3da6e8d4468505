"""Reports for the terminal with rich: writes to the ``Console`` it is given.

Source text is untrusted: it only ever reaches rich as :class:`rich.text.Text`
(never a markup string) after :func:`~pipeline.report._common.clean_text` has
removed escape sequences and control characters, so a feed cannot colour,
retitle or hyperlink the user's terminal.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.style import Style
from rich.table import Table
from rich.text import Text

from claims.types import (
    CheckedClaim,
    DocumentReport,
    EvidenceItem,
    Label,
    Report,
    SourceKind,
    Stance,
)
from pipeline.report._common import (
    LABEL_COLOURS,
    LABEL_ORDER,
    LABEL_TITLES,
    STANCE_SYMBOLS,
    claim_count,
    claim_windows,
    clean_text,
    http_url,
    is_retracted,
    label_counts,
    marker,
    one_line,
    placed_claims,
    pubmed_url,
    segments,
    study_type,
)

__all__ = ["render_terminal"]

LONG_TEXT = 1200
"""Texts longer than this many characters show only the paragraphs with claims."""

TOP_EVIDENCE = 3
"""Evidence items shown per claim; the JSON and HTML reports have them all."""

_LABEL_STYLES: dict[Label, Style] = {
    label: Style(color=colour, bold=True) for label, colour in LABEL_COLOURS.items()
}
# Underline as well as colour, so highlights survive monochrome terminals.
_HIGHLIGHT_STYLES: dict[Label, Style] = {
    label: Style(color=colour, underline=True) for label, colour in LABEL_COLOURS.items()
}
_STANCE_STYLES: dict[Stance, str] = {
    Stance.SUPPORTS: LABEL_COLOURS[Label.SUPPORTED],
    Stance.REFUTES: LABEL_COLOURS[Label.CONTESTED],
    Stance.NEUTRAL: "grey50",
}


def _src(text: str | None, style: str | Style = "") -> Text:
    """Wrap untrusted text as plain rich Text (no markup, no escapes)."""
    return Text(clean_text(text or ""), style=style)


def _link(url: str | None, style: str = "") -> Text:
    """Show a URL; make it a terminal hyperlink only when it is plain http(s)."""
    safe = http_url(url)
    if safe is None:
        return _src(url, style)
    return Text(safe, style=Style.parse(style) + Style(link=safe) if style else Style(link=safe))


def _counts_text(counts: dict[Label, int]) -> Text:
    text = Text()
    for i, label in enumerate(LABEL_ORDER):
        if i:
            text.append("  ")
        text.append(f"{LABEL_TITLES[label]}: {counts[label]}", style=_LABEL_STYLES[label])
    return text


def _header(doc_report: DocumentReport) -> RenderableType:
    doc = doc_report.document
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    # A claim given on the command line has no source, author or date worth a line.
    if doc.kind is not SourceKind.CLAIM:
        grid.add_row("Source", _link(doc.url))
        if doc.source and doc.source != doc.url:
            grid.add_row(f"From {doc.kind.value}", _link(doc.source))
        grid.add_row("Author", _src(doc.author or "unknown"))
        published = doc.published.date().isoformat() if doc.published else "unknown"
        grid.add_row("Published", Text(published))
    grid.add_row("Claims", _counts_text(label_counts(doc_report.claims)))
    if doc_report.commercial_context:
        grid.add_row(
            "Context",
            Text("⚠ commercial: the page as a whole reads as promotion", style="bold"),
        )
    for note in doc_report.notes:
        grid.add_row("Note", _src(note))
    return Panel(
        grid,
        title=Text(one_line(doc.title) or "(untitled)", style="bold"),
        title_align="left",
    )


def _markers(claims: tuple[CheckedClaim, ...]) -> list[str]:
    return [marker(c.verdict.label, i + 1) for i, c in enumerate(claims)]


def _article(doc_report: DocumentReport, markers: list[str]) -> Text:
    text, claims = doc_report.document.text, doc_report.claims
    if len(text) > LONG_TEXT and placed_claims(text, claims):
        windows = claim_windows(text, claims)
    else:
        windows = [(0, len(text))]
    out = Text()
    for n, (start, end) in enumerate(windows):
        if n:
            out.append("\n\n")
        if start > 0:
            out.append("…\n", style="dim")
        for seg in segments(text, claims, start, end):
            if seg.claim is None:
                out.append(clean_text(seg.text))
                continue
            label = claims[seg.claim].verdict.label
            out.append(markers[seg.claim], style=_LABEL_STYLES[label] + Style(reverse=True))
            out.append(" ")
            out.append(clean_text(seg.text), style=_HIGHLIGHT_STYLES[label])
    if windows[-1][1] < len(text.rstrip()):
        out.append("\n…", style="dim")
    return out


def _evidence(item: EvidenceItem) -> RenderableType:
    head = Text()
    url = pubmed_url(item.pmid)
    head.append(f"PMID {clean_text(item.pmid)}", style="bold")
    if url:
        head.append(" ")
        head.append(url, style=Style(link=url, color="cyan"))
    head.append(f"  {item.year or 'n.d.'}  ")
    head.append(clean_text(study_type(item.publication_types)), style="italic")
    if is_retracted(item):
        head.append("  RETRACTED", style="bold red reverse")
    title = Text(one_line(item.title))
    if item.journal:
        title.append(f" ({one_line(item.journal)})", style="dim")
    stance = Text()
    stance.append(
        f"{STANCE_SYMBOLS[item.stance]} {item.stance.value} ({item.score:.2f}): ",
        style=_STANCE_STYLES[item.stance],
    )
    stance.append("“" + one_line(item.sentence) + "”", style="italic")
    return Padding(Group(head, title, stance), (0, 0, 0, 2), expand=False)


QUERY_CHARS = 160
"""Longest PubMed term shown in full in the terminal."""


def _claim(checked: CheckedClaim, mark: str, placed: bool) -> RenderableType:
    claim, verdict = checked.claim, checked.verdict
    head = Text()
    head.append(f"{mark} {LABEL_TITLES[verdict.label]}", style=_LABEL_STYLES[verdict.label])
    head.append(f"  confidence {verdict.confidence:.0%}", style="bold")
    if not placed:
        head.append("  (not located in the text)", style="dim")
    parts: list[RenderableType] = [head, Text("“" + one_line(claim.text) + "”", style="italic")]
    if verdict.rationale:
        parts.append(Text("Why: ", style="bold").append(_src(verdict.rationale)))
    if claim.context:
        parts.append(Text("Refers to: ", style="bold").append(_src(claim.context)))
    if claim.also_at:
        times = len(claim.also_at)
        parts.append(
            Text(f"Repeated {times} more time{'s' if times != 1 else ''} in the text, checked once")
        )
    query = Text("Query: ", style="bold")
    if verdict.query:
        # Relaxed PubMed terms run to hundreds of characters; the JSON keeps them whole.
        term = one_line(verdict.query)
        query.append(term if len(term) <= QUERY_CHARS else term[: QUERY_CHARS - 1] + "…")
    else:
        query.append("none", style="dim")
    query.append(f"  (evidence {verdict.evidence_status.value})", style="dim")
    parts.append(query)
    ranked = sorted(verdict.evidence, key=lambda e: e.score, reverse=True)
    for item in ranked[:TOP_EVIDENCE]:
        parts.append(_evidence(item))
    if len(ranked) > TOP_EVIDENCE:
        parts.append(Text(f"  … {len(ranked) - TOP_EVIDENCE} more in the JSON report", "dim"))
    return Group(*parts, Text())


def _summary(report: Report) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Documents", str(len(report.documents)))
    grid.add_row("Claims", str(claim_count(report)))
    counts = report.label_counts()
    for label in LABEL_ORDER:
        grid.add_row(Text(LABEL_TITLES[label], style=_LABEL_STYLES[label]), str(counts[label]))
    failure_style = "bold red" if report.failures else ""
    grid.add_row(Text("Failures", style=failure_style), Text(str(len(report.failures))))
    grid.add_row("Generated", report.generated_at.isoformat(timespec="seconds"))
    return Panel(grid, title="Summary", title_align="left", expand=False)


def render_terminal(report: Report, console: Console) -> None:
    """Print a report: per document a header, highlighted text and claim details.

    Args:
        report: The report to show.
        console: Where to print; its width and colour system decide the look.
    """
    for doc_report in report.documents:
        markers = _markers(doc_report.claims)
        placed = placed_claims(doc_report.document.text, doc_report.claims)
        console.print(_header(doc_report))
        if doc_report.claims:
            console.print(_article(doc_report, markers))
        else:
            console.print(Text("No checkable claims found.", style="dim"))
        console.print()
        if doc_report.claims:
            console.print(Rule("Claims", align="left"))
        for i, checked in enumerate(doc_report.claims):
            console.print(_claim(checked, markers[i], i in placed))
    console.print(_summary(report))
    if report.failures:
        console.print(Rule("Failures", style="red", align="left"))
        for failure in report.failures:
            line = Text(style="red")
            line.append(f"✗ {clean_text(failure.stage)}: ", style="bold red")
            line.append(one_line(failure.subject))
            line.append(f" ({clean_text(failure.error_type)}) ", style="bold red")
            line.append(one_line(failure.message))
            console.print(line)
