"""JSON dump/load: the contract other teams read."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from claims.types import Label, Report
from pipeline.errors import ReportError
from pipeline.report.json import claim_to_dict, dump_report, load_report, report_to_dict

DOCUMENT_FIELDS = {
    "source", "url", "title", "author", "published", "fetched_at", "text",
    "commercial_context", "notes", "headings", "claims",
}  # fmt: skip
CLAIM_FIELDS = {
    "id", "text", "start", "end", "context", "also_at", "label", "confidence", "scores", "query",
    "queries_tried", "query_translation", "evidence_status", "evidence", "rationale", "model",
    "qualifiers", "also_retrieved",
}  # fmt: skip
EVIDENCE_FIELDS = {
    "pmid", "title", "year", "journal", "publication_types", "sentence", "stance", "score", "url",
}  # fmt: skip


def test_load_report_round_trip(report: Report) -> None:
    assert load_report(dump_report(report)) == report


def test_load_report_accepts_bytes(report: Report) -> None:
    assert load_report(dump_report(report).encode("utf-8")) == report


def test_report_to_dict_schema_fields(report: Report) -> None:
    data = json.loads(dump_report(report))
    assert data["schema_version"] == 2
    assert {"generated_at", "documents", "failures", "summary", "sources"} <= data.keys()
    assert data["generated_at"] == "2025-01-15T09:31:05+00:00"
    assert data["summary"]["labels"] == {
        "supported": 2,
        "contested": 2,
        "commercial-promotional": 1,
        "unverified": 0,
    }
    for doc in data["documents"]:
        assert doc.keys() == DOCUMENT_FIELDS
        assert doc["source"].keys() == {"locator", "kind"}
        assert doc["source"]["kind"] in {"feed", "page", "text", "claim"}
        for claim in doc["claims"]:
            assert claim.keys() == CLAIM_FIELDS
            assert claim["label"] in {"supported", "contested", "commercial-promotional"}
            assert claim["evidence_status"] in {"found", "none", "unavailable", "skipped"}
            assert 0 <= claim["confidence"] <= 1
            for item in claim["evidence"]:
                assert item.keys() == EVIDENCE_FIELDS
                assert item["stance"] in {"supports", "refutes", "neutral"}
                assert item["url"] == f"https://pubmed.ncbi.nlm.nih.gov/{item['pmid']}/"
    assert data["failures"] == [
        {
            "stage": "ingest",
            "subject": "https://dead.example.org/feed\x1b[31m",
            "error_type": "FeedError",
            "message": "feed returned 404 <script>alert(1)</script>; check the URL",
            "claim_ids": [],
        }
    ]
    assert data["documents"][1]["published"] is None


def test_report_to_dict_offsets_match_text(report: Report) -> None:
    checked = 0
    for doc in report_to_dict(report)["documents"]:
        for claim in doc["claims"]:
            assert doc["text"][claim["start"] : claim["end"]] == claim["text"]
            checked += 1
    # Every claim of the fixture was looked at; an empty report would check nothing.
    assert checked == sum(len(d.claims) for d in report.documents) > 0


def test_claim_to_dict_matches_report_claims(report: Report) -> None:
    data = report_to_dict(report)
    for doc_report, doc in zip(report.documents, data["documents"], strict=True):
        assert [claim_to_dict(c) for c in doc_report.claims] == doc["claims"]
    # One JSON object per line for --format jsonl: no raw newlines inside.
    line = json.dumps(claim_to_dict(report.documents[1].claims[0]), ensure_ascii=False)
    assert "\n" not in line


def test_dump_report_rejects_nan(report: Report) -> None:
    doc = report.documents[0]
    checked = doc.claims[0]
    bad = replace(checked, verdict=replace(checked.verdict, confidence=float("nan")))
    broken = replace(report, documents=(replace(doc, claims=(bad,)),))
    with pytest.raises(ReportError, match="NaN or infinite"):
        dump_report(broken)


def _edit(report: Report, change: str) -> str:
    data = report_to_dict(report)
    claim = data["documents"][0]["claims"][0]
    if change == "version 3":
        data["schema_version"] = 3
    elif change == "version string":
        data["schema_version"] = "1"
    elif change == "no version":
        del data["schema_version"]
    elif change == "no documents":
        del data["documents"]
    elif change == "bad label":
        claim["label"] = "true"
    elif change == "bad offsets":
        claim["end"] = 10**6
    elif change == "string offset":
        claim["start"] = "3"
    elif change == "bad date":
        data["generated_at"] = "yesterday"
    elif change == "nan confidence":
        claim["confidence"] = float("nan")
    elif change == "evidence not list":
        claim["evidence"] = {}
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("version 3", "schema_version 3; this claimscan reads versions 1, 2"),
        ("version string", 'schema_version "1"'),
        ("no version", "schema_version null"),
        ("no documents", r"report\.documents: missing"),
        ("bad label", r"documents\[0\]\.claims\[0\]\.label: 'true' is not one of supported"),
        ("bad offsets", r"claims\[0\]: offsets .* do not fit"),
        ("string offset", r"claims\[0\]\.start: expected an integer, got a string"),
        ("bad date", "report.generated_at: 'yesterday' is not an ISO-8601"),
        ("nan confidence", "expected a finite number"),
        ("evidence not list", r"evidence: expected a list, got an object"),
    ],
)
def test_load_report_rejects_bad_fields(report: Report, change: str, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        load_report(_edit(report, change))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid JSON"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "report: expected an object, got a list"),
        (b"\xff\xfe\x00", "invalid JSON"),
    ],
)
def test_load_report_rejects_non_reports(text: str | bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        load_report(text)


def test_issue_14_version_1_reports_still_load_with_unjudged_claims_as_unverified(
    report: Report,
) -> None:
    data = report_to_dict(report)
    data["schema_version"] = 1
    claim = data["documents"][0]["claims"][0]
    for key in ("qualifiers", "also_retrieved"):
        del claim[key]
    claim.update(label="contested", confidence=0.97, evidence_status="unavailable")
    loaded = load_report(json.dumps(data))
    verdict = loaded.documents[0].claims[0].verdict
    assert verdict.label is Label.UNVERIFIED and verdict.confidence is None
    assert loaded.schema_version == 2
    # A version-1 contested claim that had evidence was a judgement, and stays one.
    claim.update(label="contested", confidence=0.8, evidence_status="found")
    again = load_report(json.dumps(data)).documents[0].claims[0].verdict
    assert again.label is Label.CONTESTED and again.confidence == 0.8
