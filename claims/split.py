"""Split a document into checkable claims with exact character offsets. Pure.

Sentence segmentation is rule-based: it must keep offsets exact and run without a
model download, and health prose (abbreviations such as "Dr." and "e.g.", decimals,
"et al.") is handled by the abbreviation list below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from claims.checkworthy import (
    CheckworthyScorer,
    first_cut,
    is_checkworthy,
    looks_like_heading,
    referent_context,
)
from claims.types import Claim, Document

_ABBREVIATIONS = frozenset(
    """
    dr mr mrs ms prof st sr jr vs etc al fig figs no nos approx ca cf eg ie e.g i.e
    jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp dept univ vol
    mt ft u.s u.k u.s.a ph.d m.d b.sc m.sc mg ml kg mm cm resp ref refs eq sec min
    """.split()
)
# A sentence ends at . ! ? (or an ellipsis), optional closing quotes/brackets, then
# whitespace and something that can start a sentence. A punctuation run is matched
# only from its first character and possessively: otherwise a line of 20,000 dots is
# rescanned from every dot, which is quadratic (#7).
_BOUNDARY = re.compile(
    r"(?:(?<![.!?])[.!?]++|\u2026)[\"'\u2019\u201d)\]]*+"
    r"(?=\s+[\"'\u2018\u201c(\[]?[A-Z0-9\u00c0-\u024f])"
)
_LEADING_SPACE = re.compile(r"\s*")
_LAST_WORD = re.compile(r"(?<![\w'\u2019])([A-Za-z][A-Za-z.]*)$")
ABBREVIATION_WINDOW = 40
"""Characters before a period searched for an abbreviation; longer words are not one."""
_BULLET = re.compile(
    r"^(?:[\u2022\u2023\u25aa\u25cf\u25e6\u2043\u2219*+\-\u2013\u2014>]|\d{1,3}[.)])\s+"
)


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence's place in the text."""

    start: int
    end: int
    line_start: int
    """Offset of the start of the line (paragraph) the sentence belongs to."""


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` ends an abbreviation or initial, not a sentence."""
    # Only a short window before the period is searched: a search over text[:dot] made
    # splitting one long line quadratic (#7).
    lo = max(0, dot - ABBREVIATION_WINDOW)
    m = _LAST_WORD.search(text, lo, dot)
    if not m or (m.start() == lo and lo > 0):
        # No word, or one that runs past the window: too long to be an abbreviation.
        return False
    word = m.group(1).lower().rstrip(".")
    if word in _ABBREVIATIONS:
        return True
    # Single capital initials ("J. Smith") and dotted acronyms ("U.S.").
    return len(word) == 1 or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def sentence_spans(text: str) -> Iterator[Span]:
    """Yield sentence spans: one or more per non-empty line, bullets and spaces trimmed."""
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        bullet = _BULLET.match(line)
        start = bullet.end() if bullet else len(line) - len(line.lstrip())
        for m in _BOUNDARY.finditer(line):
            end = m.end()
            if line[m.start()] == "." and _is_abbreviation(line, m.start()):
                continue
            if end > start:
                yield Span(line_start + start, line_start + end, line_start)
            # Regex and rstrip rather than slicing line[end:] per sentence, which copied
            # the rest of the line each time (quadratic on one long line, #7).
            gap = _LEADING_SPACE.match(line, end)
            start = gap.end() if gap else end
        end = len(line.rstrip())
        if end > start:
            yield Span(line_start + start, line_start + end, line_start)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a document that is not a heading, before any check-worthiness test."""

    start: int
    end: int
    text: str
    heading: str
    """The nearest heading above it (the document title before the first heading)."""
    previous: str
    """The sentence before it in the same section; "" for a section's first sentence."""


def candidate_sentences(doc: Document) -> Iterator[Candidate]:
    """Yield every sentence of a document outside headings, in text order.

    Heading lines (from ``doc.headings`` or short lines without an end mark) are not
    candidates; each one starts a new section.
    """
    heading_at = {offset: heading for offset, heading in doc.headings}
    heading = doc.title
    previous = ""
    line_start = -1
    line_heading: str | None = None
    for span in sentence_spans(doc.text):
        sentence = doc.text[span.start : span.end]
        if span.line_start != line_start:
            # Once per line, not per sentence: re-slicing a long line for each of its
            # sentences made splitting quadratic (#7).
            line_start = span.line_start
            line_end = doc.text.find("\n", line_start)
            line = doc.text[line_start : line_end if line_end >= 0 else len(doc.text)]
            is_heading = line_start in heading_at or looks_like_heading(line)
            line_heading = heading_at.get(line_start, line.strip()) if is_heading else None
        if line_heading is not None:
            heading = line_heading
            previous = ""
            continue
        yield Candidate(span.start, span.end, sentence, heading, previous)
        previous = sentence


def repetition_key(sentence: str) -> str:
    """Text under which two occurrences of one sentence are the same claim.

    Pages with tabs or sidebars repeat passages with only spacing, case or quote
    marks changed.
    """
    return " ".join(sentence.translate(_QUOTES).casefold().split())


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def extract_claims(
    doc: Document,
    *,
    max_claims: int | None = None,
    scorer: CheckworthyScorer | None = None,
) -> tuple[list[Claim], int]:
    """Find the checkable claims in a document, each once.

    Headings never become claims. The rules in :mod:`claims.checkworthy` make the
    cheap first cut (bylines, boilerplate, questions, fragments); ``scorer``, when given,
    decides among what is left, and without one the rules' health-term test does. A
    sentence the document repeats becomes one claim at its first place, with the other
    places in ``Claim.also_at``.

    Args:
        doc: The document; offsets refer to ``doc.text``.
        max_claims: Keep at most this many claims (in text order).
        scorer: A trained check-worthiness model; None keeps every sentence the rules keep.

    Returns:
        The claims, and how many checkable sentences were left out by ``max_claims``.
    """
    first: dict[str, Candidate] = {}
    others: dict[str, list[tuple[int, int]]] = {}
    # With a model, the rules only make the first cut; without one they decide alone.
    rule = is_checkworthy if scorer is None else first_cut
    for cand in candidate_sentences(doc):
        if not rule(cand.text):
            continue
        key = repetition_key(cand.text)
        if key in first:
            others[key].append((cand.start, cand.end))
        else:
            first[key] = cand
            others[key] = []
    kept = list(first.items())
    if scorer is not None and kept:
        verdicts = scorer.checkworthy([cand.text for _, cand in kept], doc)
        kept = [item for item, keep in zip(kept, verdicts, strict=True) if keep]
    dropped = 0
    if max_claims is not None and len(kept) > max_claims:
        kept, dropped = kept[:max_claims], len(kept) - max_claims
    claims = [
        Claim(
            id=Claim.make_id(doc.url, cand.start, cand.end, cand.text),
            text=cand.text,
            document_url=doc.url,
            start=cand.start,
            end=cand.end,
            context=referent_context(cand.text, cand.previous, cand.heading),
            also_at=tuple(others[key]),
        )
        for key, cand in kept
    ]
    return claims, dropped


def claim_from_text(text: str, document_url: str) -> Claim:
    """Make one claim from a whole given sentence, without splitting (``claimscan claim``)."""
    return Claim(
        id=Claim.make_id(document_url, 0, len(text), text),
        text=text,
        document_url=document_url,
        start=0,
        end=len(text),
    )
