"""``claimscan feed``: scan feeds on a schedule, reporting each new or edited item once.

Reads feeds (network, files), writes reports and ``index.jsonl`` under ``--out``, keeps
its state in the ``--state`` SQLite file; the summary goes to stderr (and optionally
JSON to ``--summary-json``), ``--status`` writes to stdout.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pipeline.cli import cli
from pipeline.cli.options import build_config, eutils_options, handle_errors, model_options
from pipeline.errors import ConfigError
from pipeline.report import FILE_FORMATS


def _parse_since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 date-time"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _summary_lines(summary: Any) -> list[str]:
    claims = ", ".join(f"{n} {label}" for label, n in summary.claims.items())
    lines = [
        f"feeds: {summary.feeds_fetched} fetched, {summary.feeds_not_modified} not modified, "
        f"{summary.feeds_failed} failed",
        f"items: {summary.items_new} new, {summary.items_updated} updated, "
        f"{summary.items_skipped} skipped, {summary.items_failed} failed"
        + (f", {summary.items_deferred} left for the next run" if summary.items_deferred else ""),
        f"claims: {claims}",
    ]
    for failure in summary.failures:
        retry = "gave up" if failure.final else "will retry"
        lines.append(f"failed {failure.kind.value} ({retry}): {failure.subject}: {failure.message}")
    return lines


def _show_status(state: str, summary_json: str | None) -> None:
    from pipeline.feedscan import read_status
    from pipeline.report import write_text

    statuses = read_status(state)
    if summary_json is not None:
        body = json.dumps([s.to_dict() for s in statuses], indent=2, ensure_ascii=False)
        write_text(body + "\n", summary_json)
        if summary_json == "-":
            return
    if not statuses:
        click.echo(f"{state}: no feeds scanned yet")
    for status in statuses:
        items = ", ".join(f"{n} {name}" for name, n in sorted(status.items.items())) or "none"
        fetch = status.last_fetch_at or "never"
        click.echo(status.url)
        click.echo(f"  last fetch: {fetch} ({status.last_status or 'not fetched'})")
        if status.last_error:
            failures = status.consecutive_failures
            click.echo(f"  error: {status.last_error} ({failures} failed fetches in a row)")
        click.echo(f"  items: {items}")
        for item_id, title, attempts, error in status.failures:
            click.echo(f"  failing item {item_id} {title!r} ({attempts} attempts): {error}")


@cli.command()
@click.argument("locators", metavar="URL_OR_FILE...", nargs=-1)
@click.option(
    "--feeds",
    "feeds_file",
    type=click.File("r", encoding="utf-8"),
    help="Read feed URLs or paths from FILE, one per line; # starts a comment.",
)
@click.option(
    "--state",
    required=True,
    type=click.Path(dir_okay=False),
    help="SQLite state file (created if missing); a lock file sits beside it.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Directory for per-item reports and index.jsonl (required unless --status).",
)
@click.option(
    "--since",
    callback=_parse_since,
    metavar="DATE",
    help="Skip (and remember) items published before DATE (YYYY-MM-DD or ISO 8601).",
)
@click.option(
    "--max-items",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check at most N items this run; the rest wait for the next.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    metavar="N",
    help="Runs that may try a failing item before it is given up (indexed as failed).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(FILE_FORMATS),
    multiple=True,
    help="Report format per item; repeat for several (default json).",
)
@click.option(
    "--summary-json", metavar="PATH", help="Also write the summary as JSON to PATH (- for stdout)."
)
@click.option("--status", "show_status", is_flag=True, help="Show what --state holds and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@eutils_options
@model_options
@handle_errors
def feed(
    locators: tuple[str, ...],
    feeds_file: Any,
    state: str,
    out_dir: str | None,
    since: datetime | None,
    max_items: int | None,
    max_attempts: int,
    formats: tuple[str, ...],
    summary_json: str | None,
    show_status: bool,
    quiet: bool,
    **flags: Any,
) -> None:
    """Check new and edited feed items once each; safe to run from cron and to kill.

    Fetches each feed conditionally (an unchanged feed costs one 304), checks only
    items not seen before or edited since, writes one report per item into --out
    (named by a stable item id) and appends one line per item to --out/index.jsonl.
    Failed feeds and items are retried on later runs. Exit status: 0 all went well,
    1 some feed or item failed (or another run holds the lock), 2 usage error.

    \b
    Examples:
        claimscan feed https://example.org/feed --state feeds.db --out reports/
        claimscan feed --feeds feeds.txt --state feeds.db --out reports/ --format html
        claimscan feed --status --state feeds.db
    """
    from pipeline.feedscan import normalize_feeds, parse_feed_list

    if show_status:
        _show_status(state, summary_json)
        return
    if out_dir is None:
        raise click.UsageError("--out DIR is required (the reports and index.jsonl go there)")
    sources = list(locators)
    if feeds_file is not None:
        sources += parse_feed_list(feeds_file.read())
    try:
        feeds = normalize_feeds(sources)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if not feeds:
        raise click.UsageError("give at least one feed URL or file, or --feeds FILE")
    config = build_config(**flags)

    from pipeline.api import scan_feeds

    summary = scan_feeds(
        feeds,
        state=state,
        out=Path(out_dir),
        formats=formats or ("json",),
        since=since,
        max_items=max_items,
        max_attempts=max_attempts,
        config=config,
    )
    if summary_json is not None:
        from pipeline.report import write_text

        write_text(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n", summary_json)
    if not quiet:
        err = Console(stderr=True, highlight=False)
        for line in _summary_lines(summary):
            err.print(
                f"claimscan feed: {line}", markup=False, style=None if summary.ok else "yellow"
            )
    if not summary.ok:
        sys.exit(1)
