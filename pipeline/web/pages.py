"""The HTML pages: the submit form and past checks, a check's page, reviews, feeds,
login. Each renders a template from ``pipeline/web/templates``; forms carry a CSRF token.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from pipeline.errors import ClaimscanError
from pipeline.report.html import report_context
from pipeline.report.json import load_report
from pipeline.web import feeds as feedstate
from pipeline.web.common import (
    Invalid,
    label_param,
    record_review,
    settings_of,
    store_of,
    submit,
    validate_review,
    validate_submission,
)
from pipeline.web.security import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    auth_cookie_value,
    csrf_token,
    csrf_valid,
    new_browser_id,
)
from pipeline.web.store import CheckRow
from pipeline.web.views import environment, report_with_reviews, static_file

STALE_FORM = "the form was out of date; reload the page and submit again"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with a CSRF token for this browser, setting its cookie if new."""
    browser = request.cookies.get(CSRF_COOKIE)
    fresh = not browser
    if fresh:
        browser = new_browser_id()
    settings = settings_of(request)
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


async def index(request: Request) -> Response:
    q = request.query_params.get("q", "").strip()[:200]
    try:
        label = label_param(request.query_params.get("label"))
    except Invalid as exc:
        return _error_page(request, 400, str(exc))
    rows = store_of(request).list(label=label, q=q or None, limit=50)
    return _page(request, "index.html.j2", checks=rows, q=q, label=label or "", error=None)


async def submit_form(request: Request) -> Response:
    settings, config = settings_of(request), request.app.state.config
    async with request.form(max_files=1, max_fields=8, max_part_size=settings.max_body) as form:
        if not _form_csrf_ok(request, form):
            return _error_page(request, 403, STALE_FORM)
        upload = form.get("file")
        upload = upload if isinstance(upload, UploadFile) and upload.filename else None
        data = await upload.read(config.max_page_bytes + 1) if upload is not None else None
        url, text, title = (str(form.get(k) or "").strip() for k in ("url", "text", "title"))
        try:
            kind, source, title, payload = validate_submission(
                url,
                str(form.get("text") or "") if text else "",
                title,
                upload,
                data,
                config.max_page_bytes,
            )
            check_id = submit(request, kind, source, title, payload)
        except Invalid as exc:
            rows = store_of(request).list(limit=50)
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
    store = store_of(request)
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
    store = store_of(request)
    row = store.get(request.path_params["check_id"])
    report = None if row is None else report_with_reviews(row, store.reviews(row.id))
    if row is None or report is None:
        return JSONResponse({"error": "no finished report for this check"}, status_code=404)
    return JSONResponse(
        report,
        headers={"content-disposition": f'attachment; filename="claimscan-{row.id}.json"'},
    )


async def review_form(request: Request) -> Response:
    store = store_of(request)
    check_id, claim_id = request.path_params["check_id"], request.path_params["claim_id"]
    async with request.form(max_files=0, max_fields=8) as form:
        if not _form_csrf_ok(request, form):
            return _error_page(request, 403, STALE_FORM)
        row = store.get(check_id)
        try:
            reviewer, label, note = validate_review(
                row, claim_id, form.get("reviewer"), form.get("label"), form.get("note")
            )
        except Invalid as exc:
            return _error_page(request, exc.status, str(exc))
    assert row is not None  # validate_review refuses a missing check
    record_review(request, row, claim_id, reviewer, label, note)
    return RedirectResponse(f"/checks/{check_id}#review-{claim_id}", status_code=303)


async def feeds_page(request: Request) -> Response:
    path = settings_of(request).feeds_state
    if path is None:
        return _page(request, "feeds.html.j2", feeds=None, error=None, state=None)
    try:
        feeds = feedstate.read_feeds(path)
    except ClaimscanError as exc:
        return _page(request, "feeds.html.j2", status=500, feeds=None, error=str(exc), state=path)
    return _page(request, "feeds.html.j2", feeds=feeds, error=None, state=path)


async def feed_item_page(request: Request) -> Response:
    path = settings_of(request).feeds_state
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
    context: dict[str, Any] = report_context(report)
    return _page(
        request,
        "check.html.j2",
        check=None,
        reviews={},
        reviewable=False,
        feed_item=item_id,
        **context,
    )


async def login(request: Request) -> Response:
    settings = settings_of(request)
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


async def static(request: Request) -> Response:
    found = static_file(request.path_params["name"])
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"cache-control": "no-cache"})
