"""What the web app's pages and API share: settings, request checks, and the steps
behind submitting a check and saving a review. Database I/O through the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import UploadFile
from starlette.requests import Request

from claims.types import Label
from pipeline.web.security import LOOPBACK_HOSTS
from pipeline.web.store import CheckRow, Store, effective_labels
from pipeline.web.worker import Checker

MAX_URL = 2048
MAX_TITLE = 300
MAX_REVIEWER = 80
MAX_NOTE = 2000
MAX_LIST = 200


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


class Invalid(Exception):
    """A submission or review the user must correct; the message says how."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def store_of(request: Request) -> Store:
    """The app's store (opened when the app started)."""
    return request.app.state.store  # type: ignore[no-any-return]


def checker_of(request: Request) -> Checker:
    """The app's background checker."""
    return request.app.state.checker  # type: ignore[no-any-return]


def settings_of(request: Request) -> WebSettings:
    """The settings the app was built with."""
    return request.app.state.settings  # type: ignore[no-any-return]


def validate_submission(
    url: str, text: str, title: str, upload: UploadFile | None, data: bytes | None, max_bytes: int
) -> tuple[str, str, str, bytes | None]:
    """Check what was given to check: exactly one of a link, text or a file.

    Returns:
        (kind, source, title, data) for :meth:`Checker.submit`.

    Raises:
        Invalid: With what to correct.
    """
    given = [name for name, v in (("link", url), ("text", text), ("file", upload)) if v]
    if not given:
        raise Invalid("paste a link or some text, or choose a file to check")
    if len(given) > 1:
        raise Invalid(f"give one thing to check, not a {' and a '.join(given)}")
    if len(title) > MAX_TITLE:
        raise Invalid(f"the title is longer than {MAX_TITLE} characters")
    if url:
        parts = urlsplit(url)
        if (
            len(url) > MAX_URL
            or parts.scheme.lower() not in {"http", "https"}
            or not parts.hostname
            or any(ch.isspace() for ch in url)
        ):
            raise Invalid(f"{url[:200]!r} is not an http:// or https:// link")
        return "url", url, title or url, None
    if upload is not None:
        name = (upload.filename or "upload").replace("/", "_").replace("\\", "_")[:200]
        if not data:
            raise Invalid(f"{name} is empty")
        if len(data) > max_bytes:
            raise Invalid(f"{name} is larger than the {max_bytes:,}-byte limit")
        return "file", name, title or name, data
    encoded = text.encode("utf-8")
    if not text.strip():
        raise Invalid("the text is empty")
    if len(encoded) > max_bytes:
        raise Invalid(f"the text is larger than the {max_bytes:,}-byte limit")
    return "text", "text", title or "Pasted text", encoded


def submit(request: Request, kind: str, source: str, title: str, data: bytes | None) -> str:
    """Queue a check unless too many wait already; return its id.

    Raises:
        Invalid: (503) The queue is full.
    """
    checker = checker_of(request)
    if checker.queued >= settings_of(request).max_queued:
        raise Invalid(
            f"{checker.queued} checks are waiting already; try again in a few minutes", 503
        )
    return checker.submit(kind=kind, source=source, title=title, data=data)


def validate_review(
    row: CheckRow | None, claim_id: str, reviewer: object, label: object, note: object
) -> tuple[str, Label | None, str]:
    """Check a review of one claim of a finished check.

    Returns:
        (reviewer, label or None to keep the model's, note), stripped.

    Raises:
        Invalid: 409 when the check is not finished, 404 for an unknown claim, else 400.
    """
    if row is None or row.report is None:
        raise Invalid("this check has no finished report to review", 409)
    if claim_id not in {c["id"] for d in claims_of(row) for c in d}:
        raise Invalid(f"this check has no claim {claim_id!r}", 404)
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise Invalid("give your name, so others know who reviewed the claim")
    if len(reviewer) > MAX_REVIEWER:
        raise Invalid(f"the name is longer than {MAX_REVIEWER} characters")
    note = note if isinstance(note, str) else ""
    if len(note) > MAX_NOTE:
        raise Invalid(f"the note is longer than {MAX_NOTE} characters")
    chosen: Label | None = None
    if label not in (None, ""):
        try:
            chosen = Label(label)
        except ValueError:
            names = ", ".join(v.value for v in Label)
            raise Invalid(f"{label!r} is not a label; use one of {names}") from None
    return reviewer.strip(), chosen, note.strip()


def claims_of(row: CheckRow) -> list[list[dict[str, Any]]]:
    """The claims of a finished check's report, per document, as JSON dicts."""
    report = json.loads(row.report or "{}")
    return [list(d.get("claims", ())) for d in report.get("documents", ())]


def record_review(
    request: Request, row: CheckRow, claim_id: str, reviewer: str, label: Label | None, note: str
) -> dict[str, Any]:
    """Store a review, recount the check's labels with it, and return it as JSON."""
    store = store_of(request)
    review = store.add_review(row.id, claim_id, reviewer, label, note)
    claims = [(c["id"], c["label"]) for d in claims_of(row) for c in d]
    store.set_labels(row.id, effective_labels(claims, store.reviews(row.id)))
    return review.to_dict()


def label_param(value: str | None) -> str | None:
    """A ``?label=`` value: None when empty; Invalid unless it is a label's value."""
    if not value:
        return None
    if value not in {label.value for label in Label}:
        raise Invalid(f"{value!r} is not a label; use one of {', '.join(v.value for v in Label)}")
    return value
