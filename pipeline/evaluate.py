"""Stance-model evaluation and the labelled data it is measured on.

The metrics themselves are in :mod:`pipeline.nlp.metrics`. :func:`load_labelled` reads
dataset files (SciFact, HealthVer CSV or MultiVerS, Check-COVID, COVID-Fact) from the
path it is given.
:func:`evaluate_stance` runs the classifier it is handed and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ConfigError
from pipeline.nlp.metrics import stance_metrics
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
    from pipeline.nlp.protocols import StanceModel


def evaluate_stance(
    classifier: StanceModel, pairs: Sequence[StancePair], batch_size: int = 32
) -> dict[str, Any]:
    """Run ``classifier`` on labelled pairs and score it with :func:`stance_metrics`.

    Args:
        classifier: Any StanceModel.
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
    classifier: StanceModel, pairs: Sequence[StancePair], batch_size: int = 32
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
