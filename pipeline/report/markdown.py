"""Reports as Markdown for a CMS page or a ticket. Pure.

Source text is escaped with :func:`escape` (CommonMark backslash escapes for
every character that can start markup, whitespace collapsed to one line), so a
feed item cannot add links, images, HTML, headings or mentions. Only links we
build ourselves (PubMed, and http(s) document URLs as autolinks) are live.
"""

from __future__ import annotations

import re

from claims.types import CheckedClaim, DocumentReport, EvidenceItem, Report
from pipeline.report._common import (
    LABEL_ORDER,
    LABEL_TITLES,
    STANCE_SYMBOLS,
    claim_count,
    http_url,
    is_retracted,
    label_counts,
    marker,
    one_line,
    pubmed_url,
    study_type,
)

__all__ = ["escape", "render_markdown"]

# CommonMark lets any ASCII punctuation be backslash-escaped. These can open
# emphasis, code, links, images, HTML, entities, tables, strikethrough,
# headings and (on GitHub and GitLab) mentions and issue references.
_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]()<>#!|~&@$^:])")
# Only at the start of a line can these begin a list, quote, heading rule or block.
_LINE_START_RE = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")


def escape(text: str | None) -> str:
    """Return untrusted text as inert Markdown on one line.

    Args:
        text: Text from a source, PubMed or the verdict.

    Returns:
        The text with control characters removed, whitespace collapsed and every
        Markdown-significant character backslash-escaped.
    """
    flat = one_line(text or "")
    escaped = _SPECIAL_RE.sub(r"\\\1", flat)
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
    return f"<{safe}>" if safe else escape(url)


def _evidence_line(item: EvidenceItem) -> str:
    url = pubmed_url(item.pmid)
    pmid = f"[PMID {item.pmid}]({url})" if url else f"PMID {escape(item.pmid)}"
    year = str(item.year) if item.year is not None else "n.d."
    kind = escape(study_type(item.publication_types))
    retracted = " **RETRACTED**" if is_retracted(item) else ""
    journal = f", *{escape(item.journal)}*" if item.journal else ""
    stance = f"{STANCE_SYMBOLS[item.stance]} {item.stance.value} ({item.score:.2f})"
    return (
        f"  - {pmid} ({year}, {kind}){retracted}: {escape(item.title)}{journal}  \n"
        f"    {stance}: “{escape(item.sentence)}”"
    )


def _claim(checked: CheckedClaim, number: int) -> list[str]:
    claim, verdict = checked.claim, checked.verdict
    lines = [
        f"> {escape(claim.text)}",
        "",
        f"- **{marker(verdict.label, number)} {LABEL_TITLES[verdict.label]}**, "
        f"confidence {verdict.confidence:.0%}",
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
        ranked = sorted(verdict.evidence, key=lambda e: e.score, reverse=True)
        lines.extend(_evidence_line(item) for item in ranked)
    lines.append("")
    return lines


def _document(doc_report: DocumentReport) -> list[str]:
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
    if not doc_report.claims:
        lines.extend(["No checkable claims found.", ""])
    for i, checked in enumerate(doc_report.claims):
        lines.extend(_claim(checked, i + 1))
    return lines


def render_markdown(report: Report) -> str:
    """Render a report as CommonMark (GitHub-flavoured Markdown renders it too).

    Args:
        report: The report to render.

    Returns:
        Markdown text ending in a newline.
    """
    counts = report.label_counts()
    totals = ", ".join(f"{counts[label]} {LABEL_TITLES[label].lower()}" for label in LABEL_ORDER)
    lines = [
        "# claimscan report",
        "",
        f"Generated {report.generated_at.isoformat(timespec='seconds')}: "
        f"{len(report.documents)} documents, {claim_count(report)} claims ({totals}).",
        "",
    ]
    for doc_report in report.documents:
        lines.extend(_document(doc_report))
    if report.failures:
        lines.extend(["## Failures", ""])
        for f in report.failures:
            lines.append(
                f"- **{escape(f.stage)}** {escape(f.subject)} ({escape(f.error_type)}): "
                f"{escape(f.message)}"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
