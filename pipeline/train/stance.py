"""Train the stance adapter: LoRA on a BERT-style encoder, NLI-style (evidence, claim) pairs.

Reads the training sets from ``data_dir`` and the base encoder from disk (or the hub
cache, if the caller names a hub id), writes resumable checkpoints to
``checkpoint_dir`` and, at the end, the adapter directory to ``out_dir`` in one
rename, so a half-written adapter never replaces a good one. Logs progress through
the ``logging`` module (the CLI sends it to stderr).

The adapter directory holds what :func:`pipeline.nlp.stance.load_stance_classifier`
reads: peft's ``adapter_config.json`` and ``adapter_model.safetensors`` (LoRA
matrices, the classification head, and the LayerNorm and bias values when those are
trained), ``stance.json`` (base model, labels, temperature, max length) and
``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, ModelLoadError
from pipeline.nlp.hf import EMBEDDED_BASE_NAME, resolve_model
from pipeline.nlp.metrics import STANCE_ORDER, fit_temperature, stance_metrics
from pipeline.train.data import (
    SOURCES,
    StancePair,
    class_weights,
    describe,
    training_splits,
)

log = logging.getLogger(__name__)

ADAPTER_FORMAT = "claimscan-stance-adapter"
"""``format`` value in ``stance.json``; the loader refuses other values."""
ADAPTER_VERSION = 1
META_FILE = "stance.json"
CARD_FILE = "MODEL_CARD.md"
LABELS = tuple(s.value for s in STANCE_ORDER)
"""Label names by class index in the trained head: supports, refutes, neutral."""
LORA_TARGETS = ("query", "key", "value", "dense")
"""Linear layers given LoRA matrices, inside the encoder's transformer layers only."""
LORA_TARGET_PATTERN = r".*\.layer\.\d+\..*\.(query|key|value|dense)"
"""peft ``target_modules`` regex for :data:`LORA_TARGETS` that leaves BERT's pooler out.

The pooler is also a ``dense`` layer. With LoRA (or its bias) trainable at LoRA
learning rates, the first run drove its pre-activations to about 0.01 for every input
within 200 steps: the logits became constant and the loss sat at ln 3. Frozen, it
keeps its pretrained mapping and the same recipe learns (loss 0.87 after 120 steps)."""
DEFAULT_LORA_LR = 1e-3
DEFAULT_FULL_LR = 3e-5
INPUT_ORDER = "evidence,claim"
"""Segment order: evidence is the premise (first segment), the claim the hypothesis."""


@dataclass(frozen=True, slots=True)
class Recipe:
    """Everything that decides the trained weights; a checkpoint resumes only the same recipe."""

    base_model: str
    epochs: float
    lr: float
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    batch_size: int
    max_length: int
    seed: int
    full_finetune: bool
    train_norms: bool
    neutral_ratio: float
    warmup_ratio: float
    weight_decay: float
    sources: tuple[str, ...]
    max_pairs: int | None
    direction_flips: bool = False


def _epoch_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int
) -> list[list[int]]:
    """Shuffle, then group similar lengths into batches (less padding), in shuffled order.

    Deterministic in (seed, epoch), so a resumed run sees the same batches.
    """
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    # Sorting only within chunks keeps batches random across the epoch.
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for lo in range(0, len(order), chunk):
        block = sorted(order[lo : lo + chunk], key=lambda i: lengths[i])
        batches.extend(block[j : j + batch_size] for j in range(0, len(block), batch_size))
    rng.shuffle(batches)
    return batches


def _collate(
    encoded: dict[str, list[list[int]]], idx: Sequence[int], pad_id: int
) -> dict[str, Any]:
    import torch

    width = max(len(encoded["input_ids"][i]) for i in idx)
    batch: dict[str, Any] = {}
    for key, pad in (("input_ids", pad_id), ("token_type_ids", 0), ("attention_mask", 0)):
        if key not in encoded:
            continue
        rows = [encoded[key][i] + [pad] * (width - len(encoded[key][i])) for i in idx]
        batch[key] = torch.tensor(rows, dtype=torch.long)
    return batch


def _build_model(recipe: Recipe, where: str) -> tuple[Any, Any]:
    """Return (tokenizer, model) ready to train: peft-wrapped unless full fine-tuning."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from pipeline.nlp.hf import quiet_transformers

    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(where)
            model = AutoModelForSequenceClassification.from_pretrained(
                where,
                num_labels=len(LABELS),
                id2label=dict(enumerate(LABELS)),
                label2id={name: i for i, name in enumerate(LABELS)},
            )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load base model {recipe.base_model!r} from {where!r}: {exc}; "
            "pass --base-model a local directory or a cached hub id"
        ) from exc
    if recipe.full_finetune:
        return tokenizer, model
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=recipe.lora_r,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=LORA_TARGET_PATTERN,
        # Off by default: with the pooler, trained LayerNorms and biases are a route to
        # the constant-output collapse described at LORA_TARGET_PATTERN.
        bias="all" if recipe.train_norms else "none",
        modules_to_save=["classifier", "LayerNorm"] if recipe.train_norms else ["classifier"],
    )
    with quiet_transformers():
        return tokenizer, get_peft_model(model, config)


def _trainable_state(model: Any) -> dict[str, Any]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _predict_logits(
    model: Any, encoded: dict[str, list[list[int]]], pad_id: int, batch_size: int
) -> list[list[float]]:
    import torch

    n = len(encoded["input_ids"])
    order = sorted(range(n), key=lambda i: len(encoded["input_ids"][i]))
    out: list[list[float]] = [[] for _ in range(n)]
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            logits = model(**_collate(encoded, idx, pad_id)).logits.float()
            for i, row in zip(idx, logits.tolist(), strict=True):
                out[i] = row
    model.train(was_training)
    return out


def _softmax(row: Sequence[float], temperature: float) -> tuple[float, float, float]:
    scaled = [v / temperature for v in row]
    top = max(scaled)
    exps = [math.exp(v - top) for v in scaled]
    total = sum(exps)
    return (exps[0] / total, exps[1] / total, exps[2] / total)


def _encode(tokenizer: Any, pairs: Sequence[StancePair], max_length: int) -> dict[str, Any]:
    # Evidence first, claim second, as NLI premise and hypothesis; the classifier
    # must feed segments in this same order (INPUT_ORDER).
    return dict(
        tokenizer(
            [p.evidence for p in pairs],
            [p.claim for p in pairs],
            truncation="longest_first",
            max_length=max_length,
        )
    )


def _write_atomically(out_dir: Path, fill: Any) -> None:
    """Build the output in a sibling temp dir, then swap it in with renames."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        fill(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _model_card(
    recipe: Recipe,
    result: dict[str, Any],
    train_counts: dict[str, dict[str, int]],
    val_counts: dict[str, dict[str, int]],
    command: str | None,
) -> str:
    def counts_table(counts: dict[str, dict[str, int]]) -> str:
        rows = ["| source | supports | refutes | neutral |", "| --- | ---: | ---: | ---: |"]
        for source, row in counts.items():
            rows.append(f"| {source} | {row['supports']} | {row['refutes']} | {row['neutral']} |")
        return "\n".join(rows)

    val = result["val_metrics"]
    per_class = "\n".join(
        f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
        for name, m in val["per_class"].items()
    )
    if recipe.full_finetune:
        kind = "every weight fine-tuned"
    else:
        extra = ", LayerNorm weights and biases" if recipe.train_norms else ""
        kind = (
            f"LoRA r={recipe.lora_r} on the {', '.join(LORA_TARGETS)} layers of every "
            f"transformer layer; classification head{extra} trained in full; pooler frozen"
        )
    return f"""# claimscan stance model

Three-way stance classifier for (claim, evidence sentence) pairs: **supports**,
**refutes**, **neutral**. Input is NLI-style: the evidence is the first segment
(premise), the claim the second (hypothesis). Probabilities are calibrated with a
temperature (T = {result["temperature"]:.3f}) fitted on the validation split.

- Base encoder: `{recipe.base_model}` ({kind})
- Artifact size: {result["artifact_bytes"] / 1e6:.2f} MB

## Training data

Pairs built by `pipeline/train/data.py` from the training splits of SciFact (CC BY 4.0 /
ODC-By), HealthVer in MultiVerS format (no licence stated; research use with citation),
Check-COVID (MIT) and COVID-Fact (no licence stated). Rationale sentences give
supports/refutes pairs; other sentences of the cited abstracts and NEI evidence give
neutral pairs, sampled down to {recipe.neutral_ratio:g}× the labelled pairs. HealthFC
(CC BY-NC-ND) is **not** used for training. Claims of `healthver_dev.csv` are excluded.
Validation is every claim whose normalised text hashes to 0 mod 10, so no claim is in
both splits.

Train pairs:

{counts_table(train_counts)}

Validation pairs:

{counts_table(val_counts)}

## Recipe

- Command: `{command or "(Python API)"}`
- Seed {recipe.seed}; up to {recipe.epochs:g} epochs ({result["planned_steps"]} steps);
  {result["steps"]} steps run ({result["epochs_run"]:.2f} epochs){
        ", learning-rate decay fitted to the time limit" if result["time_limited"] else ""
    }{
        ""
        if result["last_step_selected"]
        else f"; weights from step {result['selected_step']}, the best validation macro-F1"
    }
- AdamW, lr {recipe.lr:g}, weight decay {recipe.weight_decay:g}, linear warmup
  {recipe.warmup_ratio:.0%} then linear decay; batch {recipe.batch_size}; max length
  {recipe.max_length} tokens; LoRA alpha {recipe.lora_alpha}, dropout {recipe.lora_dropout:g}
- Class-weighted cross-entropy (inverse frequency)
- Training time {result["train_seconds"] / 60:.1f} min on CPU, {result["threads"]} torch
  threads ({result["pairs_per_second"]:.1f} pairs/s)

## Validation metrics (temperature-scaled)

n = {val["n"]}; accuracy {val["accuracy"]:.3f}; macro-F1 {val["macro_f1"]:.3f};
supports-vs-refutes macro-F1 {val["support_refute_macro_f1"]:.3f}
(n = {val["support_refute_n"]}); ECE {val["ece"]:.3f}
(before scaling {result["val_ece_uncalibrated"]:.3f}).

| label | precision | recall | F1 | support |
| --- | ---: | ---: | ---: | ---: |
{per_class}

## Limitations

Trained on COVID-19 and biomedical-abstract claims; consumer-health phrasing,
non-English text and claims needing numbers or several sentences of context are out of
domain. COVID-Fact refutations are mostly machine-made word swaps, which reward surface
contrast. Neutral here means "this sentence does not decide the claim", not "the
science is contested".
"""


def train_stance(
    data_dir: Path,
    out_dir: Path,
    *,
    base_model: str | None = None,
    epochs: float = 4,
    lr: float | None = None,
    lora_r: int = 16,
    lora_alpha: int | None = None,
    lora_dropout: float = 0.05,
    batch_size: int = 32,
    max_length: int = 128,
    seed: int = 13,
    max_minutes: float | None = None,
    full_finetune: bool = False,
    train_norms: bool = False,
    neutral_ratio: float = 0.5,
    warmup_ratio: float = 0.06,
    weight_decay: float = 0.01,
    sources: Sequence[str] = SOURCES,
    max_pairs: int | None = None,
    direction_flips: bool = False,
    checkpoint_dir: Path | None = None,
    checkpoint_every: int = 100,
    eval_every: int | None = None,
    resume: bool = True,
    threads: int = 2,
    command: str | None = None,
) -> dict[str, Any]:
    """Train the stance classifier and write its adapter directory.

    Args:
        data_dir: A folder laid out like ``shared/data``.
        out_dir: Where the adapter directory goes; replaced in one rename at the end.
        base_model: Hub id or local path of the encoder; None is the embedded MiniLM.
        epochs: Passes over the training pairs (fractions allowed); with
            ``max_minutes`` this is an upper bound.
        lr: Peak learning rate; None means 1e-3 for LoRA and 3e-5 for full
            fine-tuning. LoRA at full fine-tuning rates stays at the majority class
            (macro-F1 0.42 on supports-vs-refutes in our first attempt).
        lora_r: LoRA rank.
        lora_alpha: LoRA scaling numerator; None means ``2 * lora_r``.
        lora_dropout: Dropout on the LoRA branch.
        batch_size: Pairs per step.
        max_length: Tokens per (evidence, claim) pair; longer pairs are truncated.
        seed: Seed for sampling, batching and initialisation.
        max_minutes: Training time limit. The learning-rate decay follows whichever
            of steps and time runs out first, so a time-limited run still ends at a
            low rate; the final validation pass and writing come on top.
        full_finetune: Train every weight instead of LoRA (a ~90 MB artifact).
        train_norms: Also train LayerNorm weights and all biases (LoRA only). Off by
            default: at LoRA learning rates it invites the collapse to constant
            output seen in our first run.
        neutral_ratio: Neutral pairs kept, as a fraction of supports + refutes.
        warmup_ratio: Fraction of steps spent warming the learning rate up.
        weight_decay: AdamW weight decay.
        sources: Training sets to read (see ``pipeline.train.data.SOURCES``).
        max_pairs: Cap on training pairs, for quick probes.
        direction_flips: Add counterfactual refutations of supported training claims
            (``pipeline.train.data.direction_flips``).
        checkpoint_dir: Where ``last.pt`` is kept; None means ``<out_dir>-ckpt``
            beside ``out_dir``.
        checkpoint_every: Steps between checkpoints (one is also written per epoch).
        eval_every: Steps between validation log lines, besides one per epoch.
        resume: Continue from ``checkpoint_dir/last.pt`` when its recipe matches.
        threads: torch CPU threads.
        command: The command line, recorded in the model card.

    Returns:
        A summary: steps, timings, temperature, validation metrics, artifact size.

    Raises:
        ConfigError: Bad arguments, missing data, or a checkpoint from another recipe.
        ModelLoadError: The base model cannot be loaded.
    """
    import torch

    if lr is None:
        lr = DEFAULT_FULL_LR if full_finetune else DEFAULT_LORA_LR
    if epochs <= 0 or batch_size < 1 or lr <= 0 or not 0 <= warmup_ratio < 1:
        raise ConfigError(
            "epochs and lr must be positive, batch size at least 1, warmup ratio in [0, 1)"
        )
    torch.set_num_threads(threads)
    recipe = Recipe(
        base_model=base_model or EMBEDDED_BASE_NAME,
        epochs=epochs,
        lr=lr,
        lora_r=lora_r,
        lora_alpha=lora_alpha if lora_alpha is not None else 2 * lora_r,
        lora_dropout=lora_dropout,
        batch_size=batch_size,
        max_length=max_length,
        seed=seed,
        full_finetune=full_finetune,
        train_norms=train_norms,
        neutral_ratio=neutral_ratio,
        warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        sources=tuple(sources),
        max_pairs=max_pairs,
        direction_flips=direction_flips,
    )
    checkpoint_dir = checkpoint_dir or out_dir.with_name(out_dir.name + "-ckpt")
    ckpt_path = checkpoint_dir / "last.pt"

    train_pairs, val_pairs = training_splits(
        data_dir,
        sources=sources,
        neutral_ratio=neutral_ratio,
        seed=seed,
        max_pairs=max_pairs,
        flips=direction_flips,
    )
    if not train_pairs:
        raise ConfigError(f"no training pairs found under {str(data_dir)!r}")
    log.info("train pairs %s", describe(train_pairs))
    log.info("validation pairs %s", describe(val_pairs))

    random.seed(seed)
    torch.manual_seed(seed)
    tokenizer, model = _build_model(recipe, resolve_model(base_model))
    pad_id = tokenizer.pad_token_id or 0
    train_enc = _encode(tokenizer, train_pairs, max_length)
    val_enc = _encode(tokenizer, val_pairs, max_length)
    train_y = torch.tensor([STANCE_ORDER.index(p.label) for p in train_pairs])
    val_y = [STANCE_ORDER.index(p.label) for p in val_pairs]
    weights = class_weights(train_pairs)
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor([weights[s] for s in STANCE_ORDER], dtype=torch.float)
    )
    lengths = [len(ids) for ids in train_enc["input_ids"]]
    steps_per_epoch = math.ceil(len(train_pairs) / batch_size)
    planned = max(1, math.ceil(steps_per_epoch * epochs))
    budget = max_minutes * 60 if max_minutes is not None else math.inf

    params = [p for p in model.parameters() if p.requires_grad]
    log.info(
        "trainable parameters %d of %d; up to %d steps (%d per epoch), %s",
        sum(p.numel() for p in params),
        sum(p.numel() for p in model.parameters()),
        planned,
        steps_per_epoch,
        f"time limit {max_minutes:g} min" if max_minutes is not None else "no time limit",
    )
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)

    step = 0
    prior_seconds = 0.0
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False)
        if state["recipe"] != asdict(recipe) or state.get("max_minutes") != max_minutes:
            raise ConfigError(
                f"checkpoint {str(ckpt_path)!r} was made with another recipe; "
                "delete it or pass --no-resume to start over"
            )
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        if set(state["trainable"]) != trainable:
            raise ConfigError(
                f"checkpoint {str(ckpt_path)!r} does not match the model; delete it or "
                "pass --no-resume"
            )
        model.load_state_dict(state["trainable"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        step, prior_seconds = state["step"], state["seconds"]
        torch.manual_seed(seed + step)
        log.info("resumed from %s at step %d", ckpt_path, step)

    started = time.monotonic()

    def spent() -> float:
        return prior_seconds + (time.monotonic() - started)

    def checkpoint() -> None:
        _save_checkpoint(
            ckpt_path,
            {
                "recipe": asdict(recipe),
                "max_minutes": max_minutes,
                "trainable": _trainable_state(model),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "seconds": spent(),
            },
        )

    best_path = checkpoint_dir / "best.pt"
    best: dict[str, Any] = {"macro_f1": -1.0, "step": -1}
    if resume and step and best_path.exists():
        saved = torch.load(best_path, weights_only=False)
        if saved["recipe"] == asdict(recipe):
            best = {"macro_f1": saved["macro_f1"], "step": saved["step"]}

    def validate(when: str) -> list[list[float]]:
        """Log validation metrics; keep the weights aside when they are the best so far."""
        logits = _predict_logits(model, val_enc, pad_id, 64)
        m = stance_metrics([p.label for p in val_pairs], [_softmax(r, 1.0) for r in logits])
        log.info(
            "%s: val accuracy %.3f macro-F1 %.3f supports-vs-refutes F1 %.3f",
            when,
            m["accuracy"],
            m["macro_f1"],
            m["support_refute_macro_f1"],
        )
        # Ties go to the later weights.
        if m["macro_f1"] >= best["macro_f1"]:
            best.update(macro_f1=m["macro_f1"], step=step)
            _save_checkpoint(
                best_path,
                {
                    "recipe": asdict(recipe),
                    "trainable": _trainable_state(model),
                    "step": step,
                    "macro_f1": m["macro_f1"],
                },
            )
        return logits

    # Warmup then linear decay over "progress": the larger of the share of steps done
    # and the share of the time budget spent. With a time limit that binds, the decay
    # is fitted to the time available instead of being cut off at a high rate.
    def progress(next_step: int) -> float:
        return max(next_step / planned, spent() / budget)

    def lr_factor(done: float) -> float:
        if done < warmup_ratio:
            return done / warmup_ratio
        return max(0.0, (1.0 - done) / (1.0 - warmup_ratio))

    time_limited = False
    seen = 0
    window_loss, window_n = 0.0, 0
    model.train()
    while step < planned and not time_limited:
        epoch, offset = divmod(step, steps_per_epoch)
        for idx in _epoch_batches(lengths, batch_size, seed, epoch)[offset:]:
            done = progress(step + 1)
            if done > 1.0:
                time_limited = True
                break
            for group in optimizer.param_groups:
                group["lr"] = lr * lr_factor(done)
            loss = loss_fn(model(**_collate(train_enc, idx, pad_id)).logits, train_y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(idx)
            window_loss += loss.item() * len(idx)
            window_n += len(idx)
            if step % 20 == 0:
                log.info(
                    "step %d/%d epoch %.2f loss %.4f lr %.2e progress %.1f%% %.1f pairs/s",
                    step,
                    planned,
                    step / steps_per_epoch,
                    window_loss / window_n,
                    optimizer.param_groups[0]["lr"],
                    100 * done,
                    seen / (time.monotonic() - started),
                )
                window_loss, window_n = 0.0, 0
            if step % checkpoint_every == 0:
                checkpoint()
            if eval_every and step % eval_every == 0:
                validate(f"step {step}")
            if step >= planned:
                break
        else:
            checkpoint()
            validate(f"epoch {epoch + 1} done")
    if time_limited:
        log.info("time limit of %g min reached at step %d/%d", max_minutes, step, planned)
    checkpoint()
    train_seconds = spent()

    val_logits = validate(f"final, step {step}")
    last_selected = best["step"] == step
    if not last_selected:
        # A LoRA run at a high learning rate can collapse to constant output late
        # (our lr 1e-3 run did after 150 steps); ship the best weights seen instead.
        log.warning(
            "restoring step %d (val macro-F1 %.3f), better than the last step",
            best["step"],
            best["macro_f1"],
        )
        model.load_state_dict(torch.load(best_path, weights_only=False)["trainable"], strict=False)
        val_logits = _predict_logits(model, val_enc, pad_id, 64)
    temperature = fit_temperature(val_logits, val_y)
    gold = [p.label for p in val_pairs]
    raw = stance_metrics(gold, [_softmax(r, 1.0) for r in val_logits])
    metrics = stance_metrics(gold, [_softmax(r, temperature) for r in val_logits])
    result: dict[str, Any] = {
        "steps": step,
        "planned_steps": planned,
        "epochs_run": step / steps_per_epoch,
        "time_limited": time_limited,
        "selected_step": best["step"],
        "last_step_selected": last_selected,
        "train_seconds": train_seconds,
        "pairs_per_second": seen / max(1e-9, time.monotonic() - started) if seen else 0.0,
        "threads": threads,
        "temperature": temperature,
        "val_metrics": metrics,
        "val_ece_uncalibrated": raw["ece"],
        "train_pairs": len(train_pairs),
        "val_pairs": len(val_pairs),
    }
    meta = {
        "format": ADAPTER_FORMAT,
        "version": ADAPTER_VERSION,
        "base_model": recipe.base_model,
        "labels": list(LABELS),
        "temperature": temperature,
        "max_length": max_length,
        "input_order": INPUT_ORDER,
        "full_finetune": full_finetune,
        "recipe": asdict(recipe),
    }

    def fill(tmp: Path) -> None:
        if full_finetune:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        else:
            # The embeddings are frozen, so peft need not look the base up (on the hub,
            # for a hub id) to decide whether to save them.
            model.save_pretrained(tmp, save_embedding_layers=False)
            # Record the configured name, not this machine's resolved path, so the
            # adapter loads wherever the base resolves.
            config_path = tmp / "adapter_config.json"
            adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
            adapter_config["base_model_name_or_path"] = recipe.base_model
            config_path.write_text(json.dumps(adapter_config, indent=2) + "\n", encoding="utf-8")
            # peft drops a boilerplate hub README beside the weights; MODEL_CARD.md is ours.
            (tmp / "README.md").unlink(missing_ok=True)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        result["artifact_bytes"] = sum(f.stat().st_size for f in tmp.iterdir())
        card = _model_card(recipe, result, describe(train_pairs), describe(val_pairs), command)
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")

    _write_atomically(out_dir, fill)
    log.info(
        "wrote %s (%.2f MB): val macro-F1 %.3f, T=%.3f",
        out_dir,
        result["artifact_bytes"] / 1e6,
        metrics["macro_f1"],
        temperature,
    )
    return result
