"""Reports for the terminal with rich: writes to the ``Console`` it is given.

Two views. The summary (the default) gives each article's header and counts, then
one line per claim, flagged labels first, with its top evidence. The full view
(``details=True``) adds the article text with claims highlighted and, per claim, the
rationale, the PubMed query and up to three evidence sentences.

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
    EvidenceStatus,
    Label,
    Report,
    SourceKind,
    Stance,
)
from pipeline.report._common import (
    GENERIC_TYPE,
    LABEL_LOOKS,
    LABEL_ORDER,
    LABEL_TITLES,
    STANCE_SYMBOLS,
    claim_count,
    claim_windows,
    clean_text,
    confidence_text,
    failure_text,
    http_url,
    is_retracted,
    label_counts,
    marker,
    one_line,
    placed_claims,
    pubmed_url,
    qualifier_text,
    segments,
    study_type,
)

__all__ = ["render_terminal"]

LONG_TEXT = 1200
"""Texts longer than this many characters show only the paragraphs with claims."""

TOP_EVIDENCE = 3
"""Evidence items shown per claim; the JSON and HTML reports have them all."""


class _Styles:
    """Rich styles for one console: 16-colour terminals get named colours, others shades."""

    def __init__(self, console: Console) -> None:
        # Console.color_system is the system's name ("standard", "256", "truecolor").
        named = console.color_system in ("standard", "windows")
        colour = {
            label: look.ansi if named else look.terminal for label, look in LABEL_LOOKS.items()
        }
        self.label = {label: Style(color=c, bold=True) for label, c in colour.items()}
        # Underline as well as colour, so highlights survive monochrome terminals.
        self.highlight = {label: Style(color=c, underline=True) for label, c in colour.items()}
        # Reverse video: the label's colour behind the theme's own background colour.
        self.marker = {
            label: Style(color=c, bold=True, reverse=True) for label, c in colour.items()
        }
        self.stance = {
            Stance.SUPPORTS: Style(color=colour[Label.SUPPORTED]),
            Stance.REFUTES: Style(color=colour[Label.CONTESTED]),
            Stance.NEUTRAL: Style(dim=True),
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


def _labelled(name: str, value: Text | str) -> Text:
    """``Name: value`` with only the name in bold."""
    text = Text()
    text.append(f"{name}: ", style="bold")
    text.append(value if isinstance(value, Text) else Text(value))
    return text


def _counts_text(counts: dict[Label, int], styles: _Styles) -> Text:
    text = Text()
    for i, label in enumerate(LABEL_ORDER):
        if i:
            text.append("  ")
        text.append(f"{LABEL_TITLES[label]} {counts[label]}", style=styles.label[label])
    return text


def _header(doc_report: DocumentReport, styles: _Styles) -> RenderableType:
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
    grid.add_row("Claims", _counts_text(label_counts(doc_report.claims), styles))
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


def _article(doc_report: DocumentReport, markers: list[str], styles: _Styles) -> Text:
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
            out.append(markers[seg.claim], style=styles.marker[label])
            out.append(" ")
            out.append(clean_text(seg.text), style=styles.highlight[label])
    if windows[-1][1] < len(text.rstrip()):
        out.append("\n…", style="dim")
    return out


def _evidence(item: EvidenceItem, styles: _Styles) -> RenderableType:
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
        style=styles.stance[item.stance],
    )
    stance.append("“" + one_line(item.sentence) + "”", style="italic")
    return Padding(Group(head, title, stance), (0, 0, 0, 2), expand=False)


QUERY_CHARS = 160
"""Longest PubMed term shown in full in the terminal."""


def _ranked(checked: CheckedClaim) -> list[EvidenceItem]:
    return sorted(checked.verdict.evidence, key=lambda e: e.score, reverse=True)


def _claim(
    checked: CheckedClaim, mark: str, placed: bool, styles: _Styles, *, query: bool
) -> RenderableType:
    claim, verdict = checked.claim, checked.verdict
    head = Text()
    head.append(f"{mark} {LABEL_TITLES[verdict.label]}", style=styles.label[verdict.label])
    if verdict.confidence is not None:
        head.append(f"  confidence {confidence_text(verdict)}", style="bold")
    if verdict.qualifiers:
        head.append(f"  {qualifier_text(verdict)}", style="italic")
    if not placed:
        head.append("  (not located in the text)", style="dim")
    parts: list[RenderableType] = [head, Text("“" + one_line(claim.text) + "”", style="italic")]
    if verdict.rationale:
        parts.append(_labelled("Why", _src(verdict.rationale)))
    if claim.context:
        parts.append(_labelled("Refers to", _src(claim.context)))
    if claim.also_at:
        times = len(claim.also_at)
        parts.append(
            Text(f"Repeated {times} more time{'s' if times != 1 else ''} in the text, checked once")
        )
    if query:
        term = Text()
        if verdict.query:
            # Relaxed PubMed terms run to hundreds of characters; the JSON keeps them whole.
            q = one_line(verdict.query)
            term.append(q if len(q) <= QUERY_CHARS else q[: QUERY_CHARS - 1] + "…")
        else:
            term.append("none", style="dim")
        term.append(f"  (evidence {verdict.evidence_status.value})", style="dim")
        parts.append(_labelled("Query", term))
    ranked = _ranked(checked)
    for item in ranked[:TOP_EVIDENCE]:
        parts.append(_evidence(item, styles))
    if len(ranked) > TOP_EVIDENCE:
        parts.append(Text(f"  … {len(ranked) - TOP_EVIDENCE} more in the JSON report", "dim"))
    if not ranked:
        status = verdict.evidence_status
        why = "" if status is EvidenceStatus.FOUND else f" (evidence {status.value})"
        parts.append(Text(f"  No evidence sentences{why}.", "dim"))
    return Group(*parts, Text())


def _top_evidence(checked: CheckedClaim, styles: _Styles) -> Text:
    """The best evidence item in a few words: ``✓ PMID 123 2020 Meta-Analysis``."""
    ranked = _ranked(checked)
    status = checked.verdict.evidence_status
    if not ranked:
        why = "" if status is EvidenceStatus.FOUND else f" ({status.value})"
        return Text(f"no evidence{why}", style="dim")
    item = ranked[0]
    out = Text()
    out.append(STANCE_SYMBOLS[item.stance], style=styles.stance[item.stance])
    url = pubmed_url(item.pmid)
    out.append(f" PMID {clean_text(item.pmid)}", style=Style(link=url) if url else "")
    out.append(f" {item.year or 'n.d.'}")
    kind = study_type(item.publication_types)
    if kind != GENERIC_TYPE:
        out.append(f" {clean_text(kind)}", style="italic")
    if is_retracted(item):
        out.append(" RETRACTED", style="bold red")
    return out


def _claim_lines(doc_report: DocumentReport, markers: list[str], styles: _Styles) -> Table:
    """One line per claim, grouped by label in order of attention."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=40)
    for label in LABEL_ORDER:
        group = [i for i, c in enumerate(doc_report.claims) if c.verdict.label is label]
        if group and table.row_count:
            table.add_row()  # a blank line between labels
        for i in group:
            checked = doc_report.claims[i]
            claim = Text()
            if checked.verdict.qualifiers:
                # Doubts come first, so the ellipsis never cuts "possibly promotional".
                claim.append(f"{qualifier_text(checked.verdict)}: ", style="italic")
            claim.append(one_line(checked.claim.text))
            table.add_row(
                Text(markers[i], style=styles.marker[label]),
                Text(confidence_text(checked.verdict)),
                claim,
                _top_evidence(checked, styles),
            )
    return table


def _summary(report: Report, styles: _Styles) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Documents", str(len(report.documents)))
    grid.add_row("Claims", str(claim_count(report)))
    counts = report.label_counts()
    for label in LABEL_ORDER:
        grid.add_row(Text(LABEL_TITLES[label], style=styles.label[label]), str(counts[label]))
    failure_style = "bold red" if report.failures else ""
    grid.add_row(Text("Failures", style=failure_style), Text(str(len(report.failures))))
    grid.add_row("Generated", report.generated_at.isoformat(timespec="seconds"))
    return Panel(grid, title="Summary", title_align="left", expand=False)


def _full_document(doc_report: DocumentReport, console: Console, styles: _Styles) -> None:
    markers = _markers(doc_report.claims)
    placed = placed_claims(doc_report.document.text, doc_report.claims)
    console.print(_header(doc_report, styles))
    if doc_report.claims:
        console.print(_article(doc_report, markers, styles))
    else:
        console.print(Text("No checkable claims found.", style="dim"))
    console.print()
    if doc_report.claims:
        console.print(Rule("Claims", align="left"))
    for i, checked in enumerate(doc_report.claims):
        console.print(_claim(checked, markers[i], i in placed, styles, query=True))


def _short_document(doc_report: DocumentReport, console: Console, styles: _Styles) -> None:
    markers = _markers(doc_report.claims)
    console.print(_header(doc_report, styles))
    if doc_report.document.kind is SourceKind.CLAIM:
        # A claim checked on its own is the whole report: show its reasons and evidence.
        for i, checked in enumerate(doc_report.claims):
            console.print(_claim(checked, markers[i], True, styles, query=False))
    elif doc_report.claims:
        console.print(_claim_lines(doc_report, markers, styles))
        console.print()
    else:
        console.print(Text("No checkable claims found.", style="dim"))
        console.print()


def render_terminal(report: Report, console: Console, *, details: bool = False) -> None:
    """Print a report: the summary view, or the full view with ``details``.

    Args:
        report: The report to show.
        console: Where to print; its width and colour system decide the look.
        details: Show the article text, rationales, queries and evidence sentences.
    """
    styles = _Styles(console)
    for doc_report in report.documents:
        if details:
            _full_document(doc_report, console, styles)
        else:
            _short_document(doc_report, console, styles)
    articles = [d for d in report.documents if d.document.kind is not SourceKind.CLAIM]
    if details or len(report.documents) > 1:
        console.print(_summary(report, styles))
    if not details and any(d.claims for d in articles):
        console.print(
            Text(
                "Best evidence: ✓ supports, ✗ refutes, – neutral. "
                "--details: text, reasons, queries, evidence sentences.",
                style="dim",
            )
        )
    if report.failures:
        console.print(Rule("Failures", style="red", align="left"))
        for failure in report.failures:
            line = Text(style="red")
            line.append(f"✗ {clean_text(failure.stage.value)}: ", style="bold red")
            line.append(one_line(failure_text(failure)))
            line.append(f" ({clean_text(failure.error_type)})", style="dim")
            console.print(line)
