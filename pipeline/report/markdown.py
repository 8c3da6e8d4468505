"""Reports as Markdown for a CMS page or a ticket. Pure.

By default one line per claim, grouped by label (flagged first), with a link to its
best evidence: a few KB per article, short enough to paste into a ticket. With
``details`` every claim gets its rationale, query and all its evidence.

Source text is escaped with :func:`escape` (CommonMark backslash escapes for
every character that can start markup, whitespace collapsed to one line), so a
feed item cannot add links, images, HTML, headings or mentions. Only links we
build ourselves (PubMed, and http(s) document URLs as autolinks) are live.
"""

from __future__ import annotations

import re

from claims.types import CheckedClaim, DocumentReport, EvidenceItem, Report
from pipeline.report._common import (
    GENERIC_TYPE,
    LABEL_ORDER,
    LABEL_TITLES,
    STANCE_SYMBOLS,
    claim_count,
    confidence_text,
    failure_text,
    http_url,
    is_retracted,
    label_counts,
    marker,
    one_line,
    pubmed_url,
    qualifier_text,
    shared_name,
    study_type,
)

__all__ = ["escape", "render_markdown"]

# Escaped wherever they appear: they open code, emphasis, links, HTML or autolinks,
# table cells, strikethrough, math (GitHub) and mentions or e-mail links (GitHub, GitLab).
# "_" between two letters or digits cannot open emphasis, so "file_name" stays as it is.
_SPECIAL_RE = re.compile(r"([\\`*\[\]<|~$@]|(?<![^\W_])_|_(?![^\W_]))")
# Escaped only where they mean something, so ordinary prose ("Note: see (Smith,
# 2020) & co.") stays readable (#20): "(" right after "]" (a link destination),
# ":" in "scheme://" (GFM autolinks), "&" in an entity, "#" before a digit (issue
# references).
_CONTEXT_RE = re.compile(r"(?<=\])(\()|(?<=[A-Za-z])(:)(?=//)|(&)(?=#?\w+;)|(#)(?=\d)")
# Only at the start of a line can these begin a list, quote, heading rule or block.
_LINE_START_RE = re.compile(r"^(\s*)([-+=>#]|\d+(?=[.)]))")


def escape(text: str | None) -> str:
    """Return untrusted text as inert Markdown on one line.

    Args:
        text: Text from a source, PubMed or the verdict.

    Returns:
        The text with control characters removed, whitespace collapsed and every
        character that could start Markdown markup where it stands backslash-escaped.
    """
    flat = one_line(text or "")
    escaped = _SPECIAL_RE.sub(r"\\\1", flat)
    escaped = _CONTEXT_RE.sub(lambda m: "\\" + (m.group(0)), escaped)
    match = _LINE_START_RE.match(escaped)
    if match:
        lead, token = match.groups()
        if token.isdigit():
            # "1." starts an ordered list: escape the dot, not the digits.
            end = match.end()
            escaped = escaped[:end] + "\\" + escaped[end:]
        else:
            escaped = f"{lead}\\{escaped[len(lead) :]}"
    return escaped


def _counts_line(claims: tuple[CheckedClaim, ...]) -> str:
    counts = label_counts(claims)
    return " · ".join(f"{LABEL_TITLES[label]}: **{counts[label]}**" for label in LABEL_ORDER)


def _link_or_text(url: str) -> str:
    safe = http_url(url)
    # Angle-bracket autolinks need no escaping inside; http_url refused < > and spaces.
    return f"<{safe}>" if safe else escape(shared_name(url))


def _ranked(checked: CheckedClaim) -> list[EvidenceItem]:
    return sorted(checked.verdict.evidence, key=lambda e: e.score, reverse=True)


def _pmid_link(item: EvidenceItem) -> str:
    url = pubmed_url(item.pmid)
    return f"[PMID {item.pmid}]({url})" if url else f"PMID {escape(item.pmid)}"


def _evidence_line(item: EvidenceItem) -> str:
    year = str(item.year) if item.year is not None else "n.d."
    kind = escape(study_type(item.publication_types))
    retracted = " **RETRACTED**" if is_retracted(item) else ""
    journal = f", *{escape(item.journal)}*" if item.journal else ""
    stance = f"{STANCE_SYMBOLS[item.stance]} {item.stance.value} ({item.score:.2f})"
    return (
        f"  - {_pmid_link(item)} ({year}, {kind}){retracted}: {escape(item.title)}{journal}  \n"
        f"    {stance}: “{escape(item.sentence)}”"
    )


def _claim_details(checked: CheckedClaim, number: int) -> list[str]:
    claim, verdict = checked.claim, checked.verdict
    lines = [
        f"> {escape(claim.text)}",
        "",
        f"- **{marker(verdict.label, number)} {LABEL_TITLES[verdict.label]}**"
        + (f", confidence {confidence_text(verdict)}" if verdict.confidence is not None else "")
        + (f" ({qualifier_text(verdict)})" if verdict.qualifiers else ""),
    ]
    if verdict.rationale:
        lines.append(f"- Why: {escape(verdict.rationale)}")
    if claim.context:
        lines.append(f"- Refers to: {escape(claim.context)}")
    if claim.also_at:
        times = len(claim.also_at)
        lines.append(
            f"- Repeated {times} more time{'s' if times != 1 else ''} in the text, checked once"
        )
    # Inside a code span nothing is interpreted; only a backtick or a blank line
    # could end it early, so both are removed.
    query = f"`{one_line(verdict.query).replace('`', '')}`" if verdict.query else "none"
    lines.append(f"- Query: {query} (evidence {verdict.evidence_status.value})")
    if verdict.evidence:
        lines.append("- Evidence:")
        lines.extend(_evidence_line(item) for item in _ranked(checked))
    lines.append("")
    return lines


def _claim_line(checked: CheckedClaim, number: int) -> str:
    """One list item: marker, confidence, the claim, and a link to its best evidence."""
    verdict = checked.verdict
    mark = marker(verdict.label, number)
    shown = confidence_text(verdict)
    line = f"- **{mark}** {shown + ' · ' if shown else ''}{escape(checked.claim.text)}"
    if verdict.qualifiers:
        line += f" ({qualifier_text(verdict)})"
    ranked = _ranked(checked)
    if ranked:
        item = ranked[0]
        year = str(item.year) if item.year is not None else "n.d."
        kind = study_type(item.publication_types)
        about = year if kind == GENERIC_TYPE else f"{year}, {escape(kind)}"
        retracted = ", **RETRACTED**" if is_retracted(item) else ""
        line += f" · {STANCE_SYMBOLS[item.stance]} {_pmid_link(item)} ({about}{retracted})"
    else:
        line += f" · no evidence ({verdict.evidence_status.value})"
    return line


def _header(doc_report: DocumentReport) -> list[str]:
    doc = doc_report.document
    lines = [f"## {escape(doc.title) or '(untitled)'}", ""]
    lines.append(f"- Source: {_link_or_text(doc.url)}")
    if doc.source and doc.source != doc.url:
        lines.append(f"- From {doc.kind.value}: {_link_or_text(doc.source)}")
    if doc.author:
        lines.append(f"- Author: {escape(doc.author)}")
    if doc.published:
        lines.append(f"- Published: {doc.published.date().isoformat()}")
    lines.append(f"- Claims: {_counts_line(doc_report.claims)}")
    if doc_report.commercial_context:
        lines.append("- ⚠ **Commercial context:** the page as a whole reads as promotion.")
    lines.extend(f"- Note: {escape(note)}" for note in doc_report.notes)
    lines.append("")
    return lines


def _document(doc_report: DocumentReport, details: bool) -> list[str]:
    lines = _header(doc_report)
    claims = doc_report.claims
    if not claims:
        return [*lines, "No checkable claims found.", ""]
    if details:
        for i, checked in enumerate(claims):
            lines.extend(_claim_details(checked, i + 1))
        return lines
    for label in LABEL_ORDER:
        numbers = [i + 1 for i, c in enumerate(claims) if c.verdict.label is label]
        if not numbers:
            continue
        lines.extend([f"### {LABEL_TITLES[label]} ({len(numbers)})", ""])
        lines.extend(_claim_line(claims[n - 1], n) for n in numbers)
        lines.append("")
    return lines


def render_markdown(report: Report, *, details: bool = False) -> str:
    """Render a report as CommonMark (GitHub-flavoured Markdown renders it too).

    Args:
        report: The report to render.
        details: Every claim with its rationale, query and all its evidence, instead
            of one line per claim with a link to its best evidence.

    Returns:
        Markdown text ending in a newline.
    """
    counts = report.label_counts()
    totals = ", ".join(f"{counts[label]} {LABEL_TITLES[label].lower()}" for label in LABEL_ORDER)
    documents = len(report.documents)
    lines = [
        "# claimscan report",
        "",
        f"Generated {report.generated_at.isoformat(timespec='seconds')}: "
        f"{documents} document{'s' if documents != 1 else ''}, "
        f"{claim_count(report)} claims ({totals}).",
        "",
    ]
    if not details and claim_count(report):
        lines.extend(
            [
                "Each claim: marker, confidence, the claim, then its best evidence "
                "(✓ supports, ✗ refutes, – neutral). `claimscan render report.json "
                "--format markdown --details` gives every reason and evidence sentence.",
                "",
            ]
        )
    for doc_report in report.documents:
        lines.extend(_document(doc_report, details))
    if report.failures:
        lines.extend(["## Failures", ""])
        for f in report.failures:
            lines.append(
                f"- **{escape(f.stage.value)}** {escape(failure_text(f))} ({escape(f.error_type)})"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
