"""Train and evaluate the commercial-promotional head (:mod:`pipeline.nlp.promo`).

Reads a JSON-lines file of labelled sentences (``data/promo/promo.jsonl``: ``text``,
``label`` 0/1, ``source``, ``context_promo_page``, ``split``) and writes
``head.safetensors``, ``promo.json`` and ``metrics.json`` to an output directory.
Everything between reading and writing is computation (the encoder runs on CPU).

The records carry no page text, so a document is rebuilt by joining, in file order, the
sentences that share a ``source``. That gives the page-level cues the same kind of input
in training and evaluation; at prediction time the real page text is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from pipeline.errors import ConfigError
from pipeline.nlp.metrics import binary_ece, prf
from pipeline.nlp.promo import (
    CUE_FEATURES,
    DEFAULT_POSSIBLE_THRESHOLD,
    LABEL_THRESHOLD,
    PromoClassifier,
    PromoHead,
    commercial_context_from,
    cue_matrix,
    document_cues,
)
from pipeline.train.calibrate import fit_platt

DEFAULT_EPOCHS = 300
DEFAULT_LR = 0.05
DEFAULT_WEIGHT_DECAY = 1e-3
DEFAULT_THRESHOLD = LABEL_THRESHOLD
"""The label threshold: a calibrated probability says promotional is more likely."""
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 19))
POSSIBLE_GRID = tuple(t for t in THRESHOLD_GRID if 0.1 <= t < LABEL_THRESHOLD)
"""Candidate lower edges of the "possibly promotional" band (0.10 … 0.45)."""
T = TypeVar("T")
CV_FOLDS = 5
"""Folds for the cross-fitted calibration and threshold, and the train-split CV figures."""


@dataclass(frozen=True, slots=True)
class PromoRecord:
    """One labelled sentence from the promotional data set. Created by :func:`read_records`."""

    text: str
    label: int
    """1 commercial-promotional, 0 not."""
    source: str
    """Document identifier; sentences sharing it come from one page."""
    context_promo_page: bool
    """The annotator's page-level commercial-context flag."""
    split: str
    """``train`` or ``val``; grouped by ``source`` document."""


def _json_lines(path: Path, what: str, parse: Callable[[Any], T]) -> list[T]:
    """Parse each non-blank line of a JSON-lines file with ``parse``.

    Raises:
        ConfigError: The file cannot be read, or a line is not JSON or ``parse`` rejects
            it (KeyError, TypeError or ValueError), naming the file and line.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {str(path)!r}: {exc}") from exc
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{n}: not a line of {what} ({exc})") from exc
    return out


def _record(raw: Any) -> PromoRecord:
    record = PromoRecord(
        text=str(raw["text"]),
        label=int(raw["label"]),
        source=str(raw["source"]),
        context_promo_page=bool(raw["context_promo_page"]),
        split=str(raw["split"]),
    )
    if record.label not in (0, 1) or record.split not in ("train", "val"):
        raise ValueError("label must be 0/1 and split train/val")
    return record


def read_records(data_file: Path) -> list[PromoRecord]:
    """Read and check a promotional data file.

    Args:
        data_file: JSON lines with ``text``, ``label``, ``source``,
            ``context_promo_page`` and ``split``.

    Returns:
        The records in file order.

    Raises:
        ConfigError: The file is missing or a line is malformed.
    """
    return _json_lines(data_file, "promotional data", _record)


def documents_by_source(records: Iterable[PromoRecord]) -> dict[str, str]:
    """Rebuild each document's text from its sentences, in file order. Pure."""
    parts: dict[str, list[str]] = {}
    for r in records:
        parts.setdefault(r.source, []).append(r.text)
    return {source: "\n".join(texts) for source, texts in parts.items()}


def _features(
    records: Sequence[PromoRecord], embedder: Any, documents: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (embeddings, cues) for records, cues computed per source document."""
    emb = embedder.encode([r.text for r in records])
    cues = np.zeros((len(records), len(CUE_FEATURES)), dtype=np.float32)
    by_source: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_source.setdefault(r.source, []).append(i)
    for source, idx in by_source.items():
        cues[idx] = cue_matrix([records[i].text for i in idx], documents[source])
    return emb, cues


def _best_threshold(
    probs: Sequence[float], labels: Sequence[int], grid: Sequence[float] = THRESHOLD_GRID
) -> float:
    """Return the grid threshold (0.05 steps) with the highest promotional F1. Pure.

    Ties go to the higher threshold: fewer sentences flagged for the same F1.
    """
    best = (-1.0, grid[-1])
    for t in grid:
        f1 = score_probabilities(probs, labels, t)["promo_f1"]
        if f1 >= best[0]:
            best = (f1, t)
    return best[1]


def possible_threshold(probs: Sequence[float], labels: Sequence[int]) -> float:
    """The lower edge of the "possibly promotional" band. Pure.

    The value below :data:`LABEL_THRESHOLD` from which flagging gives the best
    promotional F1 on held-out (cross-fitted) predictions: any lower, and the band
    would add more false alarms than it catches. Ties go to the higher value.
    """
    return _best_threshold(probs, labels, POSSIBLE_GRID)


def _fold_of(source: str) -> int:
    # Whole documents go to one fold, as in the train/val split, so no page is scored by
    # a head that saw its other sentences.
    return int(hashlib.sha256(source.encode("utf-8")).hexdigest(), 16) % CV_FOLDS


def _standardiser(cues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    std = cues.std(axis=0)
    # Constant cues (e.g. no trademark anywhere in a tiny set) would divide by zero.
    return cues.mean(axis=0), np.where(std < 1e-6, 1.0, std).astype(np.float32)


def _fit_linear(
    emb: np.ndarray,
    cues: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int,
    epochs: int,
    lr: float,
    weight_decay: float,
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float]:
    """Fit logistic regression on [embedding, standardised cues].

    Returns:
        (weight, bias, cue mean, cue std, final training loss).
    """
    import torch

    mean, std = _standardiser(cues)
    x = torch.tensor(np.concatenate([emb, (cues - mean) / std], axis=1), dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.float32)
    torch.manual_seed(seed)
    linear = torch.nn.Linear(x.shape[1], 1)
    pos = float(y.sum())
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([(len(y) - pos) / pos]))
    opt = torch.optim.Adam(
        [
            {"params": [linear.weight], "weight_decay": weight_decay},
            {"params": [linear.bias], "weight_decay": 0.0},
        ],
        lr=lr,
    )
    loss = torch.zeros(())
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(linear(x).squeeze(1), y)
        loss.backward()
        opt.step()
    return (
        linear.weight.detach().numpy()[0].astype(np.float32),
        float(linear.bias.detach().item()),
        mean.astype(np.float32),
        std,
        float(loss.item()),
    )


def _cross_fitted_logits(
    records: Sequence[PromoRecord], emb: np.ndarray, cues: np.ndarray, **fit: Any
) -> np.ndarray | None:
    """Return each record's logit from a head fitted without its document's fold.

    None when some fold leaves its training part without one of the labels (tiny data).
    """
    folds = np.array([_fold_of(r.source) for r in records])
    labels = np.array([r.label for r in records], dtype=np.float32)
    out = np.zeros(len(records), dtype=np.float32)
    for k in np.unique(folds):
        fit_on, held = folds != k, folds == k
        if len(set(labels[fit_on].tolist())) < 2:
            return None
        weight, bias, mean, std, _ = _fit_linear(emb[fit_on], cues[fit_on], labels[fit_on], **fit)
        x = np.concatenate([emb[held], (cues[held] - mean) / std], axis=1)
        out[held] = x @ weight + np.float32(bias)
    return out


def train_promo(
    data_file: Path,
    out_dir: Path,
    *,
    base_model: str | None = None,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    lr: float = DEFAULT_LR,
    weight_decay: float = DEFAULT_WEIGHT_DECAY,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Train the logistic-regression head, calibrate it, evaluate it and save it.

    Full-batch Adam on class-balanced binary cross-entropy over [embedding, standardised
    cues]. Calibration (Platt scaling) and the decision threshold are fitted on
    cross-fitted train logits (each document scored by a head trained on the other
    folds), so the ``val`` split stays untouched for reporting. With too little data
    for that, a temperature is fitted on ``val`` (then ``train``) and the threshold is
    :data:`DEFAULT_THRESHOLD`; the returned metrics say which.

    Args:
        data_file: Labelled sentences (see :func:`read_records`).
        out_dir: Where ``head.safetensors``, ``promo.json`` and ``metrics.json`` go.
        base_model: Encoder (hub id or path); None is the embedded all-MiniLM-L6-v2.
        seed: Seeds torch so a run is reproducible.
        epochs: Full-batch optimisation steps.
        lr: Adam learning rate.
        weight_decay: L2 penalty on the head's weights (not the bias).
        threshold: P(promotional) at or above which a claim is labelled promotional;
            None means :data:`LABEL_THRESHOLD` (0.5: more likely than not, since the
            probability is calibrated). The lower edge of the "possibly promotional"
            band is chosen on the cross-fitted predictions (:func:`possible_threshold`).

    Returns:
        ``{"train": {...}, "train_cv": {...} | None, "val": {...} | None,
        "temperature": float, ...}`` as in ``metrics.json``; ``train_cv`` scores the
        cross-fitted train predictions, the others come from :func:`evaluate_promo`.

    Raises:
        ConfigError: The data file is unreadable or its train split lacks a class.
        ModelLoadError: The encoder cannot be loaded.
    """
    from pipeline.nlp.embed import load_embedder

    records = read_records(data_file)
    train = [r for r in records if r.split == "train"]
    val = [r for r in records if r.split == "val"]
    if len({r.label for r in train}) < 2:
        raise ConfigError(f"{data_file}: the train split needs both labels to train on")
    documents = documents_by_source(records)
    embedder = load_embedder(base_model)
    emb, cues = _features(train, embedder, documents)
    labels = np.array([r.label for r in train], dtype=np.float64)
    fit: dict[str, Any] = {"seed": seed, "epochs": epochs, "lr": lr, "weight_decay": weight_decay}
    weight, bias, mean, std, final_loss = _fit_linear(emb, cues, labels, **fit)
    head = PromoHead(
        weight=weight,
        bias=bias,
        cue_mean=mean,
        cue_std=std,
        feature_names=CUE_FEATURES,
        embedding_dim=int(emb.shape[1]),
        temperature=1.0,
        calibration_bias=0.0,
        threshold=DEFAULT_THRESHOLD,
        possible_threshold=DEFAULT_POSSIBLE_THRESHOLD,
        base_model=base_model,
        metadata={},
    )
    cv_logits = _cross_fitted_logits(train, emb, cues, **fit)
    cv_probs: list[float] | None = None
    if cv_logits is not None:
        fitted_on = "train, cross-fitted"
        # A shift as well as a temperature: the class-balanced training loss moves every
        # logit towards "promotional", which a temperature alone cannot undo.
        temperature, shift = fit_platt(cv_logits, labels, with_bias=True)
        z = np.clip(cv_logits / temperature + shift, -50.0, 50.0)
        cv_probs = (1.0 / (1.0 + np.exp(-z))).tolist()
    else:
        calib = val or train
        fitted_on = "val" if val else "train"
        calib_emb, calib_cues = _features(calib, embedder, documents)
        temperature, shift = fit_platt(
            head.logits(calib_emb, calib_cues),
            np.array([r.label for r in calib], dtype=np.float64),
            with_bias=False,
        )
    int_labels = labels.astype(int).tolist()
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    possible = min(
        possible_threshold(cv_probs, int_labels) if cv_probs else DEFAULT_POSSIBLE_THRESHOLD,
        threshold,
    )
    metadata = {
        "data_file": str(data_file),
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "weight_decay": weight_decay,
        "n_train": len(train),
        "n_val": len(val),
        "calibration_fitted_on": fitted_on,
        "final_train_loss": round(final_loss, 6),
    }
    head = dataclasses.replace(
        head,
        temperature=temperature,
        calibration_bias=shift,
        threshold=threshold,
        possible_threshold=possible,
        metadata=metadata,
    )
    classifier = PromoClassifier(head, embedder)
    metrics = {
        **metadata,
        "temperature": temperature,
        "calibration_bias": shift,
        "threshold": threshold,
        "possible_threshold": possible,
        "train": evaluate_promo(classifier, train, documents=documents),
        "train_cv": score_probabilities(cv_probs, int_labels, threshold) if cv_probs else None,
        "val": evaluate_promo(classifier, val, documents=documents) if val else None,
    }
    head.save(out_dir)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def predict_records(
    classifier: PromoClassifier,
    records: Sequence[PromoRecord],
    documents: Mapping[str, str] | None = None,
) -> list[float]:
    """Return P(promotional) for each record, each scored with its own document's text.

    Args:
        classifier: A loaded :class:`PromoClassifier`.
        records: Sentences to score; their ``source`` groups them into documents.
        documents: Page text per source; by default rebuilt from ``records`` themselves.
    """
    documents = documents or documents_by_source(records)
    return classifier.predict_pairs([(r.text, documents[r.source]) for r in records])


def evaluate_promo(
    classifier: PromoClassifier,
    records: Sequence[PromoRecord],
    *,
    documents: Mapping[str, str] | None = None,
    probs: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Score a classifier on labelled sentences.

    Args:
        classifier: A loaded :class:`PromoClassifier`.
        records: Sentences to score; their ``source`` groups them into documents.
        documents: Page text per source; by default rebuilt from ``records`` themselves.
        probs: The classifier's :func:`predict_records` output for ``records``, when the
            caller already has it; computed otherwise.

    Returns:
        ``n``, ``accuracy``, ``macro_f1``, ``promo_f1``, ``ece``, ``per_class``
        (``"0"``/``"1"`` → precision, recall, f1, support), ``threshold``, and
        ``context_accuracy`` / ``n_documents`` for :meth:`~PromoClassifier.commercial_context`
        against the ``context_promo_page`` flags.
    """
    documents = documents or documents_by_source(records)
    threshold = classifier.threshold
    if probs is None:
        probs = predict_records(classifier, records, documents)
    by_source: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_source.setdefault(r.source, []).append(i)
    context_hits = 0
    for source, idx in by_source.items():
        # The page flag is judged on all of the page's sentences, not just this split's.
        scores = [probs[i] for i in idx]
        predicted = commercial_context_from(document_cues(documents[source]), scores, threshold)
        context_hits += predicted == records[idx[0]].context_promo_page
    return {
        **score_probabilities(probs, [r.label for r in records], threshold),
        "n_documents": len(by_source),
        "context_accuracy": context_hits / len(by_source) if by_source else 0.0,
    }


def _annotation(raw: Any) -> tuple[str, int]:
    label = int(raw["label"])
    if label not in (0, 1):
        raise ValueError("label must be 0 or 1")
    return str(raw["text"]), label


def read_second_annotation(path: Path) -> dict[str, int]:
    """Read an independent second annotation: JSON lines of ``text`` and ``label`` 0/1.

    Returns:
        Label by sentence text.

    Raises:
        ConfigError: The file is missing or a line is malformed.
    """
    return dict(_json_lines(path, "second annotation", _annotation))


def agreement(reference: Sequence[int], other: Sequence[int]) -> dict[str, float]:
    """Compare two 0/1 labellings of the same sentences. Pure.

    Returns:
        ``n``, ``agreement`` (share of equal labels), Cohen's ``kappa``, and
        ``precision`` / ``recall`` / ``f1`` of ``other``'s 1s against ``reference``.
    """
    n = len(reference)
    if n == 0:
        return {"n": 0, "agreement": 0.0, "kappa": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    pairs = list(zip(reference, other, strict=True))
    observed = sum(a == b for a, b in pairs) / n
    ref_rate, other_rate = sum(reference) / n, sum(other) / n
    chance = ref_rate * other_rate + (1 - ref_rate) * (1 - other_rate)
    kappa = (observed - chance) / (1 - chance) if chance < 1 else 1.0
    tp = sum(a == 1 and b == 1 for a, b in pairs)
    fp = sum(a == 0 and b == 1 for a, b in pairs)
    fn = sum(a == 1 and b == 0 for a, b in pairs)
    return {"n": n, "agreement": observed, "kappa": kappa, **prf(tp, fp, fn)}


def score_probabilities(
    probs: Sequence[float], labels: Sequence[int], threshold: float
) -> dict[str, Any]:
    """Return ``n``, ``accuracy``, ``macro_f1``, ``promo_f1``, ``ece``, ``per_class`` and
    ``threshold`` for P(promotional) scores against 0/1 labels. Pure."""
    preds = [int(p >= threshold) for p in probs]
    per_class: dict[str, dict[str, float]] = {}
    for cls in (0, 1):
        tp = sum(p == cls and y == cls for p, y in zip(preds, labels, strict=True))
        fp = sum(p == cls and y != cls for p, y in zip(preds, labels, strict=True))
        fn = sum(p != cls and y == cls for p, y in zip(preds, labels, strict=True))
        per_class[str(cls)] = {**prf(tp, fp, fn), "support": float(list(labels).count(cls))}
    n = len(labels)
    return {
        "n": n,
        "accuracy": sum(p == y for p, y in zip(preds, labels, strict=True)) / n if n else 0.0,
        "macro_f1": (per_class["0"]["f1"] + per_class["1"]["f1"]) / 2,
        "promo_f1": per_class["1"]["f1"],
        "ece": binary_ece(probs, labels),
        "per_class": per_class,
        "threshold": threshold,
    }
