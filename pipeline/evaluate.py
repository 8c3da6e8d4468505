"""Stance-model metrics and the labelled data they are measured on.

The metric functions are pure. :func:`load_labelled` reads dataset files (SciFact,
HealthVer CSV or MultiVerS, Check-COVID, COVID-Fact) from the path it is given.
:func:`evaluate_stance` runs the classifier it is handed and nothing else.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claims.types import Stance
from pipeline.errors import ConfigError
from pipeline.train.data import (
    StancePair,
    balance,
    direction_flips,
    load_checkcovid,
    load_covidfact,
    load_healthver_csv,
    load_healthver_multivers,
    load_scifact,
    split_by_claim,
    training_splits,
)

if TYPE_CHECKING:
    from pipeline.classify import StanceClassifier

STANCE_ORDER = (Stance.SUPPORTS, Stance.REFUTES, Stance.NEUTRAL)
"""The order of the probabilities a StanceClassifier returns."""

ECE_BINS = 10


def expected_calibration_error(
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
    # Compare against the edges themselves rather than computing ceil(conf * bins):
    # 0.7 * 10 is 7.000000000000001 in floating point and would land a bin too high.
    edges = [(b + 1) / bins for b in range(bins)]
    totals = [0] * bins
    conf_sum = [0.0] * bins
    hits = [0] * bins
    for conf, ok in zip(confidences, correct, strict=True):
        b = min(bins - 1, bisect.bisect_left(edges, conf))
        totals[b] += 1
        conf_sum[b] += conf
        hits[b] += int(ok)
    return sum(abs(hits[b] - conf_sum[b]) for b in range(bins) if totals[b]) / n


def _prf(gold: Sequence[Stance], pred: Sequence[Stance], label: Stance) -> dict[str, float]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g is label and p is label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g is not label and p is label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g is label and p is not label)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


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
    per_class = {s.value: _prf(gold, pred, s) for s in STANCE_ORDER}
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
        sum(_prf(sr_gold, sr_pred, s)["f1"] for s in sr_present) / len(sr_present)
        if sr_present
        else 0.0
    )
    return {
        "n": len(gold),
        "accuracy": sum(correct) / len(gold) if gold else 0.0,
        "macro_f1": macro,
        "per_class": per_class,
        "ece": expected_calibration_error([max(p) for p in probs], correct),
        "support_refute_macro_f1": sr_macro,
        "support_refute_n": len(sr_gold),
    }


def evaluate_stance(
    classifier: StanceClassifier, pairs: Sequence[StancePair], batch_size: int = 32
) -> dict[str, Any]:
    """Run ``classifier`` on labelled pairs and score it with :func:`stance_metrics`.

    Args:
        classifier: Any StanceClassifier.
        pairs: Labelled (claim, evidence) pairs.
        batch_size: Pairs per forward pass.

    Returns:
        The metrics dict, plus ``model`` (the classifier's name).
    """
    probs = classifier.predict([(p.claim, p.evidence) for p in pairs], batch_size=batch_size)
    metrics = stance_metrics([p.label for p in pairs], probs)
    metrics["model"] = classifier.name
    return metrics


def direction_check(
    classifier: StanceClassifier, pairs: Sequence[StancePair], batch_size: int = 32
) -> dict[str, Any]:
    """How the classifier reads supported claims before and after their direction is reversed.

    Each supported claim that :func:`pipeline.train.data.flip_direction` can reverse
    ("increases" → "decreases") is scored with its evidence twice. A model that reads
    direction moves from supports to refutes; one that only matches topic words does not.

    Returns:
        ``n`` (flippable pairs), and for ``original`` and ``flipped`` the mean
        P(supports), the mean P(refutes) and the fraction predicted refutes; empty
        figures when no claim could be flipped.
    """
    matched = [(pair, flip) for pair in pairs for flip in direction_flips([pair])]
    originals = [pair for pair, _ in matched]
    flipped = [flip for _, flip in matched]
    out: dict[str, Any] = {"n": len(flipped)}
    if not flipped:
        return out
    for name, chosen in (("original", originals), ("flipped", flipped)):
        probs = classifier.predict([(p.claim, p.evidence) for p in chosen], batch_size=batch_size)
        out[name] = {
            "mean_p_supports": sum(pr[0] for pr in probs) / len(probs),
            "mean_p_refutes": sum(pr[1] for pr in probs) / len(probs),
            "predicted_refutes": sum(pr[1] == max(pr) for pr in probs) / len(probs),
        }
    return out


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


def _select(pairs: list[StancePair], split: str) -> list[StancePair]:
    if split == "all":
        return pairs
    return split_by_claim(pairs)[1]


def split_applies(path: Path) -> bool:
    """Return True when ``--split`` narrows ``path``: a data folder or a ``*train*`` file."""
    return path.is_dir() or "train" in path.name


def load_labelled(
    path: Path, *, split: str = "val", neutral_ratio: float = 0.5, seed: int = 13
) -> list[StancePair]:
    """Read labelled stance pairs from a dataset file or folder.

    Accepted inputs:

    - a data folder laid out like ``shared/data``: the training sets' pairs (the
      validation split, neutrals sampled as in training, with ``split="val"``);
    - ``*.csv``: HealthVer's original CSV (``healthver_dev.csv``), always all rows;
    - ``claims_*.jsonl`` beside a ``corpus.jsonl``: SciFact or HealthVer MultiVerS;
    - ``covidfact/*.tsv`` and ``checkcovid/{train,dev}/*.json``.

    ``split`` only narrows training files (those named ``*train*`` and data folders):
    ``val`` keeps the claims :func:`~pipeline.train.data.is_validation_claim` sets
    aside, ``all`` keeps everything. Held-out files (dev, CSV) are read whole.

    Args:
        path: The file or folder.
        split: ``val`` or ``all``.
        neutral_ratio: Neutral sampling for rationale-style files, as in training.
        seed: Seed for that sampling.

    Raises:
        ConfigError: The path is missing or in no format we read.
    """
    if split not in {"val", "all"}:
        raise ConfigError(f"split must be 'val' or 'all', not {split!r}")
    if not path.exists():
        raise ConfigError(f"no labelled data at {str(path)!r}; pass a dataset file or folder")
    if path.is_dir():
        train, val = training_splits(path, neutral_ratio=neutral_ratio, seed=seed)
        return val if split == "val" else train + val
    chosen = split if split_applies(path) else "all"
    name = path.name
    try:
        if path.suffix == ".csv":
            return load_healthver_csv(path)
        if path.suffix == ".tsv":
            return _select(load_covidfact(path), chosen)
        if path.suffix == ".json" and path.parent.name in {"train", "dev"}:
            pairs = load_checkcovid(path.parent.parent, claims_file=path)
            return balance(_select(pairs, chosen), neutral_ratio=neutral_ratio, seed=seed)
        if path.suffix == ".jsonl" and name.startswith("claims_"):
            with path.open(encoding="utf-8") as fh:
                first = json.loads(fh.readline())
            if "cited_doc_ids" in first:
                if name != "claims_train.jsonl":
                    raise ConfigError(f"{str(path)!r}: only SciFact's train file is supported")
                pairs = load_scifact(path.parent)
            else:
                pairs = load_healthver_multivers(path.parent, name[len("claims_") : -6])
            return balance(_select(pairs, chosen), neutral_ratio=neutral_ratio, seed=seed)
    except (KeyError, ValueError, IndexError, FileNotFoundError) as exc:
        raise ConfigError(f"cannot read labelled data from {str(path)!r}: {exc}") from exc
    raise ConfigError(
        f"{str(path)!r} is in no format claimscan reads; pass a HealthVer CSV, a "
        "claims_*.jsonl beside corpus.jsonl, a COVID-Fact .tsv or a Check-COVID .json"
    )
