"""Commercial-promotional sentence classifier: a trained head over MiniLM sentence embeddings.

Features per sentence are the encoder's 384-d unit embedding, a few sentence cues (®/™,
superiority words, calls to action, provider voice) and a few cues computed on the whole
document (brand repetition, trademark density, first-person provider voice, calls to
action, author-bio lines). A logistic-regression head trained with torch
(``pipeline.train.promo``) maps them to P(promotional), calibrated by Platt scaling
fitted on cross-validated training predictions.

I/O: :func:`load_promo_classifier` reads ``head.safetensors`` and ``promo.json`` from a
model directory and loads the encoder through :func:`pipeline.nlp.embed.load_embedder`.
Everything else is computation.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelLoadError
from pipeline.nlp.head_files import head_logits, read_head_files, write_head_files
from pipeline.nlp.promo_cues import (
    CUE_FEATURES,
    DOCUMENT_FEATURES,
    SENTENCE_FEATURES,
    DocumentCues,
    commercial_context_from,
    cue_matrix,
    document_cues,
    promotional_signs,
    sentence_cues,
)

__all__ = [
    "CUE_FEATURES",
    "DOCUMENT_FEATURES",
    "SENTENCE_FEATURES",
    "DocumentCues",
    "PromoClassifier",
    "PromoHead",
    "commercial_context_from",
    "cue_matrix",
    "document_cues",
    "load_head_classifier",
    "load_promo_classifier",
    "load_promo_head",
    "promotional_signs",
    "sentence_cues",
]

CONFIG_FILE = "promo.json"
FORMAT_VERSION = 1
TUNED_KIND = "fine-tuned-cross-encoder"
"""``kind`` in ``promo.json`` of the fine-tuned model (:mod:`pipeline.nlp.promo_tuned`)."""
LABEL_THRESHOLD = 0.5
"""Calibrated P(promotional) from which a sentence is labelled promotional: more likely
than not."""
DEFAULT_POSSIBLE_THRESHOLD = 0.25
"""Lower edge of the "possibly promotional" band for heads trained before it was fitted."""


@dataclass(frozen=True, slots=True)
class PromoHead:
    """The trained logistic-regression head and its settings. Created by training."""

    weight: np.ndarray
    """Shape (embedding_dim + len(feature_names),)."""
    bias: float
    cue_mean: np.ndarray
    """Per-cue mean over the training split, for standardisation."""
    cue_std: np.ndarray
    feature_names: tuple[str, ...]
    """Cue names in column order; embeddings come first and are not named."""
    embedding_dim: int
    temperature: float
    """Logits are divided by this before the sigmoid (calibration)."""
    calibration_bias: float
    """Added to the scaled logit before the sigmoid; with ``temperature``, Platt scaling."""
    threshold: float
    """P(promotional) at or above which a claim is labelled commercial-promotional."""
    possible_threshold: float
    """Lower edge of the "possibly promotional" band below ``threshold``."""
    base_model: str | None
    """Encoder the head was trained on; None means the embedded all-MiniLM-L6-v2."""
    metadata: dict[str, Any]

    def logits(self, embeddings: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Return raw logits for rows of embeddings and cues."""
        return head_logits(self, embeddings, cues)

    def save(self, out_dir: Path) -> None:
        """Write ``head.safetensors`` and ``promo.json`` to ``out_dir``."""
        config = {
            "format_version": FORMAT_VERSION,
            "kind": "logistic-regression",
            "feature_names": list(self.feature_names),
            "embedding_dim": self.embedding_dim,
            "temperature": self.temperature,
            "calibration_bias": self.calibration_bias,
            "threshold": self.threshold,
            "possible_threshold": self.possible_threshold,
            "base_model": self.base_model,
            **self.metadata,
        }
        write_head_files(self, out_dir, CONFIG_FILE, config)


class PromoClassifier:
    """Score sentences as commercial-promotional, given the document they come from."""

    def __init__(self, head: PromoHead, embedder: Any, name: str = "promo") -> None:
        self.head = head
        self.embedder = embedder
        self.name = name

    @property
    def threshold(self) -> float:
        return self.head.threshold

    @property
    def possible_threshold(self) -> float:
        return self.head.possible_threshold

    def with_threshold(self, threshold: float) -> PromoClassifier:
        """Return a classifier that labels from ``threshold`` instead (same encoder)."""
        head = dataclasses.replace(
            self.head,
            threshold=threshold,
            possible_threshold=min(self.head.possible_threshold, threshold),
        )
        return PromoClassifier(head, self.embedder, self.name)

    def predict(self, sentences: Sequence[str], document_text: str) -> list[float]:
        """Return calibrated P(promotional) for each sentence of one document.

        Args:
            sentences: Claims from one document.
            document_text: That document's full text, for the page-level cues.

        Returns:
            One probability in [0, 1] per sentence, in order.
        """
        return self.predict_pairs([(s, document_text) for s in sentences])

    def predict_pairs(self, items: Sequence[tuple[str, str]]) -> list[float]:
        """Return calibrated P(promotional) for (sentence, its document's text) pairs.

        Sentences from many documents go through the encoder in one call, which is how
        the pipeline scores a batch of claims.
        """
        if not items:
            return []
        emb = self.embedder.encode([s for s, _ in items])
        cues = np.asarray(
            [sentence_cues(s, document_cues(doc)) for s, doc in items], dtype=np.float32
        ).reshape(len(items), len(CUE_FEATURES))
        z = self.head.logits(emb, cues) / self.head.temperature + self.head.calibration_bias
        return [1.0 / (1.0 + math.exp(-float(v))) for v in np.clip(z, -50.0, 50.0)]

    def commercial_context(self, document_text: str, sentence_probs: Sequence[float]) -> bool:
        """Return whether the page as a whole reads as promotion.

        Args:
            document_text: The page's full text.
            sentence_probs: :meth:`predict` output for the page's claims.
        """
        return commercial_context_from(
            document_cues(document_text), sentence_probs, self.head.threshold
        )


def load_promo_head(path: str | Path) -> PromoHead:
    """Read a head saved by :meth:`PromoHead.save`.

    Raises:
        ModelLoadError: Files are missing, unreadable or inconsistent.
    """
    files = read_head_files(
        path,
        config_file=CONFIG_FILE,
        what="promotional head",
        hint=(
            "train one with `claimscan train promo --out DIR` or set CLAIMSCAN_PROMO_MODEL "
            "(--promo-model) to a directory holding head.safetensors and promo.json"
        ),
        features=CUE_FEATURES,
        retrain="claimscan train promo",
    )
    config, tensors = files.config, files.tensors
    known = {
        "format_version", "kind", "feature_names", "embedding_dim", "temperature",
        "calibration_bias", "threshold", "possible_threshold", "base_model",
    }  # fmt: skip
    threshold = float(config["threshold"])
    return PromoHead(
        weight=tensors["weight"],
        bias=float(tensors["bias"][0]),
        cue_mean=tensors["cue_mean"],
        cue_std=tensors["cue_std"],
        feature_names=files.feature_names,
        embedding_dim=files.embedding_dim,
        temperature=float(config["temperature"]),
        # Heads saved before Platt scaling carry a temperature only.
        calibration_bias=float(config.get("calibration_bias", 0.0)),
        threshold=threshold,
        possible_threshold=float(
            config.get("possible_threshold", min(DEFAULT_POSSIBLE_THRESHOLD, threshold))
        ),
        base_model=config.get("base_model"),
        metadata=files.extra(known),
    )


def load_promo_classifier(path: str | Path, base_model: str | None = None) -> Any:
    """Load a promotional model directory: the MiniLM head or the fine-tuned model.

    ``promo.json``'s ``kind`` says which. Both give calibrated P(promotional) through
    ``predict_pairs`` and carry ``threshold`` (the label) and ``possible_threshold``
    (the lower edge of the "possibly promotional" band).

    Args:
        path: Model directory.
        base_model: For the MiniLM head, an encoder to use instead of the one recorded
            with it (its embedding size must match). The fine-tuned model always uses
            the base it was trained on, as a stance adapter does.

    Returns:
        A ready :class:`PromoClassifier` or
        :class:`pipeline.nlp.promo_tuned.TunedPromoClassifier`.

    Raises:
        ModelLoadError: The model or its encoder cannot be loaded, or they do not fit.
    """
    where = Path(path).expanduser()
    if (where / CONFIG_FILE).is_file():
        try:
            kind = json.loads((where / CONFIG_FILE).read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot read {str(where / CONFIG_FILE)!r}: {exc}") from exc
        if kind == TUNED_KIND:
            from pipeline.nlp.promo_tuned import load_tuned_classifier, read_meta

            return load_tuned_classifier(where, read_meta(where))
    return load_head_classifier(where, base_model)


def load_head_classifier(path: str | Path, base_model: str | None = None) -> PromoClassifier:
    """Load the promotional head and the encoder it was trained on.

    Args:
        path: Directory with ``head.safetensors`` and ``promo.json``.
        base_model: Encoder to use instead of the one recorded with the head; its
            embedding size must match.

    Returns:
        A ready classifier.

    Raises:
        ModelLoadError: The head or the encoder cannot be loaded, or they do not fit.
    """
    from pipeline.nlp.embed import load_embedder

    head = load_promo_head(path)
    embedder = load_embedder(base_model or head.base_model)
    if embedder.dim != head.embedding_dim:
        raise ModelLoadError(
            f"encoder {embedder.name!r} gives {embedder.dim}-d vectors but the promotional head "
            f"in {str(path)!r} expects {head.embedding_dim}; pass the base model it was "
            "trained on (--base-model) or retrain it"
        )
    return PromoClassifier(head, embedder, name=Path(path).expanduser().name)
