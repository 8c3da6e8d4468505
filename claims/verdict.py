"""Turn stance scores over evidence sentences into one verdict per claim. Pure.

Three steps, each its own function, so benchmarks call the real ones:

1. :func:`score_claim`: which sentences are evidence at all (:func:`on_topic`), and the
   aggregate support, raw and calibrated, in a frozen :class:`ClaimScore`;
2. :func:`label_claim`: thresholds in, label and evidence status out;
3. :func:`rationale`: one sentence saying why, naming the deciding evidence.

:func:`decide` runs the three and builds the :class:`~claims.types.Verdict`.

A sentence is evidence only when it is about the claim: relevant enough to carry
weight, and read by the stance model as supporting or refuting it. The stance model
is trained with retrieved sentences that are not rationales as neutral, so neutral
means "does not bear on this claim", and an abstract with no such sentence is listed
as also retrieved, never cited. Without on-topic evidence, or without PubMed, a claim
is ``unverified``: that is not a judgement on it, and is never shown as one.

Aggregation is a weighted noisy-OR over the on-topic sentences: each contributes its
stance probability times a weight for its relevance and study type, so one strong
meta-analysis outweighs several case reports.

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
    LabelScores,
    Retrieval,
    Stance,
    Verdict,
)

PROMO_THRESHOLD = 0.5
"""P(commercial-promotional) at or above which a claim is labelled promotional: more
likely than not, so the label is never shown with a confidence under one half."""
SUPPORT_THRESHOLD = 0.5
"""P(supported) at or above which a non-promotional claim is labelled supported."""
WEAK = 0.65
"""A supported or contested label with a confidence under this says so in words."""
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


@dataclass(frozen=True, slots=True)
class Relevance:
    """When a retrieved passage counts as evidence about the claim.

    Both values are fitted on training claims (``python -m benchmarks.relevance``):
    claims whose evidence the corpus holds, and claims whose topic it lacks.
    """

    min_similarity: float
    """Cosine similarity of the claim to the passage's best sentence."""
    min_decisive: float
    """The stance model's P(supports) or P(refutes), whichever is larger."""


RELEVANCE = Relevance(min_similarity=0.60, min_decisive=0.5)
"""Fitted by ``python -m benchmarks.relevance`` on 320 training claims: of the rules that
cite anything for at most 10 % of the claims of each off-topic set (100 Check-COVID and
100 HealthVer training claims against SciFact's corpus), the one citing a gold abstract
for the most claims whose evidence the corpus holds (60 SciFact, 60 HealthVer training
claims); see docs/models.md."""


def on_topic(s: ScoredSentence, rule: Relevance = RELEVANCE) -> bool:
    """Whether a sentence is evidence about the claim, not merely retrieved for it."""
    return (
        _weight(s) > 0
        and s.stance is not Stance.NEUTRAL
        and s.relevance >= rule.min_similarity
        and max(s.supports, s.refutes) >= rule.min_decisive
    )


@dataclass(frozen=True, slots=True)
class ClaimScore:
    """What the evidence and the promotional head say about one claim. Created by
    :func:`score_claim`."""

    support: float
    """P(some on-topic evidence supports the claim), noisy-OR."""
    refute: float
    """P(some on-topic evidence refutes it), noisy-OR."""
    raw_supported: float
    """``support * (1 - refute)``: the aggregate before calibration."""
    p_supported: float
    """The calibrated P(supported), or the raw aggregate when no calibration is given."""
    promo: float
    """P(the sentence promotes an offering), calibrated by the promotional head."""
    on_topic: int
    """How many sentences are evidence about the claim."""


def score_claim(
    scored: Sequence[ScoredSentence],
    promo_probability: float,
    calibration: SupportCalibration | None = None,
    rule: Relevance = RELEVANCE,
) -> ClaimScore:
    """Aggregate the on-topic sentences' stances into a :class:`ClaimScore`."""
    evidence = [s for s in scored if on_topic(s, rule)]
    support, refute = aggregate(evidence) if evidence else (0.0, 0.0)
    raw = support * (1.0 - refute)
    p = calibration(raw) if calibration is not None and evidence else raw
    return ClaimScore(
        support=support,
        refute=refute,
        raw_supported=raw,
        p_supported=p,
        promo=min(1.0, max(0.0, promo_probability)),
        on_topic=len(evidence),
    )


def label_claim(
    score: ClaimScore,
    status: EvidenceStatus,
    refuted: bool,
    *,
    promo_threshold: float = PROMO_THRESHOLD,
) -> tuple[Label, EvidenceStatus]:
    """Return the label and the evidence status that explains it.

    Args:
        score: From :func:`score_claim`.
        status: What retrieval reported.
        refuted: Whether any on-topic sentence reads as refuting the claim.
        promo_threshold: P(promotional) from which the claim is labelled promotional.
    """
    if status is EvidenceStatus.FOUND and not score.on_topic:
        status = EvidenceStatus.OFF_TOPIC
    if score.promo >= promo_threshold:
        return Label.COMMERCIAL_PROMOTIONAL, status
    if status is not EvidenceStatus.FOUND:
        return Label.UNVERIFIED, status
    if score.p_supported >= SUPPORT_THRESHOLD:
        return Label.SUPPORTED, status
    # Contested needs evidence against the claim; support too weak to count is no verdict.
    return (Label.CONTESTED if refuted else Label.UNVERIFIED), status


def confidence_of(label: Label, score: ClaimScore) -> float | None:
    """The calibrated probability of ``label``; None for ``unverified``."""
    if label is Label.COMMERCIAL_PROMOTIONAL:
        return score.promo
    if label is Label.SUPPORTED:
        return score.p_supported
    if label is Label.CONTESTED:
        return 1.0 - score.p_supported
    return None


def qualifiers_of(label: Label, score: ClaimScore, promo_possible: float) -> tuple[str, ...]:
    """Doubts worth saying in words next to the label."""
    out: list[str] = []
    confidence = confidence_of(label, score)
    if label is Label.SUPPORTED and confidence is not None and confidence < WEAK:
        out.append("weak support")
    if label is Label.CONTESTED and confidence is not None and confidence < WEAK:
        out.append("weakly contested")
    if label is not Label.COMMERCIAL_PROMOTIONAL and score.promo >= promo_possible:
        out.append("possibly promotional")
    return tuple(out)


def rationale(
    label: Label,
    status: EvidenceStatus,
    score: ClaimScore,
    ranked: Sequence[ScoredSentence],
    retrieval: Retrieval | None,
    *,
    promo_threshold: float,
    promo_signs: Sequence[str] = (),
    rule: Relevance = RELEVANCE,
) -> str:
    """One or two sentences saying why the claim got ``label``, citing what decided it."""
    supporters = [s for s in ranked if on_topic(s, rule) and s.stance is Stance.SUPPORTS]
    refuters = [s for s in ranked if on_topic(s, rule) and s.stance is Stance.REFUTES]
    n = len({s.article.pmid for s in ranked})
    searched = f" (searched: {retrieval.query})" if retrieval and retrieval.query else ""
    if label is Label.COMMERCIAL_PROMOTIONAL:
        text = (
            f"The sentence reads as promotion of a product, service or provider (promotional "
            f"probability {score.promo:.2f}; labelled from {promo_threshold:.2f}), so it is "
            "labelled by what it does rather than by the evidence."
        )
        if promo_signs:
            text += f" Signs in the sentence: {'; '.join(promo_signs)}."
    elif status is EvidenceStatus.UNAVAILABLE:
        error = retrieval.error if retrieval and retrieval.error else "PubMed did not answer"
        text = (
            f"Unverified: PubMed could not be searched ({error}). This is not a judgement "
            "on the claim; run the check again later."
        )
    elif status in (EvidenceStatus.NONE, EvidenceStatus.SKIPPED):
        text = f"Unverified: PubMed returned no abstracts for this claim{searched}."
    elif status is EvidenceStatus.OFF_TOPIC:
        text = (
            f"Unverified: {n} abstract(s) came back{searched}, but none is about what the "
            "claim says, so none is cited."
        )
    elif label is Label.SUPPORTED:
        text = f"Supported by {_cite(supporters[0])}" if supporters else "Supported."
        if refuters:
            text += f"; PMID {refuters[0].article.pmid} disagrees but weighs less"
        text += "."
    elif label is Label.CONTESTED and supporters:
        text = (
            f"Contested: the evidence conflicts. {_cite(supporters[0])} supports it, "
            f"while {_cite(refuters[0])} contradicts it."
        )
    elif label is Label.CONTESTED:
        text = f"Contested: contradicted by {_cite(refuters[0])}."
    else:
        lead = f" {_cite(supporters[0])} leans towards it." if supporters else ""
        text = (
            f"Unverified: the on-topic evidence does not clearly support or contradict the "
            f"claim (P(supported) {score.p_supported:.2f}).{lead}"
        )
    if retrieval and retrieval.dropped_retracted:
        pmids = ", ".join(retrieval.dropped_retracted[:3])
        text += f" Retracted papers were left out of the evidence (PMID {pmids})."
    return text


def decide(
    claim: Claim,
    retrieval: Retrieval | None,
    scored: Sequence[ScoredSentence],
    promo_probability: float,
    *,
    model: str = "",
    max_evidence: int = 5,
    promo_threshold: float = PROMO_THRESHOLD,
    promo_possible: float = PROMO_THRESHOLD,
    promo_signs: Sequence[str] = (),
    support_calibration: SupportCalibration | None = None,
    rule: Relevance = RELEVANCE,
) -> Verdict:
    """Label one claim from its evidence and its promotional probability.

    Args:
        claim: The claim being judged.
        retrieval: What retrieval found (None when it was skipped).
        scored: Evidence sentences with relevance and stance probabilities.
        promo_probability: P(the sentence promotes an offering).
        model: Names the models used, for the report.
        max_evidence: How many evidence sentences to keep on the verdict.
        promo_threshold: P(promotional) from which the claim is labelled promotional.
        promo_possible: P(promotional) from which a claim labelled otherwise is
            marked "possibly promotional" (the promotional head's own threshold).
        promo_signs: Promotional cues seen in the sentence, named in the rationale when
            the claim is labelled promotional.
        support_calibration: Maps the aggregated support to P(supported); None uses
            the aggregate as it is.
        rule: When a passage counts as evidence about the claim.

    Returns:
        The verdict, with a rationale naming the deciding evidence.
    """
    status = retrieval.status if retrieval else EvidenceStatus.SKIPPED
    if status is EvidenceStatus.FOUND and not scored:
        status = EvidenceStatus.NONE
    score = score_claim(scored, promo_probability, support_calibration, rule)
    ranked = sorted(
        scored, key=lambda s: (_weight(s) * max(s.supports, s.refutes), s.relevance), reverse=True
    )
    refuted = any(on_topic(s, rule) and s.stance is Stance.REFUTES for s in ranked)
    label, status = label_claim(score, status, refuted, promo_threshold=promo_threshold)
    # Only sentences about the claim are shown as its evidence; other abstracts are
    # listed as retrieved, never as support or contradiction.
    evidence = tuple(_item(s) for s in ranked if on_topic(s, rule))[:max_evidence]
    cited = {item.pmid for item in evidence}
    retrieved = [a.pmid for a in retrieval.articles] if retrieval else []
    also = tuple(dict.fromkeys(p for p in retrieved if p not in cited))
    q = score.promo
    judged = status is EvidenceStatus.FOUND
    # Without on-topic evidence there is no P(supported) to share out: null, not a
    # "contested 97%" that reads as a judgement.
    scores = LabelScores(
        {
            Label.SUPPORTED.value: round((1 - q) * score.p_supported, 4) if judged else None,
            Label.CONTESTED.value: round((1 - q) * (1 - score.p_supported), 4) if judged else None,
            Label.COMMERCIAL_PROMOTIONAL.value: round(q, 4),
        }
    )
    confidence = confidence_of(label, score)
    return Verdict(
        claim_id=claim.id,
        label=label,
        confidence=round(confidence, 4) if confidence is not None else None,
        scores=scores,
        rationale=rationale(
            label,
            status,
            score,
            ranked,
            retrieval,
            promo_threshold=promo_threshold,
            promo_signs=promo_signs,
            rule=rule,
        ),
        query=retrieval.query if retrieval else "",
        evidence=evidence,
        evidence_status=status,
        model=model,
        queries_tried=retrieval.queries_tried if retrieval else (),
        query_translation=retrieval.query_translation if retrieval else None,
        qualifiers=qualifiers_of(label, score, promo_possible),
        also_retrieved=also,
    )
