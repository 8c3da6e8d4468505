"""Hand-made promotional cues of a sentence and of its page. Pure.

Regular expressions for trademark signs, superiority wording, calls to action, provider
voice, brands repeated across a page and author-bio lines. The MiniLM head
(:mod:`pipeline.nlp.promo`) takes the sentence cues as inputs next to its embedding; the
page cues decide the page-level "commercial context" flag; :func:`promotional_signs`
names what matched for a report's rationale; :mod:`pipeline.nlp.promo_context` builds
the fine-tuned model's page-context inputs from them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SENTENCE_FEATURES: tuple[str, ...] = (
    "s_trademark",
    "s_superiority",
    "s_call_to_action",
    "s_first_person",
    "s_second_person",
    "s_brand_mention",
    "s_volume_credential",
)
DOCUMENT_FEATURES: tuple[str, ...] = (
    "d_trademark_rate",
    "d_brand_repetition",
    "d_first_person_rate",
    "d_call_to_action_rate",
    "d_author_bio",
)
# The head sees sentence cues only. Page cues are shared by every sentence of a page,
# so a head given them learns which training pages were promotional rather than which
# sentences promote (val promotional F1 fell from about 0.6 to 0.4 with them); they
# drive the page-level commercial-context flag instead.
CUE_FEATURES: tuple[str, ...] = SENTENCE_FEATURES

TRADEMARK = re.compile(r"[®™℠]|\((?:R|TM)\)")
_SUPERIORITY = re.compile(
    r"#\s?1\b|\b(?:best|superior|superiority|leading|leader|number one|first and only|only\b"
    r"|innovative|breakthrough|proprietary|patented|world[- ]class|premier|cutting[- ]edge"
    r"|state[- ]of[- ]the[- ]art|game[- ]chang\w*|paradigm|unique|renowned|pioneer\w*"
    r"|next[- ]generation|clinically proven|outperform\w*|most[- ]studied|unlike other)\b",
    re.IGNORECASE,
)
_CTA_START = re.compile(
    r"^\W*(?:visit|contact|call|request|learn|join|subscribe|receive|get|consider|find|"
    r"schedule|book|sign up|click|download|order|buy|try|ask|discover)\b",
    re.IGNORECASE,
)
_CTA_ANY = re.compile(
    r"\b(?:contact us|call (?:us|today|now)|learn more|sign up|free (?:consultation|"
    r"info|information)|info packet|webinar|book (?:an|your) (?:appointment|consultation)|"
    r"to set up your consultation|for a consultation)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I've|I'm|we|we're|we've|our|us|my)\b")
# Case-insensitive for sentence-initial "We"/"Our", but "US" (the country) must not count.
_FIRST_PERSON_CI = re.compile(r"\b(?:we|we're|we've|our)\b", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're)\b", re.IGNORECASE)
_VOLUME = re.compile(
    r"\b(?:more than|over|nearly|almost)\s+[\d,.]+\+?\s*(?:million\s+|thousand\s+)?"
    r"(?:hours|patients|years|people|procedures|women|men|customers|members|colleagues|"
    r"countries|tests|cases)\b|\b\d+\+?\s+years(?:'|’)? (?:of )?experience\b|\bdecades of\b",
    re.IGNORECASE,
)
_AUTHOR_BIO = re.compile(
    r"\b(?:founder|co-founder|chief executive|CEO|is a specialist in|board[- ]certified|"
    r"pioneered|years of experience|view profile|about the author)\b|^About [A-Z]",
    re.IGNORECASE | re.MULTILINE,
)
CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*\b")
# Capitalised words that repeat in any article without naming a brand.
_NOT_BRANDS = frozenset(
    "The This That These Those A An In On Of For And But Or If It Its As At By To With From "
    "We Our I You Your He She They Dr Mr Mrs Ms MD PhD Prof Professor University Hospital "
    "Medical Center Centre Medicine Research Study Studies Institute Department School "
    "Journal Association Society National American European International Health Clinical "
    "Phase Trial Patients Patient January February March April May June July August "
    "September October November December Monday Tuesday Wednesday Thursday Friday Saturday "
    "Sunday U.S US USA UK FDA NIH CDC Disease Cancer Spine Knee Hip Shoulder Back".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“(0-9])|\n+")

# Commercial context needs signals from the page itself, not just a few sentences that
# sound like marketing: an academic press release can contain a quoted "breakthrough".
CONTEXT_MIN_SIGNALS = 2
CONTEXT_MIN_PROMO_SENTENCES = 2
CONTEXT_STRONG_SIGNALS = 4


def _sentences(text: str) -> list[str]:
    # A rough split is enough for page-level rates; claim extraction has its own splitter.
    return [s.strip() for s in _SENTENCE_END.split(text) if s and len(s.split()) >= 2]


def _brand_counts(document_text: str) -> Counter[str]:
    """Count capitalised words that are not sentence-initial and not common nouns."""
    counts: Counter[str] = Counter()
    for sentence in _sentences(document_text):
        tokens = CAPITALISED.findall(sentence)
        start = sentence.split(maxsplit=1)[0] if sentence.split() else ""
        for i, tok in enumerate(tokens):
            if i == 0 and start.strip('"“(').startswith(tok):
                continue
            if tok not in _NOT_BRANDS and len(tok) > 2:
                counts[tok] += 1
    return counts


def is_cta(sentence: str) -> bool:
    return bool(_CTA_START.search(sentence) or _CTA_ANY.search(sentence))


def has_first_person(sentence: str) -> bool:
    return bool(_FIRST_PERSON.search(sentence) or _FIRST_PERSON_CI.search(sentence))


@dataclass(frozen=True, slots=True)
class DocumentCues:
    """Page-level cues computed once per document. Pure data."""

    trademark_rate: float
    """Trademark signs per sentence, capped at 1."""
    brand_repetition: float
    """How often the most repeated brand-like word occurs, squashed to 0–1."""
    first_person_rate: float
    """Share of sentences in first person (we, our, I): provider voice."""
    call_to_action_rate: float
    """Share of sentences that are calls to action."""
    author_bio: float
    """1.0 when the page carries author-bio or company-boilerplate lines, or its author
    states their own credentials ("I have … more than 80,000 hours")."""
    brands: frozenset[str]
    """Brand-like words repeated at least three times."""

    def vector(self) -> list[float]:
        """Return the cues in :data:`DOCUMENT_FEATURES` order."""
        return [
            self.trademark_rate,
            self.brand_repetition,
            self.first_person_rate,
            self.call_to_action_rate,
            self.author_bio,
        ]

    def signals(self) -> int:
        """Count the page-level commercial signals that are clearly present."""
        return sum(
            (
                self.trademark_rate > 0,
                self.brand_repetition >= 0.5,
                self.first_person_rate >= 0.1,
                self.call_to_action_rate > 0,
                self.author_bio > 0,
            )
        )


@lru_cache(maxsize=32)
def document_cues(document_text: str) -> DocumentCues:
    """Compute page-level commercial cues. Pure, and cached: a long page's claims are
    scored in several batches, and each batch asks for the same page's cues.

    Args:
        document_text: The whole page or article; may be a single sentence.

    Returns:
        The cues, with rates normalised by sentence count so long and short pages compare.
    """
    sentences = _sentences(document_text) or [document_text]
    n = max(len(sentences), 1)
    counts = _brand_counts(document_text)
    brands = frozenset(tok for tok, c in counts.items() if c >= 3)
    top = max(counts.values(), default=0)
    return DocumentCues(
        trademark_rate=min(len(TRADEMARK.findall(document_text)) / n, 1.0),
        # 3 repeats -> 0.5, 9 -> 0.83: saturates so a long release does not dominate.
        brand_repetition=0.0 if top < 3 else 1.0 - 1.5 / top,
        first_person_rate=sum(has_first_person(s) for s in sentences) / n,
        call_to_action_rate=sum(is_cta(s) for s in sentences) / n,
        author_bio=float(
            bool(_AUTHOR_BIO.search(document_text))
            # A practitioner's article often has no bio box, only the first-person claim
            # of experience (the nmfscience seed: "Over three decades … I have studied").
            or any(_VOLUME.search(s) and has_first_person(s) for s in sentences)
        ),
        brands=brands,
    )


def _cue_matches(sentence: str, doc: DocumentCues) -> dict[str, str | None]:
    """Return what each sentence cue matched, keyed by :data:`SENTENCE_FEATURES` name;
    None where the cue is absent. Pure."""

    def found(match: re.Match[str] | None) -> str | None:
        return match.group(0).strip() if match else None

    brands = sorted(set(CAPITALISED.findall(sentence)) & doc.brands)
    return {
        "s_trademark": found(TRADEMARK.search(sentence)),
        "s_superiority": found(_SUPERIORITY.search(sentence)),
        "s_call_to_action": found(_CTA_START.search(sentence) or _CTA_ANY.search(sentence)),
        "s_first_person": found(
            _FIRST_PERSON.search(sentence) or _FIRST_PERSON_CI.search(sentence)
        ),
        "s_second_person": found(_SECOND_PERSON.search(sentence)),
        "s_brand_mention": brands[0] if brands else None,
        "s_volume_credential": found(_VOLUME.search(sentence)),
    }


def sentence_cues(sentence: str, doc: DocumentCues) -> list[float]:
    """Return the sentence cues in :data:`SENTENCE_FEATURES` order. Pure.

    Args:
        sentence: One candidate claim.
        doc: Cues of the document the sentence comes from (for brand mentions).
    """
    matches = _cue_matches(sentence, doc)
    return [float(matches[name] is not None) for name in SENTENCE_FEATURES]


# How the rationale names each cue, in the order it lists them. Second person is left
# out: "you" alone does not read as selling to an editor.
_SIGN_NAMES = {
    "s_trademark": "trademark sign",
    "s_superiority": "superiority wording",
    "s_call_to_action": "call to action",
    "s_volume_credential": "credentials or volume",
    "s_brand_mention": "brand named across the page",
    "s_first_person": "provider voice",
}


def promotional_signs(sentence: str, document_text: str) -> list[str]:
    """Name the promotional cues present in a sentence, quoting what matched. Pure.

    For the rationale of a claim labelled promotional: an editor sees which words read as
    selling. The label itself comes from the trained head, which also weighs wording no
    cue names, so a flagged sentence can have no signs to show.

    Args:
        sentence: The claim.
        document_text: Its page, for brand names repeated across it.
    """
    matches = _cue_matches(sentence, document_cues(document_text))
    return [f'{label} "{matches[name]}"' for name, label in _SIGN_NAMES.items() if matches[name]]


def cue_matrix(sentences: Sequence[str], document_text: str) -> np.ndarray:
    """Return the hand-made cues of each sentence, shape (len(sentences), len(CUE_FEATURES))."""
    doc = document_cues(document_text)
    rows = [sentence_cues(s, doc) for s in sentences]
    return np.asarray(rows, dtype=np.float32).reshape(len(sentences), len(CUE_FEATURES))


def commercial_context_from(
    doc: DocumentCues, sentence_probs: Sequence[float], threshold: float = 0.5
) -> bool:
    """Decide the page-level commercial flag from its cues and sentence scores. Pure.

    A page is commercial when several promotional sentences meet at least one page signal
    (brand repeated, ®/™, provider voice, call to action, author bio), or when the page
    signals are strong on their own.

    Args:
        doc: The page's cues.
        sentence_probs: P(promotional) of the page's sentences.
        threshold: P(promotional) from which a sentence counts as promotional (the
            head's own decision threshold).

    Returns:
        True when the page as a whole reads as promotion.
    """
    promo = sum(p >= threshold for p in sentence_probs)
    signals = doc.signals()
    if signals >= CONTEXT_STRONG_SIGNALS:
        return True
    if promo >= CONTEXT_MIN_PROMO_SENTENCES and signals >= 1:
        return True
    return promo >= 1 and signals >= CONTEXT_MIN_SIGNALS
