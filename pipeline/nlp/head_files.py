"""Reading the small linear heads (promotional, check-worthiness) saved beside a card.

A head directory holds ``head.safetensors`` (weight, bias, cue mean and spread) and a
JSON settings file. Both heads are read, and refused, the same way; each builds its own
dataclass from what this returns.

I/O: reads the two files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.errors import ModelLoadError

HEAD_FILE = "head.safetensors"


class LinearHead(Protocol):
    """The fields both heads share: a logistic regression over [embedding ‖ cues]."""

    @property
    def weight(self) -> np.ndarray: ...
    @property
    def bias(self) -> float: ...
    @property
    def cue_mean(self) -> np.ndarray: ...
    @property
    def cue_std(self) -> np.ndarray: ...


def head_logits(head: LinearHead, embeddings: np.ndarray, cues: np.ndarray) -> np.ndarray:
    """Raw logits for rows of embeddings and cues (cues standardised first). Pure."""
    z = (cues - head.cue_mean) / head.cue_std
    x = np.concatenate([embeddings.astype(np.float32), z.astype(np.float32)], axis=1)
    return x @ head.weight.astype(np.float32) + np.float32(head.bias)


def write_head_files(
    head: LinearHead, out_dir: Path, config_file: str, config: dict[str, Any]
) -> None:
    """Write ``head.safetensors`` and the JSON settings file that :func:`read_head_files`
    reads back."""
    from safetensors.numpy import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "weight": head.weight.astype(np.float32),
            "bias": np.asarray([head.bias], dtype=np.float32),
            "cue_mean": head.cue_mean.astype(np.float32),
            "cue_std": head.cue_std.astype(np.float32),
        },
        str(out_dir / HEAD_FILE),
    )
    (out_dir / config_file).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True, slots=True)
class HeadFiles:
    """What a head directory holds, checked for shape and features."""

    config: dict[str, Any]
    tensors: dict[str, np.ndarray]
    feature_names: tuple[str, ...]
    embedding_dim: int

    def extra(self, known: set[str]) -> dict[str, Any]:
        """Settings the loader does not read itself: training metadata, kept as is."""
        return {k: v for k, v in self.config.items() if k not in known}


def read_head_files(
    path: str | Path,
    *,
    config_file: str,
    what: str,
    hint: str,
    features: tuple[str, ...],
    retrain: str,
) -> HeadFiles:
    """Read and check a head directory.

    Args:
        path: The directory.
        config_file: Its JSON settings file's name.
        what: The head in words for messages, e.g. ``promotional head``.
        hint: How to get a usable head, appended to every message.
        features: The cue names this claimscan computes, in column order.
        retrain: The command that trains a head matching ``features``.

    Raises:
        ModelLoadError: Files are missing, unreadable or inconsistent.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    where = Path(path).expanduser()
    if not (where / HEAD_FILE).is_file() or not (where / config_file).is_file():
        raise ModelLoadError(f"no {what} in {str(where)!r}; {hint}")
    try:
        config = json.loads((where / config_file).read_text(encoding="utf-8"))
        tensors = load_file(str(where / HEAD_FILE))
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelLoadError(f"cannot read {what} in {str(where)!r}: {exc}; {hint}") from exc
    names = tuple(config.get("feature_names", ()))
    if names != features:
        raise ModelLoadError(
            f"{what} in {str(where)!r} was trained with features {list(names)}, "
            f"this claimscan computes {list(features)}; retrain with `{retrain}`"
        )
    dim = int(config["embedding_dim"])
    if tensors["weight"].shape != (dim + len(names),):
        raise ModelLoadError(f"{what} in {str(where)!r} has a malformed weight; {hint}")
    return HeadFiles(config=config, tensors=tensors, feature_names=names, embedding_dim=dim)
