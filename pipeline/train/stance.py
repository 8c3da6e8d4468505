"""Train the stance adapter in stages: LoRA on a BERT-style encoder, NLI-style pairs.

The steps, each a function: :func:`build_model` (base encoder plus LoRA on every
linear layer of every transformer layer, or full fine-tuning), :func:`run_stage`
(one stage of a :class:`Recipe` over a split of a :class:`~pipeline.train.pack.StancePack`,
with resumable checkpoints and the best validation weights kept), and
:func:`write_adapter` (the directory :func:`pipeline.nlp.stance.load_stance_classifier`
reads, swapped in with one rename). :func:`train_stance` runs them in order.

Runs on a CPU or, with ``device="cuda"``, on a GPU in bf16 autocast; the same recipe
and seed give the same batches on either, and a checkpoint made on one resumes on
the other. Logs through the ``logging`` module (the CLI sends it to stderr).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from claims.types import Stance
from pipeline.errors import ConfigError
from pipeline.nlp.hf import (
    EMBEDDED_BASE_NAME,
    load_sequence_classifier,
    quiet_transformers,
    resolve_model,
)
from pipeline.nlp.metrics import STANCE_ORDER, fit_temperature, stance_metrics
from pipeline.train.card import stance_card
from pipeline.train.nli import NOT_SUPPORTS, TrainPair
from pipeline.train.pack import StancePack

log = logging.getLogger(__name__)

ADAPTER_FORMAT = "claimscan-stance-adapter"
"""``format`` value in ``stance.json``; the loader refuses other values."""
ADAPTER_VERSION = 2
META_FILE = "stance.json"
CARD_FILE = "MODEL_CARD.md"
LABELS = tuple(s.value for s in STANCE_ORDER)
"""Label names by class index in the trained head: supports, refutes, neutral."""
LORA_TARGET_PATTERN = r".*\.layer\.\d+\..*\.(query|key|value|dense|q|k|v|o)"
"""peft ``target_modules``: every linear layer inside the transformer layers.

Names cover BERT (query/key/value/dense) and MPNet (q/k/v/o, dense). The ``.layer.N.``
anchor leaves BERT's pooler out: also a ``dense`` layer, with LoRA at LoRA learning
rates it drove the first MiniLM run to constant logits within 200 steps."""
DEFAULT_LORA_LR = 5e-4
DEFAULT_FULL_LR = 3e-5
INPUT_ORDER = "evidence,claim"
"""Segment order: evidence is the premise (first segment), the claim the hypothesis."""
SOURCES = (
    "scifact",
    "healthver",
    "checkcovid",
    "covidfact",
    "fever",
    "climate",
    "nli4ct",
    "curriculum",
)
"""Dataset sources a recipe can keep (the part of a pair's source before any ``-``)."""
STAGES = {
    "intermediate": ("intermediate",),
    "in-domain": ("in-domain",),
    "distill": ("distill",),
}
"""Stage name → pack splits it trains on (``--direction-flips`` adds ``flips``). The
``distill`` stage learns a teacher's probabilities on unlabelled retrieval-path pairs
(``--teacher``): how the fast model inherits what the larger one reads."""


@dataclass(frozen=True, slots=True)
class StageRecipe:
    name: str
    epochs: float
    lr: float


@dataclass(frozen=True, slots=True)
class Recipe:
    """Everything that decides the trained weights; a checkpoint resumes only the same recipe."""

    base_model: str
    stages: tuple[StageRecipe, ...]
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    batch_size: int
    max_length: int
    passage_max_length: int
    seed: int
    full_finetune: bool
    warmup_ratio: float
    weight_decay: float
    sources: tuple[str, ...] | None
    """Pack sources to keep (prefix match); None keeps every source."""
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
    encoded: dict[str, list[list[int]]], idx: Sequence[int], pad_id: int, device: str
) -> dict[str, Any]:
    import torch

    width = max(len(encoded["input_ids"][i]) for i in idx)
    batch: dict[str, Any] = {}
    for key, pad in (("input_ids", pad_id), ("token_type_ids", 0), ("attention_mask", 0)):
        if key not in encoded:
            continue
        rows = [encoded[key][i] + [pad] * (width - len(encoded[key][i])) for i in idx]
        batch[key] = torch.tensor(rows, dtype=torch.long, device=device)
    return batch


def build_model(recipe: Recipe, where: str) -> tuple[Any, Any]:
    """Return (tokenizer, model) ready to train: peft-wrapped unless full fine-tuning."""
    tokenizer, model = load_sequence_classifier(
        where,
        LABELS,
        hint="pass --base-model a local directory or a cached hub id",
    )
    if recipe.full_finetune:
        return tokenizer, model
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=recipe.lora_r,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=LORA_TARGET_PATTERN,
        bias="none",
        modules_to_save=["classifier"],
    )
    with quiet_transformers():
        return tokenizer, get_peft_model(model, config)


def encode(
    tokenizer: Any, pairs: Sequence[TrainPair], max_length: int, passage_max_length: int
) -> dict[str, list[list[int]]]:
    """Tokenise pairs evidence first, claim second (:data:`INPUT_ORDER`), unpadded.

    Passages get the longer limit; within it, truncation takes from the longer side
    first, so the claim is read whole unless it is longer than its evidence.
    """
    out: dict[str, list[list[int]]] = {}
    for unit, limit in (("sentence", max_length), ("abstract", passage_max_length)):
        idx = [i for i, p in enumerate(pairs) if (p.unit == "abstract") == (unit == "abstract")]
        if not idx:
            continue
        enc = tokenizer(
            [pairs[i].evidence for i in idx],
            [pairs[i].claim for i in idx],
            truncation="longest_first",
            max_length=limit,
        )
        for key, rows in enc.items():
            column = out.setdefault(key, [[] for _ in pairs])
            for i, row in zip(idx, rows, strict=True):
                column[i] = list(row)
    return out


def _targets(pairs: Sequence[TrainPair]) -> list[int]:
    # -1 marks the partial label "not supports" (FEVER's not_entailment).
    return [-1 if p.label == NOT_SUPPORTS else LABELS.index(p.label) for p in pairs]


def _loss(logits: Any, targets: Any, weights: Any, soft: Any = None) -> Any:
    """Class-weighted cross-entropy; a partial label scores log(P(refutes) + P(neutral)).

    With ``soft`` (teacher probabilities, one row per example) it is the cross-entropy
    against those instead: the student matches the teacher's whole distribution.
    """
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1)
    if soft is not None:
        return -(soft * logp).sum(dim=-1).mean()
    full = targets >= 0
    losses = []
    if full.any():
        t = targets[full]
        losses.append(-(logp[full].gather(1, t[:, None]).squeeze(1)) * weights[t])
    if (~full).any():
        rest = torch.logsumexp(logp[~full][:, 1:], dim=-1)
        losses.append(-rest * weights[1:].mean())
    return torch.cat(losses).mean()


def predict_logits(
    model: Any, encoded: dict[str, list[list[int]]], pad_id: int, device: str, batch_size: int = 64
) -> list[list[float]]:
    """Raw logits per pair, in input order (shortest first in batches, for less padding)."""
    import torch

    n = len(encoded["input_ids"])
    order = sorted(range(n), key=lambda i: len(encoded["input_ids"][i]))
    out: list[list[float]] = [[] for _ in range(n)]
    was_training = model.training
    model.eval()
    with torch.inference_mode(), _autocast(device):
        for lo in range(0, n, batch_size):
            idx = order[lo : lo + batch_size]
            logits = model(**_collate(encoded, idx, pad_id, device)).logits.float().cpu()
            for i, row in zip(idx, logits.tolist(), strict=True):
                out[i] = row
    model.train(was_training)
    return out


def _autocast(device: str) -> Any:
    import contextlib

    import torch

    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def softmax(row: Sequence[float], temperature: float = 1.0) -> tuple[float, float, float]:
    scaled = [v / temperature for v in row]
    top = max(scaled)
    exps = [math.exp(v - top) for v in scaled]
    total = sum(exps)
    return (exps[0] / total, exps[1] / total, exps[2] / total)


def _trainable_state(model: Any) -> dict[str, Any]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def _save(path: Path, payload: dict[str, Any]) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _load_trainable(model: Any, state: dict[str, Any]) -> None:
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    if set(state) != trainable:
        raise ConfigError("checkpoint does not match the model; delete it or pass --no-resume")
    model.load_state_dict(state, strict=False)


@dataclass(slots=True)
class Trainer:
    """A model being trained and where its checkpoints go."""

    recipe: Recipe
    tokenizer: Any
    model: Any
    device: str
    checkpoint_dir: Path
    val_pairs: list[TrainPair]
    val_encoded: dict[str, list[list[int]]]

    @property
    def pad_id(self) -> int:
        return int(self.tokenizer.pad_token_id or 0)

    def validate(self) -> tuple[dict[str, Any], list[list[float]]]:
        logits = predict_logits(self.model, self.val_encoded, self.pad_id, self.device)
        gold = [Stance(p.label) for p in self.val_pairs]
        return stance_metrics(gold, [softmax(r) for r in logits]), logits


def run_stage(
    trainer: Trainer,
    stage: StageRecipe,
    pairs: Sequence[TrainPair],
    *,
    resume: bool = True,
    checkpoint_every: int = 200,
    max_minutes: float | None = None,
    soft: Sequence[Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Train one stage and leave the model at its best validation weights.

    ``soft`` gives teacher probabilities per pair (the ``distill`` stage).

    Checkpoints go to ``<checkpoint_dir>/<stage>-last.pt`` (resumable, same recipe
    only) and ``<stage>-best.pt``; a finished stage leaves ``<stage>-done.pt``, which
    a rerun loads instead of training again.
    """
    import torch

    recipe, model, device = trainer.recipe, trainer.model, trainer.device
    ckpt = trainer.checkpoint_dir
    done_path, last_path, best_path = (
        ckpt / f"{stage.name}-done.pt",
        ckpt / f"{stage.name}-last.pt",
        ckpt / f"{stage.name}-best.pt",
    )
    identity = {"recipe": asdict(recipe), "stage": asdict(stage)}
    if resume and done_path.exists():
        saved = torch.load(done_path, weights_only=False)
        if saved["identity"] == identity:
            _load_trainable(model, saved["trainable"])
            log.info("stage %s already trained; loaded %s", stage.name, done_path)
            return dict(saved["summary"])
    if not pairs:
        raise ConfigError(f"stage {stage.name!r} has no training pairs")

    encoded = encode(trainer.tokenizer, pairs, recipe.max_length, recipe.passage_max_length)
    targets = torch.tensor(_targets(pairs), device=device)
    soft_targets = (
        torch.tensor([list(row) for row in soft], dtype=torch.float, device=device)
        if soft is not None
        else None
    )
    counts = Counter(t for t in _targets(pairs) if t >= 0)
    present = [c for c in range(len(LABELS)) if counts[c]]
    weights = torch.tensor(
        [len(pairs) / (len(present) * counts[c]) if counts[c] else 0.0 for c in range(3)],
        device=device,
    )
    lengths = [len(ids) for ids in encoded["input_ids"]]
    steps_per_epoch = math.ceil(len(pairs) / recipe.batch_size)
    planned = max(1, math.ceil(steps_per_epoch * stage.epochs))
    budget = max_minutes * 60 if max_minutes is not None else math.inf
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=stage.lr, weight_decay=recipe.weight_decay)
    log.info(
        "stage %s: %d pairs, %d steps (%d per epoch), trainable %d of %d parameters",
        stage.name,
        len(pairs),
        planned,
        steps_per_epoch,
        sum(p.numel() for p in params),
        sum(p.numel() for p in model.parameters()),
    )

    step, prior = 0, 0.0
    best: dict[str, Any] = {"macro_f1": -1.0, "step": -1}
    if resume and last_path.exists():
        state = torch.load(last_path, weights_only=False)
        if state["identity"] != identity:
            raise ConfigError(
                f"checkpoint {str(last_path)!r} was made with another recipe; "
                "delete it or pass --no-resume to start over"
            )
        _load_trainable(model, state["trainable"])
        optimizer.load_state_dict(state["optimizer"])
        step, prior, best = state["step"], state["seconds"], state["best"]
        torch.manual_seed(recipe.seed + step)
        log.info("resumed stage %s at step %d", stage.name, step)
    started = time.monotonic()

    def spent() -> float:
        return prior + time.monotonic() - started

    def save_last() -> None:
        _save(
            last_path,
            {
                "identity": identity,
                "trainable": _trainable_state(model),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "seconds": spent(),
                "best": best,
            },
        )

    def validate(when: str) -> None:
        m, _ = trainer.validate()
        log.info(
            "%s %s: val accuracy %.3f macro-F1 %.3f supports-vs-refutes F1 %.3f",
            stage.name,
            when,
            m["accuracy"],
            m["macro_f1"],
            m["support_refute_macro_f1"],
        )
        # Ties go to the later weights.
        if m["macro_f1"] >= best["macro_f1"]:
            best.update(macro_f1=m["macro_f1"], step=step)
            _save(best_path, {"identity": identity, "trainable": _trainable_state(model)})

    def lr_factor(done: float) -> float:
        if done < recipe.warmup_ratio:
            return done / recipe.warmup_ratio
        return max(0.0, (1.0 - done) / (1.0 - recipe.warmup_ratio))

    time_limited = False
    seen, window_loss, window_n = 0, 0.0, 0
    validated_at = -1
    model.train()
    while step < planned and not time_limited:
        epoch, offset = divmod(step, steps_per_epoch)
        for idx in _epoch_batches(lengths, recipe.batch_size, recipe.seed, epoch)[offset:]:
            # The decay follows whichever of steps and time runs out first.
            done = max((step + 1) / planned, spent() / budget)
            if done > 1.0:
                time_limited = True
                break
            for group in optimizer.param_groups:
                group["lr"] = stage.lr * lr_factor(done)
            with _autocast(device):
                logits = model(**_collate(encoded, idx, trainer.pad_id, device)).logits
            loss = _loss(
                logits,
                targets[idx],
                weights,
                soft_targets[idx] if soft_targets is not None else None,
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(idx)
            window_loss += loss.item() * len(idx)
            window_n += len(idx)
            if step % 50 == 0:
                log.info(
                    "%s step %d/%d loss %.4f lr %.2e %.1f pairs/s",
                    stage.name,
                    step,
                    planned,
                    window_loss / window_n,
                    optimizer.param_groups[0]["lr"],
                    seen / (time.monotonic() - started),
                )
                window_loss, window_n = 0.0, 0
            if step % checkpoint_every == 0:
                save_last()
            if step >= planned:
                break
        save_last()
        validate(f"step {step} (epoch {step / steps_per_epoch:.2f})")
        validated_at = step
    if validated_at != step:
        validate(f"step {step}")
    save_last()
    if best["step"] != step:
        log.info(
            "stage %s: keeping step %d (val macro-F1 %.3f)",
            stage.name,
            best["step"],
            best["macro_f1"],
        )
        _load_trainable(model, torch.load(best_path, weights_only=False)["trainable"])
    summary = {
        "name": stage.name,
        "pairs": len(pairs),
        "epochs": stage.epochs,
        "lr": stage.lr,
        "steps": step,
        "planned_steps": planned,
        "time_limited": time_limited,
        "seconds": spent(),
        "best_step": best["step"],
        "best_macro_f1": best["macro_f1"],
        "counts": _counts(pairs),
    }
    _save(
        done_path, {"identity": identity, "trainable": _trainable_state(model), "summary": summary}
    )
    return summary


def _counts(pairs: Sequence[TrainPair]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for p in pairs:
        row = table.setdefault(p.source, {})
        row[p.label] = row.get(p.label, 0) + 1
    return table


def stage_pairs(pack: StancePack, stage: StageRecipe, recipe: Recipe) -> list[TrainPair]:
    """The pairs of one stage, narrowed to the recipe's sources and cap."""
    splits: tuple[str, ...] | None = STAGES.get(stage.name)
    if splits is None:
        raise ConfigError(f"unknown stage {stage.name!r}; choose from {', '.join(STAGES)}")
    if stage.name == "in-domain" and recipe.direction_flips:
        splits = (*splits, "flips")
    pairs = [p for s in splits for p in pack.splits.get(s, [])]
    if recipe.sources is not None:
        pairs = [p for p in pairs if p.source.split("-")[0] in recipe.sources]
    if recipe.max_pairs is not None and recipe.max_pairs < len(pairs):
        keep = set(random.Random(recipe.seed).sample(range(len(pairs)), recipe.max_pairs))
        pairs = [p for i, p in enumerate(pairs) if i in keep]
    return pairs


def _write_atomically(out_dir: Path, fill: Callable[[Path], None]) -> None:
    """Build the output in a sibling temp dir, then swap it in with renames."""
    from pipeline.files import replacing_dir

    with replacing_dir(out_dir) as tmp:
        fill(tmp)


def write_adapter(
    trainer: Trainer, out_dir: Path, result: dict[str, Any], command: str | None
) -> None:
    """Write the adapter, ``stance.json`` and ``MODEL_CARD.md`` to ``out_dir`` atomically."""
    recipe = trainer.recipe
    meta = {
        "format": ADAPTER_FORMAT,
        "version": ADAPTER_VERSION,
        "base_model": recipe.base_model,
        "labels": list(LABELS),
        "temperature": result["temperature"],
        "max_length": recipe.max_length,
        "passage_max_length": recipe.passage_max_length,
        "input_order": INPUT_ORDER,
        "full_finetune": recipe.full_finetune,
        "recipe": asdict(recipe),
    }

    def fill(tmp: Path) -> None:
        model = trainer.model
        if recipe.full_finetune:
            model.save_pretrained(tmp)
            trainer.tokenizer.save_pretrained(tmp)
        else:
            # The embeddings are frozen, so peft need not look the base up to decide
            # whether to save them.
            model.save_pretrained(tmp, save_embedding_layers=False)
            # Record the configured name, not this machine's resolved path, so the
            # adapter loads wherever the base resolves.
            config_path = tmp / "adapter_config.json"
            adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
            adapter_config["base_model_name_or_path"] = recipe.base_model
            config_path.write_text(json.dumps(adapter_config, indent=2) + "\n", encoding="utf-8")
            # peft drops a boilerplate hub README beside the weights; MODEL_CARD.md is ours.
            (tmp / "README.md").unlink(missing_ok=True)
            _halve(tmp / "adapter_model.safetensors")
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        result["artifact_bytes"] = sum(f.stat().st_size for f in tmp.iterdir())
        (tmp / CARD_FILE).write_text(stance_card(asdict(recipe), result, command), encoding="utf-8")

    _write_atomically(out_dir, fill)


def _halve(path: Path) -> None:
    """Store the adapter in float16: half the bytes, and loading casts it back.

    LoRA deltas and the head are small numbers well inside float16's range; the
    rounding (about 1e-3 relative) is below what bf16 training itself introduced.
    """
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    save_file(
        {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()},
        str(path),
        metadata={"format": "pt"},
    )


def make_recipe(
    *,
    base_model: str | None = None,
    stages: Sequence[str] = ("intermediate", "in-domain"),
    epochs: Sequence[float] = (1.0, 3.0),
    lr: float | None = None,
    lora_r: int = 16,
    lora_alpha: int | None = None,
    lora_dropout: float = 0.1,
    batch_size: int = 32,
    max_length: int = 160,
    passage_max_length: int = 384,
    seed: int = 13,
    full_finetune: bool = False,
    warmup_ratio: float = 0.06,
    weight_decay: float = 0.01,
    sources: Sequence[str] | None = None,
    max_pairs: int | None = None,
    direction_flips: bool = False,
) -> Recipe:
    """Build and check a recipe; ``epochs`` gives one value per stage (or one for all).

    Raises:
        ConfigError: Bad values.
    """
    if lr is None:
        lr = DEFAULT_FULL_LR if full_finetune else DEFAULT_LORA_LR
    if len(epochs) == 1:
        epochs = tuple(epochs) * len(stages)
    if len(epochs) != len(stages):
        raise ConfigError(f"give one --epochs value, or one per stage ({len(stages)})")
    bad = [s for s in sources or () if s not in SOURCES]
    if bad:
        raise ConfigError(f"unknown training set {bad[0]!r}; choose from {', '.join(SOURCES)}")
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ConfigError(
            f"unknown stage {unknown[0] if unknown else ''!r}; choose from {', '.join(STAGES)}"
        )
    if any(e <= 0 for e in epochs) or batch_size < 1 or lr <= 0 or not 0 <= warmup_ratio < 1:
        raise ConfigError(
            "epochs and lr must be positive, batch size at least 1, warmup ratio in [0, 1)"
        )
    return Recipe(
        base_model=base_model or EMBEDDED_BASE_NAME,
        stages=tuple(StageRecipe(s, float(e), lr) for s, e in zip(stages, epochs, strict=True)),
        lora_r=lora_r,
        lora_alpha=lora_alpha if lora_alpha is not None else 2 * lora_r,
        lora_dropout=lora_dropout,
        batch_size=batch_size,
        max_length=max_length,
        passage_max_length=passage_max_length,
        seed=seed,
        full_finetune=full_finetune,
        warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        sources=tuple(sources) if sources is not None else None,
        max_pairs=max_pairs,
        direction_flips=direction_flips,
    )


def train_stance(
    pack: StancePack,
    out_dir: Path,
    recipe: Recipe,
    *,
    device: str = "cpu",
    base_path: str | None = None,
    checkpoint_dir: Path | None = None,
    init_from: Path | None = None,
    resume: bool = True,
    checkpoint_every: int = 200,
    max_minutes: float | None = None,
    threads: int = 2,
    command: str | None = None,
    evaluate: Callable[[Trainer], dict[str, Any]] | None = None,
    teacher: Sequence[Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Train every stage of ``recipe`` on ``pack`` and write the adapter to ``out_dir``.

    Args:
        pack: The pairs (:func:`pipeline.train.pack.read_pack` or ``build_pack``).
        out_dir: Where the adapter directory goes; replaced in one rename at the end.
        recipe: From :func:`make_recipe`.
        device: ``cpu`` or ``cuda`` (bf16 autocast).
        base_path: Where to load the base weights from, when not where
            ``recipe.base_model`` resolves (a copy on another machine); the adapter
            still records ``recipe.base_model``.
        checkpoint_dir: Where stage checkpoints go; None means ``<out_dir>-ckpt``.
        init_from: A ``<stage>-done.pt`` from another run to start from (variants that
            share an intermediate stage).
        resume: Continue from checkpoints of the same recipe.
        checkpoint_every: Steps between checkpoints (one is also written per epoch).
        max_minutes: Time limit per stage; the learning-rate decay is fitted to it.
        threads: torch CPU threads.
        command: Recorded in the model card.
        evaluate: Called with the trained model before writing; what it returns is
            added to the result (and the card, under ``heldout`` and ``direction``).
        teacher: Probabilities a larger model gave the pack's ``distill`` pairs, in
            order (:func:`read_teacher`); needed by a ``distill`` stage.

    Raises:
        ConfigError: Bad arguments, no pairs, or a checkpoint from another recipe.
        ModelLoadError: The base model cannot be loaded.
    """
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was given but torch sees no GPU; use --device cpu")
    torch.set_num_threads(threads)
    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    checkpoint_dir = checkpoint_dir or out_dir.with_name(out_dir.name + "-ckpt")
    tokenizer, model = build_model(recipe, base_path or resolve_model(recipe.base_model))
    model.to(device)
    if init_from is not None:
        _load_trainable(model, torch.load(init_from, weights_only=False)["trainable"])
        log.info("started from %s", init_from)
    val_pairs = [p for p in pack.splits.get("validation", []) if p.label != NOT_SUPPORTS]
    if recipe.sources is not None:
        val_pairs = [p for p in val_pairs if p.source.split("-")[0] in recipe.sources]
    if not val_pairs:
        raise ConfigError("the pack has no validation pairs for these sources")
    trainer = Trainer(
        recipe,
        tokenizer,
        model,
        device,
        checkpoint_dir,
        val_pairs,
        encode(tokenizer, val_pairs, recipe.max_length, recipe.passage_max_length),
    )
    started = time.monotonic()
    stages = []
    for stage in recipe.stages:
        pairs = stage_pairs(pack, stage, recipe)
        soft = None
        if stage.name == "distill":
            if teacher is None or len(teacher) != len(pack.splits.get("distill", [])):
                raise ConfigError(
                    "the distill stage needs --teacher: probabilities for every distill pair "
                    "of this pack, in order (scripts/train_stance_gpu.py writes them)"
                )
            # Sources and the pair cap narrow pairs; keep each pair with its own row.
            rows = {id(p): row for p, row in zip(pack.splits["distill"], teacher, strict=True)}
            soft = [rows[id(p)] for p in pairs]
        stages.append(
            run_stage(
                trainer,
                stage,
                pairs,
                resume=resume,
                checkpoint_every=checkpoint_every,
                max_minutes=max_minutes,
                soft=soft,
            )
        )
    _, val_logits = trainer.validate()
    val_y = [LABELS.index(p.label) for p in val_pairs]
    temperature = fit_temperature(val_logits, val_y)
    gold = [Stance(p.label) for p in val_pairs]
    result: dict[str, Any] = {
        "stages": stages,
        "device": device if not device.startswith("cuda") else torch.cuda.get_device_name(),
        "train_seconds": sum(s["seconds"] for s in stages) or time.monotonic() - started,
        "temperature": temperature,
        "val_metrics": stance_metrics(gold, [softmax(r, temperature) for r in val_logits]),
        "val_ece_uncalibrated": stance_metrics(gold, [softmax(r) for r in val_logits])["ece"],
        "val_pairs": len(val_pairs),
    }
    if evaluate is not None:
        result.update(evaluate(trainer))
    write_adapter(trainer, out_dir, result, command)
    log.info(
        "wrote %s (%.2f MB): val macro-F1 %.3f, T=%.3f",
        out_dir,
        result["artifact_bytes"] / 1e6,
        result["val_metrics"]["macro_f1"],
        temperature,
    )
    return result


class TrainerStance:
    """A model in training seen as a :class:`~pipeline.nlp.protocols.StanceModel`.

    Lets the evaluation used on shipped models (held-out pairs, the direction check)
    run on the training device before anything is written.
    """

    support_calibration = None

    def __init__(self, trainer: Trainer, temperature: float = 1.0) -> None:
        self.trainer = trainer
        self.temperature = temperature
        self.name = "in training"

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 64
    ) -> list[tuple[float, float, float]]:
        t = self.trainer
        items = [TrainPair(claim, evidence, "neutral", "eval") for claim, evidence in pairs]
        encoded = encode(t.tokenizer, items, t.recipe.max_length, t.recipe.passage_max_length)
        logits = predict_logits(t.model, encoded, t.pad_id, t.device, batch_size)
        return [softmax(row, self.temperature) for row in logits]


def heldout_evaluation(
    named_sets: dict[str, Sequence[Any]], direction_pairs: Sequence[Any]
) -> Callable[[Trainer], dict[str, Any]]:
    """Return an ``evaluate`` callback for :func:`train_stance`.

    Args:
        named_sets: Held-out labelled :class:`~pipeline.train.data.StancePair` lists
            by name, e.g. HealthVer's dev CSV.
        direction_pairs: Validation pairs for :func:`pipeline.evaluate.direction_check`.
    """
    from pipeline.evaluate import direction_check, evaluate_stance

    def run(trainer: Trainer) -> dict[str, Any]:
        _, logits = trainer.validate()
        temperature = fit_temperature(logits, [LABELS.index(p.label) for p in trainer.val_pairs])
        model = TrainerStance(trainer, temperature)
        out: dict[str, Any] = {
            "heldout": {name: evaluate_stance(model, pairs) for name, pairs in named_sets.items()}
        }
        if direction_pairs:
            out["direction"] = direction_check(model, direction_pairs)
        for name, m in out["heldout"].items():
            log.info(
                "%s: macro-F1 %.3f supports-vs-refutes %.3f (n=%d)",
                name,
                m["macro_f1"],
                m["support_refute_macro_f1"],
                m["n"],
            )
        return out

    return run


def read_teacher(path: Path) -> list[tuple[float, float, float]]:
    """Read teacher probabilities written by ``scripts/train_stance_gpu.py``.

    Raises:
        ConfigError: The file is missing or malformed.
    """
    import gzip

    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            head = json.loads(fh.readline())
            if head.get("labels") != list(LABELS):
                raise ConfigError(f"{str(path)!r} holds labels {head.get('labels')}, not {LABELS}")
            rows = [tuple(float(x) for x in json.loads(line)) for line in fh if line.strip()]
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigError(f"cannot read teacher probabilities {str(path)!r}: {exc}") from exc
    if len(rows) != head.get("n") or any(len(r) != 3 for r in rows):
        raise ConfigError(f"{str(path)!r} is truncated or malformed; write it again")
    return [(r[0], r[1], r[2]) for r in rows]
