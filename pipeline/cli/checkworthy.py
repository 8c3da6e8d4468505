"""``claimscan train checkworthy`` and ``claimscan eval checkworthy``.

Reads the labelled candidate sentences, writes a model directory (train) and prints
metrics as a rich table on stdout; progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipeline.cli import eval_group, train_group
from pipeline.cli.options import build_config, handle_errors

DEFAULT_DATA = Path("data/checkworthy/checkworthy.jsonl")

_data_option = click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="Labelled candidate sentences (JSON lines; see data/checkworthy/README.md).",
)


def _metrics_table(title: str, metrics: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("sentences", str(metrics["n"]))
    if "n_first_cut" in metrics:
        table.add_row("past the rules' first cut", str(metrics["n_first_cut"]))
    row = metrics["per_class"]["1"]
    table.add_row(
        f"checkable P / R / F1 (n={int(row['support'])})",
        f"{row['precision']:.3f} / {row['recall']:.3f} / {row['f1']:.3f}",
    )
    table.add_row("accuracy", f"{metrics['accuracy']:.3f}")
    table.add_row("ECE (10 bins)", f"{metrics['ece']:.3f}")
    table.add_row("threshold", f"{metrics['threshold']:.2f}")
    return table


@train_group.command(name="checkworthy")
@_data_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Model directory to write (default: the configured one, env CLAIMSCAN_CHECKWORTHY_MODEL).",
)
@click.option("--base-model", metavar="PATH|HUB_ID", help="Encoder (default the embedded MiniLM).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--epochs", type=int, default=300, show_default=True, help="Full-batch steps.")
@click.option(
    "--target-recall",
    type=click.FloatRange(0.5, 1.0),
    default=0.95,
    show_default=True,
    help="Choose the threshold that keeps this share of checkable sentences "
    "(cross-fitted on train).",
)
@handle_errors
def train_checkworthy_cmd(
    data_file: Path,
    out_dir: Path | None,
    base_model: str | None,
    seed: int,
    epochs: int,
    target_recall: float,
) -> None:
    """Train the check-worthiness head and print its cross-validated and val metrics.

    The test split is never read; `python -m benchmarks.checkworthy` reports it.

    \b
    Example:
        claimscan train checkworthy --out pipeline/models/checkworthy
    """
    from rich.console import Console

    from pipeline.config import RULES_ONLY
    from pipeline.errors import ConfigError
    from pipeline.train.checkworthy import train_checkworthy

    config = build_config(base_model=base_model)
    if out_dir is None and config.checkworthy_model == RULES_ONLY:
        raise ConfigError("CLAIMSCAN_CHECKWORTHY_MODEL is `rules`; pass --out DIR")
    target = out_dir or Path(config.checkworthy_model)
    Console(stderr=True).print(f"training check-worthiness head from {data_file} -> {target}")
    metrics = train_checkworthy(
        data_file,
        target,
        base_model=config.base_model,
        seed=seed,
        epochs=epochs,
        target_recall=target_recall,
    )
    console = Console()
    console.print(_metrics_table("train split, cross-fitted by document", metrics["train_cv"]))
    if metrics["val"] is not None:
        console.print(_metrics_table("val split, rules' first cut then the head", metrics["val"]))
    console.print(
        f"calibration: temperature {metrics['temperature']:.3f}, bias "
        f"{metrics['calibration_bias']:.3f} (fitted on {metrics['calibration_fitted_on']}); "
        f"threshold {metrics['threshold']}"
    )


@eval_group.command(name="checkworthy")
@_data_option
@click.option(
    "--model",
    metavar="DIR",
    help="Check-worthiness head directory (default: env CLAIMSCAN_CHECKWORTHY_MODEL or the "
    "shipped one).",
)
@click.option("--base-model", metavar="PATH|HUB_ID", help="Encoder override.")
@click.option(
    "--split",
    type=click.Choice(["val", "test"]),
    default="val",
    show_default=True,
    help="Which split to score; keep test for the final figure.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Score with this threshold instead of the head's own.",
)
@handle_errors
def eval_checkworthy_cmd(
    data_file: Path,
    model: str | None,
    base_model: str | None,
    split: str,
    threshold: float | None,
) -> None:
    """Score check-worthiness (rules' first cut, then the head) on one split of labelled data.

    \b
    Example:
        claimscan eval checkworthy --split val
        claimscan eval checkworthy --threshold 0.5
    """
    from rich.console import Console

    from pipeline.config import RULES_ONLY
    from pipeline.errors import ConfigError
    from pipeline.nlp.checkworthy import load_checkworthy_classifier
    from pipeline.train.checkworthy import read_records, step_metrics

    config = build_config(checkworthy_model=model, base_model=base_model)
    if config.checkworthy_model == RULES_ONLY:
        raise ConfigError("no check-worthiness model to score: pass --model DIR")
    # Bad input fails before the slow model load.
    records = [r for r in read_records(data_file) if r.split == split]
    if not records:
        raise ConfigError(f"{data_file}: no {split} records to score")
    classifier = load_checkworthy_classifier(config.checkworthy_model, config.base_model)
    if threshold is not None:
        classifier = classifier.with_threshold(threshold)
    Console().print(_metrics_table(f"{data_file} ({split})", step_metrics(classifier, records)))
