"""Reports as one self-contained HTML page. Reads its templates (package data); no other I/O.

The page inlines its CSS and one small script and fetches nothing. Every piece
of source text reaches the Jinja2 template as a plain string and is escaped by
autoescaping; the highlighted article is built by slicing ``document.text`` at
claim offsets (:func:`~pipeline.report._common.segments`), never by pasting
source text into markup. Only http(s) URLs become links. A Content-Security-Policy
allows the page's own script by hash and nothing else, so even a missed escape
could not run injected script.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from claims.types import CheckedClaim, DocumentReport, EvidenceItem, Label, Report
from pipeline.report._common import (
    LABEL_LOOKS,
    LABEL_ORDER,
    LABEL_TITLES,
    MARKER_LETTERS,
    STANCE_SYMBOLS,
    claim_count,
    clean_text,
    confidence_text,
    context_line,
    failure_text,
    http_url,
    is_retracted,
    label_counts,
    marker,
    model_names,
    one_line,
    placed_spans,
    pubmed_url,
    qualifier_text,
    segments,
    shared_name,
    study_type,
)

__all__ = ["render_html", "report_context"]


@dataclass(frozen=True, slots=True)
class _Count:
    label: str
    title: str
    letter: str
    count: int
    meaning: str


@dataclass(frozen=True, slots=True)
class _EvidenceView:
    pmid: str
    href: str | None
    title: str
    year: str
    journal: str
    study_type: str
    retracted: bool
    sentence: str
    stance: str
    symbol: str
    score: str


@dataclass(frozen=True, slots=True)
class _ClaimView:
    anchor: str
    claim_id: str
    marker: str
    label: str
    label_title: str
    confidence: str
    qualifiers: str
    text: str
    context: str
    rationale: str
    query: str
    queries_tried: tuple[str, ...]
    evidence_status: str
    evidence: tuple[_EvidenceView, ...]
    model: str
    placed: bool
    repeats: tuple[str, ...]
    """Element ids of the other highlighted places of a repeated claim."""
    repeat_count: int
    """How many other places the document repeats the claim at (placed or not)."""
    also_retrieved: tuple[str, ...]
    """PMIDs retrieved but not about the claim: listed, never cited."""


@dataclass(frozen=True, slots=True)
class _SegmentView:
    text: str
    claim: _ClaimView | None
    element_id: str = ""
    """``claim-…`` id of this highlight; a repeated claim's later places get a suffix."""


@dataclass(frozen=True, slots=True)
class _DocumentView:
    anchor: str
    title: str
    url: str
    url_href: str | None
    source: str
    source_href: str | None
    kind: str
    author: str
    published: str
    fetched_at: str
    counts: tuple[_Count, ...]
    commercial_context: bool
    notes: tuple[str, ...]
    segments: tuple[_SegmentView, ...]
    claims: tuple[_ClaimView, ...]


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("pipeline.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _asset(name: str) -> str:
    # Read raw rather than through Jinja: the script must be byte-identical to
    # the text its CSP hash was computed from.
    return (
        resources.files("pipeline.report").joinpath("templates").joinpath(name).read_text("utf-8")
    )


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; img-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def stylesheet() -> str:
    """The report's whole stylesheet: the static rules and one rule per label.

    The standalone page inlines it; the web app serves it as ``report.css``.
    """
    return _asset("report.css") + _label_css()


@functools.cache
def _label_css() -> str:
    """One rule per label setting the custom properties the stylesheet draws with.

    The stylesheet never names a label; a new label needs only its entry in
    ``LABEL_LOOKS``.
    """
    return "\n".join(
        f".lab--{label.value} {{ --c: {look.colour}; --c-ink: {look.ink}; "
        f"--c-bg: {look.wash}; --c-rule: {look.rule}; }}"
        for label, look in LABEL_LOOKS.items()
    )


def _counts(counts: dict[Label, int]) -> tuple[_Count, ...]:
    return tuple(
        _Count(
            label.value,
            LABEL_TITLES[label],
            MARKER_LETTERS[label],
            counts[label],
            LABEL_LOOKS[label].meaning,
        )
        for label in LABEL_ORDER
    )


def _evidence_view(item: EvidenceItem) -> _EvidenceView:
    return _EvidenceView(
        pmid=one_line(item.pmid),
        href=pubmed_url(item.pmid),
        title=one_line(item.title),
        year=str(item.year) if item.year is not None else "n.d.",
        journal=one_line(item.journal),
        study_type=one_line(study_type(item.publication_types)),
        retracted=is_retracted(item),
        sentence=one_line(item.sentence),
        stance=item.stance.value,
        symbol=STANCE_SYMBOLS[item.stance],
        score=f"{item.score:.2f}",
    )


def _occurrence_id(anchor: str, occurrence: int) -> str:
    return f"claim-{anchor}" if occurrence == 0 else f"claim-{anchor}-{occurrence + 1}"


def _claim_view(
    checked: CheckedClaim,
    text: str,
    doc_number: int,
    number: int,
    placed: bool,
    repeats: tuple[int, ...] = (),
) -> _ClaimView:
    claim, verdict = checked.claim, checked.verdict
    anchor = f"d{doc_number}-c{number}"
    return _ClaimView(
        anchor=anchor,
        claim_id=claim.id,
        marker=marker(verdict.label, number),
        label=verdict.label.value,
        label_title=LABEL_TITLES[verdict.label],
        confidence=confidence_text(verdict),
        qualifiers=qualifier_text(verdict),
        text=one_line(claim.text),
        context=context_line(text, claim),
        rationale=clean_text(verdict.rationale),
        query=one_line(verdict.query),
        queries_tried=tuple(one_line(q) for q in verdict.queries_tried if q != verdict.query),
        evidence_status=verdict.evidence_status.value,
        evidence=tuple(
            _evidence_view(e) for e in sorted(verdict.evidence, key=lambda e: e.score, reverse=True)
        ),
        model=one_line(model_names(verdict.model)),
        placed=placed,
        repeats=tuple(_occurrence_id(anchor, n) for n in repeats),
        repeat_count=len(claim.also_at),
        # PMIDs are digits from our parser; anything else is not linked at all.
        also_retrieved=tuple(p for p in verdict.also_retrieved if p.isdigit()),
    )


def _document_view(doc_report: DocumentReport, number: int) -> _DocumentView:
    doc = doc_report.document
    spans = placed_spans(doc.text, doc_report.claims)
    placed = {i for _, _, i, n in spans if n == 0}
    repeats: dict[int, list[int]] = {}
    for _, _, i, n in spans:
        if n:
            repeats.setdefault(i, []).append(n)
    claims = tuple(
        _claim_view(checked, doc.text, number, i + 1, i in placed, tuple(repeats.get(i, ())))
        for i, checked in enumerate(doc_report.claims)
    )
    pieces = tuple(
        _SegmentView(clean_text(seg.text), None)
        if seg.claim is None
        else _SegmentView(
            clean_text(seg.text),
            claims[seg.claim],
            _occurrence_id(claims[seg.claim].anchor, seg.occurrence),
        )
        for seg in segments(doc.text, doc_report.claims)
    )
    return _DocumentView(
        anchor=f"doc-{number}",
        title=one_line(doc.title) or "(untitled)",
        url=one_line(shared_name(doc.url)),
        url_href=http_url(doc.url),
        source=one_line(shared_name(doc.source)),
        source_href=http_url(doc.source),
        kind=doc.kind.value,
        author=one_line(doc.author or ""),
        published=doc.published.date().isoformat() if doc.published else "",
        fetched_at=doc.fetched_at.isoformat(timespec="minutes"),
        counts=_counts(label_counts(doc_report.claims)),
        commercial_context=doc_report.commercial_context,
        notes=tuple(one_line(n) for n in doc_report.notes),
        segments=pieces,
        claims=claims,
    )


def report_context(report: Report) -> dict[str, object]:
    """Return the variables ``report.html.j2`` shows for a report, escaped by the template.

    ``claimscan serve`` extends that template with the same variables, so the web page
    and the saved report look alike.
    """
    documents = tuple(_document_view(d, i + 1) for i, d in enumerate(report.documents))
    if len(documents) == 1:
        page_title = documents[0].title
    else:
        page_title = f"{len(documents)} documents"
    return {
        "page_title": page_title,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "totals": _counts(report.label_counts()),
        "claim_total": claim_count(report),
        "documents": documents,
        "failures": [
            {
                "stage": one_line(f.stage.value),
                "subject": one_line(f.subject),
                "error_type": one_line(f.error_type),
                "message": one_line(failure_text(f)),
            }
            for f in report.failures
        ],
    }


def render_html(report: Report) -> str:
    """Render a report as a single self-contained HTML page.

    Args:
        report: The report to render.

    Returns:
        The HTML document. It makes no network requests and runs only its own
        inline script (pinned by a CSP hash).
    """
    script = _asset("report.js")
    template = _environment().get_template("report.html.j2")
    return template.render(
        csp=_csp(script),
        # Markup: our own static assets, not source text; escaping would break them.
        style=Markup(stylesheet()),
        script=Markup(script),
        **report_context(report),
    )
