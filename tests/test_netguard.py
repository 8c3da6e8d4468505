"""The public-only fetching rule: private targets refused, directly or by redirect."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from pipeline.config import Config
from pipeline.errors import PageError, PrivateAddressRefused
from pipeline.http import build_client
from pipeline.ingest.pages import fetch
from pipeline.netguard import PublicOnlyTransport, is_public_address

PUBLIC = "93.184.216.34"
NAMES = {
    "news.example": [PUBLIC],
    "intranet.example": ["10.0.0.7"],
    # One public and one private answer: refused, or a retry could land on the private one.
    "split.example": [PUBLIC, "192.168.1.1"],
    "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "mapped.example": ["::ffff:127.0.0.1"],
}


def _resolve(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError(f"unknown host {host}")
    return NAMES[host]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_is_public_address_refuses_internal(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", PUBLIC, "2001:4860:4860::8888"])
def test_is_public_address_accepts_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def _guarded(handler) -> httpx.Client:  # type: ignore[no-untyped-def]
    transport = PublicOnlyTransport(httpx.MockTransport(handler), resolve=_resolve)
    return httpx.Client(transport=transport, follow_redirects=True)


def test_public_only_connects_to_the_checked_address_with_the_name_as_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    with _guarded(handler) as client:
        response = client.get("https://news.example/story?id=1")
    assert response.text == "ok" and str(response.url) == "https://news.example/story?id=1"
    (sent,) = seen
    assert sent.url.host == PUBLIC and sent.headers["host"] == "news.example"
    assert sent.extensions["sni_hostname"] == "news.example"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://intranet.example/",
        "http://split.example/",
        "http://mapped.example/",
    ],
)
def test_public_only_refuses_private_targets(url: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"{request.url} was reached")

    with _guarded(handler) as client, pytest.raises(PrivateAddressRefused, match="refused"):
        client.get(url)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://169.254.169.254/",
        "http://intranet.example/",
    ],
)
def test_public_only_refuses_a_redirect_to_a_private_target(target: str) -> None:
    reached: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append(request.headers["host"])
        return httpx.Response(302, headers={"Location": target})

    with _guarded(handler) as client, pytest.raises(PrivateAddressRefused):
        client.get("http://news.example/r")
    assert reached == ["news.example"]


def test_public_only_unknown_name_is_a_connect_error() -> None:
    with _guarded(lambda r: httpx.Response(200)) as client, pytest.raises(httpx.ConnectError):
        client.get("http://nowhere.example/")


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"<html><body><p>Vitamin D prevents falls in older adults.</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def local_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page"
    server.shutdown()
    server.server_close()


def test_build_client_public_only_refuses_a_real_local_server(local_url: str) -> None:
    config = Config()
    with build_client(config, public_only=True) as client:
        with pytest.raises(PageError, match="loopback address.*--allow-private-urls"):
            fetch(client, local_url, max_bytes=10_000)
    with build_client(config) as client:
        assert b"Vitamin D" in fetch(client, local_url, max_bytes=10_000).content
