"""``claimscan render``: re-render a saved JSON report. Reads one file (or stdin), writes one."""

from __future__ import annotations

import click

from pipeline.cli import cli
from pipeline.cli.options import UnusableInput, handle_errors, preflight
from pipeline.errors import ReportError
from pipeline.report import REPORT_FORMATS


@cli.command("render")
@click.argument(
    "report_path", metavar="REPORT.json", type=click.Path(dir_okay=False, allow_dash=True)
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="terminal",
    show_default=True,
    help="Output format.",
)
@click.option("-o", "--output", metavar="PATH", help="Write here (atomically) instead of stdout.")
@click.option(
    "--details", is_flag=True, help="Full view (terminal and markdown), as with check --details."
)
@handle_errors
def render(report_path: str, fmt: str, output: str | None, details: bool) -> None:
    """Re-render a saved JSON report without fetching or checking anything again.

    REPORT.json is a file written with --format json, or - for stdin.

    \b
    Example:
        claimscan check https://example.org/a.html --format json -o report.json
        claimscan render report.json --format html -o report.html
    """
    from pipeline.report import write_report
    from pipeline.report.json import load_report

    preflight((), output, 0)

    # A report that cannot be read is an unusable input, as for check: exit status 2.
    try:
        # click.open_file maps "-" to stdin and leaves it open afterwards.
        with click.open_file(report_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UnusableInput([f"cannot read report {report_path}: {exc.strerror or exc}"]) from exc
    try:
        report = load_report(data)
    except ReportError as exc:
        raise UnusableInput([f"{report_path}: {exc}"]) from exc
    write_report(report, fmt, output, details=details)
    if output not in (None, "-"):
        click.echo(f"report written to {output}", err=True)
