"""``claimscan check`` and ``claimscan claim``: the main commands.

Reads stdin and files, writes the report to stdout or ``--output``, progress to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from claims.types import Report
from pipeline.cli import cli
from pipeline.cli.options import build_config, eutils_options, handle_errors, model_options


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a progress callback drawing bars on stderr, silent unless stderr is a TTY."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield lambda stage, done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    labels = {
        "ingest": "Reading sources",
        "retrieve": "Searching PubMed",
        "classify": "Classifying evidence",
    }
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bars:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(labels.get(stage, stage), total=total or 1)
            bars.update(tasks[stage], completed=done, total=total or 1)

        yield update


def _finish(report: Report, fmt: str, output: str | None, body: str | None = None) -> None:
    """Write the report (or a pre-rendered body), list failures on stderr, set the exit code."""
    from pipeline.report import write_report, write_text

    if body is None:
        write_report(report, fmt, output)
    else:
        write_text(body, output)
    for failure in report.failures:
        # One unwrapped line per failure, so scripts and log readers can grep them.
        click.echo(f"claimscan: {failure.subject}: {failure.message}", err=True)
    if report.failures:
        sys.exit(1)


def _output_options(formats: tuple[str, ...], default: str) -> Callable[[Any], Any]:
    def decorate(fn: Any) -> Any:
        fn = click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=default,
            show_default=True,
            help="Report format.",
        )(fn)
        fn = click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, writable=True),
            help="Write the report here (atomically) instead of stdout.",
        )(fn)
        fn = click.option("--quiet", "-q", is_flag=True, help="No progress bars on stderr.")(fn)
        return fn

    return decorate


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@_output_options(("terminal", "json", "html", "markdown"), "terminal")
@eutils_options
@model_options
@handle_errors
def check(
    sources: tuple[str, ...], fmt: str, output: str | None, quiet: bool, **flags: Any
) -> None:
    """Check every health claim in pages, feeds, files or stdin against PubMed.

    SOURCE is an http(s) URL (page or feed, detected from the response), a local
    file (HTML, text, Markdown, RSS/Atom) or - for stdin. A source that fails is
    listed in the report's failures and the others still go through; the exit
    status is then 1.

    \b
    Examples:
        claimscan check https://example.org/health-article
        claimscan check feed.xml notes.md --format html -o report.html
        curl -s https://example.org/feed | claimscan check - --format json
    """
    from pipeline.api import check as check_sources

    config = build_config(**flags)
    with _progress(quiet) as progress:
        report = check_sources(
            list(sources), config=config, stdin=sys.stdin.buffer, progress=progress
        )
    _finish(report, fmt, output)


def _jsonl(report: Report, texts: list[str]) -> str:
    """One object per input, in input order, with ``error`` when that input failed."""
    from pipeline.report.json import claim_to_dict

    by_locator = {d.document.url: d for d in report.documents}
    failures = {f.subject: f.message for f in report.failures}
    lines = []
    for n, text in enumerate(texts, start=1):
        doc = by_locator.get(f"claim:{n}")
        if doc is None or not doc.claims:
            obj: dict[str, Any] = {"text": text, "error": failures.get(f"claim:{n}", "not checked")}
        else:
            obj = claim_to_dict(doc.claims[0])
            if doc.claims[0].claim.text in failures:
                obj["error"] = failures[doc.claims[0].claim.text]
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines) + "\n"


@cli.command()
@click.argument("texts", nargs=-1)
@click.option(
    "--from-file",
    "from_file",
    type=click.File("r", encoding="utf-8"),
    help="Read one claim per line from FILE (- for stdin).",
)
@_output_options(("terminal", "json", "jsonl", "html", "markdown"), "terminal")
@eutils_options
@model_options
@handle_errors
def claim(
    texts: tuple[str, ...],
    from_file: Any,
    fmt: str,
    output: str | None,
    quiet: bool,
    **flags: Any,
) -> None:
    """Check sentences as claims, as given (no splitting), with PubMed citations.

    \b
    Examples:
        claimscan claim "Vitamin D supplements prevent respiratory infections."
        claimscan claim --from-file claims.txt --format jsonl > verdicts.jsonl
    """
    from pipeline.api import check_claims

    if bool(texts) == bool(from_file):
        raise click.UsageError("give claim TEXT arguments or --from-file FILE, not both or neither")
    items = list(texts) if texts else [line.rstrip("\r\n") for line in from_file]
    config = build_config(**flags)
    with _progress(quiet) as progress:
        report = check_claims(items, config=config, progress=progress)
    _finish(report, fmt, output, body=_jsonl(report, items) if fmt == "jsonl" else None)
