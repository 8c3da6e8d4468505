"""The orchestration stage on real files, a real local E-utilities server and fake models."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import pytest

from claims.split import claim_from_text
from claims.types import EvidenceStatus, Label, SourceKind, Stage
from claims.verdict import SupportCalibration
from pipeline.config import Config
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.run import _batches, run, run_claims
from tests.eutils_server import EutilsServer, Record, Scripted
from tests.fakes import fake_models

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECORDS = [
    Record(
        "101",
        "Exercise therapy for chronic low back pain",
        (
            "Exercise therapy reduces pain in adults with chronic low back pain.",
            "Effects were moderate in size.",
        ),
        publication_types=("Meta-Analysis",),
    ),
    Record(
        "102",
        "Fatty infiltration of the multifidus after whiplash",
        ("Fatty infiltration of the neck muscles appears after whiplash injury.",),
    ),
    Record(
        "103",
        "Vitamin C and the common cold",
        ("Vitamin C supplementation did not prevent colds in the general population.",),
    ),
]
TEXT = (
    "# Back pain notes\n\n"
    "Exercise therapy reduces pain in chronic low back pain. "
    "Vitamin C supplementation prevents colds in the general population. "
    "Our clinic offers the superior regenerative back pain solution\u00ae.\n"
)


def _now() -> datetime:
    return NOW


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with EutilsServer(RECORDS, enforce_rate=False) as s:
        yield s


def _run(server: EutilsServer, sources: list[str], stdin: bytes = b""):  # type: ignore[no-untyped-def]
    config = Config(eutils_url=server.base_url, cache_path=None, min_hits=1)
    with build_client(config) as client:
        pubmed = PubMed(client, config, sleep=lambda s: None)
        return run(
            sources,
            config=config,
            client=client,
            pubmed=pubmed,
            models=fake_models(),
            now=_now,
            stdin=io.BytesIO(stdin),
        )


def test_run_labels_each_claim_with_evidence(server: EutilsServer) -> None:
    report = _run(server, ["-"], TEXT.encode())
    assert report.failures == () and report.generated_at == NOW
    doc = report.documents[0]
    assert doc.document.kind is SourceKind.TEXT and doc.document.title == "Back pain notes"
    labels = {c.claim.text.split()[0]: c.verdict for c in doc.claims}
    assert labels["Exercise"].label is Label.SUPPORTED
    assert labels["Exercise"].evidence[0].pmid == "101"
    assert labels["Vitamin"].label is Label.CONTESTED and "PMID 103" in labels["Vitamin"].rationale
    assert labels["Our"].label is Label.COMMERCIAL_PROMOTIONAL
    assert 'trademark sign "®"' in labels["Our"].rationale
    assert 'superiority wording "superior"' in labels["Our"].rationale
    for checked in doc.claims:
        assert doc.document.text[checked.claim.start : checked.claim.end] == checked.claim.text
        assert checked.verdict.queries_tried


def test_run_passes_the_stance_models_claim_calibration_to_the_verdict(
    server: EutilsServer,
) -> None:
    # A calibration that never reaches 0.5 keeps every evidenced claim from "supported",
    # with its calibrated probability as the score: the run must hand it to decide.
    models = fake_models()
    models.stance.support_calibration = SupportCalibration(temperature=1.0, shift=-5.0)
    config = Config(eutils_url=server.base_url, cache_path=None, min_hits=1)
    with build_client(config) as client:
        pubmed = PubMed(client, config, sleep=lambda s: None)
        report = run_claims(
            ["Exercise therapy reduces pain in chronic low back pain."],
            config=config,
            pubmed=pubmed,
            models=models,
            now=_now,
        )
    verdict = report.documents[0].claims[0].verdict
    assert verdict.evidence_status is EvidenceStatus.FOUND
    # Without evidence against the claim, too-weak support is no verdict, not "contested".
    assert verdict.label is Label.UNVERIFIED
    assert verdict.scores["supported"] < 1 / (1 + math.exp(4.0))


def test_run_keeps_going_after_a_bad_source(server: EutilsServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.md"
    good.write_text(TEXT)
    report = _run(server, [str(tmp_path / "missing.txt"), str(good)])
    assert len(report.documents) == 1
    assert [(f.stage, f.subject) for f in report.failures] == [
        (Stage.INGEST, str(tmp_path / "missing.txt"))
    ]
    assert "does not exist" in report.failures[0].message


def test_run_claims_reports_unavailable_evidence_as_such(server: EutilsServer) -> None:
    for _ in range(40):
        server.script("esearch.fcgi", Scripted(503))
    config = Config(eutils_url=server.base_url, cache_path=None, max_retries=1)
    with build_client(config) as client:
        pubmed = PubMed(client, config, sleep=lambda s: None)
        report = run_claims(
            ["Exercise therapy reduces chronic low back pain.", ""],
            config=config,
            pubmed=pubmed,
            models=fake_models(),
            now=_now,
        )
    verdict = report.documents[0].claims[0].verdict
    assert verdict.evidence_status is EvidenceStatus.UNAVAILABLE
    assert verdict.label is Label.UNVERIFIED and verdict.confidence is None
    assert verdict.rationale.startswith("Unverified: PubMed could not be searched")
    assert {f.subject for f in report.failures} == {"claim:2", "1 claim"}


@pytest.mark.parametrize("n", [0, 1, 4, 5, 8, 9, 30, 100])
def test_batches_are_small_at_both_ends_and_keep_order(n: int) -> None:
    claims = [claim_from_text(f"Claim number {i} is here.", f"c{i}") for i in range(n)]
    batches = _batches(claims, 24)
    assert [c for b in batches for c in b] == claims
    assert all(1 <= len(b) <= 24 for b in batches)
    if n > 8:
        # Nothing overlaps the last batch's classification, so it is kept short.
        assert len(batches[0]) == len(batches[-1]) == 4
    if n >= 100:
        # Units shrink towards the end, and most are full so efetch calls stay few.
        sizes = [len(b) for b in batches]
        assert sizes[-4:] == [16, 8, 4, 4]
        assert len(batches) <= n // 24 + 5


def test_retrieve_ahead_merges_ready_units_and_reraises_a_search_crash(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipeline.run as run_module

    claims = [claim_from_text(f"Claim number {i} is here.", f"c{i}") for i in range(40)]
    seen: list[int] = []

    def fake_retrieve(unit, pubmed, config):  # type: ignore[no-untyped-def]
        seen.append(len(unit))
        if len(seen) == 3:
            raise RuntimeError("search thread crashed")
        return {c.id: None for c in unit}

    monkeypatch.setattr(run_module, "retrieve", fake_retrieve)
    ahead = run_module._retrieve_ahead(claims, None, Config(), lambda *a: None)  # type: ignore[arg-type]
    first, found = next(ahead)
    assert first[0] is claims[0] and set(found) == {c.id for c in first}
    with pytest.raises(RuntimeError, match="search thread crashed"):
        for _ in ahead:
            pass
    assert len(seen) == 3  # the searcher stopped at the crash


def test_passages_read_one_abstract_each_and_show_its_best_sentence(server: EutilsServer) -> None:
    # The stance model is handed one passage per abstract, not one call per sentence.
    seen: list[tuple[str, str]] = []
    models = fake_models()
    predict = models.stance.predict

    def recording(pairs, batch_size=32):  # type: ignore[no-untyped-def]
        seen.extend(pairs)
        return predict(pairs, batch_size)

    models.stance.predict = recording  # type: ignore[method-assign]
    config = Config(
        eutils_url=server.base_url, cache_path=None, min_hits=1, evidence_unit="passage"
    )
    with build_client(config) as client:
        pubmed = PubMed(client, config, sleep=lambda s: None)
        report = run_claims(
            ["Exercise therapy reduces pain in chronic low back pain."],
            config=config,
            pubmed=pubmed,
            models=models,
            now=_now,
        )
    verdict = report.documents[0].claims[0].verdict
    cited = [e.pmid for e in verdict.evidence]
    assert len(cited) == len(set(cited))  # one evidence item per abstract
    assert seen and len(seen) == len({evidence.split(".")[0] for _, evidence in seen})
    for item in verdict.evidence:
        # The quoted line is a sentence of that abstract, not the whole passage.
        assert any(item.sentence in evidence and evidence != item.sentence for _, evidence in seen)


def test_the_stance_model_reads_only_passages_that_could_be_evidence(
    server: EutilsServer,
) -> None:
    # Below the relevance rule's similarity no passage can be evidence, so reading it
    # costs stance-model time and decides nothing: the verdicts must not change.
    from claims.verdict import RELEVANCE, on_topic
    from pipeline.ingest import document_from_text
    from pipeline.run import NOT_READ, assess

    doc = document_from_text(TEXT, "notes.md", NOW)
    config = Config(eutils_url=server.base_url, cache_path=None, min_hits=1)
    runs = {}
    for read_from in (None, RELEVANCE.min_similarity):
        seen: list[tuple[str, str]] = []
        models = fake_models()
        predict = models.stance.predict

        def recording(pairs, batch_size=32, seen=seen, predict=predict):  # type: ignore[no-untyped-def]
            seen.extend(pairs)
            return predict(pairs, batch_size)

        models.stance.predict = recording  # type: ignore[method-assign]
        with build_client(config) as client:
            pubmed = PubMed(client, config, sleep=lambda s: None)
            a = assess([doc], config=config, pubmed=pubmed, models=models, read_from=read_from)
        runs[read_from] = (a, len(seen))
    (everything, read_all), (needed, read_some) = runs.values()
    assert 0 < read_some < read_all
    assert any(on_topic(s) for scored in everything.scored.values() for s in scored)
    for claim_id, scored in everything.scored.items():
        kept = needed.scored[claim_id]
        assert [s for s in scored if on_topic(s)] == [s for s in kept if on_topic(s)]
        for s in kept:
            if s.relevance < RELEVANCE.min_similarity:
                assert (s.supports, s.refutes, s.neutral) == NOT_READ
