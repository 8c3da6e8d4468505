"""RSS/Atom feeds to documents. Pure: parses bytes it is given, fetches nothing.

feedparser is handed a BytesIO, never a URL or bare string, because given those it
would fetch the URL or open the path itself.
"""

from __future__ import annotations

import calendar
import io
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from claims.types import Document, SourceKind
from pipeline.errors import FeedError
from pipeline.ingest.text import clean_text, html_fragment_to_text

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
# feedparser's "bozo" warnings that say nothing about whether the XML is readable.
_HARMLESS_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


def _declares_entities(data: bytes) -> bool:
    """True when the body contains an ``<!ENTITY`` declaration, in any byte encoding.

    The whole body is searched: comments before the DOCTYPE can push a declaration past
    any prefix. Dropping NUL bytes also finds it in UTF-16 and UTF-32 bodies, which
    feedparser decodes and expat then expands (#7).
    """
    return bool(_ENTITY_DECL.search(data) or _ENTITY_DECL.search(data.replace(b"\x00", b"")))


def _entry_body(entry: Any) -> tuple[str, tuple[tuple[int, str], ...]]:
    # content:encoded (entry.content) carries the full article; the summary is often
    # a teaser ending in "…", so it is the fallback only.
    contents = entry.get("content") or []
    best = max(contents, key=lambda c: len(c.get("value", "")), default=None)
    if best is not None and best.get("value", "").strip():
        value, ctype = best["value"], best.get("type", "text/html")
    else:
        detail = entry.get("summary_detail") or {}
        value, ctype = entry.get("summary", ""), detail.get("type", "text/html")
    if ctype in _HTML_TYPES or "<" in value:
        return html_fragment_to_text(value)
    return clean_text(value), ()


def _published(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed")
    # "in" first: a bare .get("updated_parsed") on an item whose published date did not
    # parse falls back to published_parsed with a DeprecationWarning (feedparser #310),
    # which strict warning filters turn into a crash (#7).
    if not parsed and "updated_parsed" in entry:
        parsed = entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (ValueError, OverflowError, OSError):
        # feedparser turns dates such as "0000-00-00" into year -1 or 0, which datetime
        # refuses; an unusable date is no reason to lose the item (#7).
        return None


def parse_feed(
    data: bytes, url: str, fetched_at: datetime, content_type: str = ""
) -> list[Document]:
    """Parse an RSS or Atom body into one document per item.

    Same as :func:`parse_feed_entries` without the guids.
    """
    return [doc for _, doc in parse_feed_entries(data, url, fetched_at, content_type)]


def parse_feed_entries(
    data: bytes, url: str, fetched_at: datetime, content_type: str = ""
) -> list[tuple[str, Document]]:
    """Parse an RSS or Atom body into (guid, document) per item.

    Args:
        data: The raw feed bytes.
        url: Where the feed came from (URL or path); items without a link get
            ``url#item-N``.
        fetched_at: When the bytes were fetched or read.
        content_type: The HTTP Content-Type, which feedparser uses for the charset.

    Returns:
        (guid, document) pairs in feed order, the guid "" when the item has none;
        items with no text are skipped.

    Raises:
        FeedError: The body is not a feed or has no usable items.
    """
    # Entity declarations are how billion-laughs and XXE payloads arrive; no real feed
    # needs them, so refuse the feed rather than trust each parser's expansion limits.
    if _declares_entities(data):
        raise FeedError(
            f"{url} declares XML entities in a DOCTYPE; refused as unsafe (possible entity "
            "expansion or external-entity attack)",
            subject=url,
        )
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": url, "content-type": content_type},
        resolve_relative_uris=False,
        sanitize_html=True,
    )
    entries = parsed.get("entries") or []
    if not entries:
        reason = parsed.get("bozo_exception")
        # A well-formed feed with no items is "empty", not "unreadable", even when
        # feedparser flags a missing Content-Type or a charset it had to correct (#7).
        if parsed.get("bozo") and not isinstance(reason, _HARMLESS_BOZO):
            raise FeedError(
                f"{url} is not a readable feed ({reason}); check that the URL points at RSS/Atom",
                subject=url,
            )
        raise FeedError(f"{url} has no items; nothing to check", subject=url)
    docs: list[tuple[str, Document]] = []
    for n, entry in enumerate(entries):
        text, headings = _entry_body(entry)
        if not text:
            continue
        link = entry.get("link") or ""
        # Only web links identify an item; anything else (javascript:, file:) is not a URL
        # we will show as a link or ever fetch.
        if not link.startswith(("http://", "https://")):
            link = f"{url}#item-{n + 1}"
        guid = str(entry.get("id") or "")
        docs.append(
            (
                guid,
                Document(
                    url=link,
                    source=url,
                    kind=SourceKind.FEED,
                    title=clean_text(entry.get("title", "")) or f"Item {n + 1}",
                    text=text,
                    author=clean_text(entry.get("author", "")) or None,
                    published=_published(entry),
                    fetched_at=fetched_at,
                    headings=headings,
                ),
            )
        )
    if not docs:
        raise FeedError(f"{url}: every item is empty; nothing to check", subject=url)
    return docs
