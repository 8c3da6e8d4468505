"""Helpers every renderer shares: markers, highlight segments, sanitising. Pure.

Source text (feed items, pages, PubMed titles) is untrusted. Renderers slice it at
claim offsets with :func:`segments`, clean it with :func:`clean_text` where the
output medium interprets control characters, and make links only from URLs that
:func:`http_url` accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from claims.types import (
    CheckedClaim,
    Claim,
    EvidenceItem,
    Failure,
    Label,
    Report,
    Stance,
    Verdict,
)
from claims.verdict import RETRACTION_TYPES
from claims.verdict import study_type as study_type  # re-exported for the renderers


@dataclass(frozen=True, slots=True)
class LabelLook:
    """How one label is drawn in every report format."""

    title: str
    """Shown to readers: "Supported"."""
    meaning: str
    """What the label tells a reader, in a few words (legends)."""
    letter: str
    """Marker letter: ``[S1]``. Markers carry the label without colour."""
    colour: str
    """HTML: the label's colour (Okabe & Ito's colour-blind-safe palette)."""
    ink: str
    """HTML: the colour darkened for text on white (at least 4.5:1)."""
    wash: str
    """HTML: a pale tint for highlighted text."""
    rule: str
    """HTML: width and style of the underline of highlighted claims (a CSS border),
    a cue that is not colour."""
    terminal: str
    """Terminal (256 colours or more): a shade at 4.6:1 against both black and white,
    so it reads on dark and light themes alike."""
    ansi: str
    """Terminal (16 colours): a named colour; the user's theme decides its shade."""


# https://jfly.uni-koeln.de/color/ (Okabe & Ito). The terminal shades keep those hues
# at relative luminance 0.18; #CC79A7 itself became plain white in 16-colour terminals
# and pale on light themes (#20). The order is the order of attention: what an editor
# must look at first comes first in counts and summaries.
LABEL_LOOKS: dict[Label, LabelLook] = {
    Label.COMMERCIAL_PROMOTIONAL: LabelLook(
        title="Commercial-promotional",
        meaning="the sentence sells a product, clinic or treatment",
        letter="P", colour="#CC79A7", ink="#8c4371", wash="#f8e6f0", rule="3px dotted",
        terminal="#D81F9A", ansi="magenta",
    ),
    Label.CONTESTED: LabelLook(
        title="Contested",
        meaning="on-topic PubMed evidence contradicts it, or the evidence conflicts",
        letter="C", colour="#D55E00", ink="#a34700", wash="#fce9dc", rule="2px dashed",
        terminal="#BA5B1B", ansi="yellow",
    ),
    Label.UNVERIFIED: LabelLook(
        title="Unverified",
        meaning="no on-topic PubMed evidence, or PubMed unreachable: not a judgement",
        letter="U", colour="#999999", ink="#5e5e5e", wash="#efefef", rule="1px dotted",
        terminal="#767676", ansi="default",
    ),
    Label.SUPPORTED: LabelLook(
        title="Supported",
        meaning="PubMed evidence backs it",
        letter="S", colour="#0072B2", ink="#00578a", wash="#e3f0f9", rule="2px solid",
        terminal="#1E77CF", ansi="blue",
    ),
}  # fmt: skip

_missing = [label for label in Label if label not in LABEL_LOOKS]
if _missing:
    # Every renderer iterates this table; a label without an entry would vanish from
    # counts and crash lookups, so fail on import, where the cause is plain.
    raise TypeError(f"pipeline/report/_common.py: LABEL_LOOKS has no entry for {_missing}")

LABEL_ORDER: tuple[Label, ...] = tuple(LABEL_LOOKS)
"""Every label, in order of attention (promotional first, supported last)."""


def confidence_text(verdict: Verdict) -> str:
    """``73%``, or "" for a verdict without one (``unverified`` shows no percentage)."""
    return f"{verdict.confidence:.0%}" if verdict.confidence is not None else ""


def qualifier_text(verdict: Verdict) -> str:
    """The verdict's doubts in words, e.g. ``weak support · possibly promotional``."""
    return " · ".join(verdict.qualifiers)


LABEL_TITLES: dict[Label, str] = {label: look.title for label, look in LABEL_LOOKS.items()}
LABEL_COLOURS: dict[Label, str] = {label: look.colour for label, look in LABEL_LOOKS.items()}
MARKER_LETTERS: dict[Label, str] = {label: look.letter for label, look in LABEL_LOOKS.items()}

GENERIC_TYPE = "Journal Article"
"""The publication type nearly every paper has; summaries leave it out."""

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


def failure_text(failure: Failure) -> str:
    """Say what failed in one phrase: ``subject: message``, naming the subject once.

    Ingest messages already name their source (``notes/a.txt is empty``); repeating
    the subject in front of them gave ``notes/a.txt: notes/a.txt: ...`` (#20).
    """
    if failure.subject and failure.subject not in failure.message:
        return f"{failure.subject}: {failure.message}"
    return failure.message


def shared_name(locator: str) -> str:
    """Name a source in a report meant to be shared: URLs whole, local files by file name.

    HTML and Markdown reports travel (attached to tickets, pasted into a CMS); a path
    such as ``/home/alice/drafts/a.txt`` says more about the machine than the source.
    """
    if http_url(locator) or locator in {"-", "<stdin>"} or locator.startswith("claim:"):
        return locator
    return PurePath(locator).name or locator


def model_names(model: str) -> str:
    """Shorten a verdict's model description for shared reports: no local paths.

    ``stance=/opt/claimscan/pipeline/models/stance, encoder=all-MiniLM-L6-v2`` becomes
    ``stance=stance, encoder=all-MiniLM-L6-v2``: a directory by its name, a hub id
    (``org/model``, never starting with ``/``, ``.`` or ``~``) as it is.
    """
    parts = []
    for part in model.split(", "):
        key, sep, value = part.partition("=")
        if not sep:
            key, value = "", key
        if value.startswith(("/", ".", "~")) or "\\" in value:
            value = PurePath(value.replace("\\", "/").rstrip("/")).name or value
        parts.append(f"{key}={value}" if sep else value)
    return ", ".join(parts)


_SENTENCE_END = frozenset('.!?:;"”’)')


def context_line(text: str, claim: Claim) -> str:
    """Show a claim's context (its section heading and the sentence before it) readably.

    ``Claim.context`` joins the two with a space, which reads as a stutter when the
    sentence starts with the heading's words ("Spine Spine surgery should...", #20).
    The boundary is where the context's tail is the sentence just before the claim in
    the text (starting a line or following a sentence's end); the heading is shown as
    "Heading › sentence", or left out when the sentence begins with its words.

    Args:
        text: The document text the claim's offsets refer to.
        claim: The claim.

    Returns:
        The context on one line, or "" when the claim has none.
    """
    context = claim.context
    before = text[: max(0, claim.start)].rstrip()
    for i, char in enumerate(context):
        if char != " ":
            continue
        heading, previous = context[:i], context[i + 1 :]
        if not previous or not before.endswith(previous):
            continue
        gap = before[: len(before) - len(previous)]
        joined = gap.rstrip()
        if joined and "\n" not in gap[len(joined) :] and joined[-1] not in _SENTENCE_END:
            continue  # mid-line: not where a sentence starts
        words = heading.casefold().split()
        if previous.casefold().split()[: len(words)] == words:
            return one_line(previous)
        return one_line(f"{heading} › {previous}")
    return one_line(context)


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
