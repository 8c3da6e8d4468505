"""Feed bodies to identified items: stable ids, content hashes, documents. Pure.

An item's id must survive every rerun, so it is derived from what the publisher says
identifies the item, never from its position in the feed:

* an http(s) ``guid`` (WordPress ``?p=123``, permalinks) or, failing that, the item's
  http(s) ``link``: globally unique, so the same article in two tag feeds is one item;
* any other ``guid`` (``"42"``, ``tag:...``): unique only within its feed, so it is
  scoped by the feed URL;
* nothing at all: the content hash, so identical text is one item wherever it appears.

Ids are hex digests, safe as file names whatever the guid held (``../``, ``/``, NUL).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from claims.types import Document
from pipeline.ingest.feeds import parse_feed_entries

__all__ = ["ID_LENGTH", "FeedItem", "content_hash", "feed_items", "item_id"]

ID_LENGTH = 20
"""Hex characters kept from the sha256 (80 bits): short file names, no practical collisions."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One feed entry, identified. Created by :func:`feed_items`."""

    id: str
    """Stable hex id; the report file name stem."""
    key: str
    """What the id was derived from: ``guid:...``, ``link:...`` or ``hash:...``."""
    content_hash: str
    """sha256 of the title and cleaned text; a change means the item was edited."""
    document: Document


def _is_web(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def content_hash(document: Document) -> str:
    """Return the sha256 hex digest of a document's title and text.

    Hashing the cleaned text rather than the raw entry means markup-only edits
    (tracking parameters, reflowed HTML) do not trigger a re-check.
    """
    return hashlib.sha256(f"{document.title}\x00{document.text}".encode()).hexdigest()


def item_id(feed_url: str, guid: str, link: str, digest: str) -> tuple[str, str]:
    """Return ``(id, key)`` for an item; see the module docstring for the rules.

    Args:
        feed_url: The feed's URL or absolute path.
        guid: The entry's guid/id, or ``""``.
        link: The entry's http(s) link, or ``""``.
        digest: The entry's :func:`content_hash`.
    """
    guid = guid.strip()
    if guid and _is_web(guid):
        key = f"guid:{guid}"
    elif guid:
        key = f"guid:{feed_url}\x00{guid}"
    elif link and _is_web(link):
        key = f"link:{link}"
    else:
        key = f"hash:{digest}"
    return hashlib.sha256(key.encode()).hexdigest()[:ID_LENGTH], key


def feed_items(
    data: bytes, url: str, fetched_at: datetime, content_type: str = ""
) -> list[FeedItem]:
    """Parse a feed body into identified items, in feed order.

    Args:
        data: The raw feed bytes.
        url: The feed URL or absolute path (scopes non-URL guids).
        fetched_at: Recorded on each document.
        content_type: The HTTP Content-Type, for the charset.

    Returns:
        One item per entry with text; duplicate ids within one body are dropped
        after the first, as a feed listing an entry twice means one item.

    Raises:
        FeedError: The body is not a feed or has no usable items.
    """
    items: list[FeedItem] = []
    seen: set[str] = set()
    for guid, doc in parse_feed_entries(data, url, fetched_at, content_type):
        digest = content_hash(doc)
        link = doc.url if _is_web(doc.url) else ""
        ident, key = item_id(url, guid, link, digest)
        if ident in seen:
            continue
        seen.add(ident)
        items.append(FeedItem(ident, key, digest, doc))
    return items
