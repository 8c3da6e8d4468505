"""The page around a sentence, as the fine-tuned promotional model reads it. Pure.

An editor decides whether "These approaches … work at the level of the tissue" sells
something by reading it in its page: the sentence before says "I have developed", the
page is written in a provider's voice and ends with a booking line. The model gets the
same view in two forms, both learned from, neither a fixed cue weight:

- the neighbouring sentences as a second text segment (:attr:`SentenceContext.text`),
  read by the encoder together with the sentence;
- a few numbers about the page and the sentence's place in it
  (:data:`CONTEXT_FEATURES`): how much of the page is in first person (provider voice),
  how many of its lines are calls to action and how near the closest one is, trademark
  density, a brand repeated across the page and named in the sentence, an author-bio
  line, and whether this sentence's "we/our" sits in a provider-voiced stretch of the
  page or in a page that says "we" only for people in general.

The page is split with :func:`claims.split.sentence_spans`, the splitter claim
extraction uses, so a claim is found in its page by its text.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from claims.split import sentence_spans
from pipeline.nlp.promo_cues import (
    CAPITALISED,
    TRADEMARK,
    DocumentCues,
    document_cues,
    has_first_person,
    is_cta,
)

CONTEXT_FEATURES: tuple[str, ...] = (
    "page_first_person",
    "page_call_to_action",
    "page_trademark",
    "page_brand_repetition",
    "page_author_bio",
    "cta_nearby",
    "local_first_person",
    "brand_in_sentence",
    "provider_we",
    "trademark_in_sentence",
    "position",
)
"""Names of :attr:`SentenceContext.features`, in order."""
BEFORE = 2
"""Sentences before the claim that go into the context segment."""
AFTER = 1
"""Sentences after it."""
MAX_CONTEXT_CHARS = 600
"""Each side of the context is cut to this many characters (the tokenizer cuts again)."""
LOCAL = 2
"""Sentences on each side whose provider voice counts as the claim's local voice."""
CTA_DECAY = 3.0
"""A call to action this many sentences away counts 1/e as much as an adjacent one."""
SEPARATOR = " … "
"""Marks where the claim sat between the before and after parts of the context."""


@dataclass(frozen=True, slots=True)
class Page:
    """A page split into sentences with their cues; built once per page text."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    cta: tuple[bool, ...]
    first_person: tuple[bool, ...]
    cues: DocumentCues

    def sentence(self, i: int) -> str:
        return self.text[self.starts[i] : self.ends[i]]

    def locate(self, sentence: str) -> int | None:
        """Index of the page sentence where ``sentence`` starts; None when not found."""
        at = self.text.find(sentence.strip()[:200])
        if at < 0 or not self.starts:
            return None
        return max(bisect_right(self.starts, at) - 1, 0)


@lru_cache(maxsize=32)
def page_of(document_text: str) -> Page:
    """Split a page and compute its cues. Cached: a page's claims come in batches."""
    spans = list(sentence_spans(document_text))
    texts = [document_text[s.start : s.end] for s in spans]
    return Page(
        text=document_text,
        starts=tuple(s.start for s in spans),
        ends=tuple(s.end for s in spans),
        cta=tuple(is_cta(t) for t in texts),
        first_person=tuple(has_first_person(t) for t in texts),
        cues=document_cues(document_text),
    )


@dataclass(frozen=True, slots=True)
class SentenceContext:
    """What the fine-tuned model reads besides the sentence itself."""

    text: str
    """Up to :data:`BEFORE` preceding and :data:`AFTER` following sentences, joined by
    :data:`SEPARATOR`; empty for a lone sentence."""
    features: tuple[float, ...]
    """Values in :data:`CONTEXT_FEATURES` order, each in [0, 1]."""


def _join(parts: list[str], keep_end: bool) -> str:
    text = " ".join(p.strip() for p in parts)
    if len(text) <= MAX_CONTEXT_CHARS:
        return text
    return text[-MAX_CONTEXT_CHARS:] if keep_end else text[:MAX_CONTEXT_CHARS]


def sentence_context(sentence: str, document_text: str) -> SentenceContext:
    """Build the context of one sentence of a page.

    Args:
        sentence: The claim, as extracted from ``document_text``.
        document_text: The whole page; a lone sentence (a claim checked on its own)
            gets an empty context and page figures computed on itself.

    Returns:
        The context segment and the features.
    """
    page = page_of(document_text)
    cues = page.cues
    i = page.locate(sentence)
    n = len(page.starts)
    if i is None:
        before, after, local, cta_near, position = "", "", 0.0, 0.0, 0.5
    else:
        before = _join([page.sentence(j) for j in range(max(0, i - BEFORE), i)], True)
        after = _join([page.sentence(j) for j in range(i + 1, min(n, i + 1 + AFTER))], False)
        near = [j for j in range(max(0, i - LOCAL), min(n, i + LOCAL + 1)) if j != i]
        local = sum(page.first_person[j] for j in near) / len(near) if near else 0.0
        distances = [abs(j - i) for j in range(n) if page.cta[j] and j != i]
        cta_near = math.exp(-(min(distances) - 1) / CTA_DECAY) if distances else 0.0
        position = i / (n - 1) if n > 1 else 0.5
    brands = set(CAPITALISED.findall(sentence)) & cues.brands
    own_voice = float(has_first_person(sentence))
    # The rest of the page's voice, this sentence left out: a lone "we" on a short page
    # must not make the page look provider-voiced by itself.
    others = sum(page.first_person) - (page.first_person[i] if i is not None else 0)
    rest_voice = min(2.0 * others / max(n - (i is not None), 1), 1.0)
    text = (before + SEPARATOR + after).strip() if before or after else ""
    return SentenceContext(
        text=text,
        features=(
            min(cues.first_person_rate * 2.0, 1.0),
            min(cues.call_to_action_rate * 5.0, 1.0),
            cues.trademark_rate,
            cues.brand_repetition,
            cues.author_bio,
            cta_near,
            local,
            float(bool(brands)),
            # "we" in a stretch of the page written in a provider's voice, rather than a
            # lone "we" that means people in general.
            own_voice * max(local, rest_voice),
            float(bool(TRADEMARK.search(sentence))),
            position,
        ),
    )
