"""Reports as JSON, the contract other tools read: dump and load. Pure.

Schema version 2, top level::

    {"schema_version": 2, "generated_at": ISO-8601, "summary": {...},
     "sources": [...], "documents": [...], "failures": [...]}

Each document carries its ``text``; each claim's ``start``/``end`` are offsets into
it (``text == document.text[start:end]``). ``summary`` and each evidence item's
``url`` are derived and ignored by :func:`load_report`.
``load_report(dump_report(r)) == r`` for every report.

Version 2 added the label ``unverified`` (with ``confidence: null`` and null
``supported``/``contested`` scores), the evidence status ``off-topic``, and each
claim's ``qualifiers`` and ``also_retrieved``. Version 1 reports still load: a
version-1 ``contested`` claim whose evidence status is ``none``, ``unavailable`` or
``skipped`` was never judged ("no adequate evidence"), so it is read as
``unverified``, as version 2 would have written it.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from claims.types import (
    SCHEMA_VERSION,
    CheckedClaim,
    Claim,
    Document,
    DocumentReport,
    EvidenceItem,
    EvidenceStatus,
    Failure,
    Label,
    LabelScores,
    Report,
    SourceKind,
    Stage,
    Stance,
    Verdict,
)
from pipeline.errors import ReportError

__all__ = [
    "claim_to_dict",
    "document_from_dict",
    "document_to_dict",
    "dump_report",
    "iso",
    "load_report",
    "report_to_dict",
]

READABLE_VERSIONS = (1, SCHEMA_VERSION)

T = TypeVar("T")


def iso(value: datetime | None) -> str | None:
    """Write a time as ISO 8601, the one rule for every time claimscan stores.

    An aware time keeps the offset it came with (a page's ``+02:00`` stays, so its
    date reads as the publisher's); a naive one is taken to be UTC. Ingest and the
    clocks only ever make aware times.
    """
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _evidence_to_dict(item: EvidenceItem) -> dict[str, Any]:
    return {
        "pmid": item.pmid,
        "title": item.title,
        "year": item.year,
        "journal": item.journal,
        "publication_types": list(item.publication_types),
        "sentence": item.sentence,
        "stance": item.stance.value,
        "score": item.score,
        "url": item.url,
    }


def claim_to_dict(checked: CheckedClaim) -> dict[str, Any]:
    """Return one checked claim as a JSON-ready dict (also one line of ``--format jsonl``).

    Args:
        checked: The claim and its verdict.

    Returns:
        A dict with ``id``, ``text``, ``start``, ``end``, ``context``, ``also_at`` (the
        ``[start, end]`` of each other place the document repeats the claim), ``label``,
        ``confidence``, ``scores``, ``query``, ``queries_tried``,
        ``evidence_status``, ``evidence``, ``rationale``, ``model``, ``qualifiers``
        and ``also_retrieved``.
    """
    claim, verdict = checked.claim, checked.verdict
    return {
        "id": claim.id,
        "text": claim.text,
        "start": claim.start,
        "end": claim.end,
        "context": claim.context,
        "also_at": [[start, end] for start, end in claim.also_at],
        "label": verdict.label.value,
        "confidence": verdict.confidence,
        "scores": dict(verdict.scores),
        "query": verdict.query,
        "queries_tried": list(verdict.queries_tried),
        "query_translation": verdict.query_translation,
        "evidence_status": verdict.evidence_status.value,
        "evidence": [_evidence_to_dict(item) for item in verdict.evidence],
        "rationale": verdict.rationale,
        "model": verdict.model,
        "qualifiers": list(verdict.qualifiers),
        "also_retrieved": list(verdict.also_retrieved),
    }


def document_to_dict(doc: Document) -> dict[str, Any]:
    """Return a document as a report writes it, without its claims.

    The feed-scan state stores pending items in this form too, so one codec reads both.
    """
    return {
        "source": {"locator": doc.source, "kind": doc.kind.value},
        "url": doc.url,
        "title": doc.title,
        "author": doc.author,
        "published": iso(doc.published),
        "fetched_at": iso(doc.fetched_at),
        "text": doc.text,
        "headings": [{"offset": offset, "text": text} for offset, text in doc.headings],
    }


def _document_report_to_dict(doc_report: DocumentReport) -> dict[str, Any]:
    out = document_to_dict(doc_report.document)
    # Key order as reports have always had it: the check's findings before headings.
    headings = out.pop("headings")
    out["commercial_context"] = doc_report.commercial_context
    out["notes"] = list(doc_report.notes)
    out["headings"] = headings
    out["claims"] = [claim_to_dict(checked) for checked in doc_report.claims]
    return out


def report_to_dict(report: Report) -> dict[str, Any]:
    """Return the whole report as a JSON-ready dict in the schema above.

    Args:
        report: The report to convert.

    Returns:
        A dict of JSON types only (str, int, float, bool, None, list, dict).
    """
    counts = report.label_counts()
    return {
        "schema_version": report.schema_version,
        "generated_at": iso(report.generated_at),
        "summary": {
            "documents": len(report.documents),
            "claims": sum(counts.values()),
            "failures": len(report.failures),
            "labels": {label.value: counts[label] for label in Label},
        },
        "sources": list(report.sources),
        "documents": [_document_report_to_dict(d) for d in report.documents],
        "failures": [
            {
                "stage": f.stage.value,
                "subject": f.subject,
                "error_type": f.error_type,
                "message": f.message,
                "claim_ids": list(f.claim_ids),
            }
            for f in report.failures
        ],
    }


def dump_report(report: Report) -> str:
    """Serialise a report to JSON text (UTF-8 characters kept, two-space indent).

    Args:
        report: The report to serialise.

    Returns:
        The JSON document, ending in a newline.

    Raises:
        ReportError: A score or confidence is NaN or infinite, which JSON cannot hold.
    """
    try:
        text = json.dumps(report_to_dict(report), ensure_ascii=False, indent=2, allow_nan=False)
    except ValueError as exc:
        raise ReportError(
            f"cannot write the report as JSON: {exc}; a score or confidence is NaN or infinite"
        ) from exc
    return text + "\n"


class _Reader:
    """Typed access to one JSON object, with the path of each field for error messages."""

    def __init__(self, obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            raise ReportError(f"{path}: expected an object, got {_kind(obj)}")
        self.obj: dict[str, Any] = obj
        self.path = path

    def _field(self, key: str) -> tuple[str, Any]:
        where = f"{self.path}.{key}"
        if key not in self.obj:
            raise ReportError(f"{where}: missing")
        return where, self.obj[key]

    def get_str(self, key: str) -> str:
        where, value = self._field(key)
        if not isinstance(value, str):
            raise ReportError(f"{where}: expected a string, got {_kind(value)}")
        return value

    def get_opt_str(self, key: str) -> str | None:
        if self.obj.get(key) is None:
            return None
        return self.get_str(key)

    def get_int(self, key: str) -> int:
        where, value = self._field(key)
        # bool is an int subclass; true/false is never a valid offset or year.
        if not isinstance(value, int) or isinstance(value, bool):
            raise ReportError(f"{where}: expected an integer, got {_kind(value)}")
        return value

    def get_opt_int(self, key: str) -> int | None:
        if self.obj.get(key) is None:
            return None
        return self.get_int(key)

    def get_float(self, key: str) -> float:
        where, value = self._field(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ReportError(f"{where}: expected a number, got {_kind(value)}")
        # json.loads accepts NaN, Infinity and 1e999; none is a probability.
        if not math.isfinite(value):
            raise ReportError(f"{where}: expected a finite number, got {value}")
        return float(value)

    def get_opt_float(self, key: str) -> float | None:
        if self.obj.get(key) is None:
            return None
        return self.get_float(key)

    def get_bool(self, key: str) -> bool:
        where, value = self._field(key)
        if not isinstance(value, bool):
            raise ReportError(f"{where}: expected true or false, got {_kind(value)}")
        return value

    def get_datetime(self, key: str) -> datetime:
        where = f"{self.path}.{key}"
        value = self.get_str(key)
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise ReportError(f"{where}: {value!r} is not an ISO-8601 date-time") from exc

    def get_opt_datetime(self, key: str) -> datetime | None:
        if self.obj.get(key) is None:
            return None
        return self.get_datetime(key)

    def get_list(self, key: str, default: list[Any] | None = None) -> tuple[str, list[Any]]:
        if default is not None and key not in self.obj:
            return f"{self.path}.{key}", default
        where, value = self._field(key)
        if not isinstance(value, list):
            raise ReportError(f"{where}: expected a list, got {_kind(value)}")
        return where, value

    def get_str_list(self, key: str, default: list[Any] | None = None) -> tuple[str, ...]:
        where, values = self.get_list(key, default)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise ReportError(f"{where}[{i}]: expected a string, got {_kind(value)}")
        return tuple(values)

    def get_object(self, key: str) -> _Reader:
        where, value = self._field(key)
        return _Reader(value, where)

    def get_objects(self, key: str, default: list[Any] | None = None) -> list[_Reader]:
        where, values = self.get_list(key, default)
        return [_Reader(value, f"{where}[{i}]") for i, value in enumerate(values)]

    def get_enum(self, key: str, parse: Callable[[str], T], allowed: list[str]) -> T:
        where = f"{self.path}.{key}"
        value = self.get_str(key)
        try:
            return parse(value)
        except ValueError as exc:
            raise ReportError(f"{where}: {value!r} is not one of {', '.join(allowed)}") from exc


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), type(value).__name__)


def _values(enum_type: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_type]


def _load_evidence(r: _Reader) -> EvidenceItem:
    return EvidenceItem(
        pmid=r.get_str("pmid"),
        title=r.get_str("title"),
        year=r.get_opt_int("year"),
        journal=r.get_str("journal"),
        publication_types=r.get_str_list("publication_types"),
        sentence=r.get_str("sentence"),
        stance=r.get_enum("stance", Stance, _values(Stance)),
        score=r.get_float("score"),
    )


def _offsets(r: _Reader, key: str, text_length: int) -> tuple[tuple[int, int], ...]:
    """Read a list of [start, end] pairs that fit the text; absent means none."""
    # Reports written before #14 have no such key.
    where, pairs = r.get_list(key, default=[])
    out: list[tuple[int, int]] = []
    for i, pair in enumerate(pairs):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        ):
            raise ReportError(f"{where}[{i}]: expected [start, end] integers, got {pair!r}")
        start, end = pair
        if not 0 <= start <= end <= text_length:
            raise ReportError(
                f"{where}[{i}]: offsets start={start}, end={end} do not fit the document "
                f"text ({text_length} characters)"
            )
        out.append((start, end))
    return tuple(out)


def _load_claim(
    r: _Reader, document_url: str, text_length: int, version: int = SCHEMA_VERSION
) -> CheckedClaim:
    start, end = r.get_int("start"), r.get_int("end")
    if not 0 <= start <= end <= text_length:
        raise ReportError(
            f"{r.path}: offsets start={start}, end={end} do not fit the document text "
            f"({text_length} characters)"
        )
    also_at = _offsets(r, "also_at", text_length)
    scores = r.get_object("scores")
    claim_id = r.get_str("id")
    claim = Claim(
        id=claim_id,
        text=r.get_str("text"),
        document_url=document_url,
        start=start,
        end=end,
        context=r.get_str("context"),
        also_at=also_at,
    )
    label = r.get_enum("label", Label, _values(Label))
    status = r.get_enum("evidence_status", EvidenceStatus, _values(EvidenceStatus))
    confidence = r.get_opt_float("confidence")
    if version == 1 and label is Label.CONTESTED and status is not EvidenceStatus.FOUND:
        label, confidence = Label.UNVERIFIED, None
    verdict = Verdict(
        claim_id=claim_id,
        label=label,
        confidence=confidence,
        scores=LabelScores((key, scores.get_opt_float(key)) for key in scores.obj),
        rationale=r.get_str("rationale"),
        query=r.get_str("query"),
        evidence=tuple(_load_evidence(e) for e in r.get_objects("evidence")),
        evidence_status=status,
        model=r.get_str("model"),
        queries_tried=r.get_str_list("queries_tried"),
        query_translation=r.get_opt_str("query_translation"),
        qualifiers=r.get_str_list("qualifiers", default=[]),
        also_retrieved=r.get_str_list("also_retrieved", default=[]),
    )
    return CheckedClaim(claim=claim, verdict=verdict)


def _read_document(r: _Reader) -> Document:
    source = r.get_object("source")
    headings = []
    for h in r.get_objects("headings", default=[]):
        headings.append((h.get_int("offset"), h.get_str("text")))
    return Document(
        url=r.get_str("url"),
        source=source.get_str("locator"),
        kind=source.get_enum("kind", SourceKind, _values(SourceKind)),
        title=r.get_str("title"),
        text=r.get_str("text"),
        author=r.get_opt_str("author"),
        published=r.get_opt_datetime("published"),
        fetched_at=r.get_datetime("fetched_at"),
        headings=tuple(headings),
    )


def document_from_dict(obj: object, where: str = "document") -> Document:
    """Read a document written by :func:`document_to_dict`, validating every field.

    Args:
        obj: The parsed JSON object.
        where: Names the object in error messages.

    Raises:
        ReportError: A field is missing or has the wrong type; the message names it.
    """
    return _read_document(_Reader(obj, where))


def _load_document(r: _Reader, version: int) -> DocumentReport:
    document = _read_document(r)
    url, text = document.url, document.text
    return DocumentReport(
        document=document,
        claims=tuple(_load_claim(c, url, len(text), version) for c in r.get_objects("claims")),
        commercial_context=r.get_bool("commercial_context"),
        notes=r.get_str_list("notes", default=[]),
    )


def load_report(text: str | bytes) -> Report:
    """Parse a report written by :func:`dump_report`.

    Args:
        text: The JSON document.

    Returns:
        The report, equal to the one that was dumped.

    Raises:
        ReportError: The text is not JSON, has another ``schema_version``, or a
            field is missing or has the wrong type; the message names the field.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        # json.JSONDecodeError and UnicodeDecodeError (bytes input) are both ValueErrors.
        raise ReportError(f"not a claimscan report: invalid JSON ({exc})") from exc
    root = _Reader(data, "report")
    version = data.get("schema_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ReportError(
            f"report has schema_version {json.dumps(version)}; this claimscan reads "
            f"versions {', '.join(map(str, READABLE_VERSIONS))}. Re-run the check with this "
            "version, or use the claimscan that wrote the report"
        )
    report = Report(
        generated_at=root.get_datetime("generated_at"),
        documents=tuple(_load_document(d, version) for d in root.get_objects("documents")),
        failures=tuple(
            Failure(
                stage=f.get_enum("stage", Stage, _values(Stage)),
                subject=f.get_str("subject"),
                error_type=f.get_str("error_type"),
                message=f.get_str("message"),
                # Reports written before #15 have no claim ids.
                claim_ids=f.get_str_list("claim_ids", default=[]),
            )
            for f in root.get_objects("failures")
        ),
        schema_version=SCHEMA_VERSION,
        sources=root.get_str_list("sources", default=[]),
    )
    return report
