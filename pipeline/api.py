"""The Python API: ``check``, ``check_text``, ``check_url``, ``check_claims``, ``scan_feeds``.

Each call opens a :class:`~pipeline.session.Session` from a Config (HTTP clients, the
E-utilities client, the models, loaded once per process), runs, and closes it; the CLI
is a shell over these. Network, disk and model loading all happen below.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from claims.types import Report
from pipeline.config import Config
from pipeline.run import Progress, _noop
from pipeline.session import Session, load_models, models_for

if TYPE_CHECKING:
    from pipeline.feedscan import ItemOutcome, ScanSummary

__all__ = [
    "Session",
    "check",
    "check_claims",
    "check_text",
    "check_url",
    "load_models",
    "models_for",
    "scan_feeds",
]


def check(
    sources: Sequence[str],
    *,
    config: Config | None = None,
    stdin: BinaryIO | None = None,
    progress: Progress = _noop,
) -> Report:
    """Check URLs, files, or ``-`` (stdin) and return the report.

    Args:
        sources: What to check; sources that fail are listed in ``report.failures``.
        config: Settings; defaults to the environment's.
        stdin: Read for the ``-`` source.
        progress: Called as ``progress(stage, done, total)``.
    """
    with Session.open(config) as session:
        return session.check(sources, stdin=stdin, progress=progress)


def check_url(url: str, *, config: Config | None = None) -> Report:
    """Check one web page or feed."""
    return check([url], config=config)


def check_text(text: str, *, config: Config | None = None) -> Report:
    """Check a text (plain or Markdown) as if it were a file."""
    return check(["-"], config=config, stdin=io.BytesIO(text.encode("utf-8")))


def check_claims(
    texts: Sequence[str], *, config: Config | None = None, progress: Progress = _noop
) -> Report:
    """Check each text as one claim, without splitting; one document per claim, in order."""
    with Session.open(config) as session:
        return session.check_claims(texts, progress=progress)


def scan_feeds(
    feeds: Sequence[str],
    *,
    state: str | os.PathLike[str],
    out: str | os.PathLike[str],
    formats: Sequence[str] = ("json",),
    since: datetime | None = None,
    max_items: int | None = None,
    max_attempts: int | None = None,
    config: Config | None = None,
    session: Session | None = None,
    on_item: Callable[[ItemOutcome], None] | None = None,
) -> ScanSummary:
    """Check the new and edited items of feeds, once each, as ``claimscan feed`` does.

    Args:
        feeds: Feed URLs or local feed files.
        state: The SQLite state file (created if missing; locked while this runs).
        out: Directory for one report per item and ``index.jsonl``.
        formats: Report formats per item (``json``, ``html``, ``markdown``).
        since: Skip (and remember) items published before this.
        max_items: Check at most this many items; the rest wait for the next call.
        max_attempts: Calls that may try a failing item before it is given up (3).
        config: Settings; defaults to the environment's.
        session: Clients and models to use (and leave open), e.g. to scan on a schedule
            in one process without reloading models; by default one is opened from
            ``config`` and closed.
        on_item: Called with each item's outcome once it is recorded.

    Returns:
        The counts and failures of this scan; ``summary.ok`` is False if any feed or
        item failed.

    Raises:
        ConfigError: A feed locator is not an http(s) URL or a path, or ``out`` is not
            the directory this state was used with.
        ScanLocked: Another scan holds the state.
    """
    from pipeline.feedscan import ScanState, normalize_feeds

    locators = normalize_feeds(feeds)
    # The lock is taken before anything slow, so a second run says so at once.
    with ScanState.open(state) as scan_state, contextlib.ExitStack() as stack:
        if session is None:
            session = stack.enter_context(Session.open(config))
        return session.scan_feeds(
            locators,
            state=scan_state,
            out_dir=Path(out),
            formats=formats,
            since=since,
            max_items=max_items,
            max_attempts=max_attempts,
            on_item=on_item,
        )
