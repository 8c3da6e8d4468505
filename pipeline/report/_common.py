"""Helpers every renderer shares: markers, highlight segments, sanitising. Pure.

Source text (feed items, pages, PubMed titles) is untrusted. Renderers slice it at
claim offsets with :func:`segments`, clean it with :func:`clean_text` where the
output medium interprets control characters, and make links only from URLs that
:func:`http_url` accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claims.types import CheckedClaim, EvidenceItem, Label, Report, Stance
from claims.verdict import RETRACTION_TYPES
from claims.verdict import study_type as study_type  # re-exported for the renderers

LABEL_ORDER: tuple[Label, ...] = (
    Label.SUPPORTED,
    Label.CONTESTED,
    Label.COMMERCIAL_PROMOTIONAL,
)

LABEL_TITLES: dict[Label, str] = {
    Label.SUPPORTED: "Supported",
    Label.CONTESTED: "Contested",
    Label.COMMERCIAL_PROMOTIONAL: "Commercial-promotional",
}

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/):
# blue, vermillion and reddish purple stay distinct under all common deficiencies.
LABEL_COLOURS: dict[Label, str] = {
    Label.SUPPORTED: "#0072B2",
    Label.CONTESTED: "#D55E00",
    Label.COMMERCIAL_PROMOTIONAL: "#CC79A7",
}

MARKER_LETTERS: dict[Label, str] = {
    Label.SUPPORTED: "S",
    Label.CONTESTED: "C",
    Label.COMMERCIAL_PROMOTIONAL: "P",
}

STANCE_SYMBOLS: dict[Stance, str] = {
    Stance.SUPPORTS: "✓",
    Stance.REFUTES: "✗",
    Stance.NEUTRAL: "–",
}


# ANSI/VT escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST) and
# two-byte escapes, plus their 8-bit C1 forms. Removed whole so no payload
# fragment ("[31m") is left behind.
_ESCAPE_RE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]"
)
# Remaining C0/C1 controls except tab and newline, plus bidi overrides that can
# make displayed text differ from what it is (CVE-2021-42574, "Trojan Source").
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_PMID_RE = re.compile(r"[0-9]{1,10}")
_HTTP_URL_RE = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"'`\\]+", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Strip terminal escape sequences, control characters and bidi overrides.

    Args:
        text: Untrusted text from a source or PubMed.

    Returns:
        The text with only printable characters, tabs and newlines left.
    """
    return _CONTROL_RE.sub("", _ESCAPE_RE.sub("", text))


def one_line(text: str) -> str:
    """Clean ``text`` and collapse all whitespace runs to single spaces."""
    return " ".join(clean_text(text).split())


def http_url(url: str | None) -> str | None:
    """Return ``url`` if it is a plain http(s) URL safe to link to, else None.

    ``javascript:``, ``data:``, relative paths and anything with whitespace,
    quotes or control characters are refused, so callers render them as text.
    """
    if url and _HTTP_URL_RE.fullmatch(url):
        return url
    return None


def pubmed_url(pmid: str) -> str | None:
    """Return the PubMed page for ``pmid``, or None if it is not a numeric PMID."""
    if _PMID_RE.fullmatch(pmid):
        return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    return None


def marker(label: Label, number: int) -> str:
    """Return the text marker for a claim, e.g. ``[S1]``; numbers count per document."""
    return f"[{MARKER_LETTERS[label]}{number}]"


def is_retracted(item: EvidenceItem) -> bool:
    """Return True if the item is a retracted paper or a retraction notice."""
    return any(t in RETRACTION_TYPES for t in item.publication_types)


def label_counts(claims: tuple[CheckedClaim, ...]) -> dict[Label, int]:
    """Count claims per label, every label present."""
    counts = {label: 0 for label in LABEL_ORDER}
    for checked in claims:
        counts[checked.verdict.label] += 1
    return counts


def claim_count(report: Report) -> int:
    """Return the number of claims over all documents."""
    return sum(len(doc.claims) for doc in report.documents)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of document text, highlighted when it is a claim."""

    text: str
    claim: int | None = None
    """Index into the document's claims, or None for plain text."""
    occurrence: int = 0
    """Which place of a repeated claim this is: 0 for ``start``/``end``, then ``also_at``."""


def placed_spans(text: str, claims: tuple[CheckedClaim, ...]) -> list[tuple[int, int, int, int]]:
    """Return (start, end, claim index, occurrence) of every place a claim is highlighted.

    Each claim is highlighted at ``start``/``end`` (occurrence 0) and at each of its
    ``also_at`` places. A place is kept when it lies inside the text and does not
    overlap a place that starts earlier (ties go to the longer, then the first claim).
    """
    candidates = sorted(
        (start, -end, i, n)
        for i, checked in enumerate(claims)
        for n, (start, end) in enumerate(
            ((checked.claim.start, checked.claim.end), *checked.claim.also_at)
        )
    )
    placed: list[tuple[int, int, int, int]] = []
    cursor = 0
    for start, neg_end, i, n in candidates:
        end = -neg_end
        if 0 <= start < end <= len(text) and start >= cursor:
            placed.append((start, end, i, n))
            cursor = end
    return placed


def placed_claims(text: str, claims: tuple[CheckedClaim, ...]) -> set[int]:
    """Return indexes of claims that can be highlighted in ``text`` at their first place."""
    return {i for _, _, i, n in placed_spans(text, claims) if n == 0}


def segments(
    text: str, claims: tuple[CheckedClaim, ...], start: int = 0, end: int | None = None
) -> list[Segment]:
    """Split ``text[start:end]`` into plain and claim segments at claim offsets.

    Args:
        text: The document text the offsets refer to.
        claims: The document's checked claims, in report order.
        start: Where the window begins.
        end: Where the window ends; None for the end of the text.

    Returns:
        Segments in text order whose texts join to ``text[start:end]``. A repeated
        claim gives one segment per place. Places outside the window, overlapping an
        earlier place or with offsets outside the text are left unhighlighted.
    """
    stop = len(text) if end is None else end
    out: list[Segment] = []
    cursor = start
    for s, e, i, n in placed_spans(text, claims):
        if s < start or e > stop:
            continue
        if s > cursor:
            out.append(Segment(text[cursor:s]))
        out.append(Segment(text[s:e], i, n))
        cursor = e
    if cursor < stop:
        out.append(Segment(text[cursor:stop]))
    return out


_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the blank-line-separated paragraphs of ``text``."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for match in _PARAGRAPH_BREAK_RE.finditer(text):
        if match.start() > cursor:
            spans.append((cursor, match.start()))
        cursor = match.end()
    if cursor < len(text):
        spans.append((cursor, len(text)))
    return spans


def claim_windows(text: str, claims: tuple[CheckedClaim, ...]) -> list[tuple[int, int]]:
    """Return merged paragraph spans that contain at least one placed claim.

    A claim that crosses a paragraph break pulls in every paragraph it touches,
    so highlighted claims are never cut.
    """
    placed = [(s, e) for s, e, _, _ in placed_spans(text, claims)]
    wanted: list[tuple[int, int]] = []
    for s, e in paragraphs(text):
        if any(cs < e and ce > s for cs, ce in placed):
            wanted.append((s, e))
    merged: list[tuple[int, int]] = []
    for s, e in wanted:
        # Extend to cover claims that run past the paragraph's end.
        e = max([e] + [ce for cs, ce in placed if s <= cs < e])
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
