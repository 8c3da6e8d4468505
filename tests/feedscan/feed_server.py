"""A local HTTP server for feeds that change between runs. Network I/O on 127.0.0.1.

Each path serves a :class:`Feed` whose body the test replaces between runs. The
server answers ``304`` when ``If-None-Match`` matches the body's ETag (derived from
the body, as most servers do), and serves queued one-off statuses first
(``server.fail("/a.xml", 500)``). Every request is logged with its status.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

_MODIFIED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Item:
    """One RSS item."""

    guid: str | None
    title: str
    body: str
    link: str | None = None
    published: str | None = None
    """RFC 822 date, e.g. ``Mon, 08 Jun 2026 20:44:58 +0000``."""


def rss(items: list[Item], title: str = "Test feed") -> bytes:
    """Return an RSS 2.0 body holding ``items``."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>Test</description>",
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.published:
            parts.append(f"<pubDate>{item.published}</pubDate>")
        parts.append(f"<description>{escape(item.body)}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


@dataclass(slots=True)
class Feed:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: bool = True
    """Send an ETag (and honour If-None-Match)."""

    @property
    def tag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FeedServer:
    """Serve feeds from a dict of path -> :class:`Feed`; see the module docstring."""

    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.log: list[tuple[str, int]] = []
        self._faults: dict[str, deque[int]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def fail(self, path: str, *statuses: int) -> None:
        with self._lock:
            self._faults[path].extend(statuses)

    def statuses(self, path: str) -> list[int]:
        return [status for p, status in self.log if p == path]

    def answer(self, path: str, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if self._faults[path]:
                status = self._faults[path].popleft()
                self.log.append((path, status))
                return status, {"Content-Type": "text/html"}, b"<html>error</html>"
            feed = self.feeds.get(path)
            if feed is None:
                self.log.append((path, 404))
                return 404, {"Content-Type": "text/html"}, b"not found"
            headers = {"Content-Type": feed.content_type}
            if feed.etag:
                headers["ETag"] = feed.tag
                headers["Last-Modified"] = format_datetime(_MODIFIED, usegmt=True)
                if if_none_match == feed.tag:
                    self.log.append((path, 304))
                    return 304, {"ETag": feed.tag}, b""
            self.log.append((path, 200))
            return 200, headers, feed.body

    def __enter__(self) -> FeedServer:
        handler = type("Handler", (_Handler,), {"app": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    app: FeedServer
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        status, headers, body = self.app.answer(self.path, self.headers.get("If-None-Match"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
