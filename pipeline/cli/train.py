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
from pipeline.train.data import SOURCES

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
    core its partner is waiting for: measured on 2 oversubscribed cores, a LoRA step
    took about 20 s with the default policy and 3.5 s with PASSIVE.
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


@train_group.command("stance")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like shared/data (env CLAIMSCAN_DATA; default ../shared/data).",
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
    help="Where resumable checkpoints go.",
)
@click.option(
    "--base-model",
    metavar="PATH|HUB_ID",
    help="Encoder to adapt (env CLAIMSCAN_BASE_MODEL; default the embedded MiniLM).",
)
@click.option("--epochs", type=float, default=4, show_default=True, help="Upper bound on passes.")
@click.option(
    "--lr", type=float, help="Peak learning rate [default: 1e-3 LoRA, 3e-5 --full-finetune]."
)
@click.option("--lora-r", type=int, default=16, show_default=True, help="LoRA rank.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-length", type=int, default=128, show_default=True, help="Tokens per pair.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option(
    "--max-minutes", type=float, help="Training time limit; the LR decay is fitted to it."
)
@click.option(
    "--neutral-ratio",
    type=float,
    default=0.5,
    show_default=True,
    help="Neutral pairs kept per supports/refutes pair.",
)
@click.option("--max-pairs", type=int, help="Cap on training pairs (for quick probes).")
@click.option(
    "--sources",
    default=",".join(SOURCES),
    show_default=True,
    help="Comma-separated training sets to read (validation pairs come from the same ones).",
)
@click.option(
    "--direction-flips",
    is_flag=True,
    help="Add supported claims with their direction word reversed as refutations.",
)
@click.option("--full-finetune", is_flag=True, help="Train all weights (a ~90 MB artifact).")
@click.option(
    "--train-norms", is_flag=True, help="Also train LayerNorm weights and biases (LoRA only)."
)
@click.option("--eval-every", type=int, help="Steps between validation log lines.")
@click.option("--checkpoint-every", type=int, default=100, show_default=True)
@click.option("--no-resume", is_flag=True, help="Ignore an existing checkpoint.")
@click.option("--threads", type=int, default=2, show_default=True, help="torch CPU threads.")
@handle_errors
def train_stance_command(
    data: Path | None,
    out: Path,
    checkpoints: Path,
    base_model: str | None,
    epochs: float,
    lr: float | None,
    lora_r: int,
    batch_size: int,
    max_length: int,
    seed: int,
    max_minutes: float | None,
    neutral_ratio: float,
    max_pairs: int | None,
    sources: str,
    direction_flips: bool,
    full_finetune: bool,
    train_norms: bool,
    eval_every: int | None,
    checkpoint_every: int,
    no_resume: bool,
    threads: int,
) -> None:
    """Train the stance adapter on SciFact, HealthVer, Check-COVID and COVID-Fact.

    LoRA on the base encoder, NLI-style (evidence, claim) pairs, balanced classes.
    Checkpoints are resumable: run the same command again to continue. At the end a
    temperature is fitted on the validation split and the adapter, stance.json and
    MODEL_CARD.md are written to --out.

    \b
    Example:
        nohup claimscan train stance --max-minutes 60 > runs/stance.log 2>&1 &
    """
    chosen = [s.strip() for s in sources.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        problem = f"unknown training set {unknown[0]!r}" if unknown else "no training set given"
        raise ConfigError(
            f"{problem}; --sources takes a comma-separated list of {', '.join(SOURCES)}"
        )
    _share_cpus_politely()
    from rich.console import Console

    from pipeline.train.stance import train_stance

    _log_to_stderr()
    config = build_config(base_model=base_model)
    result = train_stance(
        _data_dir(data),
        out,
        base_model=config.base_model,
        epochs=epochs,
        lr=lr,
        lora_r=lora_r,
        batch_size=batch_size,
        max_length=max_length,
        seed=seed,
        max_minutes=max_minutes,
        full_finetune=full_finetune,
        train_norms=train_norms,
        neutral_ratio=neutral_ratio,
        max_pairs=max_pairs,
        direction_flips=direction_flips,
        sources=chosen,
        checkpoint_dir=checkpoints,
        checkpoint_every=checkpoint_every,
        eval_every=eval_every,
        resume=not no_resume,
        threads=threads,
        command=_command_line(click.get_current_context()),
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
