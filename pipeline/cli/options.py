"""Option decorators and error handling shared by every command. No I/O of its own."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pipeline.config import Config, load_config
from pipeline.errors import ClaimscanError

F = TypeVar("F", bound=Callable[..., Any])


def eutils_options(fn: F) -> F:
    """Add ``--eutils-url``, ``--email``, ``--no-cache`` and ``--cache`` to a command."""
    fn = click.option(
        "--eutils-url",
        metavar="URL",
        help="E-utilities base URL (env CLAIMSCAN_EUTILS_URL; default NCBI's).",
    )(fn)
    fn = click.option("--email", metavar="ADDR", help="Contact sent to NCBI (env NCBI_EMAIL).")(fn)
    fn = click.option(
        "--cache",
        "cache_path",
        type=click.Path(dir_okay=False),
        help="SQLite cache of E-utilities answers (env CLAIMSCAN_CACHE).",
    )(fn)
    fn = click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")(fn)
    return fn


def model_options(fn: F) -> F:
    """Add the model flags: stance, promotional head and threshold, encoder, --fast."""
    fn = click.option(
        "--stance-model",
        metavar="PATH|HUB_ID",
        help="Stance adapter dir or NLI model (env CLAIMSCAN_STANCE_MODEL).",
    )(fn)
    fn = click.option(
        "--promo-model", metavar="PATH", help="Promotional head dir (env CLAIMSCAN_PROMO_MODEL)."
    )(fn)
    fn = click.option(
        "--promo-threshold",
        type=float,
        metavar="P",
        help="Label a claim promotional from this probability (env CLAIMSCAN_PROMO_THRESHOLD; "
        "default the head's own, 0.25 as shipped).",
    )(fn)
    fn = click.option(
        "--base-model",
        metavar="PATH|HUB_ID",
        help="Encoder for evidence ranking and the promotional head (env CLAIMSCAN_BASE_MODEL; "
        "default the embedded MiniLM).",
    )(fn)
    fn = click.option(
        "--fast",
        is_flag=True,
        default=None,
        help="Use the fast stance model (MiniLM): several times quicker on a CPU, less "
        "accurate, nothing to download (env CLAIMSCAN_FAST=1).",
    )(fn)
    return fn


def build_config(**flags: Any) -> Config:
    """Turn parsed flags into a Config, flags taking precedence over the environment."""
    from pathlib import Path

    no_cache = flags.pop("no_cache", False)
    cache_path = flags.pop("cache_path", None)
    overrides = {k: v for k, v in flags.items() if v is not None}
    if cache_path:
        overrides["cache_path"] = Path(cache_path)
    config = load_config(overrides)
    if no_cache:
        from dataclasses import replace

        config = replace(config, cache_path=None)
    return config


def handle_errors(fn: F) -> F:
    """Turn expected failures into one clear line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ClaimscanError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
