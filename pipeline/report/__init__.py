"""Render reports and write them out: to a path (atomically) or to stdout.

Every renderer in :data:`RENDERERS` has one signature,
``(report, out, *, color) -> None``, and writes text to the stream ``out``.
:func:`write_report` picks one by name and decides where ``out`` goes. The
renderers' own modules (:mod:`.json`, :mod:`.html`, :mod:`.markdown`,
:mod:`.terminal`) are pure apart from writing to what they are given.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import IO, Protocol

from rich.console import Console

from claims.types import Report
from pipeline.errors import ReportError
from pipeline.files import atomic_write_text

__all__ = [
    "EXTENSIONS",
    "FILE_FORMATS",
    "FORMATS",
    "RENDERERS",
    "REPORT_FORMATS",
    "Renderer",
    "check_output",
    "write_report",
    "write_text",
]


class Renderer(Protocol):
    """Writes one report to a text stream in one format."""

    def __call__(self, report: Report, out: IO[str], *, color: bool, details: bool = False) -> None:
        """Render ``report`` to ``out``.

        ``color`` asks for ANSI styling (terminal only); ``details`` for the full view
        instead of the summary (terminal and Markdown; the others always have it all).
        """
        ...


TERMINAL_FILE_WIDTH = 100
"""Line width for terminal-format output written to a file or pipe."""


def _write_terminal(report: Report, out: IO[str], *, color: bool, details: bool = False) -> None:
    from pipeline.report.terminal import render_terminal

    console = Console(
        file=out,
        width=TERMINAL_FILE_WIDTH,
        color_system="truecolor" if color else None,
        force_terminal=color,
        # Not a real terminal: no cursor movement, no soft wrapping surprises.
        force_interactive=False,
        legacy_windows=False,
    )
    render_terminal(report, console, details=details)


def _write_json(report: Report, out: IO[str], *, color: bool, details: bool = False) -> None:
    from pipeline.report.json import dump_report

    out.write(dump_report(report))


def _write_jsonl(report: Report, out: IO[str], *, color: bool, details: bool = False) -> None:
    import json

    from pipeline.report.json import claim_to_dict

    for doc in report.documents:
        for checked in doc.claims:
            out.write(json.dumps(claim_to_dict(checked), ensure_ascii=False) + "\n")


def _write_html(report: Report, out: IO[str], *, color: bool, details: bool = False) -> None:
    from pipeline.report.html import render_html

    out.write(render_html(report))


def _write_markdown(report: Report, out: IO[str], *, color: bool, details: bool = False) -> None:
    from pipeline.report.markdown import render_markdown

    out.write(render_markdown(report, details=details))


RENDERERS: dict[str, Renderer] = {
    "terminal": _write_terminal,
    "json": _write_json,
    "jsonl": _write_jsonl,
    "html": _write_html,
    "markdown": _write_markdown,
}
"""Format name to renderer; ``color`` only matters to ``terminal``."""

FORMATS: tuple[str, ...] = tuple(RENDERERS)
"""Format names, for ``click.Choice``; every other list of formats is cut from this one."""

REPORT_FORMATS: tuple[str, ...] = tuple(f for f in FORMATS if f != "jsonl")
"""Formats that hold a whole report; ``jsonl`` holds only the claims, one per line."""

FILE_FORMATS: tuple[str, ...] = tuple(f for f in REPORT_FORMATS if f != "terminal")
"""Whole reports meant to be kept and opened as files (what ``claimscan feed`` writes)."""

EXTENSIONS: dict[str, str] = {f: {"terminal": "txt", "markdown": "md"}.get(f, f) for f in FORMATS}
"""File name extension per format."""


def write_report(
    report: Report,
    fmt: str,
    output: str | os.PathLike[str] | None = None,
    console: Console | None = None,
    *,
    details: bool = False,
) -> None:
    """Render ``report`` in format ``fmt`` to a file or to stdout.

    A file is written atomically: to a temporary file beside it, flushed and
    fsynced, then renamed over ``output``, so readers never see half a report
    and a failed render leaves any old file untouched.

    Args:
        report: The report to write.
        fmt: A key of :data:`RENDERERS`.
        output: Destination path, or None (or ``-``) for stdout.
        console: For ``terminal`` on stdout, the console to print to (its colour
            and width settings apply); a fresh ``Console()`` when None. Other
            formats go to ``console.file`` when given, else ``sys.stdout``.
        details: The full view instead of the summary (terminal and Markdown).

    Raises:
        ReportError: ``fmt`` is unknown or the file cannot be written.
    """
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ReportError(
            f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None
    if output is None or str(output) == "-":
        if fmt == "terminal":
            from pipeline.report.terminal import render_terminal

            render_terminal(report, console or Console(), details=details)
        else:
            renderer(report, console.file if console else sys.stdout, color=False, details=details)
        return
    # Render fully before touching the file system, so a rendering bug cannot
    # leave a temp file behind.
    buffer = io.StringIO()
    renderer(report, buffer, color=False, details=details)
    _atomic_write(Path(output), buffer.getvalue())


def write_text(text: str, output: str | os.PathLike[str] | None = None) -> None:
    """Write already-rendered text atomically to ``output``, or to stdout for None or ``-``.

    Raises:
        ReportError: The file cannot be written.
    """
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    _atomic_write(Path(output), text)


def check_output(output: str | os.PathLike[str] | None) -> None:
    """Check that a report could be written to ``output``, before any work is done.

    The check mirrors :func:`_atomic_write`: it needs the directory to exist and be
    writable (the report is written to a temporary file there, then renamed), and an
    existing ``output`` to be a file, not a directory. ``None`` and ``-`` (stdout) pass.

    Raises:
        ReportError: One line naming ``output`` once and what to change.
    """
    if output is None or str(output) == "-":
        return
    path = Path(output)
    directory = path.parent
    if path.is_dir():
        raise ReportError(f"cannot write the report to {output}: it is a directory")
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise ReportError(
            f"cannot write the report to {output}: the directory {what}; "
            "create it or choose another --output"
        )
    # The temporary file is created in the directory and renamed over the report, so
    # the directory's permissions decide, not those of a report already there.
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ReportError(
            f"cannot write the report to {output}: no permission to create files in its directory"
        )


def _atomic_write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ReportError(f"cannot write report to {path}: {exc.strerror or exc}") from exc
