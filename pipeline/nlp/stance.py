"""Stance of an evidence sentence towards a claim: supports, refutes or neutral.

:func:`load_stance_classifier` reads model weights from disk (or the local hub
cache for a hub id) once per process; after that, classification is pure
computation. Two kinds of model load:

- our adapter directory, written by ``claimscan train stance``: peft LoRA weights and
  classification head, applied to the base encoder and merged for speed, with a
  ``stance.json`` naming the base, the labels, the temperature and the max length
  (and, once fitted, the claim-level ``support_calibration``);
- any ready-made ``AutoModelForSequenceClassification`` (directory or hub id) whose
  ``id2label`` names entailment / contradiction / neutral (or supports / refutes / NEI).

Labels are always found by name in ``config.id2label``, never by position, because
NLI checkpoints disagree on the order.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from claims.types import Stance
from claims.verdict import SupportCalibration
from pipeline.errors import ModelLoadError
from pipeline.nlp.hf import (
    load_sequence_classifier,
    quiet_transformers,
    resolve_model,
    token_batches,
)
from pipeline.nlp.protocols import StanceModel

META_FILE = "stance.json"
ADAPTER_FORMAT = "claimscan-stance-adapter"
DEFAULT_MAX_LENGTH = 256

_NAME_TO_STANCE: dict[str, Stance] = {
    "entailment": Stance.SUPPORTS,
    "entails": Stance.SUPPORTS,
    "support": Stance.SUPPORTS,
    "supports": Stance.SUPPORTS,
    "supported": Stance.SUPPORTS,
    "contradiction": Stance.REFUTES,
    "contradicts": Stance.REFUTES,
    "contradict": Stance.REFUTES,
    "refute": Stance.REFUTES,
    "refutes": Stance.REFUTES,
    "refuted": Stance.REFUTES,
    "neutral": Stance.NEUTRAL,
    "nei": Stance.NEUTRAL,
    "notenoughinfo": Stance.NEUTRAL,
    "notenoughinformation": Stance.NEUTRAL,
}
_OUTPUT_ORDER = (Stance.SUPPORTS, Stance.REFUTES, Stance.NEUTRAL)


def stance_for_label(name: str) -> Stance | None:
    """Return the Stance a model label name means, or None for names we do not know.

    Case, spaces, underscores and hyphens are ignored: ``NOT_ENOUGH_INFO``,
    ``not enough info`` and ``NEI`` all mean neutral.
    """
    return _NAME_TO_STANCE.get(re.sub(r"[\s_\-]", "", name.lower()))


def label_indices(id2label: dict[int, str] | dict[str, str]) -> tuple[int, int, int]:
    """Return the logit indices of (supports, refutes, neutral) in a model's ``id2label``.

    Raises:
        ModelLoadError: The labels do not name all three stances exactly once.
    """
    found: dict[Stance, int] = {}
    for raw_id, label in id2label.items():
        stance = stance_for_label(str(label))
        if stance is None:
            continue
        if stance in found:
            raise ModelLoadError(f"id2label {dict(id2label)!r} names {stance.value} twice")
        found[stance] = int(raw_id)
    missing = [s.value for s in _OUTPUT_ORDER if s not in found]
    if missing or len(id2label) != 3:
        raise ModelLoadError(
            f"id2label {dict(id2label)!r} is not a three-way NLI label set (missing "
            f"{', '.join(missing) or 'nothing, but has extra labels'}); use a model "
            "whose labels are entailment/contradiction/neutral or train one with "
            "`claimscan train stance`"
        )
    return (found[Stance.SUPPORTS], found[Stance.REFUTES], found[Stance.NEUTRAL])


class NliClassifier:
    """A sequence-pair classifier used as a stance model, split as transformers pipelines are.

    ``preprocess`` tokenises, ``_forward`` runs the model (the only torch code) and
    ``postprocess`` turns logits into plain, temperature-scaled probabilities.
    """

    def __init__(
        self,
        tokenizer: Any,
        model: Any,
        *,
        name: str,
        temperature: float = 1.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        support_calibration: SupportCalibration | None = None,
    ) -> None:
        """Wrap a loaded tokenizer and model.

        Args:
            tokenizer: A transformers tokenizer for the model.
            model: A sequence-classification model in eval mode.
            name: Shown in verdicts and reports.
            temperature: Divides the logits before softmax (fitted at training time).
            max_length: Tokens per (evidence, claim) pair.
            support_calibration: Claim-level calibration fitted for this model's
                aggregated outputs, passed on to the verdict.

        Raises:
            ModelLoadError: The model's labels are not a three-way NLI set.
        """
        self.tokenizer = tokenizer
        self.model = model
        self.name = name
        self.temperature = float(temperature)
        self.max_length = max_length
        self.support_calibration = support_calibration
        self.indices = label_indices(model.config.id2label)
        # Tokenizers and torch modules are not safe to drive from several threads at once.
        self._lock = threading.Lock()

    def preprocess(self, pairs: Sequence[tuple[str, str]]) -> dict[str, list[list[int]]]:
        """Tokenise (claim, evidence) pairs, unpadded.

        The evidence is the first segment (premise) and the claim the second
        (hypothesis), as in NLI and as the adapter was trained.
        """
        return dict(
            self.tokenizer(
                [evidence for _, evidence in pairs],
                [claim for claim, _ in pairs],
                # The longer side is cut first: a long passage loses its tail, and the
                # claim is read whole unless it is the longer (never an error either way).
                truncation="longest_first",
                max_length=self.max_length,
            )
        )

    def _forward(self, encoded: dict[str, list[list[int]]], batch_size: int) -> np.ndarray:
        """Return raw logits, shape (pairs, labels), in input order.

        Pairs are run shortest first, in batches capped by a token budget, so each batch
        pads to similar lengths and long pairs cannot blow up attention memory.
        """
        import torch

        ids = encoded["input_ids"]
        out = np.zeros((len(ids), self.model.config.num_labels), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for idx in token_batches([len(x) for x in ids], batch_size):
                batch = self.tokenizer.pad(
                    {key: [encoded[key][i] for i in idx] for key in encoded},
                    return_tensors="pt",
                )
                out[idx] = self.model(**batch).logits.float().numpy()
        return out

    def postprocess(self, logits: np.ndarray) -> list[tuple[float, float, float]]:
        """Turn logits into (p_supports, p_refutes, p_neutral) tuples of plain floats."""
        scaled = logits.astype(np.float64) / self.temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        probs = np.exp(scaled)
        probs /= probs.sum(axis=1, keepdims=True)
        s, r, n = self.indices
        return [(float(row[s]), float(row[r]), float(row[n])) for row in probs]

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        """Return calibrated (p_supports, p_refutes, p_neutral) per (claim, evidence) pair.

        Args:
            pairs: (claim, evidence sentence) pairs.
            batch_size: Pairs per forward pass.
        """
        if not pairs:
            return []
        return self.postprocess(self._forward(self.preprocess(pairs), batch_size))


CALIBRATION_KEY = "support_calibration"


def support_calibration_from(
    meta: dict[str, Any], *, where: Path | str
) -> SupportCalibration | None:
    """Read the claim-level calibration a ``stance.json`` carries, if any.

    Raises:
        ModelLoadError: The entry is there but unusable.
    """
    entry = meta.get(CALIBRATION_KEY)
    if entry is None:
        return None
    try:
        return SupportCalibration(float(entry["temperature"]), float(entry["shift"]))
    except (TypeError, KeyError, ValueError) as exc:
        raise ModelLoadError(
            f"{str(Path(where) / META_FILE)!r} has an unusable {CALIBRATION_KEY!r} entry "
            f"({exc}); refit it with `python -m benchmarks.verdicts --calibrate` or delete it"
        ) from exc


def short_name(name_or_path: str) -> str:
    """Name a model for reports without a local path: a directory's name or the hub id."""
    path = Path(name_or_path).expanduser()
    if path.is_absolute() or name_or_path.startswith((".", "~")) or path.exists():
        return path.name or name_or_path
    return name_or_path


def _load_adapter(path: Path, meta: dict[str, Any], base_model: str | None) -> NliClassifier:
    from peft import PeftModel

    if meta.get("format") != ADAPTER_FORMAT:
        raise ModelLoadError(
            f"{str(path / META_FILE)!r} is not a claimscan stance adapter "
            f"(format {meta.get('format')!r}); retrain with `claimscan train stance`"
        )
    base = base_model or meta.get("base_model")
    where = resolve_model(base)
    hint = "pass the base it was trained on with --base-model or CLAIMSCAN_BASE_MODEL"
    tokenizer, model = load_sequence_classifier(where, list(meta["labels"]), hint=hint)
    try:
        model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelLoadError(
            f"cannot apply the stance adapter {str(path)!r} to base model {base!r} "
            f"({where!r}): {exc}; {hint}"
        ) from exc
    model.eval()
    return NliClassifier(
        tokenizer,
        model,
        name=short_name(str(path)),
        temperature=float(meta.get("temperature", 1.0)),
        # Adapters trained on passages as well as sentences read up to the passage limit.
        max_length=int(meta.get("passage_max_length", meta.get("max_length", DEFAULT_MAX_LENGTH))),
        support_calibration=support_calibration_from(meta, where=path),
    )


def _load_ready_made(name_or_path: str, meta: dict[str, Any]) -> NliClassifier:
    tokenizer, model = load_sequence_classifier(
        name_or_path,
        hint=(
            "set --stance-model or CLAIMSCAN_STANCE_MODEL to an adapter directory "
            "(`claimscan train stance`) or a local NLI model directory"
        ),
    )
    model.eval()
    return NliClassifier(
        tokenizer,
        model,
        name=short_name(name_or_path),
        temperature=float(meta.get("temperature", 1.0)),
        max_length=int(meta.get("max_length", DEFAULT_MAX_LENGTH)),
        support_calibration=support_calibration_from(meta, where=name_or_path),
    )


@lru_cache(maxsize=4)
def load_stance_classifier(name_or_path: str, base_model: str | None = None) -> StanceModel:
    """Load a stance model once per process.

    Args:
        name_or_path: An adapter directory from ``claimscan train stance``, a model
            directory, or a hub id of an NLI sequence-classification model.
        base_model: Encoder for an adapter; None means the one its ``stance.json``
            names (resolved with :func:`pipeline.nlp.hf.resolve_model`). Ignored
            for ready-made models.

    Returns:
        A classifier whose ``predict`` gives calibrated (supports, refutes, neutral).

    Raises:
        ModelLoadError: Nothing loadable is there, or its labels are not NLI labels.
    """
    path = Path(name_or_path).expanduser()
    meta: dict[str, Any] = {}
    if (path / META_FILE).is_file():
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"cannot read {str(path / META_FILE)!r}: {exc}; retrain with "
                "`claimscan train stance`"
            ) from exc
    with quiet_transformers():
        if (path / "adapter_config.json").is_file():
            if not meta:
                raise ModelLoadError(
                    f"{str(path)!r} holds a peft adapter but no {META_FILE}; it was not "
                    "written by `claimscan train stance`"
                )
            return _load_adapter(path, meta, base_model)
        if path.is_dir() and not (path / "config.json").is_file():
            raise ModelLoadError(
                f"{str(path)!r} holds neither a stance adapter nor a model; train one with "
                "`claimscan train stance` or set CLAIMSCAN_STANCE_MODEL"
            )
        if not path.exists() and (path.is_absolute() or name_or_path.startswith((".", "~"))):
            raise ModelLoadError(
                f"no stance model at {str(path)!r}; train one with `claimscan train stance` "
                "or set CLAIMSCAN_STANCE_MODEL to an adapter or NLI model directory"
            )
        return _load_ready_made(str(path) if path.exists() else name_or_path, meta)


class LazyStance:
    """A stance model loaded on first use.

    Claims whose evidence could not be fetched, or that have none, need no stance
    model; with PubMed unreachable a check then finishes in seconds instead of first
    spending them loading a 110M-parameter encoder it will never run (#14).
    """

    def __init__(self, name_or_path: str) -> None:
        self.name_or_path = name_or_path
        self.name = short_name(name_or_path)
        self._model: StanceModel | None = None
        self._lock = threading.Lock()

    def load(self) -> StanceModel:
        with self._lock:
            if self._model is None:
                self._model = load_stance_classifier(self.name_or_path)
            return self._model

    @property
    def support_calibration(self) -> SupportCalibration | None:
        return self.load().support_calibration

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        return self.load().predict(pairs, batch_size) if pairs else []
