"""Pick the abstract sentences most relevant to each claim.

Two steps: a cheap lexical first cut (BM25-style term overlap with the claim) keeps a
few sentences per abstract, then sentence-embedding similarity ranks those. Embedding
every sentence of every abstract costs more CPU than the whole stance model, and the
first cut rarely drops a sentence the embedder would have ranked high.

Computation only (the embedder is passed in). Sentence vectors are cached by
(PMID, sentence index) for the life of the selector (:class:`SentenceVectors`, which
candidate ranking shares), so an abstract cited by several claims is embedded once.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from claims.types import Article, Claim, Retrieval
from pipeline.nlp.protocols import Encoder

_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_STOP = frozenset(
    "a an and are as at be by can could did do does for from had has have in into is it its "
    "may might not of on or our that the their them these this those to was were which while "
    "who will with would than then there also more most such".split()
)


def _terms(text: str) -> list[str]:
    # Crude plural folding is enough to match "muscles" with "muscle".
    return [
        t[:-1] if len(t) > 4 and t.endswith("s") and not t.endswith("ss") else t
        for t in _TOKEN.findall(text.lower())
        if t not in _STOP and len(t) > 1
    ]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An abstract sentence proposed as evidence for a claim."""

    article: Article
    sentence: str
    relevance: float
    """Cosine similarity to the claim, -1..1."""


def _sentences(article: Article) -> tuple[str, ...]:
    # The title often states the finding outright, so it competes with the abstract.
    sentences = (article.title, *article.abstract) if article.title else article.abstract
    return tuple(s.strip() for s in sentences if len(s.split()) >= 4)


def lexical_scores(claim: str, sentences: Sequence[str]) -> list[float]:
    """BM25-style scores of sentences against a claim (k1=1.2, b=0.75, IDF over the pool)."""
    query = set(_terms(claim))
    docs = [_terms(s) for s in sentences]
    if not query or not docs:
        return [0.0] * len(sentences)
    df = Counter(t for d in docs for t in set(d) if t in query)
    n = len(docs)
    avg = sum(len(d) for d in docs) / n or 1.0
    scores = []
    for d in docs:
        tf = Counter(d)
        score = 0.0
        for t in query & tf.keys():
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            score += idf * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * len(d) / avg))
        scores.append(score)
    return scores


class SentenceVectors:
    """Abstract sentences, their lexical first cut against a claim, and their vectors.

    Shared by candidate ranking (``pipeline.rank``) and evidence selection: both look
    at the same few sentences of an abstract per claim, so each is embedded once per
    run. Vectors are cached by (PMID, sentence index) for the life of the object.
    """

    def __init__(self, embedder: Encoder, first_cut: int = 3) -> None:
        """Args:
        embedder: Sentence encoder returning unit vectors.
        first_cut: Sentences per abstract that reach the embedder.
        """
        self.embedder = embedder
        self.first_cut = first_cut
        self._sentences: dict[str, tuple[str, ...]] = {}
        self._vectors: dict[tuple[str, int], np.ndarray] = {}
        # Ranking and selection both ask for the kept abstracts' shortlists.
        self._shortlists: dict[tuple[str, str], list[int]] = {}

    def sentences(self, article: Article) -> tuple[str, ...]:
        """The abstract's sentences worth reading, the title first."""
        found = self._sentences.get(article.pmid)
        if found is None:
            found = self._sentences[article.pmid] = _sentences(article)
        return found

    def shortlist(self, claim: str, article: Article) -> list[int]:
        """Indices of the ``first_cut`` sentences sharing most words with the claim."""
        key = (claim, article.pmid)
        found = self._shortlists.get(key)
        if found is None:
            sentences = self.sentences(article)
            scores = lexical_scores(claim, sentences)
            found = sorted(range(len(sentences)), key=lambda i: -scores[i])[: self.first_cut]
            self._shortlists[key] = found
        return found

    def embed(self, keys: set[tuple[str, int]]) -> None:
        """Embed the (PMID, index) sentences not embedded yet, in one encoder call."""
        todo = sorted(k for k in keys if k not in self._vectors)
        if not todo:
            return
        vectors = self.embedder.encode([self._sentences[p][i] for p, i in todo])
        self._vectors.update(zip(todo, vectors, strict=True))

    def vector(self, pmid: str, index: int) -> np.ndarray:
        """The vector of an embedded sentence (see :meth:`embed`)."""
        return self._vectors[(pmid, index)]


class EvidenceSelector:
    """Ranks abstract sentences against claims: lexical first cut, then embeddings."""

    def __init__(
        self,
        embedder: Encoder,
        *,
        per_claim: int = 8,
        per_article: int = 2,
        first_cut: int = 3,
    ) -> None:
        """Args:
        embedder: Sentence encoder returning unit vectors.
        per_claim: Sentences kept per claim.
        per_article: Sentences kept per abstract, so one paper cannot fill the list.
        first_cut: Sentences per abstract that reach the embedder.
        """
        self.embedder = embedder
        self.per_claim = per_claim
        self.per_article = per_article
        self.sentences = SentenceVectors(embedder, first_cut)

    @property
    def first_cut(self) -> int:
        """Sentences per abstract that reach the embedder."""
        return self.sentences.first_cut

    def select(
        self, claims: Sequence[Claim], retrievals: Mapping[str, Retrieval]
    ) -> dict[str, list[Candidate]]:
        """Return, per claim id, its best evidence sentences, most relevant first.

        Args:
            claims: Claims to find evidence for.
            retrievals: Retrieval results keyed by claim id; claims without one get none.
        """
        cache = self.sentences
        shortlist: dict[str, list[tuple[Article, int]]] = {}
        for claim in claims:
            retrieval = retrievals.get(claim.id)
            shortlist[claim.id] = [
                (article, i)
                for article in (retrieval.articles if retrieval else ())
                for i in cache.shortlist(claim.text, article)
            ]
        cache.embed({(a.pmid, i) for picked in shortlist.values() for a, i in picked})
        claim_vectors: np.ndarray | list[np.ndarray] = (
            self.embedder.encode([c.text for c in claims]) if claims else []
        )
        out: dict[str, list[Candidate]] = {}
        for claim, vector in zip(claims, claim_vectors, strict=True):
            by_article: dict[str, list[Candidate]] = {}
            for article, i in shortlist[claim.id]:
                sim = float(cache.vector(article.pmid, i) @ vector)
                by_article.setdefault(article.pmid, []).append(
                    Candidate(article, cache.sentences(article)[i], sim)
                )
            scored = [
                c
                for cands in by_article.values()
                for c in sorted(cands, key=lambda c: -c.relevance)[: self.per_article]
            ]
            scored.sort(key=lambda c: c.relevance, reverse=True)
            out[claim.id] = scored[: self.per_claim]
        return out


PASSAGE_WORDS = 200
"""Words of abstract text in one passage: with the claim it stays within 512 tokens."""


def abstract_passage(
    title: str, sentences: Sequence[str], chosen: Sequence[int], max_words: int = PASSAGE_WORDS
) -> str:
    """Return the title and the ``chosen`` sentences of one abstract, in abstract order.

    The stance model can read a claim against a passage rather than one sentence, as
    MultiVerS reads whole abstracts: a finding often needs its neighbour ("In the
    treated group, …") to be read right. ``chosen`` is in priority order; sentences are
    taken while they fit in ``max_words`` (the first always), then put back in the
    order the abstract gives them, so the passage reads as the authors wrote it.
    """
    taken: list[int] = []
    words = len(title.split())
    for i in chosen:
        if not 0 <= i < len(sentences) or i in taken:
            continue
        n = len(sentences[i].split())
        if taken and words + n > max_words:
            continue
        taken.append(i)
        words += n
    body = " ".join(" ".join(sentences[i].split()) for i in sorted(taken))
    return f"{' '.join(title.split())}. {body}".strip() if title.strip() else body
