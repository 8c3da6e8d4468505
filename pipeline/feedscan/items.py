"""Feed bodies to identified items: stable ids, content hashes, documents. Pure.

An item's id must survive every rerun, so it is derived from what the publisher says
identifies the item, never from its position in the feed:

* an http(s) ``guid`` (WordPress ``?p=123``, permalinks) or, failing that, the item's
  http(s) ``link``: globally unique, so the same article in two tag feeds is one item;
* any other ``guid`` (``"42"``, ``tag:...``): unique only within its feed, so it is
  scoped by the feed URL;
* nothing at all: the content hash, so identical text is one item wherever it appears.

Ids are hex digests, safe as file names whatever the guid held (``../``, ``/``, NUL).

An item's document waits in the scan state as JSON, in the form a JSON report writes
documents (:func:`pipeline.report.json.document_to_dict`): one codec for both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from claims.types import Document
from pipeline.errors import ConfigError, ReportError
from pipeline.ingest.feeds import parse_feed_entries
from pipeline.report.json import document_from_dict, document_to_dict

__all__ = [
    "ID_LENGTH",
    "FeedItem",
    "content_hash",
    "document_from_json",
    "document_to_json",
    "feed_items",
    "item_id",
]

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


def document_to_json(doc: Document) -> str:
    """Serialise a document for the ``items.document`` column, as a JSON report writes it.

    Pure.
    """
    return json.dumps(document_to_dict(doc), ensure_ascii=False)


def _from_flat(data: dict[str, Any]) -> dict[str, Any]:
    # States written before #15 kept their own flat form: "source" and "kind" side by
    # side, headings as [offset, text] pairs. Read into the report's form, so that one
    # validating codec reads both and a pending item survives the upgrade.
    out = dict(data)
    out["source"] = {"locator": data.get("source"), "kind": data.get("kind")}
    out.pop("kind", None)
    headings = data.get("headings", [])
    out["headings"] = [
        {"offset": h[0], "text": h[1]} if isinstance(h, list) and len(h) == 2 else h
        for h in (headings if isinstance(headings, list) else [])
    ]
    return out


def document_from_json(text: str) -> Document:
    """Inverse of :func:`document_to_json`; also reads the flat form of older states. Pure.

    Raises:
        ConfigError: The stored document is not valid JSON or misses a field.
    """
    try:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("source"), str):
            data = _from_flat(data)
        return document_from_dict(data, "stored document")
    except (ValueError, ReportError) as exc:
        raise ConfigError(
            f"a pending item in the scan state cannot be read ({exc}); "
            "start a new --state or delete the item"
        ) from exc
