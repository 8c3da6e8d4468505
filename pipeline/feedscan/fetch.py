"""Conditional feed fetching over HTTP, and reading feed files. Network and file I/O.

An unchanged feed must cost one ``304 Not Modified``, so requests carry the
``If-None-Match`` / ``If-Modified-Since`` validators saved from the last 200. Bodies
are capped at ``Config.max_page_bytes``, as pages are. Local files have no validators;
the sha256 of their bytes stands in for an ETag.

This module catches ``httpx.HTTPError`` because it is an ingest adapter (see
``pipeline/ingest/pages.py``); everything it raises is a :class:`~pipeline.errors.FeedError`
naming the feed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.errors import FeedError

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
) -> FeedFetch:
    """GET a feed, conditionally when validators from the last fetch are known.

    Args:
        client: From ``pipeline.http.build_client``.
        url: An http(s) URL.
        etag: Saved ``ETag``, sent as ``If-None-Match``.
        last_modified: Saved ``Last-Modified``, sent as ``If-Modified-Since``.
        max_bytes: Larger bodies are abandoned mid-download.

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
        with client.stream("GET", url, headers=headers) as resp:
            new_etag = resp.headers.get("etag") or None
            new_modified = resp.headers.get("last-modified") or None
            if resp.status_code == 304:
                return FeedFetch(304, b"", "", new_etag or etag, new_modified or last_modified)
            if resp.status_code >= 300:
                raise FeedError(
                    f"{url} returned HTTP {resp.status_code}; it will be retried next run",
                    subject=url,
                )
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(
                    f"{url} is {int(declared):,} bytes, over the {max_bytes:,}-byte limit",
                    subject=url,
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(
                        f"{url} is larger than the {max_bytes:,}-byte limit; not read",
                        subject=url,
                    )
                chunks.append(chunk)
            content_type = resp.headers.get("content-type", "")
    except httpx.TooManyRedirects as exc:
        raise FeedError(f"{url} redirects too many times (a loop?)", subject=url) from exc
    except httpx.TimeoutException as exc:
        raise FeedError(f"{url} timed out; it will be retried next run", subject=url) from exc
    except httpx.HTTPError as exc:
        raise FeedError(f"{url} could not be fetched: {exc}", subject=url) from exc
    return FeedFetch(200, b"".join(chunks), content_type, new_etag, new_modified)


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
