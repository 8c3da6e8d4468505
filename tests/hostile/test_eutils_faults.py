"""E-utilities faults through the whole pipeline: every claim still gets an answer.

``pipeline.run.run`` with fake models and the local E-utilities server; faults are
scripted answers. A claim either gets a verdict on evidence, or "Evidence unavailable"
stated as such with a ``Failure`` recorded, which the CLI turns into exit status 1.
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from claims.types import EvidenceStatus, Label, Report, Stage
from pipeline.cli import cli
from pipeline.config import DEFAULT_STANCE_MODEL, Config
from pipeline.errors import PubMedError
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.run import run
from tests.eutils_server import EutilsServer, Record, Scripted
from tests.fakes import fake_models
from tests.hostile.conftest import NOW, corpus

RECORDS = [
    Record(
        "101",
        "Exercise therapy for chronic low back pain",
        ("Exercise therapy reduces pain in adults with chronic low back pain.",),
    ),
    Record(
        "103",
        "Vitamin D and respiratory infections",
        ("Vitamin D supplements reduce the risk of respiratory infections in adults.",),
    ),
]
TEXT = (
    b"Exercise therapy reduces pain in adults with chronic low back pain.\n"
    b"Vitamin D supplements reduce the risk of respiratory infections in adults.\n"
)
_GOOD_ESEARCH = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>1</Count><RetMax>1'
    b"</RetMax><RetStart>0</RetStart><IdList>\n<Id>101</Id>\n</IdList><TranslationSet/>"
    b"<QueryTranslation>exercise</QueryTranslation></eSearchResult>\n"
)


def run_text(config: Config, text: bytes = TEXT) -> Report:
    """Run the real pipeline on ``text`` (as stdin) with fake models."""
    with build_client(config) as client:
        pubmed = PubMed(client, config, sleep=lambda s: None)
        return run(
            ["-"],
            config=config,
            client=client,
            pubmed=pubmed,
            models=fake_models(),
            now=lambda: NOW,
            stdin=io.BytesIO(text),
        )


def _assert_every_claim_answered(report: Report, expect_claims: int = 2) -> None:
    claims = [c for d in report.documents for c in d.claims]
    assert len(claims) == expect_claims
    for checked in claims:
        verdict = checked.verdict
        assert verdict.label in Label and verdict.rationale
        if verdict.evidence_status is not EvidenceStatus.FOUND:
            # Never shown as a judgement: no label but unverified (or promotional), no %.
            assert verdict.label in (Label.UNVERIFIED, Label.COMMERCIAL_PROMOTIONAL)
        if verdict.label is Label.UNVERIFIED:
            assert verdict.confidence is None
        else:
            assert verdict.confidence is not None and 0.5 <= verdict.confidence <= 1.0
        if verdict.evidence_status is EvidenceStatus.UNAVAILABLE:
            assert verdict.rationale.startswith("Unverified: PubMed could not be searched")
            assert verdict.evidence == ()


FAILING = {
    "truncated-xml": Scripted(200, _GOOD_ESEARCH[: len(_GOOD_ESEARCH) // 2]),
    "html-error-page-200": Scripted(200, corpus("eutils/esearch_html_error_200.html")),
    "xhtml-error-page-200": Scripted(200, corpus("eutils/esearch_xhtml_error_200.xml")),
    "json-error-200": Scripted(200, corpus("eutils/esearch_json_error.json")),
    "backend-error": Scripted(200, corpus("eutils/esearch_backend_error.xml")),
    "invalid-query": Scripted(200, corpus("eutils/esearch_error_invalid_query.xml")),
    "429-storm": Scripted(429, corpus("eutils/esearch_json_error.json"), {"Retry-After": "0"}),
    "503": Scripted(503, b"<html>Service unavailable</html>"),
    "400": Scripted(400, b"<html>Bad Request</html>"),
    "empty-body": Scripted(200, b""),
}


@pytest.mark.parametrize("fault", list(FAILING), ids=list(FAILING))
def test_esearch_fault_leaves_every_claim_answered_and_recorded(fault: str) -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        server.script("esearch.fcgi", *[FAILING[fault]] * 200)
        config = Config(eutils_url=server.base_url, cache_path=None, max_retries=1, min_hits=1)
        report = run_text(config)
    _assert_every_claim_answered(report)
    claims = [c for d in report.documents for c in d.claims]
    assert all(c.verdict.evidence_status is EvidenceStatus.UNAVAILABLE for c in claims)
    pubmed_failures = [f for f in report.failures if f.stage is Stage.PUBMED]
    # One failure per cause, naming how many claims it left unverified and which.
    assert sum(int(f.subject.split()[0]) for f in pubmed_failures) == len(claims)
    assert sorted(i for f in pubmed_failures for i in f.claim_ids) == sorted(
        c.claim.id for c in claims
    )
    assert all(f.error_type == PubMedError.__name__ for f in pubmed_failures)
    assert all(f.message and "unverified" in f.message for f in pubmed_failures)


@pytest.mark.parametrize(
    "answer",
    [
        Scripted(200, corpus("eutils/efetch_truncated.xml")),
        Scripted(200, corpus("eutils/efetch_billion_laughs.xml")),
        Scripted(200, corpus("eutils/esearch_html_error_200.html")),
        Scripted(500, b"oops"),
    ],
    ids=["truncated", "entities", "html", "500"],
)
def test_efetch_fault_leaves_every_claim_answered_and_recorded(answer: Scripted) -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        server.script("efetch.fcgi", *[answer] * 50)
        config = Config(eutils_url=server.base_url, cache_path=None, max_retries=1, min_hits=1)
        report = run_text(config)
    _assert_every_claim_answered(report)
    assert {f.stage for f in report.failures} == {Stage.PUBMED}


def test_connection_resets_leave_every_claim_answered(resetting: str) -> None:
    config = Config(eutils_url=f"{resetting}/eutils/", cache_path=None, max_retries=1, timeout=2)
    report = run_text(config)
    _assert_every_claim_answered(report)
    failures = [f for f in report.failures if f.stage is Stage.PUBMED]
    # One failure per distinct cause, counting the claims each left unverified.
    assert sum(int(f.subject.split()[0]) for f in failures) == 2
    assert all("failed to connect or read" in f.message for f in failures)


@pytest.mark.parametrize(
    ("esearch", "efetch"),
    [
        (corpus("eutils/esearch_empty_idlist.xml"), None),
        (_GOOD_ESEARCH.replace(b"<Id>101</Id>", b"<Id>999999999</Id>"), None),
        (_GOOD_ESEARCH, corpus("eutils/efetch_unknown_pmids.xml")),
    ],
    ids=["empty-idlist", "unknown-pmid", "efetch-empty-set"],
)
def test_no_hits_is_an_answer_not_a_failure(esearch: bytes, efetch: bytes | None) -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        server.script("esearch.fcgi", *[Scripted(200, esearch)] * 100)
        if efetch is not None:
            server.script("efetch.fcgi", *[Scripted(200, efetch)] * 100)
        config = Config(eutils_url=server.base_url, cache_path=None, max_retries=1, min_hits=1)
        report = run_text(config)
    _assert_every_claim_answered(report)
    assert report.failures == ()
    for checked in report.documents[0].claims:
        assert checked.verdict.evidence_status is EvidenceStatus.NONE


def test_transient_faults_then_recovery_give_verdicts_on_evidence() -> None:
    with EutilsServer(RECORDS, enforce_rate=False, fail_rate=0.3, truncate_rate=0.2) as server:
        server.script("esearch.fcgi", Scripted(429, headers={"Retry-After": "0"}), Scripted(503))
        config = Config(eutils_url=server.base_url, cache_path=None, max_retries=8, min_hits=1)
        report = run_text(config)
    _assert_every_claim_answered(report)
    assert report.failures == ()
    assert all(
        c.verdict.evidence_status is EvidenceStatus.FOUND for c in report.documents[0].claims
    )


@pytest.mark.skipif(
    not DEFAULT_STANCE_MODEL.is_dir(), reason="no stance model under pipeline/models/stance"
)
def test_cli_exit_status_is_1_when_pubmed_fails(web: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The CLI loads the real models (shared with tests/test_cli.py in one process).
    note = tmp_path / "note.md"
    note.write_bytes(TEXT)
    result = CliRunner().invoke(
        cli,
        ["check", str(note), "--format", "json", "--eutils-url", f"{web}/always/400/"]
        + ["--no-cache", "--quiet"],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    claims = report["documents"][0]["claims"]
    assert len(claims) == 2
    assert all(c["label"] == "unverified" and c["confidence"] is None for c in claims)
    assert all(
        c["rationale"].startswith("Unverified: PubMed could not be searched") for c in claims
    )
    assert "returned HTTP 400" in result.stderr
