"""Scheduled feed scanning: fetch feeds, check only unseen or edited items, write reports.

Disk I/O (reports, ``index.jsonl``, the state database) and network I/O through the
clients it is handed; time comes from ``now``.

Exactly-once, under ``kill -9`` at any point, rests on this order per item:

1. ``start_item``: status ``running``, attempt counted (one transaction);
2. check, then write every report format atomically (temp file, fsync, rename, fsync dir);
3. ``finish_item``: status ``done`` plus the index line it is owed (one transaction);
4. append that line to ``index.jsonl`` and fsync; then ``index_written``.

A kill before 3 leaves the item ``running``; the next run re-checks it and renames new
reports over any it left, so nothing is lost and the index still gets one line. A kill
between 3 and 4 leaves the line owed; the next run appends it unless a line with the
same (item id, revision) is already there, and drops a torn last line first.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from claims.types import Label, Report
from pipeline.config import Config
from pipeline.errors import ClaimscanError, ConfigError, FeedError
from pipeline.feedscan.fetch import fetch_feed, is_web_url, read_feed_file
from pipeline.feedscan.items import feed_items
from pipeline.feedscan.output import INDEX_NAME, append_line, remove_temp_files, repair_index
from pipeline.feedscan.state import PendingItem, ScanState
from pipeline.ingest import DOWNLOAD_TIMEOUTS
from pipeline.pubmed.client import PubMed
from pipeline.report import EXTENSIONS as REPORT_EXTENSIONS
from pipeline.report import FILE_FORMATS, write_report
from pipeline.report.json import iso
from pipeline.run import Models, check_documents

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "EXTENSIONS",
    "INDEX_NAME",
    "FailureKind",
    "ItemOutcome",
    "ItemStatus",
    "ScanFailure",
    "ScanSummary",
    "normalize_feeds",
    "parse_feed_list",
    "scan_feeds",
]

DEFAULT_MAX_ATTEMPTS = 3
"""Runs that may try one item before it is abandoned (and indexed as ``failed``)."""
EXTENSIONS: dict[str, str] = {fmt: REPORT_EXTENSIONS[fmt] for fmt in FILE_FORMATS}
"""Report format to file extension; the formats ``claimscan feed`` writes."""
_PUBMED_DOWN = "E-utilities unavailable: "


class FailureKind(enum.Enum):
    """What a :class:`ScanFailure` is about."""

    FEED = "feed"
    ITEM = "item"


class ItemStatus(enum.Enum):
    """What one run did with an item; the values are ``index.jsonl``'s ``status``."""

    NEW = "new"
    UPDATED = "updated"
    FAILED = "failed"
    """Failed this time; retried on a later run."""
    ABANDONED = "abandoned"
    """Failed on its last attempt; indexed as ``failed`` and not retried."""


@dataclass(frozen=True, slots=True)
class ScanFailure:
    """A feed or item that failed in a run."""

    kind: FailureKind
    subject: str
    """The feed URL, or ``<item id> (<title>)``."""
    message: str
    final: bool = False
    """True when the item will not be retried (attempts used up)."""


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to one item, as passed to ``on_item``."""

    item_id: str
    status: ItemStatus
    entry: dict[str, Any] | None
    """The line written to ``index.jsonl``, if one was."""
    error: str | None = None


@dataclass(slots=True)
class ScanSummary:
    """Counts for one run. Created by :func:`scan_feeds`."""

    feeds_fetched: int = 0
    """Feeds answered with a body (200, or a changed file)."""
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    items_new: int = 0
    """New items checked and reported."""
    items_updated: int = 0
    """Edited items re-checked, their reports replaced."""
    items_skipped: int = 0
    """Items seen before and unchanged, or older than ``--since``."""
    items_failed: int = 0
    items_deferred: int = 0
    """Items owed a check but left for a later run (``--max-items``, PubMed down)."""
    claims: dict[str, int] = field(default_factory=lambda: {label.value: 0 for label in Label})
    """Claims per label value over the items checked in this run."""
    failures: list[ScanFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no feed and no item failed."""
        return not (self.feeds_failed or self.items_failed)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON types."""
        return {
            "ok": self.ok,
            "feeds": {
                "fetched": self.feeds_fetched,
                "not_modified": self.feeds_not_modified,
                "failed": self.feeds_failed,
            },
            "items": {
                "new": self.items_new,
                "updated": self.items_updated,
                "skipped": self.items_skipped,
                "failed": self.items_failed,
                "deferred": self.items_deferred,
            },
            "claims": dict(self.claims),
            "failures": [
                {
                    "kind": f.kind.value,
                    "subject": f.subject,
                    "message": f.message,
                    "final": f.final,
                }
                for f in self.failures
            ],
        }


def parse_feed_list(text: str) -> list[str]:
    """Read a feeds file: one URL or path per line; blank lines and ``#`` comments ignored.

    A ``#`` starts a comment at the beginning of a line or after whitespace, so URL
    fragments (``feed#atom``) survive. Pure.
    """
    out = []
    for line in text.splitlines():
        entry = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if entry:
            out.append(entry)
    return out


def normalize_feeds(locators: Iterable[str]) -> list[str]:
    """Validate feed locators and make them stable keys for the state. Pure apart from cwd.

    http(s) URLs are kept as given; anything else is a local path, made absolute so
    the state does not depend on the directory cron starts in. Duplicates are dropped.

    Raises:
        ConfigError: A URL with another scheme (``file:``, ``ftp:``, ``javascript:``).
    """
    out: list[str] = []
    for raw in locators:
        locator = raw.strip()
        if not locator:
            continue
        if is_web_url(locator):
            key = locator
        elif "://" in locator or locator.lower().startswith(("file:", "data:", "javascript:")):
            raise ConfigError(
                f"{locator}: only http(s) feed URLs and local file paths are accepted"
            )
        else:
            key = str(Path(locator).expanduser().absolute())
        if key not in out:
            out.append(key)
    return out


# -- the scan


def _fetch_and_record(
    feed: str,
    *,
    state: ScanState,
    client: httpx.Client,
    config: Config,
    now: Callable[[], datetime],
    since: datetime | None,
    summary: ScanSummary,
) -> None:
    at = now()
    etag, last_modified = state.validators(feed)
    try:
        if is_web_url(feed):
            fetched = fetch_feed(
                client,
                feed,
                etag=etag,
                last_modified=last_modified,
                max_bytes=config.max_page_bytes,
                max_seconds=config.timeout * DOWNLOAD_TIMEOUTS,
            )
        else:
            fetched = read_feed_file(feed, etag=etag, max_bytes=config.max_page_bytes)
        if fetched.not_modified:
            state.record_not_modified(feed, at, fetched.etag, fetched.last_modified)
            summary.feeds_not_modified += 1
            return
        items = feed_items(fetched.content, feed, at, fetched.content_type)
    except FeedError as exc:
        state.record_feed_failure(feed, at, str(exc))
        summary.feeds_failed += 1
        summary.failures.append(ScanFailure(FailureKind.FEED, feed, str(exc)))
        return
    counts = state.record_feed_items(
        feed, items, at=at, etag=fetched.etag, last_modified=fetched.last_modified, since=since
    )
    summary.feeds_fetched += 1
    summary.items_skipped += counts.unchanged + counts.skipped


def _entry(
    item: PendingItem,
    *,
    status: ItemStatus,
    at: datetime,
    report: Report | None,
    reports: dict[str, str],
    error: str | None,
) -> dict[str, Any]:
    doc = item.document
    labels = {label.value: 0 for label in Label}
    if report is not None:
        labels = {label.value: n for label, n in report.label_counts().items()}
    return {
        "item_id": item.id,
        "revision": item.revision + 1,
        # An abandoned item is indexed as failed: the index says how it ended.
        "status": ItemStatus.FAILED.value if status is ItemStatus.ABANDONED else status.value,
        "feed": item.feed,
        "title": doc.title,
        "link": doc.url,
        "published": iso(doc.published),
        "content_hash": item.content_hash,
        "processed_at": iso(at),
        "claims": sum(labels.values()),
        "labels": labels,
        "reports": reports,
        "error": error,
    }


def _record_final(
    state: ScanState,
    out_dir: Path,
    item: PendingItem,
    status: str,
    entry: dict[str, Any],
    at: datetime,
) -> None:
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    state.finish_item(item, at=at, status=status, index_line=line, error=entry["error"])
    append_line(out_dir / INDEX_NAME, line)
    state.index_written(item.id)


def scan_feeds(
    feeds: Sequence[str],
    *,
    state: ScanState,
    out_dir: Path,
    config: Config,
    client: httpx.Client,
    pubmed: PubMed,
    models: Models | Callable[[], Models],
    now: Callable[[], datetime],
    formats: Sequence[str] = ("json",),
    since: datetime | None = None,
    max_items: int | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    on_item: Callable[[ItemOutcome], None] | None = None,
) -> ScanSummary:
    """Fetch feeds, check every unseen or edited item, and write one report per item.

    Args:
        feeds: Feed locators from :func:`normalize_feeds`.
        state: The open, locked state (:meth:`ScanState.open`).
        out_dir: Reports (``<item id>.<ext>``) and ``index.jsonl`` go here.
        config: Run settings (size cap, retrieval).
        client: HTTP client for the feeds; item links are never fetched.
        pubmed: E-utilities client.
        models: Loaded models, or a function loading them, called only when some
            item needs checking (an all-304 run never loads them).
        now: Clock for fetch, report and processing times.
        formats: Report formats, keys of :data:`EXTENSIONS`.
        since: Items published before this are recorded and skipped.
        max_items: Check at most this many items; the rest wait for later runs.
        max_attempts: Runs that may try one item before it is abandoned.
        on_item: Called after each item is fully recorded (tests slow runs down here).

    Returns:
        The run's counts and failures.

    Raises:
        ConfigError: Unknown format, or ``out_dir`` differs from the state's.
        ReportError: ``out_dir`` or ``index.jsonl`` cannot be written.
    """
    for fmt in formats:
        if fmt not in EXTENSIONS:
            raise ConfigError(f"feed reports can be {', '.join(EXTENSIONS)}, not {fmt!r}")
    formats = tuple(dict.fromkeys(formats))
    out_dir.mkdir(parents=True, exist_ok=True)
    state.bind_output(out_dir)
    remove_temp_files(out_dir)
    repair_index(state, out_dir)
    state.recover_interrupted()

    summary = ScanSummary()
    for feed in feeds:
        _fetch_and_record(
            feed,
            state=state,
            client=client,
            config=config,
            now=now,
            since=since,
            summary=summary,
        )

    loaded: list[Models] = []

    def get_models() -> Models:
        if not loaded:
            loaded.append(models() if callable(models) else models)
        return loaded[0]

    pending = state.pending_items(feeds, max_attempts)
    if max_items is not None:
        summary.items_deferred += max(0, len(pending) - max_items)
        pending = pending[:max_items]
    for n, item in enumerate(pending):
        outcome = _check_item(
            item,
            state=state,
            out_dir=out_dir,
            config=config,
            pubmed=pubmed,
            models=get_models,
            now=now,
            formats=formats,
            max_attempts=max_attempts,
            summary=summary,
        )
        if on_item is not None:
            on_item(outcome)
        if outcome.error is not None and outcome.error.startswith(_PUBMED_DOWN):
            # E-utilities is most likely down: stop spending attempts on the
            # remaining items; they keep their place for the next run.
            summary.items_deferred += len(pending) - n - 1
            break

    for item in state.exhausted_items(feeds, max_attempts):
        # Failed on an earlier run's last attempt, or killed the run on it.
        error = state.item_error(item.id) or "failed"
        at = now()
        entry = _entry(
            item, status=ItemStatus.ABANDONED, at=at, report=None, reports={}, error=error
        )
        _record_final(state, out_dir, item, "abandoned", entry, at)
        summary.items_failed += 1
        summary.failures.append(ScanFailure(FailureKind.ITEM, _subject(item), error, final=True))
        if on_item is not None:
            on_item(ItemOutcome(item.id, ItemStatus.ABANDONED, entry, error))
    return summary


def _subject(item: PendingItem) -> str:
    return f"{item.id} ({item.document.title})"


def _check_and_write(
    item: PendingItem,
    *,
    out_dir: Path,
    config: Config,
    pubmed: PubMed,
    models: Callable[[], Models],
    now: Callable[[], datetime],
    formats: Sequence[str],
) -> tuple[Report, dict[str, str]] | str:
    """Check one item and put its reports in place; the error message on failure."""
    try:
        doc_reports, failures = check_documents(
            [item.document], config=config, pubmed=pubmed, models=models()
        )
        if failures:
            # A claim without evidence because E-utilities failed would be reported
            # as if nothing were known; retry the item instead.
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            return f"{_PUBMED_DOWN}{failures[0].message}{more}"
        report = Report(generated_at=now(), documents=tuple(doc_reports), sources=(item.feed,))
        paths: dict[str, str] = {}
        for fmt in formats:
            name = f"{item.id}.{EXTENSIONS[fmt]}"
            write_report(report, fmt, out_dir / name)
            paths[fmt] = name
    except ClaimscanError as exc:
        return f"{type(exc).__name__}: {exc}"
    return report, paths


def _check_item(
    item: PendingItem,
    *,
    state: ScanState,
    out_dir: Path,
    config: Config,
    pubmed: PubMed,
    models: Callable[[], Models],
    now: Callable[[], datetime],
    formats: Sequence[str],
    max_attempts: int,
    summary: ScanSummary,
) -> ItemOutcome:
    state.start_item(item.id)
    result = _check_and_write(
        item,
        out_dir=out_dir,
        config=config,
        pubmed=pubmed,
        models=models,
        now=now,
        formats=formats,
    )
    at = now()
    if isinstance(result, str):
        summary.items_failed += 1
        if item.attempts + 1 >= max_attempts:
            entry = _entry(
                item, status=ItemStatus.ABANDONED, at=at, report=None, reports={}, error=result
            )
            _record_final(state, out_dir, item, "abandoned", entry, at)
            summary.failures.append(
                ScanFailure(FailureKind.ITEM, _subject(item), result, final=True)
            )
            return ItemOutcome(item.id, ItemStatus.ABANDONED, entry, result)
        state.fail_item(item.id, result)
        summary.failures.append(ScanFailure(FailureKind.ITEM, _subject(item), result))
        return ItemOutcome(item.id, ItemStatus.FAILED, None, result)
    report, paths = result
    change = ItemStatus(item.change)
    entry = _entry(item, status=change, at=at, report=report, reports=paths, error=None)
    _record_final(state, out_dir, item, "done", entry, at)
    if change is ItemStatus.UPDATED:
        summary.items_updated += 1
    else:
        summary.items_new += 1
    for label, count in report.label_counts().items():
        summary.claims[label.value] += count
    return ItemOutcome(item.id, change, entry, None)
