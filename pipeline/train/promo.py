"""Train and evaluate the commercial-promotional head (:mod:`pipeline.promo`).

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
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.promo import (
    CUE_FEATURES,
    PromoClassifier,
    PromoHead,
    commercial_context_from,
    cue_matrix,
    document_cues,
)

DEFAULT_EPOCHS = 300
DEFAULT_LR = 0.05
DEFAULT_WEIGHT_DECAY = 1e-3
DEFAULT_THRESHOLD = 0.5
ECE_BINS = 10


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
    try:
        lines = data_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read promotional data {str(data_file)!r}: {exc}") from exc
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            record = PromoRecord(
                text=str(raw["text"]),
                label=int(raw["label"]),
                source=str(raw["source"]),
                context_promo_page=bool(raw["context_promo_page"]),
                split=str(raw["split"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{data_file}:{n}: not a promotional record ({exc})") from exc
        if record.label not in (0, 1) or record.split not in ("train", "val"):
            raise ConfigError(f"{data_file}:{n}: label must be 0/1 and split train/val")
        records.append(record)
    return records


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


def _fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fit one temperature minimising validation NLL (Guo et al. 2017, temperature scaling)."""
    import torch

    z = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    # Optimise log T so the temperature stays positive.
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn(z / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    t = float(log_t.exp().item())
    # A degenerate val split (one class, perfectly separated) drives T to 0 or infinity.
    return min(max(t, 0.05), 20.0) if math.isfinite(t) else 1.0


def train_promo(
    data_file: Path,
    out_dir: Path,
    *,
    base_model: str | None = None,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    lr: float = DEFAULT_LR,
    weight_decay: float = DEFAULT_WEIGHT_DECAY,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Train the logistic-regression head, calibrate it, evaluate it and save it.

    Full-batch Adam on class-balanced binary cross-entropy over [embedding, standardised
    cues]; then a temperature is fitted on the ``val`` split (or on ``train`` when the
    file has no ``val`` records, which the returned metrics say).

    Args:
        data_file: Labelled sentences (see :func:`read_records`).
        out_dir: Where ``head.safetensors``, ``promo.json`` and ``metrics.json`` go.
        base_model: Encoder (hub id or path); None is the embedded all-MiniLM-L6-v2.
        seed: Seeds torch so a run is reproducible.
        epochs: Full-batch optimisation steps.
        lr: Adam learning rate.
        weight_decay: L2 penalty on the head's weights (not the bias).
        threshold: P(promotional) at or above which a claim is labelled promotional.

    Returns:
        ``{"train": {...}, "val": {...}, "temperature": float, ...}`` as in
        ``metrics.json``; the split metrics come from :func:`evaluate_promo`.

    Raises:
        ConfigError: The data file is unreadable or its train split lacks a class.
        ModelLoadError: The encoder cannot be loaded.
    """
    import torch

    from pipeline.embed import load_embedder

    records = read_records(data_file)
    train = [r for r in records if r.split == "train"]
    val = [r for r in records if r.split == "val"]
    if len({r.label for r in train}) < 2:
        raise ConfigError(f"{data_file}: the train split needs both labels to train on")
    documents = documents_by_source(records)
    embedder = load_embedder(base_model)
    emb, cues = _features(train, embedder, documents)
    mean = cues.mean(axis=0)
    # Constant cues (e.g. no trademark anywhere in a tiny set) would divide by zero.
    std = np.where(cues.std(axis=0) < 1e-6, 1.0, cues.std(axis=0)).astype(np.float32)
    x = torch.tensor(np.concatenate([emb, (cues - mean) / std], axis=1), dtype=torch.float32)
    y = torch.tensor([r.label for r in train], dtype=torch.float32)

    torch.manual_seed(seed)
    linear = torch.nn.Linear(x.shape[1], 1)
    pos = float(y.sum())
    pos_weight = torch.tensor([(len(y) - pos) / pos])
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.Adam(
        [
            {"params": [linear.weight], "weight_decay": weight_decay},
            {"params": [linear.bias], "weight_decay": 0.0},
        ],
        lr=lr,
    )
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(linear(x).squeeze(1), y)
        loss.backward()
        opt.step()

    head = PromoHead(
        weight=linear.weight.detach().numpy()[0].astype(np.float32),
        bias=float(linear.bias.detach().item()),
        cue_mean=mean.astype(np.float32),
        cue_std=std,
        feature_names=CUE_FEATURES,
        embedding_dim=int(emb.shape[1]),
        temperature=1.0,
        threshold=threshold,
        base_model=base_model,
        metadata={},
    )
    calib = val or train
    calib_emb, calib_cues = _features(calib, embedder, documents)
    temperature = _fit_temperature(
        head.logits(calib_emb, calib_cues), np.array([r.label for r in calib], dtype=np.float64)
    )
    metadata = {
        "data_file": str(data_file),
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "weight_decay": weight_decay,
        "n_train": len(train),
        "n_val": len(val),
        "temperature_fitted_on": "val" if val else "train",
        "final_train_loss": round(float(loss.item()), 6),
    }
    head = dataclasses.replace(head, temperature=temperature, metadata=metadata)
    classifier = PromoClassifier(head, embedder)
    metrics = {
        **metadata,
        "temperature": temperature,
        "threshold": threshold,
        "train": evaluate_promo(classifier, train, documents=documents),
        "val": evaluate_promo(classifier, val, documents=documents) if val else None,
    }
    head.save(out_dir)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def expected_calibration_error(probs: Sequence[float], labels: Sequence[int]) -> float:
    """Return the ECE of P(promotional) over equal-width bins. Pure.

    Uses the binary form: in each bin, |mean predicted P(1) − observed rate of 1|,
    weighted by the bin's share of examples.
    """
    if not probs:
        return 0.0
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    bins = np.minimum((p * ECE_BINS).astype(int), ECE_BINS - 1)
    ece = 0.0
    for b in range(ECE_BINS):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(ece)


def evaluate_promo(
    classifier: PromoClassifier,
    records: Sequence[PromoRecord],
    *,
    documents: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Score a classifier on labelled sentences.

    Args:
        classifier: A loaded :class:`PromoClassifier`.
        records: Sentences to score; their ``source`` groups them into documents.
        documents: Page text per source; by default rebuilt from ``records`` themselves.

    Returns:
        ``n``, ``accuracy``, ``macro_f1``, ``promo_f1``, ``ece``, ``per_class``
        (``"0"``/``"1"`` → precision, recall, f1, support), ``threshold``, and
        ``context_accuracy`` / ``n_documents`` for :meth:`~PromoClassifier.commercial_context`
        against the ``context_promo_page`` flags.
    """
    documents = documents or documents_by_source(records)
    threshold = classifier.threshold
    probs: list[float] = [0.0] * len(records)
    by_source: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_source.setdefault(r.source, []).append(i)
    context_hits = 0
    for source, idx in by_source.items():
        scores = classifier.predict([records[i].text for i in idx], documents[source])
        for i, s in zip(idx, scores, strict=True):
            probs[i] = s
        # The page flag is judged on all of the page's sentences, not just this split's.
        predicted = commercial_context_from(document_cues(documents[source]), scores)
        context_hits += predicted == records[idx[0]].context_promo_page
    labels = [r.label for r in records]
    preds = [int(p >= threshold) for p in probs]
    per_class: dict[str, dict[str, float]] = {}
    for cls in (0, 1):
        tp = sum(p == cls and y == cls for p, y in zip(preds, labels, strict=True))
        fp = sum(p == cls and y != cls for p, y in zip(preds, labels, strict=True))
        fn = sum(p != cls and y == cls for p, y in zip(preds, labels, strict=True))
        per_class[str(cls)] = {**_prf(tp, fp, fn), "support": float(labels.count(cls))}
    n = len(records)
    return {
        "n": n,
        "accuracy": sum(p == y for p, y in zip(preds, labels, strict=True)) / n if n else 0.0,
        "macro_f1": (per_class["0"]["f1"] + per_class["1"]["f1"]) / 2,
        "promo_f1": per_class["1"]["f1"],
        "ece": expected_calibration_error(probs, labels),
        "per_class": per_class,
        "threshold": threshold,
        "n_documents": len(by_source),
        "context_accuracy": context_hits / len(by_source) if by_source else 0.0,
    }
