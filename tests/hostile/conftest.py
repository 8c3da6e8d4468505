"""Fixtures for hostile-input tests: the corpus, a misbehaving web server, a resetting socket.

Network I/O: servers listen on 127.0.0.1 (free ports) in daemon threads.
"""

from __future__ import annotations

import functools
import gzip
import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BIG = 11 * 1024 * 1024
"""Bytes in the oversized bodies: over the 10 MiB default cap."""


def corpus(name: str) -> bytes:
    """Return the bytes of ``tests/corpus/<name>``."""
    return (CORPUS / name).read_bytes()


@functools.cache
def gzip_bomb() -> bytes:
    """64 MiB of zeros, gzip-compressed to about 64 KiB."""
    return gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path.startswith("/corpus/"):
            name = path.removeprefix("/corpus/")
            ctype = self.headers.get("X-Test-Type") or "text/html; charset=utf-8"
            if name.endswith(".xml"):
                ctype = "application/rss+xml; charset=utf-8"
            self._send(200, corpus(name), ctype)
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[-1])
            self._send(code, b"<html><body><p>Error page</p></body></html>", "text/html")
        elif path.startswith("/always/"):
            # /always/<code>/<anything>: an E-utilities base URL that only ever fails.
            code = int(path.split("/")[2])
            self._send(code, b"<html><body>Bad Request</body></html>", "text/html")
        elif path == "/redirect-loop":
            self._send(302, b"", "text/plain", Location="/redirect-loop")
        elif path == "/redirect-file":
            self._send(302, b"", "text/plain", Location="file:///etc/passwd")
        elif path == "/pdf-as-html":
            self._send(200, corpus("pages/pdf_named_html.html"), "text/html")
        elif path == "/pdf-typed":
            self._send(200, corpus("pages/pdf_named_html.html"), "application/pdf")
        elif path == "/png-as-html":
            self._send(200, corpus("pages/png_named_html.html"), "text/html")
        elif path == "/latin1-as-utf8":
            self._send(200, corpus("pages/latin1_declared_utf8.html"), "text/html; charset=utf-8")
        elif path == "/no-charset-feed":
            self._send(200, corpus("feeds/latin1_declared_utf8.xml"), "text/html")
        elif path == "/huge-declared":
            # Claims 11 MiB up front and sends nothing: refused before reading.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
        elif path == "/gzip-bomb":
            # Small on the wire, over the cap once decoded: the cap counts decoded bytes.
            self._send(200, gzip_bomb(), "text/html", Content_Encoding="gzip")
        elif path == "/gzip-page":
            page = b"<html><head><title>Zipped</title></head><body><p>"
            page += b"Regular exercise reduces chronic low back pain in adults.</p></body></html>"
            self._send(200, gzip.compress(page), "text/html", Content_Encoding="gzip")
        elif path == "/huge-chunked":
            self._stream_chunked(BIG)
        elif path == "/slow-headers":
            time.sleep(3)
            self._send(200, b"<p>late</p>", "text/html")
        elif path == "/slow-drip":
            # Each byte arrives inside the read timeout, so only a total deadline stops it.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "200")
            self.end_headers()
            for _ in range(200):
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self._send(404, b"not found", "text/plain")

    def _stream_chunked(self, total: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"Exercise helps. " * 4096
        sent = 0
        try:
            while sent < total:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            # The client hangs up once the cap is hit; that is the expected outcome.
            pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture(scope="session")
def web() -> Iterator[str]:
    """Base URL (no trailing slash) of a local server full of broken and hostile answers."""
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    host, port = httpd.server_address[:2]
    yield f"http://{host}:{port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def resetting() -> Iterator[str]:
    """Base URL of a server that reads each request and answers with a TCP reset."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                # SO_LINGER with a zero timeout makes close() send RST, not FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = sock.getsockname()[:2]
    yield f"http://{host}:{port}"
    stop.set()
    thread.join(timeout=2)
    sock.close()
