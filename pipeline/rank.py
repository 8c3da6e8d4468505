"""Rank a claim's candidate abstracts before the stance model reads any. Computation only.

Retrieval asks PubMed for a few dozen candidates per claim with one wide search
(``claims.query``); :class:`CandidateRanker` orders them by how close each abstract is
to the claim in the encoder's space, and :func:`keep_best` hands the best
``Config.retmax`` on to evidence selection. Closeness is read from the abstract's
opening (its topic and population), then, for the first :data:`RERANK_TOP`, also from
its sentence closest to the claim among the few that share most words with it (a
finding stated in the results; the sentences evidence selection reads next, so they are
embedded once for both).
PubMed's own rank is kept as a small tie-breaker: it knows which words of the claim
are rare.

This is the seam for a relevance judgement (is this abstract about the claim's
population, intervention and outcome?): a model that scores (claim, abstract) pairs can
be combined with, or replace, :meth:`CandidateRanker.rank`.

Abstract vectors are cached by PMID for the life of the ranker, so an abstract that
comes back for several claims is embedded once; sentence vectors live in the
:class:`~pipeline.evidence.SentenceVectors` given to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from claims.types import Article, Claim, Retrieval
from pipeline.evidence import SentenceVectors
from pipeline.nlp.protocols import Encoder

__all__ = ["HEAD_WEIGHT", "RERANK_TOP", "CandidateRanker", "Ranked", "keep_best"]

PUBMED_RANK_WEIGHT = 0.1
"""Added to the cosine similarity of PubMed's first hit, shrinking as 1/(1 + rank).
Chosen on 250 training claims of each set (0.1, 0.2 and 0.4 were within 0.01 of each
other; 0 lost 0.02-0.08 hit@10: the encoder alone misses rare technical words)."""
HEAD_WEIGHT = 0.5
"""Share of the score from the abstract's opening; the rest comes from its best
sentence. Chosen on training claims (``benchmarks.retrieval --split train``), hit@10
with the opening alone → with both: Check-COVID (1,068 claims) 0.794 → 0.829, SciFact
(465) 0.933 → 0.953, HealthVer (1,062) 0.769 → 0.787; 0.3 and 0.7 were within 0.015 of
0.5 on each, and 0.5 was best on all three."""
RERANK_TOP = 30
"""Candidates whose best sentence is read: the first this many by their opening. Reading
every candidate's sentences cost 270 more embedded sentences per claim (a 30-claim
article took four times as long); the first 30 keep nearly all of the gain on training
claims (hit@10, all 100 → first 30: Check-COVID 0.829 → 0.827, SciFact 0.953 → 0.948,
HealthVer 0.787 → 0.784), and evidence selection reads the kept ones' sentences anyway."""
ABSTRACT_SENTENCES = 3
"""Title plus this many first sentences make up the text embedded for an abstract: its
topic and population are stated early. On training claims this ranked better than the
title alone (Check-COVID hit@10 0.836 against 0.740, 250 claims)."""
ABSTRACT_WORDS = 90
"""...cut to this many words (about 128 word pieces): a hundred candidates per claim are
embedded, and attention costs grow with the square of the length."""


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate abstract with its score for one claim."""

    article: Article
    score: float
    """Higher is closer to the claim: cosine similarities to the abstract's opening and
    its best sentence, plus a small PubMed-rank term. Candidates past
    :data:`RERANK_TOP` are scored by their opening alone and always rank after the
    others."""


def _text(article: Article) -> str:
    words = " ".join((article.title, *article.abstract[:ABSTRACT_SENTENCES])).split()
    return " ".join(words[:ABSTRACT_WORDS])


class CandidateRanker:
    """Orders candidate abstracts by encoder similarity to the claim."""

    def __init__(
        self,
        embedder: Encoder,
        *,
        sentences: SentenceVectors | None = None,
        head_weight: float = HEAD_WEIGHT,
        rerank_top: int = RERANK_TOP,
        pubmed_rank_weight: float = PUBMED_RANK_WEIGHT,
    ):
        """Args:
        embedder: Sentence encoder returning unit vectors.
        sentences: Abstract sentences and their vectors, shared with evidence selection
            (``EvidenceSelector.sentences``); None keeps a cache of its own.
        head_weight: Weight of the abstract's opening, see :data:`HEAD_WEIGHT`.
        rerank_top: Candidates whose best sentence is read, see :data:`RERANK_TOP`.
        pubmed_rank_weight: Weight of PubMed's own order, see :data:`PUBMED_RANK_WEIGHT`.
        """
        self.embedder = embedder
        self.sentences = sentences if sentences is not None else SentenceVectors(embedder)
        self.head_weight = head_weight
        self.rerank_top = rerank_top
        self.pubmed_rank_weight = pubmed_rank_weight
        self._vectors: dict[str, np.ndarray] = {}

    def _embed(self, articles: Sequence[Article]) -> None:
        todo = list({a.pmid: a for a in articles if a.pmid not in self._vectors}.values())
        if todo:
            vectors = self.embedder.encode([_text(a) for a in todo])
            self._vectors.update(zip((a.pmid for a in todo), vectors, strict=True))

    def rank(self, claim: Claim, candidates: Sequence[Article]) -> list[Ranked]:
        """Return the candidates best first, each with its score.

        Args:
            claim: The claim searched for.
            candidates: Abstracts in PubMed's relevance order.
        """
        return self.rank_many([claim], {claim.id: candidates})[claim.id]

    def rank_many(
        self, claims: Sequence[Claim], candidates: Mapping[str, Sequence[Article]]
    ) -> dict[str, list[Ranked]]:
        """:meth:`rank` for several claims at once (one encoder pass for each kind of text)."""
        self._embed([a for c in claims for a in candidates.get(c.id, ())])
        # Rows of one (claims × dim) array; no claims, no encoder call.
        claim_vectors: list[np.ndarray] = (
            list(self.embedder.encode([c.text for c in claims])) if claims else []
        )
        # First by the opening (plus PubMed's order); then the first ``rerank_top`` are
        # read again with their best sentence.
        by_opening: dict[str, list[tuple[float, float, Article]]] = {}
        for claim, vector in zip(claims, claim_vectors, strict=True):
            first = [
                (float(self._vectors[a.pmid] @ vector), self.pubmed_rank_weight / (1 + i), a)
                for i, a in enumerate(candidates.get(claim.id, ()))
            ]
            first.sort(key=lambda t: -(t[0] + t[1]))
            by_opening[claim.id] = first
        cache = self.sentences
        shortlists = {
            c.id: {
                a.pmid: cache.shortlist(c.text, a)
                for _, _, a in by_opening[c.id][: self.rerank_top]
            }
            for c in claims
        }
        cache.embed({(p, i) for s in shortlists.values() for p, idx in s.items() for i in idx})
        out: dict[str, list[Ranked]] = {}
        for claim, vector in zip(claims, claim_vectors, strict=True):
            first = by_opening[claim.id]
            top = []
            for head, prior, article in first[: self.rerank_top]:
                picked = shortlists[claim.id][article.pmid]
                best = max(
                    (float(cache.vector(article.pmid, i) @ vector) for i in picked), default=head
                )
                mixed = self.head_weight * head + (1 - self.head_weight) * best
                top.append(Ranked(article, mixed + prior))
            top.sort(key=lambda r: -r.score)
            out[claim.id] = top + [
                Ranked(a, head + prior) for head, prior, a in first[self.rerank_top :]
            ]
        return out


def keep_best(
    claims: Sequence[Claim],
    retrievals: Mapping[str, Retrieval],
    ranker: CandidateRanker,
    keep: int,
) -> dict[str, Retrieval]:
    """Return the retrievals with only their ``keep`` best-ranked articles, best first.

    Args:
        claims: Claims whose retrievals to rank; others are returned unchanged.
        retrievals: From :func:`pipeline.retrieve.retrieve`, keyed by claim id.
        ranker: The ranking to apply.
        keep: Abstracts kept per claim (``Config.retmax``).
    """
    present = [c for c in claims if c.id in retrievals]
    ranked = ranker.rank_many(present, {c.id: retrievals[c.id].articles for c in present})
    out = dict(retrievals)
    for claim in present:
        best = tuple(r.article for r in ranked[claim.id][:keep])
        out[claim.id] = replace(retrievals[claim.id], articles=best)
    return out
