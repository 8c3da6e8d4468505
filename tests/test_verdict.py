from __future__ import annotations

import pytest

from claims.split import claim_from_text
from claims.types import Article, EvidenceStatus, Label, Retrieval, Stance
from claims.verdict import (
    ScoredSentence,
    SupportCalibration,
    aggregate,
    decide,
    study_type,
    study_weight,
)

CLAIM = claim_from_text("Exercise reduces chronic low back pain.", "claim:1")
FOUND = EvidenceStatus.FOUND


def _article(pmid: str, types: tuple[str, ...] = ("Journal Article",)) -> Article:
    return Article(pmid, f"Title {pmid}", ("Sentence.",), "J", 2020, types)


def _retrieval(
    status: EvidenceStatus = EvidenceStatus.FOUND, error: str | None = None
) -> Retrieval:
    return Retrieval(CLAIM.id, "exercise AND back pain", ("q1", "q2"), (), status, error=error)


def _s(
    pmid: str,
    probs: tuple[float, float, float],
    relevance: float = 0.8,
    types: tuple[str, ...] = ("Journal Article",),
) -> ScoredSentence:
    return ScoredSentence(_article(pmid, types), f"Evidence from {pmid}.", relevance, *probs)


@pytest.mark.parametrize(
    ("types", "name", "weight"),
    [
        (("Journal Article", "Meta-Analysis"), "Meta-Analysis", 1.0),
        (("Randomized Controlled Trial",), "Randomized Controlled Trial", 0.9),
        (("Case Reports",), "Case Reports", 0.4),
        (("Journal Article",), "Journal Article", 0.6),
    ],
)
def test_study_type_and_weight(types: tuple[str, ...], name: str, weight: float) -> None:
    assert study_type(types) == name and study_weight(types) == weight


def test_decide_supported_cites_the_supporting_pmid() -> None:
    v = decide(CLAIM, _retrieval(), [_s("1", (0.95, 0.02, 0.03), types=("Meta-Analysis",))], 0.05)
    assert v.label is Label.SUPPORTED
    assert "PMID 1" in v.rationale and "Meta-Analysis" in v.rationale
    assert v.evidence[0].stance is Stance.SUPPORTS
    assert abs(sum(x for x in v.scores.values() if x is not None) - 1.0) < 1e-3
    # The confidence is P(supported) itself; scores share it out after P(promotional).
    assert v.confidence is not None and 0.5 <= v.confidence <= 1
    assert v.scores["supported"] == pytest.approx(0.95 * v.confidence, abs=1e-3)


def test_decide_refuted_is_contested_and_says_so() -> None:
    v = decide(CLAIM, _retrieval(), [_s("2", (0.05, 0.9, 0.05))], 0.05)
    assert v.label is Label.CONTESTED and "contradicted by PMID 2" in v.rationale


def test_decide_conflicting_evidence_names_both_sides() -> None:
    v = decide(CLAIM, _retrieval(), [_s("1", (0.9, 0.05, 0.05)), _s("2", (0.05, 0.9, 0.05))], 0.0)
    assert v.label is Label.CONTESTED and "conflicts" in v.rationale
    assert "PMID 1" in v.rationale and "PMID 2" in v.rationale


def test_issue_14_neutral_evidence_is_off_topic_and_unverified() -> None:
    # Abstracts whose every sentence the stance model reads as neutral are not about the
    # claim: listed as retrieved, never cited, and the claim is not "contested".
    scored = [_s(str(i), (0.3, 0.1, 0.6)) for i in range(8)]
    r = Retrieval(CLAIM.id, "q", ("q",), tuple(_article(str(i)) for i in range(8)), FOUND)
    v = decide(CLAIM, r, scored, 0.0)
    assert v.label is Label.UNVERIFIED and v.confidence is None
    assert v.evidence_status is EvidenceStatus.OFF_TOPIC and v.evidence == ()
    assert v.also_retrieved == tuple(str(i) for i in range(8))
    assert v.scores["supported"] is None and v.scores["contested"] is None
    assert "none is about what the claim says" in v.rationale


def test_decide_irrelevant_sentences_carry_no_weight() -> None:
    p_support, _ = aggregate([_s("1", (0.99, 0.0, 0.01), relevance=0.1)])
    assert p_support == 0.0


def test_decide_no_hits_is_unverified() -> None:
    v = decide(CLAIM, _retrieval(EvidenceStatus.NONE), [], 0.1)
    assert v.label is Label.UNVERIFIED and v.evidence == () and v.confidence is None
    assert v.evidence_status is EvidenceStatus.NONE
    assert "returned no abstracts" in v.rationale and "exercise AND back pain" in v.rationale


def test_issue_14_unavailable_is_unverified_not_contested() -> None:
    v = decide(CLAIM, _retrieval(EvidenceStatus.UNAVAILABLE, "esearch returned 503"), [], 0.1)
    assert v.label is Label.UNVERIFIED and v.confidence is None
    assert v.evidence_status is EvidenceStatus.UNAVAILABLE
    assert "esearch returned 503" in v.rationale and "not a judgement" in v.rationale


def test_issue_14_weak_support_without_contradiction_is_not_contested() -> None:
    # One on-topic sentence leaning to support, too weakly to say supported: with no
    # evidence against the claim, "contested" would be a verdict nobody found.
    v = decide(CLAIM, _retrieval(), [_s("1", (0.55, 0.05, 0.4), relevance=0.6)], 0.0)
    assert v.label is Label.UNVERIFIED and v.evidence_status is EvidenceStatus.FOUND
    assert "does not clearly support or contradict" in v.rationale


def test_issue_14_labels_never_show_a_confidence_under_one_half() -> None:
    cases = [
        [_s("1", (0.95, 0.02, 0.03))],
        [_s("1", (0.7, 0.1, 0.2), relevance=0.5)],
        [_s("2", (0.05, 0.9, 0.05))],
        [_s("1", (0.9, 0.05, 0.05)), _s("2", (0.05, 0.9, 0.05))],
        [_s("1", (0.5, 0.45, 0.05))],
    ]
    for scored in cases:
        for q in (0.0, 0.3, 0.49, 0.5, 0.8):
            v = decide(CLAIM, _retrieval(), scored, q, promo_possible=0.25)
            assert v.confidence is None or v.confidence >= 0.5, (scored, q, v)


def test_issue_14_weak_labels_and_possible_promotion_are_said_in_words() -> None:
    rct = ("Randomized Controlled Trial",)
    weak = decide(CLAIM, _retrieval(), [_s("1", (0.8, 0.1, 0.1), relevance=0.9, types=rct)],
                  0.3, promo_possible=0.25)  # fmt: skip
    assert weak.label is Label.SUPPORTED
    assert weak.qualifiers == ("weak support", "possibly promotional")
    strong = decide(CLAIM, _retrieval(), [_s("1", (0.95, 0.02, 0.03), types=("Meta-Analysis",))],
                    0.1, promo_possible=0.25)  # fmt: skip
    assert strong.qualifiers == ()


@pytest.mark.parametrize("threshold", [0.5, 0.55])
def test_decide_promotional_wins_over_evidence(threshold: float) -> None:
    v = decide(CLAIM, _retrieval(), [_s("1", (0.95, 0.02, 0.03))], 0.6, promo_threshold=threshold)
    assert v.label is Label.COMMERCIAL_PROMOTIONAL and v.confidence == 0.6
    assert v.evidence  # the evidence is still shown to the editor


def test_decide_names_promotional_signs_only_when_labelled_promotional() -> None:
    signs = ('superiority wording "superior"', 'call to action "Request"')
    v = decide(CLAIM, _retrieval(), [], 0.6, promo_signs=signs)
    assert v.rationale.endswith(
        'Signs in the sentence: superiority wording "superior"; call to action "Request".'
    )
    assert "Signs" not in decide(CLAIM, _retrieval(), [], 0.6).rationale
    assert "Signs" not in decide(CLAIM, _retrieval(), [], 0.1, promo_signs=signs).rationale


def test_decide_hides_off_topic_sentences_and_says_none_is_about_the_claim() -> None:
    v = decide(CLAIM, _retrieval(), [_s("9", (0.2, 0.2, 0.6), relevance=0.1)], 0.0)
    assert v.evidence == () and "none is about what the claim says" in v.rationale


def test_decide_says_when_retracted_papers_were_left_out() -> None:
    r = Retrieval(CLAIM.id, "q", ("q",), (), EvidenceStatus.NONE, dropped_retracted=("77",))
    v = decide(CLAIM, r, [], 0.0)
    assert "Retracted papers were left out of the evidence (PMID 77)" in v.rationale


def test_decide_reads_support_through_the_claim_calibration() -> None:
    # One plain journal article at 0.8 supports aggregates to 0.42: not enough as it is.
    scored = [_s("1", (0.8, 0.1, 0.1), relevance=0.9)]
    raw = decide(CLAIM, _retrieval(), scored, 0.0)
    assert raw.label is Label.UNVERIFIED and raw.scores["supported"] == pytest.approx(0.42)
    # A calibration fitted on claims that crosses 0.5 at an aggregate of 0.4 calls it
    # supported, and the confidence is the calibrated probability, not the aggregate.
    calibration = SupportCalibration(temperature=0.4, shift=-1.0)
    v = decide(CLAIM, _retrieval(), scored, 0.0, support_calibration=calibration)
    assert v.label is Label.SUPPORTED and "PMID 1" in v.rationale
    assert v.confidence == pytest.approx(calibration(0.42), abs=1e-4)
    assert v.scores["supported"] + v.scores["contested"] == pytest.approx(1.0, abs=1e-4)


def test_decide_leaves_claims_without_evidence_uncalibrated() -> None:
    calibration = SupportCalibration(temperature=0.4, shift=-1.0)
    v = decide(CLAIM, _retrieval(EvidenceStatus.NONE), [], 0.1, support_calibration=calibration)
    assert v.label is Label.UNVERIFIED and v.scores["supported"] is None
