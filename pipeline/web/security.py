"""Who may use the web app, and what a browser may do with its pages. No I/O.

:class:`Guard` is ASGI middleware in front of every route:

* **Hosts.** Without a token the server is bound to loopback and only answers requests
  addressed to ``localhost``, ``127.0.0.1`` or ``[::1]``, so a web page cannot reach it
  through a name it re-points at 127.0.0.1 (DNS rebinding).
* **Token.** With a token, every request except ``GET /healthz``, the login page and the
  static files must carry it: ``Authorization: Bearer <token>``, or the cookie the login
  form sets (a digest of the token, never the token itself).
* **Cross-site requests.** A POST that a browser marks ``Sec-Fetch-Site`` other than
  ``same-origin``, or (without that header) whose ``Origin`` is not this server, is
  refused. Forms also carry a
  CSRF token (:func:`csrf_token`) bound to a per-browser cookie, and the JSON API only
  takes ``application/json``, which no cross-site form can send.
* **Headers.** Every response gets a strict Content-Security-Policy (scripts, styles and
  requests from this server only; no inline script, no framing), ``nosniff`` and
  ``no-referrer``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "AUTH_COOKIE",
    "CSP",
    "CSRF_COOKIE",
    "Guard",
    "auth_cookie_value",
    "csrf_token",
    "csrf_valid",
]

AUTH_COOKIE = "claimscan_auth"
CSRF_COOKIE = "claimscan_csrf"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def auth_cookie_value(token: str) -> str:
    """What the login cookie holds for ``token``: a digest, so the cookie jar never has
    the token itself; a new token logs every browser out."""
    return hashlib.sha256(f"claimscan-login:{token}".encode()).hexdigest()


def csrf_token(secret: bytes, browser: str) -> str:
    """The CSRF token forms must carry for the browser whose cookie is ``browser``."""
    return hmac.new(secret, f"csrf:{browser}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, browser: str | None, given: object) -> bool:
    """True when ``given`` (a form field) is the CSRF token for this browser's cookie."""
    if not browser or not isinstance(given, str):
        return False
    return hmac.compare_digest(csrf_token(secret, browser), given)


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """The middleware described in the module docstring.

    Args:
        app: The application behind it.
        token: Required on every request when set, except ``GET /healthz``, the login
            page and the static files.
        allowed_hosts: Host names accepted in the ``Host`` header; None accepts any.
    """

    def __init__(
        self, app: ASGIApp, *, token: str | None, allowed_hosts: Iterable[str] | None
    ) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = None if allowed_hosts is None else frozenset(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope["path"]
        method: str = scope["method"]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k, v) for k, v in _SECURITY_HEADERS]
                if path.startswith("/api/"):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        host = _host_name(headers.get("host", ""))
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            await _refuse(
                send_secured,
                400,
                f"this server answers only to {', '.join(sorted(self.allowed_hosts))}; "
                "to reach it by another name, start it with --token",
            )
            return
        open_path = (
            (path == "/healthz" and method in {"GET", "HEAD"})
            or path == "/login"
            or path.startswith("/static/")
        )
        if self.token is not None and not open_path and not self._authorised(headers):
            if method == "GET" and not path.startswith("/api/"):
                query = scope["query_string"].decode("latin-1")
                target = quote(path + ("?" + query if query else ""))
                await _redirect(send_secured, f"/login?next={target}")
            else:
                await _refuse(
                    send_secured,
                    401,
                    "this server needs its token: send 'Authorization: Bearer <token>' "
                    "or log in at /login",
                    extra=[(b"www-authenticate", b'Bearer realm="claimscan"')],
                )
            return
        if method not in {"GET", "HEAD", "OPTIONS"} and not _same_origin(headers):
            await _refuse(send_secured, 403, "cross-site requests are refused")
            return
        await self.app(scope, receive, send_secured)

    def _authorised(self, headers: Headers) -> bool:
        assert self.token is not None
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return True
        cookie = SimpleCookie()
        cookie.load(headers.get("cookie", ""))
        morsel = cookie.get(AUTH_COOKIE)
        return morsel is not None and hmac.compare_digest(
            morsel.value.encode(), auth_cookie_value(self.token).encode()
        )


def _same_origin(headers: Headers) -> bool:
    site = headers.get("sec-fetch-site")
    if site is not None:
        # Set by the browser itself and never by a page, so it is the better witness:
        # with "Referrer-Policy: no-referrer" (our pages' policy), a same-origin form
        # post carries "Origin: null".
        return site in {"same-origin", "none"}
    origin = headers.get("origin")
    if origin is None:
        # Browsers send Origin on every cross-site POST; clients such as curl send none.
        return True
    # The scheme is not compared: behind a proxy that ends TLS, the page is https while
    # this server sees http. Host and port are what tell another site apart.
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


async def _refuse(
    send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def new_browser_id() -> str:
    """A fresh value for the per-browser CSRF cookie."""
    return secrets.token_urlsafe(24)
