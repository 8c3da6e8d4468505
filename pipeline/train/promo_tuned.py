"""Train the fine-tuned promotional model (:mod:`pipeline.nlp.promo_tuned`) on CPU.

Steps: :func:`lower_states` runs the frozen bottom layers of the encoder once over
every (sentence, context) input and keeps their output on disk, so each epoch runs
only the LoRA-tuned top layers; :func:`fit` trains those layers and the head on some
records; :func:`train_tuned` cross-fits that over five folds of training documents
(calibration and the "possibly promotional" threshold are fitted on those held-out
predictions, never on val), trains once on all of train and writes the model
directory. Checkpoints (the cached states, each finished fold) live in a cache
directory, so a run cut short resumes where it stopped.

Reads the data file and the base encoder; writes the cache and the model directory.
Logs through ``logging``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.nlp.hf import token_batches
from pipeline.nlp.promo import LABEL_THRESHOLD, TUNED_KIND
from pipeline.nlp.promo_context import CONTEXT_FEATURES
from pipeline.train.calibrate import fit_platt
from pipeline.train.promo import (
    CV_FOLDS,
    PromoRecord,
    documents_by_source,
    possible_threshold,
    read_records,
    score_probabilities,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TunedRecipe:
    """Everything that decides the trained weights; checkpoints resume only the same one."""

    base_model: str = "sentence-transformers/all-mpnet-base-v2"
    tuned_layers: int = 2
    """Top encoder layers that get LoRA; the ones below stay frozen (and cached)."""
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.1
    max_length: int = 160
    """Tokens of sentence + context segment; the sentence is never cut for context."""
    epochs: float = 3.0
    lr: float = 5e-4
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 0


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _save(path: Path, payload: Any) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


@dataclass(slots=True)
class Inputs:
    """Tokenised records: ids, sentence-segment lengths, page features, labels."""

    ids: list[list[int]]
    a_len: list[int]
    feats: np.ndarray
    labels: np.ndarray


def build_inputs(tokenizer: Any, records: Sequence[PromoRecord], max_length: int) -> Inputs:
    """Tokenise every record with its context, read from its rebuilt document."""
    from pipeline.nlp.promo_tuned import encode_pairs

    documents = documents_by_source(records)
    ids, a_len, feats = encode_pairs(
        tokenizer, [(r.text, documents[r.source]) for r in records], max_length
    )
    return Inputs(
        ids,
        a_len,
        np.asarray(feats, dtype=np.float32).reshape(len(records), len(CONTEXT_FEATURES)),
        np.asarray([r.label for r in records], dtype=np.float32),
    )


def lower_states(net: Any, inputs: Inputs, cache: Path, pad_id: int) -> list[Any]:
    """Hidden states entering the first tuned layer, one float32 tensor per record.

    Computed in length-sorted batches and saved to ``cache`` every few batches, so an
    interrupted run picks up where it stopped.
    """
    import torch

    from pipeline.nlp.promo_tuned import pad

    done: dict[int, Any] = {}
    if cache.exists():
        done = torch.load(cache, weights_only=False)
    todo = [i for i in range(len(inputs.ids)) if i not in done]
    if todo:
        log.info("caching lower layers for %d of %d inputs", len(todo), len(inputs.ids))
    started, saved = time.monotonic(), time.monotonic()
    net.eval()
    with torch.inference_mode():
        for idx in token_batches([len(inputs.ids[i]) for i in todo], 32):
            rows = [todo[k] for k in idx]
            ids, mask = pad([inputs.ids[i] for i in rows], pad_id)
            hidden = net.lower(ids, mask)
            for j, i in enumerate(rows):
                done[i] = hidden[j, : len(inputs.ids[i])].clone()
            if time.monotonic() - saved > 300:
                _save(cache, done)
                saved = time.monotonic()
                rate = (len(done) - (len(inputs.ids) - len(todo))) / (saved - started)
                log.info("cached %d/%d (%.2f inputs/s)", len(done), len(inputs.ids), rate)
    if todo:
        _save(cache, done)
    return [done[i] for i in range(len(inputs.ids))]


def _batch(states: list[Any], inputs: Inputs, rows: Sequence[int]) -> tuple[Any, ...]:
    import torch

    width = max(states[i].shape[0] for i in rows)
    hidden = torch.zeros(len(rows), width, states[rows[0]].shape[1])
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for j, i in enumerate(rows):
        hidden[j, : states[i].shape[0]] = states[i]
        mask[j, : states[i].shape[0]] = 1
    return (
        hidden,
        mask,
        torch.tensor([inputs.a_len[i] for i in rows]),
        torch.tensor(inputs.feats[list(rows)]),
    )


def predict_logits(net: Any, states: list[Any], inputs: Inputs, rows: Sequence[int]) -> np.ndarray:
    """Logits of the tuned layers and head for ``rows``, from cached states."""
    import torch

    out = np.zeros(len(rows), dtype=np.float32)
    net.eval()
    with torch.inference_mode():
        for idx in token_batches([states[rows[k]].shape[0] for k in range(len(rows))], 64):
            out[idx] = net.upper(*_batch(states, inputs, [rows[k] for k in idx])).numpy()
    return out


def fit(
    net: Any,
    initial: dict[str, Any],
    states: list[Any],
    inputs: Inputs,
    rows: Sequence[int],
    recipe: TunedRecipe,
    what: str,
) -> dict[str, Any]:
    """Train the tuned layers and head on ``rows`` from ``initial``; return their state.

    AdamW with warm-up and linear decay; binary cross-entropy weighted so both classes
    count alike (Platt scaling undoes the shift this gives the logits).
    """
    import torch

    net.load_state_dict(initial, strict=False)
    feats = inputs.feats[list(rows)]
    std = feats.std(axis=0)
    net.feature_mean.copy_(torch.tensor(feats.mean(axis=0)))
    # A feature constant on these rows would divide by zero.
    net.feature_std.copy_(torch.tensor(np.where(std < 1e-6, 1.0, std), dtype=torch.float32))
    params = [p for n, p in net.named_parameters() if "lora_" in n or n.startswith("head.")]
    for p in net.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    labels = inputs.labels[list(rows)]
    positives = float(labels.sum())
    loss_fn = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor((len(labels) - positives) / max(positives, 1.0))
    )
    per_epoch = math.ceil(len(rows) / recipe.batch_size)
    planned = max(1, math.ceil(per_epoch * recipe.epochs))
    rng = random.Random(recipe.seed)
    torch.manual_seed(recipe.seed)
    step, started = 0, time.monotonic()
    net.train()
    while step < planned:
        order = list(rows)
        rng.shuffle(order)
        # Similar lengths together within chunks: less padding, batches still random.
        size = recipe.batch_size
        batches = []
        for lo in range(0, len(order), size * 20):
            chunk = sorted(order[lo : lo + size * 20], key=lambda i: states[i].shape[0])
            batches += [chunk[j : j + size] for j in range(0, len(chunk), size)]
        rng.shuffle(batches)
        for batch in batches:
            done = step / planned
            warm = recipe.warmup_ratio
            factor = done / warm if done < warm else max(0.0, (1 - done) / (1 - warm))
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * factor
            logits = net.upper(*_batch(states, inputs, batch))
            loss = loss_fn(logits, torch.tensor(inputs.labels[batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % 50 == 0:
                log.info("%s step %d/%d loss %.4f (%.1f s/step)", what, step, planned,
                         loss.item(), (time.monotonic() - started) / step)  # fmt: skip
            if step >= planned:
                break
    net.eval()
    state: dict[str, Any] = net.trainable_state()
    return state


def _fold(source: str, folds: int) -> int:
    # Whole documents go to one fold, so no page is scored by a model that saw its other
    # sentences (as in the train/val split).
    return int(hashlib.sha256(source.encode("utf-8")).hexdigest(), 16) % max(folds, 1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    return out


def train_tuned(
    data_file: Path,
    out_dir: Path,
    recipe: TunedRecipe,
    *,
    cache_dir: Path,
    threads: int = 2,
    folds: int = CV_FOLDS,
) -> dict[str, Any]:
    """Cross-fit, calibrate, train on all of train and write the model directory.

    Args:
        data_file: ``data/promo/promo.jsonl`` or another file in its format.
        out_dir: Model directory to write (``promo.json``, ``adapter.safetensors``,
            ``metrics.json``).
        recipe: Hyper-parameters.
        cache_dir: Lower-layer states and per-fold checkpoints.
        threads: torch CPU threads.
        folds: Cross-fitting folds (documents are never split between folds); 0 skips
            cross-fitting and calibrates on val instead (for quick trials only).

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        ConfigError: The data lack a class in train.
        ModelLoadError: The base encoder cannot be loaded.
    """
    import torch

    from pipeline.nlp.promo_tuned import build_net

    torch.set_num_threads(threads)
    torch.manual_seed(recipe.seed)
    records = read_records(data_file)
    train = [i for i, r in enumerate(records) if r.split == "train"]
    val = [i for i, r in enumerate(records) if r.split == "val"]
    if len({records[i].label for i in train}) < 2:
        raise ConfigError(f"{data_file}: the train split needs both labels to train on")
    tokenizer, net = build_net(recipe.base_model, asdict(recipe))
    initial = {k: v.clone() for k, v in net.trainable_state().items()}
    inputs = build_inputs(tokenizer, records, recipe.max_length)
    key = _hash(recipe.base_model, recipe.tuned_layers, recipe.max_length, inputs.ids)
    states = lower_states(net, inputs, cache_dir / f"lower-{key}.pt", int(tokenizer.pad_token_id))
    run_key = _hash(key, asdict(recipe), inputs.labels.tolist(), inputs.feats.tolist(), folds)
    labels = inputs.labels.astype(int)

    cv_logits = np.zeros(len(records), dtype=np.float32)
    fold_of = np.array([_fold(records[i].source, folds) for i in range(len(records))])
    for k in range(folds):
        path = cache_dir / f"fold-{run_key}-{k}.pt"
        held = [i for i in train if fold_of[i] == k]
        if path.exists():
            cv_logits[held] = torch.load(path, weights_only=False)["logits"]
            continue
        fit_on = [i for i in train if fold_of[i] != k]
        fit(net, initial, states, inputs, fit_on, recipe, f"fold {k + 1}/{folds}")
        cv_logits[held] = predict_logits(net, states, inputs, held)
        _save(path, {"logits": cv_logits[held]})
    final_path = cache_dir / f"final-{run_key}.pt"
    if final_path.exists():
        net.load_state_dict(torch.load(final_path, weights_only=False), strict=False)
    else:
        _save(final_path, fit(net, initial, states, inputs, train, recipe, "all of train"))
    state = net.trainable_state()

    if folds:
        fitted_on = "train, cross-fitted by document"
        calib = train
        temperature, shift = fit_platt(cv_logits[calib], labels[calib], with_bias=True)
        cv_probs = _sigmoid(cv_logits[train] / temperature + shift).tolist()
        possible = possible_threshold(cv_probs, labels[train].tolist())
    else:
        fitted_on = "val (quick trial: val figures are not independent)"
        val_logits = predict_logits(net, states, inputs, val)
        temperature, shift = fit_platt(val_logits, labels[val], with_bias=True)
        cv_probs, possible = None, LABEL_THRESHOLD / 2
    all_logits = np.zeros(len(records), dtype=np.float32)
    all_logits[train + val] = predict_logits(net, states, inputs, train + val)
    probs = _sigmoid(all_logits / temperature + shift)
    metrics: dict[str, Any] = {
        "recipe": asdict(recipe),
        "n_train": len(train),
        "n_val": len(val),
        "calibration_fitted_on": fitted_on,
        "temperature": temperature,
        "calibration_bias": shift,
        "threshold": LABEL_THRESHOLD,
        "possible_threshold": possible,
        "train": score_probabilities(probs[train].tolist(), labels[train].tolist(), 0.5),
        "train_cv": (
            score_probabilities(cv_probs, labels[train].tolist(), LABEL_THRESHOLD)
            if cv_probs is not None
            else None
        ),
        "val": score_probabilities(probs[val].tolist(), labels[val].tolist(), LABEL_THRESHOLD),
    }
    meta = {
        "format_version": FORMAT_VERSION,
        "kind": TUNED_KIND,
        "base_model": recipe.base_model,
        "recipe": asdict(recipe),
        "feature_names": list(CONTEXT_FEATURES),
        "max_length": recipe.max_length,
        "temperature": temperature,
        "calibration_bias": shift,
        "threshold": LABEL_THRESHOLD,
        "possible_threshold": possible,
        "data_file": str(data_file),
        "n_train": len(train),
        "n_val": len(val),
        "calibration_fitted_on": fitted_on,
    }
    write_model(out_dir, state, meta, metrics)
    return metrics


def write_model(
    out_dir: Path, state: dict[str, Any], meta: dict[str, Any], metrics: dict[str, Any]
) -> None:
    """Write ``adapter.safetensors`` (float16), ``promo.json`` and ``metrics.json``.

    Written beside ``out_dir`` and swapped in with renames, so a failed write never
    leaves a half model where the pipeline looks for one.
    """
    import shutil

    from safetensors.torch import save_file

    from pipeline.nlp.promo_tuned import ADAPTER_FILE

    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # float16 halves the file; LoRA deltas and head weights sit well inside its range.
    save_file({k: v.half().contiguous() for k, v in state.items()}, str(tmp / ADAPTER_FILE))
    (tmp / "promo.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if out_dir.exists():
        # The card is written by hand; a MiniLM head's files must not linger beside ours.
        if (out_dir / "MODEL_CARD.md").is_file():
            shutil.copy2(out_dir / "MODEL_CARD.md", tmp / "MODEL_CARD.md")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def recipe_from(**overrides: Any) -> TunedRecipe:
    """A recipe with some fields changed; unknown names are refused.

    Raises:
        ConfigError: Unknown field or a value out of range.
    """
    known = {f.name for f in dataclasses.fields(TunedRecipe)}
    bad = sorted(set(overrides) - known)
    if bad:
        raise ConfigError(f"unknown recipe setting {bad[0]!r}")
    recipe = dataclasses.replace(
        TunedRecipe(), **{k: v for k, v in overrides.items() if v is not None}
    )
    if recipe.tuned_layers < 1 or recipe.epochs <= 0 or recipe.lr <= 0 or recipe.lora_r < 1:
        raise ConfigError("tuned layers, epochs, lr and LoRA rank must be positive")
    return recipe
