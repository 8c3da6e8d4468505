"""What the web pages show: templates, label names, and reports with reviews. Pure
except for reading the package's templates and static files.

Labels are read from :class:`claims.types.Label` wherever a page lists them, so a new
label shows up in every filter, chip and review form without a template change (its
colours come from ``report.css``, one class per label value).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from claims.types import Label
from pipeline.report._common import LABEL_TITLES
from pipeline.report.html import stylesheet
from pipeline.web.store import CheckRow, Review

__all__ = [
    "LabelView",
    "environment",
    "label_views",
    "report_with_reviews",
    "static_file",
]

STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Served from the report package, so the web page and the saved HTML report share them.
_REPORT_ASSETS = {"report.css", "report.js"}
_WEB_ASSETS = {"web.css", "web.js", "favicon.svg"}


@dataclass(frozen=True, slots=True)
class LabelView:
    value: str
    title: str


def label_title(label: Label) -> str:
    return LABEL_TITLES.get(label) or label.value.replace("-", " ").capitalize()


def label_views() -> tuple[LabelView, ...]:
    """Every label, in the enum's order, with the name shown for it."""
    return tuple(LabelView(label.value, label_title(label)) for label in Label)


def _time(value: str | None) -> str:
    # Stored as ISO 8601 in UTC; shown to the minute, which is what an editor reads.
    if not value:
        return ""
    return value[:16].replace("T", " ") + " UTC" if "T" in value else value


@functools.cache
def environment() -> Environment:
    """The pages' Jinja environment: web templates first, then the HTML report's."""
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("pipeline.web", "templates"),
                PackageLoader("pipeline.report", "templates"),
            ]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = _time
    env.globals["labels"] = label_views()
    env.globals["label_titles"] = {v.value: v.title for v in label_views()}
    return env


@functools.cache
def static_file(name: str) -> tuple[bytes, str] | None:
    """Return (bytes, content type) of a static file the pages use, or None."""
    if name == "report.css":
        # The label colours are generated from LABEL_LOOKS, not kept in the file.
        return stylesheet().encode("utf-8"), STATIC_TYPES[".css"]
    if name in _REPORT_ASSETS:
        base = resources.files("pipeline.report").joinpath("templates")
    elif name in _WEB_ASSETS:
        base = resources.files("pipeline.web").joinpath("static")
    else:
        return None
    suffix = name[name.rfind(".") :]
    return base.joinpath(name).read_bytes(), STATIC_TYPES[suffix]


def report_with_reviews(row: CheckRow, reviews: dict[str, Review]) -> dict[str, Any] | None:
    """The check's JSON report as a dict, with ``review`` on every reviewed claim."""
    if row.report is None:
        return None
    report: dict[str, Any] = json.loads(row.report)
    for doc in report.get("documents", ()):
        for claim in doc.get("claims", ()):
            review = reviews.get(claim.get("id"))
            if review is not None:
                claim["review"] = review.to_dict()
    return report


def check_summary(row: CheckRow) -> dict[str, Any]:
    """One check as ``GET /api/checks`` lists it."""
    return {
        "id": row.id,
        "status": row.status,
        "title": row.title,
        "kind": row.kind,
        "source": row.source,
        "created_at": row.created_at,
        "claims_total": row.claims_total,
        "labels": row.labels,
        "error": row.error,
        "status_url": f"/api/checks/{row.id}",
        "page_url": f"/checks/{row.id}",
    }
