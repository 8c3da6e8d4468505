"""Turn stance scores over evidence sentences into one verdict per claim. Pure.

The thresholds are named here so that calibration and evaluation change them in
one place. Aggregation is a weighted noisy-OR: each evidence sentence contributes
its stance probability times a weight for its relevance and study type, so one
strong meta-analysis outweighs several off-topic case reports.

The noisy-OR output is a score, not a probability: calibrated sentence stances do
not make a calibrated claim verdict. A :class:`SupportCalibration` fitted on claims
checked end to end maps it to P(supported) when the stance model carries one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from claims.types import (
    Article,
    Claim,
    EvidenceItem,
    EvidenceStatus,
    Label,
    Retrieval,
    Stance,
    Verdict,
)

PROMO_THRESHOLD = 0.5
"""P(commercial-promotional) at or above which a claim is labelled promotional."""
SUPPORT_THRESHOLD = 0.5
"""P(supported) at or above which a non-promotional claim is labelled supported."""
MIN_RELEVANCE = 0.25
"""Evidence sentences less similar to the claim than this carry no weight."""
FULL_RELEVANCE = 0.6
"""Similarity at which a sentence counts with its full study-type weight."""
MAX_AGGREGATED = 8
"""Only the most relevant sentences are aggregated, so many weak ones cannot add up."""
CHANCE = 1 / 3
"""Stance probability carrying no information; only the excess over it counts."""

# Ordered from strongest to weakest design; the first match names the study type.
STUDY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("Meta-Analysis", 1.0),
    ("Systematic Review", 1.0),
    ("Practice Guideline", 0.9),
    ("Guideline", 0.9),
    ("Randomized Controlled Trial", 0.9),
    ("Controlled Clinical Trial", 0.8),
    ("Clinical Trial", 0.8),
    ("Multicenter Study", 0.7),
    ("Observational Study", 0.65),
    ("Comparative Study", 0.65),
    ("Review", 0.7),
    ("Case Reports", 0.4),
    ("Comment", 0.25),
    ("Letter", 0.25),
    ("Editorial", 0.25),
    ("News", 0.2),
)
DEFAULT_STUDY_WEIGHT = 0.6


@dataclass(frozen=True, slots=True)
class SupportCalibration:
    """Maps the aggregated support score to P(the claim is supported): Platt scaling.

    ``P = sigmoid(support / temperature + shift)``, fitted on labelled claims checked
    through the real retrieval path (``python -m benchmarks.verdicts --calibrate``),
    class-balanced so that 0.5 stays the decision point whatever the share of true
    claims in the fitting data.
    """

    temperature: float
    shift: float

    def __post_init__(self) -> None:
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ValueError(f"temperature must be positive, not {self.temperature!r}")
        if not math.isfinite(self.shift):
            raise ValueError(f"shift must be finite, not {self.shift!r}")

    def __call__(self, support: float) -> float:
        z = support / self.temperature + self.shift
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """One abstract sentence with its relevance to a claim and its stance probabilities."""

    article: Article
    sentence: str
    relevance: float
    """Cosine similarity to the claim, -1..1."""
    supports: float
    refutes: float
    neutral: float

    @property
    def stance(self) -> Stance:
        best = max(self.supports, self.refutes, self.neutral)
        if best == self.supports:
            return Stance.SUPPORTS
        return Stance.REFUTES if best == self.refutes else Stance.NEUTRAL


RETRACTION_TYPES = frozenset({"Retracted Publication", "Retraction of Publication"})


def study_type(publication_types: Sequence[str]) -> str:
    """Name the strongest study design among PubMed publication types.

    PubMed puts "Journal Article" on nearly everything, so it is named only when
    nothing more specific is listed; retraction types are flagged elsewhere.
    """
    for name, _ in STUDY_WEIGHTS:
        if any(name.lower() in pt.lower() for pt in publication_types):
            return name
    others = [t for t in publication_types if t != "Journal Article" and t not in RETRACTION_TYPES]
    if others:
        return others[0]
    return "Journal Article" if publication_types else "Unknown type"


def study_weight(publication_types: Sequence[str]) -> float:
    """Weight evidence by design: meta-analyses and RCTs above case reports and letters."""
    for name, weight in STUDY_WEIGHTS:
        if any(name.lower() in pt.lower() for pt in publication_types):
            return weight
    return DEFAULT_STUDY_WEIGHT


def _weight(s: ScoredSentence) -> float:
    if s.relevance < MIN_RELEVANCE:
        return 0.0
    rel = min(1.0, (s.relevance - MIN_RELEVANCE) / (FULL_RELEVANCE - MIN_RELEVANCE))
    return rel * study_weight(s.article.publication_types)


def _cite(s: ScoredSentence) -> str:
    year = f", {s.article.year}" if s.article.year else ""
    sentence = s.sentence.rstrip(" .")
    sentence = sentence if len(sentence) <= 160 else sentence[:157].rstrip() + "…"
    return f"PMID {s.article.pmid} ({study_type(s.article.publication_types)}{year}): “{sentence}”"


def _item(s: ScoredSentence) -> EvidenceItem:
    stance = s.stance
    score = {Stance.SUPPORTS: s.supports, Stance.REFUTES: s.refutes}.get(stance, s.neutral)
    return EvidenceItem(
        pmid=s.article.pmid,
        title=s.article.title,
        year=s.article.year,
        journal=s.article.journal,
        publication_types=s.article.publication_types,
        sentence=s.sentence,
        stance=stance,
        score=round(float(score), 4),
    )


def _excess(p: float) -> float:
    return max(0.0, (p - CHANCE) / (1.0 - CHANCE))


def aggregate(scored: Sequence[ScoredSentence]) -> tuple[float, float]:
    """Return (P(some evidence supports), P(some evidence refutes)) by weighted noisy-OR."""
    top = sorted(scored, key=lambda s: s.relevance, reverse=True)[:MAX_AGGREGATED]
    none_support = 1.0
    none_refute = 1.0
    for s in top:
        w = _weight(s)
        none_support *= 1.0 - w * _excess(s.supports)
        none_refute *= 1.0 - w * _excess(s.refutes)
    return 1.0 - none_support, 1.0 - none_refute


def decide(
    claim: Claim,
    retrieval: Retrieval | None,
    scored: Sequence[ScoredSentence],
    promo_probability: float,
    *,
    model: str = "",
    max_evidence: int = 5,
    promo_threshold: float = PROMO_THRESHOLD,
    promo_signs: Sequence[str] = (),
    support_calibration: SupportCalibration | None = None,
) -> Verdict:
    """Label one claim from its evidence and its promotional probability.

    Args:
        claim: The claim being judged.
        retrieval: What retrieval found (None when it was skipped).
        scored: Evidence sentences with relevance and stance probabilities.
        promo_probability: P(the sentence promotes an offering).
        model: Names the models used, for the report.
        max_evidence: How many evidence sentences to keep on the verdict.
        promo_threshold: The promotional model's own decision threshold.
        promo_signs: Promotional cues seen in the sentence, named in the rationale when
            the claim is labelled promotional.
        support_calibration: Maps the aggregated support to P(supported); None uses
            the aggregate as it is.

    Returns:
        The verdict, with a one-sentence rationale naming the deciding evidence.
    """
    status = retrieval.status if retrieval else EvidenceStatus.SKIPPED
    if status is EvidenceStatus.FOUND and not scored:
        status = EvidenceStatus.NONE
    q = min(1.0, max(0.0, promo_probability))
    p_support, p_refute = aggregate(scored) if scored else (0.0, 0.0)
    p_supported = p_support * (1.0 - p_refute)
    if support_calibration is not None and scored:
        p_supported = support_calibration(p_supported)
    scores = {
        Label.SUPPORTED.value: round((1 - q) * p_supported, 4),
        Label.CONTESTED.value: round((1 - q) * (1 - p_supported), 4),
        Label.COMMERCIAL_PROMOTIONAL.value: round(q, 4),
    }
    ranked = sorted(
        scored, key=lambda s: (_weight(s) * max(s.supports, s.refutes), s.relevance), reverse=True
    )
    # Sentences too far from the claim to weigh in are not shown as its evidence either.
    evidence = tuple(_item(s) for s in ranked if _weight(s) > 0)[:max_evidence]
    supporters = [s for s in ranked if s.stance is Stance.SUPPORTS and _weight(s) > 0]
    refuters = [s for s in ranked if s.stance is Stance.REFUTES and _weight(s) > 0]

    if q >= promo_threshold:
        label = Label.COMMERCIAL_PROMOTIONAL
        rationale = (
            f"The sentence reads as promotion of a product, service or provider (promotional "
            f"probability {q:.2f}; flagged from {promo_threshold:.2f}), so it is labelled by "
            "what it does rather than by the evidence."
        )
        if promo_signs:
            rationale += f" Signs in the sentence: {'; '.join(promo_signs)}."
    elif status is EvidenceStatus.UNAVAILABLE:
        label = Label.CONTESTED
        error = retrieval.error if retrieval and retrieval.error else "PubMed did not answer"
        rationale = (
            f"Evidence unavailable: {error}. This is not a judgement on the claim; "
            "run the check again later."
        )
    elif status in (EvidenceStatus.NONE, EvidenceStatus.SKIPPED) or not scored:
        label = Label.CONTESTED
        tried = len(retrieval.queries_tried) if retrieval else 0
        rationale = (
            f"No PubMed abstracts matched the claim ({tried} queries tried), so there is "
            "no evidence either way; treat it as unverified."
        )
    elif p_supported >= SUPPORT_THRESHOLD:
        label = Label.SUPPORTED
        rationale = f"Supported by {_cite(supporters[0])}" if supporters else "Supported."
        if refuters:
            rationale += f"; PMID {refuters[0].article.pmid} disagrees but weighs less"
        rationale += "."
    else:
        label = Label.CONTESTED
        if supporters and refuters:
            rationale = (
                f"Contested: the evidence conflicts. {_cite(supporters[0])} supports it, "
                f"while {_cite(refuters[0])} contradicts it."
            )
        elif refuters:
            rationale = f"Contested: contradicted by {_cite(refuters[0])}."
        elif evidence:
            n = len({s.article.pmid for s in scored})
            rationale = (
                f"Contested: no adequate evidence. {n} abstract(s) were retrieved but none "
                "clearly supports or contradicts the claim."
            )
        else:
            n = len({s.article.pmid for s in scored})
            rationale = (
                f"Contested: no adequate evidence. {n} abstract(s) were retrieved but none "
                "is about what the claim says; treat it as unverified."
            )
    if retrieval and retrieval.dropped_retracted:
        pmids = ", ".join(retrieval.dropped_retracted[:3])
        rationale += f" Retracted papers were left out of the evidence (PMID {pmids})."
    return Verdict(
        claim_id=claim.id,
        label=label,
        confidence=scores[label.value],
        scores=scores,
        rationale=rationale,
        query=retrieval.query if retrieval else "",
        evidence=evidence,
        evidence_status=status,
        model=model,
        queries_tried=retrieval.queries_tried if retrieval else (),
        query_translation=retrieval.query_translation if retrieval else None,
    )
