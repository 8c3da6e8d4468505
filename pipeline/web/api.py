"""The JSON API: submit checks, read them (progress, report, reviews), list them,
review claims, and the health check. Bodies are JSON only (415 otherwise).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pipeline.web.common import (
    MAX_LIST,
    Invalid,
    checker_of,
    label_param,
    record_review,
    store_of,
    submit,
    validate_review,
    validate_submission,
)
from pipeline.web.views import check_summary, report_with_reviews


async def healthz(request: Request) -> Response:
    checker = checker_of(request)
    if checker.ready:
        return JSONResponse({"status": "ok", "queued": checker.queued})
    if checker.model_error is not None:
        return JSONResponse({"status": "error", "error": checker.model_error}, status_code=500)
    return JSONResponse({"status": "loading"}, status_code=503)


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Invalid("send the body as JSON, with Content-Type: application/json", 415)
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


async def api_create(request: Request) -> Response:
    max_bytes = request.app.state.config.max_page_bytes
    try:
        body = await _json_body(request)
        url, text, title = (body.get(k, "") for k in ("url", "text", "title"))
        if not all(isinstance(v, str) for v in (url, text, title)):
            raise Invalid('"url", "text" and "title" must be strings')
        kind, source, title, data = validate_submission(
            url.strip(), text, title.strip(), None, None, max_bytes
        )
        check_id = submit(request, kind, source, title, data)
    except Invalid as exc:
        return _json_error(exc.status, str(exc))
    status_url = f"/api/checks/{check_id}"
    return JSONResponse(
        {"id": check_id, "status_url": status_url, "page_url": f"/checks/{check_id}"},
        status_code=202,
        headers={"location": status_url},
    )


async def api_list(request: Request) -> Response:
    try:
        label = label_param(request.query_params.get("label"))
        limit = int(request.query_params.get("limit", "50"))
    except Invalid as exc:
        return _json_error(400, str(exc))
    except ValueError:
        return _json_error(400, "limit must be a whole number")
    q = request.query_params.get("q", "").strip()[:200] or None
    rows = store_of(request).list(label=label, q=q, limit=max(1, min(limit, MAX_LIST)))
    return JSONResponse({"checks": [check_summary(r) for r in rows]})


async def api_get(request: Request) -> Response:
    store = store_of(request)
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
    store = store_of(request)
    check_id, claim_id = request.path_params["check_id"], request.path_params["claim_id"]
    row = store.get(check_id)
    if row is None:
        return _json_error(404, "no such check")
    try:
        body = await _json_body(request)
        reviewer, label, note = validate_review(
            row, claim_id, body.get("reviewer"), body.get("label"), body.get("note", "")
        )
    except Invalid as exc:
        return _json_error(exc.status, str(exc))
    review = record_review(request, row, claim_id, reviewer, label, note)
    return JSONResponse({"check_id": check_id, "claim_id": claim_id, "review": review})
