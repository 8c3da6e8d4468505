"""Train and evaluate the check-worthiness head (:mod:`pipeline.nlp.checkworthy`).

Reads ``data/checkworthy/checkworthy.jsonl`` (one labelled candidate sentence a line,
see its README) and writes ``head.safetensors``, ``checkworthy.json`` and
``metrics.json`` to an output directory. Everything between reading and writing is
computation (the encoder runs on CPU).

The head is fitted on the ``train`` split only, on the sentences the rules' first cut
lets through (what it meets in the pipeline). Its calibration and threshold come from
cross-fitted predictions over that split; ``val`` is reported; ``test`` is never read
here (``benchmarks/checkworthy.py`` reports it). HealthFC sentences are all in ``test``:
their licence (CC BY-NC-ND) rules out a shipped model trained on them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from claims.checkworthy import first_cut
from pipeline.errors import ConfigError
from pipeline.nlp.checkworthy import (
    CUE_FEATURES,
    CheckworthyClassifier,
    CheckworthyHead,
    cue_matrix,
    model_text,
)
from pipeline.train.calibrate import fit_platt

# The promotional trainer's logistic-regression fit and grouped cross-fitting serve any
# head over [embedding, cues]; its metrics serve any binary label.
from pipeline.train.promo import (
    _cross_fitted_logits,
    _fit_linear,
    _json_lines,
    score_probabilities,
)

DEFAULT_EPOCHS = 300
DEFAULT_LR = 0.05
DEFAULT_WEIGHT_DECAY = 1e-3
TARGET_RECALL = 0.95
"""The threshold is the highest that keeps this share of checkable sentences in the
cross-fitted train predictions: the issue asks that no claim worth checking be lost,
and allows up to three reported sentences per claim, so recall comes first."""
THRESHOLD_GRID = tuple(round(0.01 * i, 2) for i in range(1, 100))
SPLITS = ("train", "val", "test")


@dataclass(frozen=True, slots=True)
class CheckworthyRecord:
    """One labelled candidate sentence. Created by :func:`read_records`."""

    text: str
    label: int
    """1 checkable, 0 not."""
    promotional: bool
    """The sentence promotes an offering (it must still reach the promotional head)."""
    source: str
    """Document identifier; sentences sharing it come from one document."""
    corpus: str
    """``seed``, ``fakehealth``, ``scifact`` or ``healthfc``."""
    split: str
    """``train``, ``val`` or ``test``; grouped by ``source``."""
    editor_check: bool | None
    """Seeds only: an editor would check this claim (a stricter standard than checkable)."""


def _record(raw: Any) -> CheckworthyRecord:
    if raw["label"] not in ("checkable", "not") or raw["split"] not in SPLITS:
        raise ValueError("label must be checkable/not and split train/val/test")
    editor = raw.get("editor_check")
    return CheckworthyRecord(
        text=str(raw["text"]),
        label=int(raw["label"] == "checkable"),
        promotional=bool(raw["promotional"]),
        source=str(raw["source"]),
        corpus=str(raw["corpus"]),
        split=str(raw["split"]),
        editor_check=None if editor is None else bool(editor),
    )


def read_records(data_file: Path) -> list[CheckworthyRecord]:
    """Read and check a check-worthiness data file.

    Raises:
        ConfigError: The file is missing or a line is malformed.
    """
    return _json_lines(data_file, "check-worthiness data", _record)


def _best_threshold(probs: Sequence[float], labels: Sequence[int], target: float) -> float:
    """Return the highest grid threshold whose recall of the 1s is at least ``target``."""
    positives = sum(labels)
    best = THRESHOLD_GRID[0]
    for t in THRESHOLD_GRID:
        kept = sum(1 for p, y in zip(probs, labels, strict=True) if y and p >= t)
        if positives and kept / positives >= target:
            best = t
    return best


def step_metrics(
    classifier: CheckworthyClassifier, records: Sequence[CheckworthyRecord]
) -> dict[str, Any]:
    """Score the whole check-worthiness step on labelled candidates.

    A sentence is predicted checkable when it passes the rules' first cut and the head's
    threshold; sentences the first cut drops count as predicted "not". The promotional
    pass is left out: this measures checkability alone.

    Returns:
        :func:`pipeline.train.promo.score_probabilities` output over all ``records``
        (``per_class["1"]`` is the checkable class), plus ``n_first_cut``.
    """
    passed = [i for i, r in enumerate(records) if first_cut(r.text)]
    probs = [0.0] * len(records)
    for i, p in zip(
        passed, classifier.probabilities([records[i].text for i in passed]), strict=True
    ):
        probs[i] = p
    return {
        **score_probabilities(probs, [r.label for r in records], classifier.threshold),
        "n_first_cut": len(passed),
    }


def train_checkworthy(
    data_file: Path,
    out_dir: Path,
    *,
    base_model: str | None = None,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    lr: float = DEFAULT_LR,
    weight_decay: float = DEFAULT_WEIGHT_DECAY,
    target_recall: float = TARGET_RECALL,
) -> dict[str, Any]:
    """Train the head, calibrate it, choose its threshold, evaluate it on val, save it.

    Args:
        data_file: Labelled sentences (see :func:`read_records`).
        out_dir: Where ``head.safetensors``, ``checkworthy.json`` and ``metrics.json`` go.
        base_model: Encoder (hub id or path); None is the embedded all-MiniLM-L6-v2.
        seed: Seeds torch so a run is reproducible.
        epochs: Full-batch optimisation steps.
        lr: Adam learning rate.
        weight_decay: L2 penalty on the head's weights (not the bias).
        target_recall: Cross-fitted recall of checkable sentences the threshold keeps.

    Returns:
        The contents of ``metrics.json``: settings, calibration, threshold, and
        ``train_cv`` (cross-fitted, first-cut sentences) and ``val`` (the whole step on
        every val candidate, :func:`step_metrics`).

    Raises:
        ConfigError: The data file is unreadable or its train split lacks a class.
        ModelLoadError: The encoder cannot be loaded.
    """
    from pipeline.nlp.embed import load_embedder

    records = read_records(data_file)
    train = [r for r in records if r.split == "train" and first_cut(r.text)]
    val = [r for r in records if r.split == "val"]
    if len({r.label for r in train}) < 2:
        raise ConfigError(f"{data_file}: the train split needs both labels to train on")
    if any(r.corpus == "healthfc" for r in train):
        raise ConfigError(f"{data_file}: HealthFC sentences may not be trained on (CC BY-NC-ND)")
    embedder = load_embedder(base_model)
    emb = embedder.encode([model_text(r.text) for r in train])
    cues = cue_matrix([r.text for r in train])
    labels = np.array([r.label for r in train], dtype=np.float64)
    fit: dict[str, Any] = {"seed": seed, "epochs": epochs, "lr": lr, "weight_decay": weight_decay}
    weight, bias, mean, std, final_loss = _fit_linear(emb, cues, labels, **fit)
    # It reads only ``source`` and ``label``, which these records share with PromoRecord.
    cv_logits = _cross_fitted_logits(train, emb, cues, **fit)  # type: ignore[arg-type]
    if cv_logits is None:
        raise ConfigError(f"{data_file}: too few training documents to cross-fit a threshold")
    # A shift as well as a temperature: the class-balanced loss moves every logit.
    temperature, shift = fit_platt(cv_logits, labels, with_bias=True)
    z = np.clip(cv_logits / temperature + shift, -50.0, 50.0)
    cv_probs = (1.0 / (1.0 + np.exp(-z))).tolist()
    int_labels = labels.astype(int).tolist()
    threshold = _best_threshold(cv_probs, int_labels, target_recall)
    metadata = {
        "data_file": str(data_file),
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "weight_decay": weight_decay,
        "target_recall": target_recall,
        "n_train": len(train),
        "n_val": len(val),
        "calibration_fitted_on": "train, cross-fitted",
        "final_train_loss": round(final_loss, 6),
    }
    head = CheckworthyHead(
        weight=weight,
        bias=bias,
        cue_mean=mean,
        cue_std=std,
        feature_names=CUE_FEATURES,
        embedding_dim=int(emb.shape[1]),
        temperature=temperature,
        calibration_bias=shift,
        threshold=threshold,
        base_model=base_model,
        metadata=metadata,
    )
    classifier = CheckworthyClassifier(head, embedder)
    metrics = {
        **metadata,
        "temperature": temperature,
        "calibration_bias": shift,
        "threshold": threshold,
        "train_cv": score_probabilities(cv_probs, int_labels, threshold),
        "val": step_metrics(classifier, val) if val else None,
    }
    head.save(out_dir)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics
