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

Security (token, hosts, cross-site requests, headers) is :mod:`pipeline.web.security`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from claims.types import Label
from pipeline.config import Config
from pipeline.errors import ClaimscanError
from pipeline.pubmed.client import PubMed
from pipeline.report.html import report_context
from pipeline.report.json import load_report
from pipeline.run import Models
from pipeline.web import feeds as feedstate
from pipeline.web.security import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    LOOPBACK_HOSTS,
    Guard,
    auth_cookie_value,
    csrf_token,
    csrf_valid,
    new_browser_id,
)
from pipeline.web.store import CheckRow, Store, effective_labels
from pipeline.web.views import (
    check_summary,
    environment,
    report_with_reviews,
    static_file,
)
from pipeline.web.worker import Checker

__all__ = ["WebSettings", "create_app"]

MAX_URL = 2048
MAX_TITLE = 300
MAX_REVIEWER = 80
MAX_NOTE = 2000
MAX_LIST = 200
STALE_FORM = "the form was out of date; reload the page and submit again"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How the web app runs; built by ``claimscan serve`` from its flags."""

    data_dir: Path
    """Holds the SQLite database of checks and reviews."""
    token: str | None = None
    """Required on every request but ``GET /healthz`` when set."""
    allowed_hosts: frozenset[str] | None = field(default=LOOPBACK_HOSTS)
    """``Host`` header values answered; None answers any (only sensible with a token)."""
    feeds_state: Path | None = None
    """A ``claimscan feed`` state database shown at ``/feeds``."""
    allow_private_urls: bool = False
    """Let checks fetch loopback, link-local and private addresses."""
    workers: int = 1
    """Checks run at once; the others wait in the queue."""
    max_body: int = 5 * 1024 * 1024
    """Largest request body, in bytes (413 beyond)."""
    max_queued: int = 100
    """Checks allowed to wait at once; more are refused with 503."""


class _Invalid(Exception):
    """A submission or review the user must correct; the message says how."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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

    def default_models() -> Models:
        from pipeline.api import models_for

        return models_for(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store.open(settings.data_dir)
        checker = Checker(
            store,
            config,
            load_models=load_models or default_models,
            allow_private_urls=settings.allow_private_urls,
            workers=settings.workers,
            pubmed=pubmed,
            transport=transport,
        )
        app.state.store, app.state.checker = store, checker
        app.state.secret = store.secret()
        checker.start()
        try:
            yield
        finally:
            checker.stop()
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


# -- helpers


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _checker(request: Request) -> Checker:
    return request.app.state.checker  # type: ignore[no-any-return]


def _settings(request: Request) -> WebSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with a CSRF token for this browser, setting its cookie if new."""
    browser = request.cookies.get(CSRF_COOKIE)
    fresh = not browser
    if fresh:
        browser = new_browser_id()
    settings = _settings(request)
    html = (
        environment()
        .get_template(template)
        .render(
            csrf=csrf_token(request.app.state.secret, str(browser)),
            feeds_enabled=settings.feeds_state is not None,
            logged_in=settings.token is not None and template != "login.html.j2",
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            str(browser),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return _page(request, "error.html.j2", status=status, message=message, status_code=status)


def _form_csrf_ok(request: Request, form: Any) -> bool:
    return csrf_valid(request.app.state.secret, request.cookies.get(CSRF_COOKIE), form.get("csrf"))


def _validate_submission(
    url: str, text: str, title: str, upload: UploadFile | None, data: bytes | None, max_bytes: int
) -> tuple[str, str, str, bytes | None]:
    given = [name for name, v in (("link", url), ("text", text), ("file", upload)) if v]
    if not given:
        raise _Invalid("paste a link or some text, or choose a file to check")
    if len(given) > 1:
        raise _Invalid(f"give one thing to check, not a {' and a '.join(given)}")
    if len(title) > MAX_TITLE:
        raise _Invalid(f"the title is longer than {MAX_TITLE} characters")
    if url:
        parts = urlsplit(url)
        if (
            len(url) > MAX_URL
            or parts.scheme.lower() not in {"http", "https"}
            or not parts.hostname
            or any(ch.isspace() for ch in url)
        ):
            raise _Invalid(f"{url[:200]!r} is not an http:// or https:// link")
        return "url", url, title or url, None
    if upload is not None:
        name = (upload.filename or "upload").replace("/", "_").replace("\\", "_")[:200]
        if not data:
            raise _Invalid(f"{name} is empty")
        if len(data) > max_bytes:
            raise _Invalid(f"{name} is larger than the {max_bytes:,}-byte limit")
        return "file", name, title or name, data
    encoded = text.encode("utf-8")
    if not text.strip():
        raise _Invalid("the text is empty")
    if len(encoded) > max_bytes:
        raise _Invalid(f"the text is larger than the {max_bytes:,}-byte limit")
    return "text", "text", title or "Pasted text", encoded


def _submit(request: Request, kind: str, source: str, title: str, data: bytes | None) -> str:
    checker = _checker(request)
    if checker.queued >= _settings(request).max_queued:
        raise _Invalid(
            f"{checker.queued} checks are waiting already; try again in a few minutes", 503
        )
    return checker.submit(kind=kind, source=source, title=title, data=data)


def _validate_review(
    row: CheckRow | None, claim_id: str, reviewer: object, label: object, note: object
) -> tuple[str, Label | None, str]:
    if row is None or row.report is None:
        raise _Invalid("this check has no finished report to review", 409)
    if claim_id not in {c["id"] for d in load_json_claims(row) for c in d}:
        raise _Invalid(f"this check has no claim {claim_id!r}", 404)
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise _Invalid("give your name, so others know who reviewed the claim")
    if len(reviewer) > MAX_REVIEWER:
        raise _Invalid(f"the name is longer than {MAX_REVIEWER} characters")
    note = note if isinstance(note, str) else ""
    if len(note) > MAX_NOTE:
        raise _Invalid(f"the note is longer than {MAX_NOTE} characters")
    chosen: Label | None = None
    if label not in (None, ""):
        try:
            chosen = Label(label)
        except ValueError:
            names = ", ".join(v.value for v in Label)
            raise _Invalid(f"{label!r} is not a label; use one of {names}") from None
    return reviewer.strip(), chosen, note.strip()


def load_json_claims(row: CheckRow) -> list[list[dict[str, Any]]]:
    """The claims of a finished check's report, per document, as JSON dicts."""
    report = json.loads(row.report or "{}")
    return [list(d.get("claims", ())) for d in report.get("documents", ())]


def _record_review(
    request: Request, row: CheckRow, claim_id: str, reviewer: str, label: Label | None, note: str
) -> dict[str, Any]:
    store = _store(request)
    review = store.add_review(row.id, claim_id, reviewer, label, note)
    claims = [(c["id"], c["label"]) for d in load_json_claims(row) for c in d]
    store.set_labels(row.id, effective_labels(claims, store.reviews(row.id)))
    return review.to_dict()


def _label_param(value: str | None) -> str | None:
    if not value:
        return None
    if value not in {label.value for label in Label}:
        raise _Invalid(f"{value!r} is not a label; use one of {', '.join(v.value for v in Label)}")
    return value


# -- pages


async def index(request: Request) -> Response:
    q = request.query_params.get("q", "").strip()[:200]
    try:
        label = _label_param(request.query_params.get("label"))
    except _Invalid as exc:
        return _error_page(request, 400, str(exc))
    rows = _store(request).list(label=label, q=q or None, limit=50)
    return _page(request, "index.html.j2", checks=rows, q=q, label=label or "", error=None)


async def submit_form(request: Request) -> Response:
    settings, config = _settings(request), request.app.state.config
    async with request.form(max_files=1, max_fields=8, max_part_size=settings.max_body) as form:
        if not _form_csrf_ok(request, form):
            return _error_page(request, 403, STALE_FORM)
        upload = form.get("file")
        upload = upload if isinstance(upload, UploadFile) and upload.filename else None
        data = await upload.read(config.max_page_bytes + 1) if upload is not None else None
        url, text, title = (str(form.get(k) or "").strip() for k in ("url", "text", "title"))
        try:
            kind, source, title, payload = _validate_submission(
                url,
                str(form.get("text") or "") if text else "",
                title,
                upload,
                data,
                config.max_page_bytes,
            )
            check_id = _submit(request, kind, source, title, payload)
        except _Invalid as exc:
            rows = _store(request).list(limit=50)
            return _page(
                request,
                "index.html.j2",
                status=exc.status,
                checks=rows,
                q="",
                label="",
                error=str(exc),
            )
    return RedirectResponse(f"/checks/{check_id}", status_code=303)


def _pending_context(row: CheckRow) -> dict[str, Any]:
    # report.html.j2 reads these; a check without a report shows no documents yet.
    return {
        "page_title": row.title,
        "generated_at": row.created_at,
        "totals": (),
        "claim_total": 0,
        "documents": (),
        "failures": [],
    }


async def check_page(request: Request) -> Response:
    store = _store(request)
    row = store.get(request.path_params["check_id"])
    if row is None:
        return _error_page(request, 404, "no such check; it may have been made on another server")
    context = _pending_context(row)
    if row.report is not None:
        context = report_context(load_report(row.report))
    return _page(
        request,
        "check.html.j2",
        check=row,
        reviews=store.reviews(row.id),
        reviewable=True,
        feed_item=None,
        **context,
    )


async def report_json(request: Request) -> Response:
    store = _store(request)
    row = store.get(request.path_params["check_id"])
    report = None if row is None else report_with_reviews(row, store.reviews(row.id))
    if row is None or report is None:
        return JSONResponse({"error": "no finished report for this check"}, status_code=404)
    return JSONResponse(
        report,
        headers={"content-disposition": f'attachment; filename="claimscan-{row.id}.json"'},
    )


async def review_form(request: Request) -> Response:
    store = _store(request)
    check_id, claim_id = request.path_params["check_id"], request.path_params["claim_id"]
    async with request.form(max_files=0, max_fields=8) as form:
        if not _form_csrf_ok(request, form):
            return _error_page(request, 403, STALE_FORM)
        row = store.get(check_id)
        try:
            reviewer, label, note = _validate_review(
                row, claim_id, form.get("reviewer"), form.get("label"), form.get("note")
            )
        except _Invalid as exc:
            return _error_page(request, exc.status, str(exc))
    assert row is not None  # _validate_review refuses a missing check
    _record_review(request, row, claim_id, reviewer, label, note)
    return RedirectResponse(f"/checks/{check_id}#review-{claim_id}", status_code=303)


async def feeds_page(request: Request) -> Response:
    path = _settings(request).feeds_state
    if path is None:
        return _page(request, "feeds.html.j2", feeds=None, error=None, state=None)
    try:
        feeds = feedstate.read_feeds(path)
    except ClaimscanError as exc:
        return _page(request, "feeds.html.j2", status=500, feeds=None, error=str(exc), state=path)
    return _page(request, "feeds.html.j2", feeds=feeds, error=None, state=path)


async def feed_item_page(request: Request) -> Response:
    path = _settings(request).feeds_state
    if path is None:
        return _error_page(request, 404, "no feed state; start the server with --feeds-state")
    item_id = request.path_params["item_id"]
    try:
        report_path = feedstate.item_report_path(path, item_id)
        report = load_report(report_path.read_bytes())
    except OSError as exc:
        message = f"the report of feed item {item_id} cannot be read: {exc.strerror}"
        return _error_page(request, 404, message)
    except ClaimscanError as exc:
        return _error_page(request, 404, str(exc))
    return _page(
        request,
        "check.html.j2",
        check=None,
        reviews={},
        reviewable=False,
        feed_item=item_id,
        **report_context(report),
    )


async def login(request: Request) -> Response:
    settings = _settings(request)
    target = request.query_params.get("next", "/")
    # Only paths on this server: "//host" and "/\\host" would leave it.
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        target = "/"
    if settings.token is None:
        return RedirectResponse(target, status_code=303)
    if request.method == "GET":
        return _page(request, "login.html.j2", next=target, error=None)
    async with request.form(max_files=0, max_fields=4) as form:
        if not _form_csrf_ok(request, form):
            return _page(
                request,
                "login.html.j2",
                status=403,
                next=target,
                error="the form was out of date; submit it again",
            )
        given = str(form.get("token") or "")
    if not hmac.compare_digest(given.encode(), settings.token.encode()):
        return _page(request, "login.html.j2", status=401, next=target, error="wrong token")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        AUTH_COOKIE,
        auth_cookie_value(settings.token),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(AUTH_COOKIE)
    return response


async def healthz(request: Request) -> Response:
    checker = _checker(request)
    if checker.ready:
        return JSONResponse({"status": "ok", "queued": checker.queued})
    if checker.model_error is not None:
        return JSONResponse({"status": "error", "error": checker.model_error}, status_code=500)
    return JSONResponse({"status": "loading"}, status_code=503)


async def static(request: Request) -> Response:
    found = static_file(request.path_params["name"])
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"cache-control": "no-cache"})


# -- JSON API


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _Invalid("send the body as JSON, with Content-Type: application/json", 415)
    try:
        body = await request.json()
    except ValueError:
        raise _Invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _Invalid("the body must be a JSON object")
    return body


async def api_create(request: Request) -> Response:
    max_bytes = request.app.state.config.max_page_bytes
    try:
        body = await _json_body(request)
        url, text, title = (body.get(k, "") for k in ("url", "text", "title"))
        if not all(isinstance(v, str) for v in (url, text, title)):
            raise _Invalid('"url", "text" and "title" must be strings')
        kind, source, title, data = _validate_submission(
            url.strip(), text, title.strip(), None, None, max_bytes
        )
        check_id = _submit(request, kind, source, title, data)
    except _Invalid as exc:
        return _json_error(exc.status, str(exc))
    status_url = f"/api/checks/{check_id}"
    return JSONResponse(
        {"id": check_id, "status_url": status_url, "page_url": f"/checks/{check_id}"},
        status_code=202,
        headers={"location": status_url},
    )


async def api_list(request: Request) -> Response:
    try:
        label = _label_param(request.query_params.get("label"))
        limit = int(request.query_params.get("limit", "50"))
    except _Invalid as exc:
        return _json_error(400, str(exc))
    except ValueError:
        return _json_error(400, "limit must be a whole number")
    q = request.query_params.get("q", "").strip()[:200] or None
    rows = _store(request).list(label=label, q=q, limit=max(1, min(limit, MAX_LIST)))
    return JSONResponse({"checks": [check_summary(r) for r in rows]})


async def api_get(request: Request) -> Response:
    store = _store(request)
    row = store.get(request.path_params["check_id"])
    if row is None:
        return _json_error(404, "no such check")
    return JSONResponse(
        {
            "id": row.id,
            "status": row.status,
            "progress": {"claims_done": row.claims_done, "claims_total": row.claims_total},
            "error": row.error,
            "report": report_with_reviews(row, store.reviews(row.id)),
            "title": row.title,
            "source": row.source,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            # The claims found, shown while they are checked; null once the report is in.
            "preview": row.preview if row.status in {"queued", "running"} else None,
        }
    )


async def api_review(request: Request) -> Response:
    store = _store(request)
    check_id, claim_id = request.path_params["check_id"], request.path_params["claim_id"]
    row = store.get(check_id)
    if row is None:
        return _json_error(404, "no such check")
    try:
        body = await _json_body(request)
        reviewer, label, note = _validate_review(
            row, claim_id, body.get("reviewer"), body.get("label"), body.get("note", "")
        )
    except _Invalid as exc:
        return _json_error(exc.status, str(exc))
    review = _record_review(request, row, claim_id, reviewer, label, note)
    return JSONResponse({"check_id": check_id, "claim_id": claim_id, "review": review})
