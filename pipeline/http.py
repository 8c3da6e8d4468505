"""The one place an ``httpx.Client`` is built: timeouts, redirects, User-Agent.

Performs no I/O itself; the client it returns does.
"""

from __future__ import annotations

import httpx

from pipeline.config import Config

MAX_REDIRECTS = 5


def build_client(
    config: Config, transport: httpx.BaseTransport | None = None, *, public_only: bool = False
) -> httpx.Client:
    """Return an HTTP client with claimscan's timeouts, redirect policy and User-Agent.

    Args:
        config: Supplies the timeout and User-Agent.
        transport: Replaces the network, e.g. ``httpx.MockTransport`` in tests.
        public_only: Refuse loopback, link-local and private addresses, on every
            redirect hop too (``pipeline.netguard``); for URLs typed by other people.
    """
    if public_only:
        from pipeline.netguard import PublicOnlyTransport

        transport = PublicOnlyTransport(transport)
    return httpx.Client(
        timeout=httpx.Timeout(config.timeout, connect=min(10.0, config.timeout)),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": config.user_agent},
        transport=transport,
        # Proxies from the environment are honoured as users expect of a CLI. A public-only
        # client goes direct: a proxy would resolve the name itself, past the check.
        trust_env=not public_only,
    )
