"""Measurements shared by every eval command and benchmark. Pure.

Two calibration errors, one binning rule: :func:`top_label_ece` scores the confidence
of the predicted label (stance, claim verdicts), :func:`binary_ece` the probability of
the positive class (promotional, check-worthiness). Both put a value in the bin whose
right edge is the first at or above it, so 0.7 lands in the 7th of 10 bins.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from claims.types import Stance

T = TypeVar("T")

STANCE_ORDER = (Stance.SUPPORTS, Stance.REFUTES, Stance.NEUTRAL)
"""The order of the probabilities a StanceModel returns."""

ECE_BINS = 10


def _bin(value: float, bins: int) -> int:
    # Compare against the edges themselves rather than computing ceil(value * bins):
    # 0.7 * 10 is 7.000000000000001 in floating point and would land a bin too high.
    edges = [(b + 1) / bins for b in range(bins)]
    return min(bins - 1, bisect.bisect_left(edges, value))


def binary_ece(probs: Sequence[float], labels: Sequence[int], bins: int = ECE_BINS) -> float:
    """Return the ECE of P(positive): per bin, |mean P − observed rate|, weighted by size."""
    if len(probs) != len(labels):
        raise ValueError("probs and labels differ in length")
    if not probs:
        return 0.0
    totals = [0] * bins
    p_sum = [0.0] * bins
    y_sum = [0] * bins
    for p, y in zip(probs, labels, strict=True):
        b = _bin(p, bins)
        totals[b] += 1
        p_sum[b] += p
        y_sum[b] += int(y)
    return sum(abs(y_sum[b] - p_sum[b]) for b in range(bins) if totals[b]) / len(probs)


def top_label_ece(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """Return the expected calibration error of top-label confidences.

    Confidences fall into ``bins`` equal-width bins over (0, 1] (a confidence of
    exactly 0 goes to the first); ECE is the example-weighted mean of
    ``|accuracy - mean confidence|`` over the bins.

    Args:
        confidences: Probability of the predicted label, per example.
        correct: Whether each prediction was right.
        bins: Number of bins.

    Returns:
        ECE in [0, 1]; 0.0 for no examples.
    """
    if len(confidences) != len(correct):
        raise ValueError("confidences and correct differ in length")
    n = len(confidences)
    if n == 0:
        return 0.0
    totals = [0] * bins
    conf_sum = [0.0] * bins
    hits = [0] * bins
    for conf, ok in zip(confidences, correct, strict=True):
        b = _bin(conf, bins)
        totals[b] += 1
        conf_sum[b] += conf
        hits[b] += int(ok)
    return sum(abs(hits[b] - conf_sum[b]) for b in range(bins) if totals[b]) / n


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts; 0.0 where a ratio has no denominator."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def prf_of(gold: Sequence[T], pred: Sequence[T], label: T) -> dict[str, float]:
    """Precision, recall, F1 and support of one class among predicted labels."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
    return {**prf(tp, fp, fn), "support": tp + fn}


def stance_metrics(
    gold: Sequence[Stance], probs: Sequence[tuple[float, float, float]]
) -> dict[str, Any]:
    """Score predicted (supports, refutes, neutral) probabilities against gold labels.

    Args:
        gold: The true stance per example.
        probs: The classifier's probabilities, in :data:`STANCE_ORDER`.

    Returns:
        ``n``, ``accuracy``, ``macro_f1`` (over the classes present in ``gold``),
        ``per_class`` (label value → precision/recall/f1/support), ``ece``, and
        ``support_refute_macro_f1``: macro-F1 over supports and refutes on the
        examples whose gold label is one of them, predicting the likelier of the two
        (neutral ignored), as SciFact's label-only evaluation does.
    """
    if len(gold) != len(probs):
        raise ValueError("gold and probs differ in length")
    pred = [STANCE_ORDER[max(range(3), key=lambda i: p[i])] for p in probs]
    correct = [g is p for g, p in zip(gold, pred, strict=True)]
    per_class = {s.value: prf_of(gold, pred, s) for s in STANCE_ORDER}
    present = [s for s in STANCE_ORDER if per_class[s.value]["support"]]
    macro = sum(per_class[s.value]["f1"] for s in present) / len(present) if present else 0.0

    sr_gold = [g for g in gold if g is not Stance.NEUTRAL]
    sr_pred = [
        Stance.SUPPORTS if p[0] >= p[1] else Stance.REFUTES
        for g, p in zip(gold, probs, strict=True)
        if g is not Stance.NEUTRAL
    ]
    sr_present = [s for s in (Stance.SUPPORTS, Stance.REFUTES) if s in sr_gold]
    sr_macro = (
        sum(prf_of(sr_gold, sr_pred, s)["f1"] for s in sr_present) / len(sr_present)
        if sr_present
        else 0.0
    )
    return {
        "n": len(gold),
        "accuracy": sum(correct) / len(gold) if gold else 0.0,
        "macro_f1": macro,
        "per_class": per_class,
        "ece": top_label_ece([max(p) for p in probs], correct),
        "support_refute_macro_f1": sr_macro,
        "support_refute_n": len(sr_gold),
    }


def fit_temperature(logits: Sequence[Sequence[float]], labels: Sequence[int]) -> float:
    """Return the temperature T minimising the NLL of ``softmax(logits / T)``.

    The NLL is convex in 1/T, so a ternary search over log T is exact enough and
    needs no optimiser.

    Args:
        logits: One row of class logits per example.
        labels: The gold class index per example.

    Returns:
        T in [0.05, 20]; 1.0 for no examples.
    """
    if not labels:
        return 1.0

    def nll(log_t: float) -> float:
        t = math.exp(log_t)
        total = 0.0
        for row, y in zip(logits, labels, strict=True):
            scaled = [v / t for v in row]
            top = max(scaled)
            total += top + math.log(sum(math.exp(v - top) for v in scaled)) - scaled[y]
        return total

    lo, hi = math.log(0.05), math.log(20.0)
    for _ in range(60):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if nll(a) <= nll(b):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)
