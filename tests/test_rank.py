"""CandidateRanker and keep_best: encoder order over PubMed's, cached vectors."""

from __future__ import annotations

from claims.split import claim_from_text
from claims.types import Article, EvidenceStatus, Retrieval
from pipeline.rank import CandidateRanker, keep_best
from tests.fakes import FakeEmbedder

OFF_TOPIC = Article("1", "Statins and muscle pain", ("Statins caused muscle pain.",), "J", 2020)
ON_TOPIC = Article(
    "2", "Melatonin improves sleep in shift workers", ("Shift workers slept longer.",), "J", 2021
)
NEAR = Article("3", "Melatonin and jet lag", ("Travellers slept better.",), "J", 2019)


def test_rank_puts_the_closest_abstract_first_whatever_pubmed_said() -> None:
    claim = claim_from_text("Melatonin improves sleep in shift workers.", "claim:1")
    ranked = CandidateRanker(FakeEmbedder()).rank(claim, [OFF_TOPIC, NEAR, ON_TOPIC])
    assert [r.article.pmid for r in ranked] == ["2", "3", "1"]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_rank_pubmed_order_breaks_ties() -> None:
    claim = claim_from_text("Quantum zebras levitate.", "claim:1")
    ranked = CandidateRanker(FakeEmbedder()).rank(claim, [NEAR, OFF_TOPIC])
    assert [r.article.pmid for r in ranked] == ["3", "1"]


def test_keep_best_keeps_the_top_and_embeds_each_abstract_once() -> None:
    embedder = FakeEmbedder()
    ranker = CandidateRanker(embedder)
    claims = [
        claim_from_text("Melatonin improves sleep in shift workers.", "claim:1"),
        claim_from_text("Melatonin helps travellers sleep.", "claim:2"),
    ]
    retrievals = {
        c.id: Retrieval(
            c.id, "melatonin", ("melatonin",), (OFF_TOPIC, NEAR, ON_TOPIC), EvidenceStatus.FOUND
        )
        for c in claims
    }
    kept = keep_best(claims, retrievals, ranker, keep=2)
    assert [a.pmid for a in kept[claims[0].id].articles] == ["2", "3"]
    assert [a.pmid for a in kept[claims[1].id].articles][0] == "3"
    assert kept[claims[0].id].query == "melatonin"
    # One pass for the abstracts and one for the claims; a second call reuses the vectors.
    assert embedder.calls == 2
    keep_best(claims, retrievals, ranker, keep=2)
    assert embedder.calls == 3
