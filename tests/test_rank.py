"""CandidateRanker and keep_best: encoder order over PubMed's, cached vectors."""

from __future__ import annotations

from claims.split import claim_from_text
from claims.types import Article, EvidenceStatus, Retrieval
from pipeline.evidence import EvidenceSelector
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
        claim_from_text("Melatonin eases jet lag in travellers.", "claim:2"),
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
    # One pass each for the abstracts, their sentences and the claims; a second call
    # reuses the vectors.
    assert embedder.calls == 3
    keep_best(claims, retrievals, ranker, keep=2)
    assert embedder.calls == 4


def test_a_finding_stated_late_in_the_abstract_lifts_it() -> None:
    claim = claim_from_text("Melatonin shortens jet lag after eastward flights.", "claim:1")
    opening = ("Travel and circadian biology.", "Volunteers were recruited at airports.")
    finding = "Melatonin shortened jet lag after eastward flights by two days."
    methods = ("Diaries were kept for a week.", "Analyses used mixed models throughout.")
    late = Article("4", opening[0], (opening[1], *methods, finding), "J", 2020)
    vague = Article("5", "Melatonin in travel", ("Melatonin was given to flyers.",), "J", 2020)
    assert (
        CandidateRanker(FakeEmbedder(), head_weight=1.0).rank(claim, [late, vague])[0].article.pmid
        == "5"
    )
    ranked = CandidateRanker(FakeEmbedder()).rank(claim, [late, vague])
    assert ranked[0].article.pmid == "4"
    # Only the first by their opening are read again: past them, the opening decides.
    embedder = FakeEmbedder()
    ranked = CandidateRanker(embedder, rerank_top=1).rank(claim, [late, vague])
    assert [r.article.pmid for r in ranked] == ["5", "4"]


def test_evidence_selection_reuses_the_sentences_the_ranking_embedded() -> None:
    embedder = FakeEmbedder()
    selector = EvidenceSelector(embedder)
    ranker = CandidateRanker(embedder, sentences=selector.sentences)
    claim = claim_from_text("Melatonin improves sleep in shift workers.", "claim:1")
    retrievals = {
        claim.id: Retrieval(
            claim.id, "melatonin", ("melatonin",), (OFF_TOPIC, NEAR, ON_TOPIC), EvidenceStatus.FOUND
        )
    }
    kept = keep_best([claim], retrievals, ranker, keep=3)
    before = embedder.calls
    picked = selector.select([claim], kept)
    assert embedder.calls == before + 1  # the claim only; every sentence was embedded
    assert picked[claim.id][0].article.pmid == "2"
