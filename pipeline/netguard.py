"""Refuse fetches that would reach loopback, link-local or private addresses. DNS lookups.

A server that fetches URLs its users type (``claimscan serve``) must not become a way
into the network it runs in: ``http://169.254.169.254/`` (cloud metadata),
``http://127.0.0.1:6379/``, a router at ``10.0.0.1``, or a public name that resolves to
any of these, or that redirects to one. :class:`PublicOnlyTransport` wraps an httpx
transport and, for every request it is handed (httpx hands it each redirect hop
separately), resolves the host, refuses it unless every address is public, and then
connects to the address it checked, so a name cannot resolve to a public address for
the check and a private one for the connection (DNS rebinding).

``pipeline.http.build_client(config, public_only=True)`` switches it on.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

import httpx

from pipeline.errors import PrivateAddressRefused

__all__ = ["PublicOnlyTransport", "is_public_address", "resolve_host"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


def is_public_address(address: IPAddress) -> bool:
    """True when ``address`` is a globally routable unicast address. Pure.

    Loopback, private, link-local, carrier-grade NAT, unspecified, multicast, reserved
    and documentation ranges are not public, and neither is an IPv6 address that embeds
    one of them (IPv4-mapped ``::ffff:127.0.0.1``, 6to4 ``2002:7f00:1::``, Teredo).
    """
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return is_public_address(embedded)
    return True


def _kind(address: IPAddress) -> str:
    # Names a user recognises in the refusal message; the order matters, since a
    # loopback address is also "private" to the ipaddress module.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _kind(address.ipv4_mapped)
    for attribute, name in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_unspecified", "an unspecified"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
    ):
        if getattr(address, attribute):
            return name
    return "a non-public"


def resolve_host(host: str, port: int) -> list[str]:
    """Return every address ``host`` resolves to for TCP on ``port`` (system resolver).

    Raises:
        OSError: The name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class PublicOnlyTransport(httpx.BaseTransport):
    """An httpx transport that only ever connects to public addresses.

    Args:
        inner: Sends the checked request; defaults to an ``httpx.HTTPTransport`` that
            keeps no idle connections, because a pooled connection is keyed by address
            and could otherwise carry a second host name over a TLS session verified
            for the first.
        resolve: ``(host, port) -> addresses``; tests pass a table.

    Raises (from ``handle_request``):
        PrivateAddressRefused: The host is, or resolves to, a non-public address.
        httpx.ConnectError: The host name does not resolve.
    """

    def __init__(
        self, inner: httpx.BaseTransport | None = None, *, resolve: Resolver = resolve_host
    ) -> None:
        self._inner = inner or httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
        self._resolve = resolve

    def _checked_address(self, url: httpx.URL) -> str:
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found: Sequence[str] = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                found = self._resolve(host, port)
            except OSError as exc:
                raise httpx.ConnectError(f"{host} does not resolve: {exc}") from exc
        if not found:
            raise httpx.ConnectError(f"{host} does not resolve to any address")
        # A scoped IPv6 address ("fe80::1%eth0") is link-local, whatever the scope.
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        for address in addresses:
            if not is_public_address(address):
                shown = host if str(address) == host else f"{host} ({address})"
                raise PrivateAddressRefused(
                    f"{url}: refused to fetch {shown}, {_kind(address)} address; this "
                    "server fetches public addresses only (start it with "
                    "--allow-private-urls to lift this)",
                    subject=str(url),
                )
        return str(addresses[0])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check the request's host, then send it to the address that was checked."""
        address = self._checked_address(request.url)
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            # The certificate is still verified against the name, not the address.
            extensions["sni_hostname"] = request.url.host
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=address),
            # httpx set Host from the original URL; it stays as it was.
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        return self._inner.handle_request(pinned)

    def close(self) -> None:
        self._inner.close()
