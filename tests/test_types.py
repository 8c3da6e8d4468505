"""The typed values that cross stage boundaries: enums, ids, frozen label scores (#15)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import pipeline.errors
from claims.types import EvidenceStatus, Label, LabelScores, Stage, Verdict
from pipeline.report.json import dump_report, load_report
from pipeline.run import claim_documents

SCORES = {"supported": 0.7, "contested": 0.2, "commercial-promotional": 0.1}


def _verdict(scores: dict[str, float | None]) -> Verdict:
    return Verdict(
        claim_id="c1",
        label=Label.SUPPORTED,
        confidence=0.7,
        scores=scores,
        rationale="why",
        query="q",
        evidence=(),
        evidence_status=EvidenceStatus.FOUND,
    )


@pytest.mark.parametrize(
    "scores", [SCORES, {"supported": None, "contested": None, "commercial-promotional": 0.1}]
)
def test_verdict_is_hashable_and_its_scores_frozen(scores: dict[str, float | None]) -> None:
    verdict = _verdict(dict(scores))
    assert isinstance(verdict.scores, LabelScores)
    assert {verdict: 1}[_verdict(dict(scores))] == 1
    assert verdict.scores == scores and list(verdict.scores) == list(scores)
    with pytest.raises(TypeError):
        verdict.scores["supported"] = 0.0  # type: ignore[index]


def test_label_scores_equal_whatever_the_order_and_hash_alike() -> None:
    a = LabelScores(SCORES)
    b = LabelScores(reversed(list(SCORES.items())))
    assert a == b and hash(a) == hash(b)
    assert a != LabelScores({**SCORES, "supported": 0.6})
    with pytest.raises(KeyError):
        a["unknown"]


@pytest.mark.parametrize("texts", [["", "Exercise helps."], ["  ", "\n"]])
def test_empty_claims_fail_with_a_real_error_class(texts: list[str]) -> None:
    _, failures = claim_documents(texts, datetime(2025, 1, 1, tzinfo=UTC))
    empty = [n for n, t in enumerate(texts, start=1) if not t.strip()]
    assert [f.subject for f in failures] == [f"claim:{n}" for n in empty]
    for failure in failures:
        assert failure.stage is Stage.INPUT
        error = getattr(pipeline.errors, failure.error_type)
        assert issubclass(error, pipeline.errors.ClaimscanError)


@pytest.mark.parametrize("stage", list(Stage))
def test_failure_stage_and_claim_ids_survive_the_json_codec(stage: Stage) -> None:
    from claims.types import Failure, Report

    failure = Failure(stage, "2 claims", "PubMedError", "down (2 claims unverified)", ("a", "b"))
    at = datetime(2025, 1, 1, tzinfo=UTC)
    report = Report(generated_at=at, documents=(), failures=(failure,))
    text = dump_report(report)
    assert f'"stage": "{stage.value}"' in text
    assert load_report(text) == report


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (datetime(2026, 1, 2, 0, 30, tzinfo=UTC), "2026-01-02T00:30:00+00:00"),
        # A publisher's offset stays: converting would move this date to 1 January.
        (datetime.fromisoformat("2026-01-02T00:30:00+02:00"), "2026-01-02T00:30:00+02:00"),
        (datetime(2026, 1, 2, 0, 30), "2026-01-02T00:30:00+00:00"),
        (None, None),
    ],
)
def test_iso_is_one_rule_for_every_stored_time(value: datetime | None, written: str | None) -> None:
    from pipeline.report.json import iso

    assert iso(value) == written
