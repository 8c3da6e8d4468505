"""Ingest: turn a source (URL, file, stdin, literal text) into documents.

Performs network I/O (through the client it is given) and file reads; the parsing
itself lives in the pure modules beside this one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import httpx

from claims.types import Document, SourceKind
from pipeline.config import Config
from pipeline.errors import PageError
from pipeline.ingest.byline import find_byline
from pipeline.ingest.feeds import parse_feed
from pipeline.ingest.pages import extract_page, fetch
from pipeline.ingest.text import ContentKind, decode, markdown_headings, sniff

__all__ = [
    "DOWNLOAD_TIMEOUTS",
    "check_bytes",
    "check_source",
    "document_from_bytes",
    "document_from_text",
    "load_source",
    "read_file",
]

DOWNLOAD_TIMEOUTS = 3
"""A whole page or feed download may take this many ``Config.timeout`` periods."""


def _title_from_text(text: str, fallback: str) -> str:
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= 150 and not first.endswith((".", "!", "?")):
        return first
    return fallback


def document_from_text(
    text: str, locator: str, fetched_at: datetime, *, title: str | None = None
) -> Document:
    """Wrap plain text or Markdown as a document, finding Markdown headings.

    Raises:
        PageError: The text is empty once cleaned.
    """
    cleaned, headings = markdown_headings(text)
    if not cleaned:
        raise PageError(f"{locator}: the text is empty; nothing to check", subject=locator)
    author, published = find_byline(cleaned)
    return Document(
        url=locator,
        source=locator,
        kind=SourceKind.TEXT,
        title=title or (headings[0][1] if headings else _title_from_text(cleaned, locator)),
        text=cleaned,
        author=author,
        published=published,
        fetched_at=fetched_at,
        headings=headings,
    )


def document_from_bytes(
    data: bytes,
    locator: str,
    fetched_at: datetime,
    *,
    content_type: str = "",
    charset: str | None = None,
) -> list[Document]:
    """Detect what a body is (feed, HTML, text) and turn it into documents.

    Raises:
        FeedError: A feed with no usable items.
        PageError: Binary, empty or textless content.
    """
    try:
        kind = sniff(data, content_type)
    except PageError as exc:
        raise PageError(f"{locator}: {exc}", subject=locator) from exc
    if kind is ContentKind.FEED:
        return parse_feed(data, locator, fetched_at, content_type)
    if kind is ContentKind.HTML:
        return [extract_page(data, locator, fetched_at, charset)]
    return [document_from_text(decode(data, charset), locator, fetched_at)]


def _refused_scheme(locator: str) -> bool:
    return "://" in locator or locator.lower().startswith(("file:", "data:", "javascript:"))


def read_file(locator: str, max_bytes: int) -> bytes:
    """Read a local file named by the user, up to one byte past ``max_bytes``.

    Args:
        locator: The path as the user typed it; error messages repeat it once.
        max_bytes: The size cap; one more byte is read so callers can tell it was passed.

    Raises:
        PageError: The path does not exist, is a directory or cannot be read.
    """
    path = Path(locator).expanduser()
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "does not exist"
        raise PageError(f"{locator} {reason}; give a file, URL or -", subject=locator)
    try:
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1)
    except OSError as exc:
        raise PageError(f"{locator} cannot be read: {exc.strerror}", subject=locator) from exc


def check_source(locator: str, max_bytes: int) -> None:
    """Check a user-given source as far as can be done without the network or stdin.

    An http(s) URL or ``-`` passes (they can only be judged by reading them). A
    refused scheme fails, and a local file is read once (within the size cap) and
    looked at the way :func:`document_from_bytes` will, so a missing, unreadable,
    empty, binary or oversized file is refused in milliseconds rather than after the
    models have loaded.

    Raises:
        PageError: With one line naming the source once and the reason.
    """
    if locator == "-" or locator.lower().startswith(("http://", "https://")):
        return
    if _refused_scheme(locator):
        raise PageError(
            f"{locator}: only http(s) URLs, local paths and - (stdin) are accepted",
            subject=locator,
        )
    data = read_file(locator, max_bytes)
    if len(data) > max_bytes:
        raise PageError(
            f"{locator} is larger than the {max_bytes:,}-byte limit; not read", subject=locator
        )
    check_bytes(data, locator)


def check_bytes(data: bytes, label: str) -> None:
    """Refuse an empty or binary body, naming ``label`` once.

    Raises:
        PageError: The body is empty, or a PDF, image, archive or other binary data.
    """
    try:
        sniff(data)
    except PageError as exc:
        raise PageError(f"{label}: {exc}", subject=label) from exc


def load_source(
    locator: str,
    *,
    client: httpx.Client,
    config: Config,
    now: datetime,
    stdin: BinaryIO | None = None,
) -> list[Document]:
    """Read one user-given source: an http(s) URL, a file path, or ``-`` for stdin.

    Args:
        locator: What the user typed.
        client: Used for URLs only.
        config: Supplies the size cap and the download time limit.
        now: Recorded as the fetch time.
        stdin: Read when ``locator`` is ``-``.

    Raises:
        IngestError: For any source that cannot be turned into documents; the
            message names the source and the reason.
    """
    if locator.lower().startswith(("http://", "https://")):
        fetched = fetch(
            client,
            locator,
            max_bytes=config.max_page_bytes,
            now=now,
            max_seconds=config.timeout * DOWNLOAD_TIMEOUTS,
        )
        docs = document_from_bytes(
            fetched.content,
            fetched.url,
            now,
            content_type=fetched.content_type,
            charset=fetched.charset,
        )
        return docs
    if locator == "-":
        if stdin is None:
            raise PageError("stdin (-) was given but nothing can be read from it", subject="-")
        data = stdin.read(config.max_page_bytes + 1)
        label = "<stdin>"
    elif _refused_scheme(locator):
        raise PageError(
            f"{locator}: only http(s) URLs, local paths and - (stdin) are accepted",
            subject=locator,
        )
    else:
        data = read_file(locator, config.max_page_bytes)
        label = locator
    if len(data) > config.max_page_bytes:
        raise PageError(
            f"{label} is larger than the {config.max_page_bytes:,}-byte limit; not read",
            subject=label,
        )
    return document_from_bytes(data, label, now)
