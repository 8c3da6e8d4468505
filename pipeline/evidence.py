"""Pick the abstract sentences most relevant to each claim, by embedding similarity.

Computation only (the embedder is passed in); sentence vectors are cached per PMID
for the life of the selector, so a PMID cited by several claims is embedded once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from claims.types import Article, Claim, Retrieval
from pipeline.embed import Embedder


@dataclass(frozen=True, slots=True)
class Candidate:
    """An abstract sentence proposed as evidence for a claim."""

    article: Article
    sentence: str
    relevance: float


class EvidenceSelector:
    """Ranks abstract sentences against claims with a sentence embedder."""

    def __init__(self, embedder: Embedder, *, per_claim: int = 8, per_article: int = 2) -> None:
        self.embedder = embedder
        self.per_claim = per_claim
        self.per_article = per_article
        self._vectors: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}

    def _sentences(self, article: Article) -> tuple[str, ...]:
        # The title often states the finding outright, so it competes with the abstract.
        sentences = (article.title, *article.abstract) if article.title else article.abstract
        return tuple(s.strip() for s in sentences if len(s.split()) >= 4)

    def _embed_articles(self, articles: Sequence[Article]) -> None:
        todo = [a for a in articles if a.pmid not in self._vectors]
        texts: list[str] = []
        spans: list[tuple[Article, tuple[str, ...], int]] = []
        for article in todo:
            sentences = self._sentences(article)
            spans.append((article, sentences, len(texts)))
            texts.extend(sentences)
        vectors = self.embedder.encode(texts)
        for article, sentences, lo in spans:
            self._vectors[article.pmid] = (sentences, vectors[lo : lo + len(sentences)])

    def select(
        self, claims: Sequence[Claim], retrievals: Mapping[str, Retrieval]
    ) -> dict[str, list[Candidate]]:
        """Return, per claim id, its best evidence sentences, most relevant first.

        Args:
            claims: Claims to find evidence for.
            retrievals: Retrieval results keyed by claim id; claims without one get none.
        """
        articles = {a.pmid: a for r in retrievals.values() for a in r.articles}
        self._embed_articles(list(articles.values()))
        claim_vectors = self.embedder.encode([c.text for c in claims])
        out: dict[str, list[Candidate]] = {}
        for claim, vector in zip(claims, claim_vectors, strict=True):
            retrieval = retrievals.get(claim.id)
            scored: list[Candidate] = []
            for article in retrieval.articles if retrieval else ():
                sentences, vectors = self._vectors[article.pmid]
                if not sentences:
                    continue
                sims = vectors @ vector
                best = np.argsort(-sims)[: self.per_article]
                scored.extend(Candidate(article, sentences[i], float(sims[i])) for i in best)
            scored.sort(key=lambda c: c.relevance, reverse=True)
            out[claim.id] = scored[: self.per_claim]
        return out
