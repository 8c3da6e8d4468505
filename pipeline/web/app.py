"""The ``claimscan serve`` application: pages, the JSON API, and their wiring. Network I/O
(it serves HTTP through whatever ASGI server runs it), database I/O through the store.

Routes::

    GET  /                      submit form and past checks (?q=, ?label=)
    POST /checks                the form: a link, pasted text, or a file   -> 303 /checks/{id}
    GET  /checks/{id}           live progress, then the annotated report with reviews
    POST /checks/{id}/claims/{claim}/review    the review form             -> 303
    GET  /checks/{id}/report.json              the JSON report with reviews (download)
    GET  /feeds, /feeds/items/{item}           a `claimscan feed` state, read-only
    GET|POST /login, POST /logout              the token as a cookie, for browsers
    GET  /healthz               200 once the models are loaded, 503 before
    POST /api/checks            {"url"} or {"text", "title"}               -> 202 {"id", ...}
    GET  /api/checks            past checks (?label=, ?q=, ?limit=)
    GET  /api/checks/{id}       {"id", "status", "progress", "error", "report", ...}
    POST /api/checks/{id}/claims/{claim}/review   {"reviewer", "label", "note"}
    GET  /static/{name}         the pages' CSS and JS (nothing is loaded from elsewhere)

Security (token, hosts, cross-site requests, headers) is :mod:`pipeline.web.security`;
the handlers are in :mod:`pipeline.web.pages` and :mod:`pipeline.web.api`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from pipeline.config import Config
from pipeline.pubmed.client import PubMed
from pipeline.run import Models
from pipeline.session import Session
from pipeline.web.api import api_create, api_get, api_list, api_review, healthz
from pipeline.web.common import WebSettings
from pipeline.web.pages import (
    check_page,
    feed_item_page,
    feeds_page,
    index,
    login,
    logout,
    report_json,
    review_form,
    static,
    submit_form,
)
from pipeline.web.security import Guard
from pipeline.web.store import Store
from pipeline.web.worker import Checker

__all__ = ["WebSettings", "create_app"]


def create_app(
    settings: WebSettings,
    config: Config,
    *,
    load_models: Callable[[], Models] | None = None,
    pubmed: PubMed | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Starlette:
    """Build the web application.

    The store is opened and the workers started when the app starts (its lifespan), so
    an ASGI server or ``TestClient`` used as a context manager runs the whole thing.

    Args:
        settings: Web settings.
        config: Settings for each check.
        load_models: Returns the models; by default those ``config`` names, loaded once.
        pubmed: The E-utilities client; by default one is opened from ``config``.
        transport: Replaces the network for page fetches (tests); the public-only rule
            still applies unless ``settings.allow_private_urls``.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store.open(settings.data_dir)
        session = Session.open(
            config,
            models=load_models,
            transport=transport,
            public_only=not settings.allow_private_urls,
            pubmed=pubmed,
        )
        checker = Checker(store, session, workers=settings.workers)
        app.state.store, app.state.checker = store, checker
        app.state.secret = store.secret()
        checker.start()
        try:
            yield
        finally:
            checker.stop()
            session.close()
            store.close()

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/checks", submit_form, methods=["POST"]),
        Route("/checks/{check_id}", check_page, methods=["GET"]),
        Route("/checks/{check_id}/report.json", report_json, methods=["GET"]),
        Route("/checks/{check_id}/claims/{claim_id}/review", review_form, methods=["POST"]),
        Route("/feeds", feeds_page, methods=["GET"]),
        Route("/feeds/items/{item_id}", feed_item_page, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/api/checks", api_create, methods=["POST"]),
        Route("/api/checks", api_list, methods=["GET"]),
        Route("/api/checks/{check_id}", api_get, methods=["GET"]),
        Route("/api/checks/{check_id}/claims/{claim_id}/review", api_review, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=settings.token, allowed_hosts=settings.allowed_hosts)],
        lifespan=lifespan,
        max_body_size=settings.max_body,
    )
    app.state.settings = settings
    app.state.config = config
    return app
