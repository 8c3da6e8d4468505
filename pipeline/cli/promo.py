"""``claimscan train promo`` and ``claimscan eval promo``: the promotional head's commands.

Reads a labelled JSON-lines file, writes a model directory (train) and prints metrics as a
rich table on stdout; progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipeline.cli import eval_group, train_group
from pipeline.cli.options import build_config, handle_errors

DEFAULT_DATA = Path("data/promo/promo.jsonl")

_data_option = click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="Labelled sentences (JSON lines: text, label, source, context_promo_page, split).",
)


def _metrics_table(title: str, metrics: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("n", "accuracy", "macro_f1", "promo_f1", "ece", "context_accuracy"):
        if key not in metrics:
            continue
        value = metrics[key]
        table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    for cls, name in (("1", "promotional"), ("0", "not promotional")):
        row = metrics["per_class"][cls]
        table.add_row(
            f"{name} P / R / F1 (n={int(row['support'])})",
            f"{row['precision']:.3f} / {row['recall']:.3f} / {row['f1']:.3f}",
        )
    return table


@train_group.command(name="promo")
@_data_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Model directory to write (default: the configured promo model, env "
    "CLAIMSCAN_PROMO_MODEL).",
)
@click.option(
    "--tuned",
    is_flag=True,
    help="Fine-tune all-mpnet-base-v2 reading each sentence in its page (the default "
    "model; about an hour on 2 CPU cores) instead of the MiniLM head (the --fast one).",
)
@click.option(
    "--base-model",
    metavar="PATH|HUB_ID",
    help="Encoder (default: the embedded MiniLM for the head, all-mpnet-base-v2 with --tuned).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--epochs",
    type=float,
    help="Full-batch steps for the head (default 300); epochs with --tuned (default 3).",
)
@click.option(
    "--tuned-layers", type=int, help="With --tuned: top encoder layers given LoRA (default 2)."
)
@click.option(
    "--folds",
    type=int,
    default=5,
    show_default=True,
    help="With --tuned: cross-fitting folds for calibration (0: calibrate on val, a quick "
    "trial whose val figures are not independent).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --tuned: where cached encoder states and fold checkpoints go (default "
    "<out>-cache); a run cut short resumes from them.",
)
@handle_errors
def train_promo_cmd(
    data_file: Path,
    out_dir: Path | None,
    tuned: bool,
    base_model: str | None,
    seed: int,
    epochs: float | None,
    tuned_layers: int | None,
    folds: int,
    cache_dir: Path | None,
) -> None:
    """Train a commercial-promotional model and print its validation metrics.

    \b
    Example:
        claimscan train promo --tuned --out pipeline/models/promo
        claimscan train promo --out pipeline/models/promo-fast
    """
    import logging

    from rich.console import Console

    config = build_config(base_model=base_model)
    target = out_dir or Path(config.promo_model)
    Console(stderr=True).print(f"training promotional model from {data_file} -> {target}")
    console = Console()
    if tuned:
        from pipeline.train.promo_tuned import recipe_from, train_tuned

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        recipe = recipe_from(
            base_model=base_model, seed=seed, epochs=epochs, tuned_layers=tuned_layers
        )
        metrics = train_tuned(
            data_file,
            target,
            recipe,
            cache_dir=cache_dir or target.with_name(target.name + "-cache"),
            folds=folds,
        )
    else:
        from pipeline.train.promo import train_promo

        metrics = train_promo(
            data_file,
            target,
            base_model=config.base_model,
            seed=seed,
            epochs=int(epochs) if epochs is not None else 300,
        )
    console.print(_metrics_table("train split", metrics["train"]))
    if metrics["train_cv"] is not None:
        console.print(
            _metrics_table("train split, cross-validated by document", metrics["train_cv"])
        )
    if metrics["val"] is not None:
        console.print(_metrics_table("val split", metrics["val"]))
    console.print(
        f"calibration: temperature {metrics['temperature']:.3f}, bias "
        f"{metrics['calibration_bias']:.3f} (fitted on {metrics['calibration_fitted_on']}); "
        f"label from {metrics['threshold']}, possibly promotional from "
        f"{metrics['possible_threshold']}"
    )


@eval_group.command(name="promo")
@_data_option
@click.option(
    "--model",
    metavar="DIR",
    help="Promotional model directory (default: env CLAIMSCAN_PROMO_MODEL or the shipped one).",
)
@click.option("--base-model", metavar="PATH|HUB_ID", help="Encoder override.")
@click.option(
    "--split",
    type=click.Choice(["val", "all"]),
    default="val",
    show_default=True,
    help="Score the val split only, or every record.",
)
@click.option(
    "--promo-threshold",
    "threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Score with this decision threshold instead of the head's own.",
)
@click.option(
    "--second-annotation",
    "second_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An independent labelling of some of the same sentences (JSON lines: text, "
    "label); prints how the two annotators and the model agree.",
)
@handle_errors
def eval_promo_cmd(
    data_file: Path,
    model: str | None,
    base_model: str | None,
    split: str,
    threshold: float | None,
    second_file: Path | None,
) -> None:
    """Score the promotional head on labelled sentences: accuracy, macro-F1, P/R/F1, ECE.

    \b
    Example:
        claimscan eval promo --data data/promo/promo.jsonl --split val
        claimscan eval promo --second-annotation data/promo/val_second_annotation.jsonl
        claimscan eval promo --promo-threshold 0.5
    """
    from rich.console import Console

    from pipeline.errors import ConfigError
    from pipeline.nlp.promo import load_promo_classifier
    from pipeline.train.promo import (
        documents_by_source,
        evaluate_promo,
        predict_records,
        read_records,
        read_second_annotation,
    )

    config = build_config(promo_model=model, base_model=base_model)
    # Bad input files fail before the slow model load.
    second = read_second_annotation(second_file) if second_file else None
    records = read_records(data_file)
    chosen = records if split == "all" else [r for r in records if r.split == "val"]
    if not chosen:
        raise ConfigError(f"{data_file}: no {'' if split == 'all' else 'val '}records to score")
    documents = documents_by_source(records)
    classifier = load_promo_classifier(config.promo_model, config.base_model)
    if threshold is not None:
        classifier = classifier.with_threshold(threshold)
    probs = predict_records(classifier, chosen, documents)
    metrics = evaluate_promo(classifier, chosen, documents=documents, probs=probs)
    console = Console()
    title = f"{data_file} ({split}, threshold {classifier.threshold:.2f})"
    console.print(_metrics_table(title, metrics))
    if second is not None:
        console.print(_agreement_table(classifier.threshold, chosen, probs, second))


def _agreement_table(
    threshold: float, records: list[Any], probs: list[float], second: dict[str, int]
) -> Any:
    from rich.table import Table

    from pipeline.train.promo import agreement

    shared = [(r, p) for r, p in zip(records, probs, strict=True) if r.text in second]
    first = [r.label for r, _ in shared]
    other = [second[r.text] for r, _ in shared]
    model = [int(p >= threshold) for _, p in shared]
    table = Table(title=f"agreement on {len(shared)} sentences labelled twice")
    for column in ("labels", "against", "kappa", "P / R / F1 of the 1s"):
        table.add_column(column, justify="left" if column in ("labels", "against") else "right")
    for name, ref_name, ref, got in (
        ("second annotator", "data file", first, other),
        ("model", "data file", first, model),
        ("model", "second annotator", other, model),
    ):
        a = agreement(ref, got)
        table.add_row(
            name,
            ref_name,
            f"{a['kappa']:.3f}",
            f"{a['precision']:.3f} / {a['recall']:.3f} / {a['f1']:.3f}",
        )
    return table
