"""``claimscan check`` and ``claimscan claim``: the main commands.

Reads stdin and files, writes the report to stdout or ``--output``, progress to stderr.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from claims.types import EvidenceStatus, Report
from pipeline.cli import cli
from pipeline.cli.options import (
    UnusableInput,
    build_config,
    eutils_options,
    handle_errors,
    model_options,
    preflight,
)
from pipeline.report import FORMATS, REPORT_FORMATS


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


def _finish(
    report: Report, fmt: str, output: str | None, details: bool, body: str | None = None
) -> None:
    """Write the report (or a pre-rendered body), list failures on stderr, set the exit code."""
    from pipeline.report import write_report, write_text
    from pipeline.report._common import failure_text, one_line

    if body is None:
        write_report(report, fmt, output, details=details)
    else:
        write_text(body, output)
    if output not in (None, "-"):
        click.echo(f"report written to {output}", err=True)
    # One unwrapped line per failure (per cause, for PubMed), so scripts can grep them.
    for failure in report.failures:
        click.echo(f"claimscan: {one_line(failure_text(failure))}", err=True)
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
            metavar="PATH",
            # Checked by preflight() with the inputs, so every problem is one line.
            help="Write the report here (atomically) instead of stdout.",
        )(fn)
        fn = click.option(
            "--details",
            is_flag=True,
            help="Full report: the article text, every claim's rationale, query and "
            "evidence (terminal and markdown; HTML and JSON always have it all).",
        )(fn)
        fn = click.option("--quiet", "-q", is_flag=True, help="No progress bars on stderr.")(fn)
        return fn

    return decorate


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@_output_options(REPORT_FORMATS, "terminal")
@eutils_options
@model_options
@handle_errors
def check(
    sources: tuple[str, ...],
    fmt: str,
    output: str | None,
    details: bool,
    quiet: bool,
    **flags: Any,
) -> None:
    """Check every health claim in pages, feeds, files or stdin against PubMed.

    SOURCE is an http(s) URL (page or feed, detected from the response), a local
    file (HTML, text, Markdown, RSS/Atom) or - for stdin. A URL that fails is
    listed in the report's failures and the others still go through; the exit
    status is then 1.

    Inputs and --output are checked before anything is loaded or fetched; a file
    that cannot be used stops the command at once (exit status 2).

    \b
    Examples:
        claimscan check examples/vitamin-d-winter.md
        claimscan check https://example.org/health-article --details
        claimscan check feed.xml notes.md --format html -o report.html
        curl -s https://example.org/feed | claimscan check - --format json
    """
    config = build_config(**flags)
    # Everything that can be judged without models or network is judged first.
    preflight(sources, output, config.max_page_bytes)
    stdin = _read_stdin(config.max_page_bytes) if "-" in sources else None

    from pipeline.api import check as check_sources

    with _progress(quiet) as progress:
        report = check_sources(list(sources), config=config, stdin=stdin, progress=progress)
    _finish(report, fmt, output, details)


def _read_stdin(max_bytes: int) -> io.BytesIO:
    """Read all of stdin now, so an empty or binary stdin fails before the work."""
    from pipeline.errors import PageError
    from pipeline.ingest import check_bytes

    data = sys.stdin.buffer.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnusableInput([f"stdin (-) is larger than the {max_bytes:,}-byte limit"])
    try:
        check_bytes(data, "stdin (-)")
    except PageError as exc:
        raise UnusableInput([str(exc)]) from exc
    return io.BytesIO(data)


def _claim_lines(from_file: str, max_bytes: int) -> list[str]:
    """Read ``--from-file`` (one claim per line; - for stdin), refusing unusable files."""
    from pipeline.errors import PageError
    from pipeline.ingest import check_bytes, read_file
    from pipeline.ingest.text import decode

    label = "stdin (-)" if from_file == "-" else from_file
    try:
        data = (
            sys.stdin.buffer.read(max_bytes + 1)
            if from_file == "-"
            else read_file(from_file, max_bytes)
        )
        if len(data) > max_bytes:
            raise PageError(f"{label} is larger than the {max_bytes:,}-byte limit; not read")
        check_bytes(data, label)
    except PageError as exc:
        raise UnusableInput([str(exc)]) from exc
    return [line.rstrip("\r") for line in decode(data).split("\n")]


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
            verdict = doc.claims[0].verdict
            if verdict.evidence_status is EvidenceStatus.UNAVAILABLE:
                obj["error"] = verdict.rationale
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines) + "\n"


@cli.command()
@click.argument("texts", nargs=-1)
@click.option(
    "--from-file",
    "from_file",
    metavar="FILE",
    help="Read one claim per line from FILE (- for stdin).",
)
@_output_options(FORMATS, "terminal")
@eutils_options
@model_options
@handle_errors
def claim(
    texts: tuple[str, ...],
    from_file: str | None,
    fmt: str,
    output: str | None,
    details: bool,
    quiet: bool,
    **flags: Any,
) -> None:
    """Check sentences as claims, as given (no splitting), with PubMed citations.

    \b
    Examples:
        claimscan claim "Vitamin D supplements prevent respiratory infections."
        claimscan claim --from-file claims.txt --format jsonl > verdicts.jsonl
    """
    if bool(texts) == bool(from_file):
        raise click.UsageError("give claim TEXT arguments or --from-file FILE, not both or neither")
    config = build_config(**flags)
    preflight((), output, config.max_page_bytes)
    if from_file:
        items = _claim_lines(from_file, config.max_page_bytes)
        # A file's last newline ends its last line; it does not start an empty claim.
        if items and not items[-1]:
            items.pop()
    else:
        empty = [f"claim:{n} is empty" for n, t in enumerate(texts, start=1) if not t.strip()]
        if empty:
            raise UnusableInput(empty)
        items = list(texts)

    from pipeline.api import check_claims

    with _progress(quiet) as progress:
        report = check_claims(items, config=config, progress=progress)
    body = _jsonl(report, items) if fmt == "jsonl" else None
    _finish(report, fmt, output, details, body=body)
