"""The ``claimscan`` command line: a thin shell over the Python API.

Each subcommand builds a Config, calls a function Python can call too, and renders.
Heavy modules (torch, transformers) are imported inside commands so ``--help`` is instant.
"""

from __future__ import annotations

import click

from pipeline import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claimscan")
def cli() -> None:
    """Fact-check health claims in feeds, pages and text against PubMed.

    \b
    Example:
        claimscan check https://example.org/article.html --format html -o report.html
    """


# The groups' Python names end in _group: submodules such as pipeline/cli/train.py
# would otherwise replace them as attributes of this package on import.
@cli.group(name="train")
def train_group() -> None:
    """Train the models claimscan ships (stance adapter, promotional head)."""


@cli.group(name="eval")
def eval_group() -> None:
    """Measure a model on labelled data: accuracy, macro-F1, per-class P/R/F1, calibration."""


def _register() -> None:
    # Subcommand modules attach themselves to the groups above on import.
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if mod.name not in {"options"}:
            importlib.import_module(f"{__name__}.{mod.name}")


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="claimscan")
