"""Web pages: fetching with a size cap (network I/O) and main-text extraction (pure).

``fetch`` is the only function here that touches the network; ``extract_page`` works
on bytes, so it is tested on files.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import trafilatura
from lxml import etree

from claims.types import Document, SourceKind
from pipeline.errors import PageError
from pipeline.ingest.byline import find_byline, tidy_author
from pipeline.ingest.text import decode, join_blocks

_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
)
_REFUSED_TYPES = (
    "image/",
    "audio/",
    "video/",
    "application/pdf",
    "application/zip",
    "application/octet-stream",
    "font/",
)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response body with what is needed to interpret it."""

    url: str
    """The final URL, after redirects."""
    content: bytes
    content_type: str
    fetched_at: datetime
    status: int = 200
    """200, or 304 when conditional request headers still matched (``content`` is empty)."""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def charset(self) -> str | None:
        m = re.search(r"charset=([\w.:-]+)", self.content_type, re.I)
        return m.group(1).strip("\"'") if m else None


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    now: datetime | None = None,
    max_seconds: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """GET a URL, refusing non-http(s) schemes, error statuses, binary types and huge bodies.

    Args:
        client: From ``pipeline.http.build_client`` (timeouts and redirect limits set there).
        url: An http(s) URL.
        max_bytes: Bodies larger than this are abandoned mid-download.
        now: Fetch time to record; defaults to the current UTC time.
        max_seconds: Abandon the download once it has taken this long in all. The
            client's timeouts apply to each read, so without this a server that sends
            one byte just inside the read timeout keeps us forever (#7).
        headers: Extra request headers, e.g. ``If-None-Match`` for a conditional GET.

    Raises:
        PageError: With the URL and the reason: bad scheme, HTTP status, timeout,
            redirect loop, binary content or size cap.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise PageError(f"{url}: only http:// and https:// URLs can be fetched", subject=url)
    deadline = time.monotonic() + max_seconds if max_seconds is not None else None
    try:
        with client.stream("GET", url, headers={"Accept": _ACCEPT, **(headers or {})}) as resp:
            etag = resp.headers.get("etag") or None
            last_modified = resp.headers.get("last-modified") or None
            if resp.status_code == 304:
                when = now or datetime.now(UTC)
                return Fetched(str(resp.url), b"", "", when, 304, etag, last_modified)
            if resp.status_code >= 300:
                raise PageError(
                    f"{url} returned HTTP {resp.status_code}; check the address", subject=url
                )
            ctype = resp.headers.get("content-type", "")
            if ctype.lower().startswith(_REFUSED_TYPES):
                raise PageError(f"{url} is {ctype.split(';')[0]}, not a page or feed", subject=url)
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise PageError(
                    f"{url} is {int(declared):,} bytes, over the {max_bytes:,}-byte limit",
                    subject=url,
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise PageError(
                        f"{url} is larger than the {max_bytes:,}-byte limit; not read",
                        subject=url,
                    )
                chunks.append(chunk)
                if deadline is not None and time.monotonic() > deadline:
                    raise PageError(
                        f"{url} took more than {max_seconds:g}s to download (server too "
                        "slow); try again later",
                        subject=url,
                    )
            final_url = str(resp.url)
    except httpx.TooManyRedirects as exc:
        raise PageError(f"{url} redirects too many times (a loop?)", subject=url) from exc
    except httpx.TimeoutException as exc:
        raise PageError(f"{url} timed out; try again later", subject=url) from exc
    except httpx.HTTPError as exc:
        raise PageError(f"{url} could not be fetched: {exc}", subject=url) from exc
    when = now or datetime.now(UTC)
    return Fetched(final_url, b"".join(chunks), ctype, when, resp.status_code, etag, last_modified)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_page(
    data: bytes, url: str, fetched_at: datetime, charset: str | None = None
) -> Document:
    """Extract an HTML page's main text (no navigation, ads or footers) with trafilatura.

    Args:
        data: The HTML bytes.
        url: The page URL or file path (recorded on the document).
        fetched_at: When it was fetched or read.
        charset: The declared charset, if any.

    Raises:
        PageError: No main text could be found.
    """
    html = decode(data, charset)
    xml = trafilatura.extract(
        html,
        url=url if url.startswith(("http://", "https://")) else None,
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_recall=True,
    )
    if not xml:
        raise PageError(f"{url}: no article text found on the page", subject=url)
    try:
        root = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise PageError(f"{url}: text extraction produced unreadable output", subject=url) from exc
    blocks: list[tuple[str, bool]] = []
    main = root.find("main")
    for el in (main if main is not None else root).iter("head", "p", "item", "quote", "code"):
        # Nested items (lists in quotes) would be counted twice; take leaves only.
        if any(child.tag in {"p", "item"} for child in el):
            continue
        blocks.append(("".join(el.itertext()), el.tag == "head"))
    text, headings = join_blocks(blocks)
    if not text:
        raise PageError(f"{url}: no article text found on the page", subject=url)
    # Meta tags and JSON-LD (read by trafilatura) first; a byline in the text otherwise.
    byline_author, byline_date = find_byline(text)
    return Document(
        url=url,
        source=url,
        kind=SourceKind.PAGE,
        title=root.get("title") or url,
        text=text,
        author=tidy_author(root.get("author")) or byline_author,
        published=_parse_date(root.get("date")) or byline_date,
        fetched_at=fetched_at,
        headings=headings,
    )
