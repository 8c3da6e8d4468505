from __future__ import annotations

import pytest

from claims.split import claim_from_text
from claims.types import Article, EvidenceStatus, Retrieval
from pipeline.evidence import EvidenceSelector, lexical_scores
from tests.fakes import FakeEmbedder

ARTICLE = Article(
    "1",
    "Exercise and chronic low back pain",
    (
        "Background sentence about the healthcare system costs overall.",
        "Exercise therapy reduced pain in adults with chronic low back pain.",
        "Funding was provided by a national agency for this work.",
        "Participants exercising reported less back pain after twelve weeks.",
    ),
    "J",
    2020,
)
OTHER = Article("2", "Vitamin C and colds", ("Vitamin C did not prevent colds at all.",), "J", 2019)


@pytest.mark.parametrize(
    ("claim", "best"),
    [("Exercise reduces chronic low back pain.", 1), ("Agencies fund national work.", 2)],
)
def test_lexical_scores_rank_overlapping_sentences_first(claim: str, best: int) -> None:
    scores = lexical_scores(claim, ARTICLE.abstract)
    assert max(range(len(scores)), key=scores.__getitem__) == best


def test_select_limits_per_article_and_embeds_each_sentence_once() -> None:
    embedder = FakeEmbedder()
    selector = EvidenceSelector(embedder, per_claim=3, per_article=2, first_cut=3)
    claims = [
        claim_from_text("Exercise therapy reduces chronic low back pain.", "claim:1"),
        claim_from_text("Exercise lowers back pain in adults.", "claim:2"),
    ]
    retrievals = {
        c.id: Retrieval(c.id, "q", ("q",), (ARTICLE, OTHER), EvidenceStatus.FOUND) for c in claims
    }
    out = selector.select(claims, retrievals)
    first = out[claims[0].id]
    assert len(first) == 3
    assert sum(c.article.pmid == "1" for c in first) == 2
    assert any(c.sentence.startswith("Exercise therapy reduced") for c in first)
    assert not any("Funding" in c.sentence for c in first)
    assert all(-1.0 <= c.relevance <= 1.0 for c in first)
    cached = len(selector.sentences._vectors)
    selector.select(claims, retrievals)
    assert len(selector.sentences._vectors) == cached  # nothing re-embedded


def test_select_without_retrieval_gives_no_candidates() -> None:
    claim = claim_from_text("Exercise reduces back pain.", "claim:1")
    assert EvidenceSelector(FakeEmbedder()).select([claim], {}) == {claim.id: []}


def test_abstract_passage_keeps_abstract_order_and_fits_its_budget() -> None:
    from pipeline.evidence import abstract_passage

    sentences = ["One two three.", "Four five six seven.", "Eight nine.", "Ten eleven twelve."]
    # Chosen in priority order (3, then 1); shown in the order the authors wrote them.
    passage = abstract_passage("A title", sentences, [3, 1], max_words=20)
    assert passage == "A title. Four five six seven. Ten eleven twelve."
    # A sentence that would pass the budget is skipped, but the first always fits.
    assert abstract_passage("T", sentences, [1, 0, 2], max_words=6) == "T. Four five six seven."
    assert abstract_passage("", sentences, [9, 2]) == "Eight nine."
