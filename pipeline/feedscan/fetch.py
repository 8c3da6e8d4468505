"""Conditional feed fetching over HTTP, and reading feed files. Network and file I/O.

An unchanged feed must cost one ``304 Not Modified``, so requests carry the
``If-None-Match`` / ``If-Modified-Since`` validators saved from the last 200. Bodies
are capped at ``Config.max_page_bytes``, as pages are. Local files have no validators;
the sha256 of their bytes stands in for an ETag.

The HTTP work (size cap, total-time cap, scheme and status checks) is
:func:`pipeline.ingest.pages.fetch`'s; everything raised here is a
:class:`~pipeline.errors.FeedError` naming the feed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.errors import FeedError, PageError
from pipeline.ingest.pages import fetch

__all__ = ["FeedFetch", "fetch_feed", "is_web_url", "read_feed_file"]

_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/feed+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FeedFetch:
    """One fetch of a feed. Created by :func:`fetch_feed` or :func:`read_feed_file`."""

    status: int
    """HTTP status: 200, or 304 when the saved validators still match (files: 200/304 too)."""
    content: bytes
    """The body; empty for 304."""
    content_type: str
    etag: str | None
    """Validator to send next time as ``If-None-Match``."""
    last_modified: str | None
    """Validator to send next time as ``If-Modified-Since``."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_web_url(locator: str) -> bool:
    """Return True for http(s) URLs (the only URLs fetched)."""
    return locator.lower().startswith(("http://", "https://"))


def fetch_feed(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    max_seconds: float | None = None,
) -> FeedFetch:
    """GET a feed, conditionally when validators from the last fetch are known.

    Args:
        client: From ``pipeline.http.build_client``.
        url: An http(s) URL.
        etag: Saved ``ETag``, sent as ``If-None-Match``.
        last_modified: Saved ``Last-Modified``, sent as ``If-Modified-Since``.
        max_bytes: Larger bodies are abandoned mid-download.
        max_seconds: Abandon a download that takes longer than this in all.

    Returns:
        The fetch; on 304 the saved validators are carried over when the server
        omits them.

    Raises:
        FeedError: Bad scheme, HTTP error status, timeout, network error or size cap.
    """
    if not is_web_url(url):
        raise FeedError(f"{url}: only http:// and https:// feed URLs are fetched", subject=url)
    headers = {"Accept": _ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        got = fetch(client, url, max_bytes=max_bytes, max_seconds=max_seconds, headers=headers)
    except PageError as exc:
        raise FeedError(f"{exc}; it will be retried next run", subject=url) from exc
    if got.status == 304:
        # Servers may omit validators on a 304; the saved ones still apply.
        return FeedFetch(304, b"", "", got.etag or etag, got.last_modified or last_modified)
    return FeedFetch(200, got.content, got.content_type, got.etag, got.last_modified)


def read_feed_file(path: str, *, etag: str | None, max_bytes: int) -> FeedFetch:
    """Read a local feed file, answering 304 when its bytes hash to the saved ``etag``.

    Args:
        path: An absolute file path.
        etag: The sha256 hex digest saved from the last read.
        max_bytes: Larger files are refused.

    Raises:
        FeedError: The file is missing, unreadable or too large.
    """
    file = Path(path)
    try:
        with file.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise FeedError(
            f"{path} cannot be read ({exc.strerror or exc}); it will be retried next run",
            subject=path,
        ) from exc
    if len(data) > max_bytes:
        raise FeedError(f"{path} is larger than the {max_bytes:,}-byte limit", subject=path)
    digest = hashlib.sha256(data).hexdigest()
    if digest == etag:
        return FeedFetch(304, b"", "", etag, None)
    return FeedFetch(200, data, "", digest, None)
