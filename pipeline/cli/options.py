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


class UnusableInput(click.ClickException):
    """Inputs or the output path cannot be used: nothing was checked; exit status 2.

    Shown as one ``claimscan: ...`` line per problem, without click's usage banner,
    so each line can be read (or grepped) on its own.
    """

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def show(self, file: Any = None) -> None:
        for problem in self.problems:
            click.echo(f"claimscan: {problem}", err=True)


def preflight(sources: tuple[str, ...], output: str | None, max_bytes: int) -> None:
    """Check local input files and the output path before any model loads or request goes out.

    URLs and ``-`` pass here; they can only be judged by reading them.

    Raises:
        UnusableInput: Listing every problem found, one line each.
    """
    from pipeline.errors import ClaimscanError
    from pipeline.ingest import check_source
    from pipeline.report import check_output

    problems: list[str] = []
    for locator in dict.fromkeys(sources):
        try:
            check_source(locator, max_bytes)
        except ClaimscanError as exc:
            problems.append(str(exc))
    try:
        check_output(output)
    except ClaimscanError as exc:
        problems.append(str(exc))
    if problems:
        raise UnusableInput(problems)


class Failed(click.ClickException):
    """An expected failure after the inputs were accepted: one ``claimscan: ...`` line,
    exit status 1, like the per-source failure lines."""

    def show(self, file: Any = None) -> None:
        click.echo(f"claimscan: {self.message}", err=True)


def handle_errors(fn: F) -> F:
    """Turn expected failures into one clear line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ClaimscanError as exc:
            raise Failed(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
