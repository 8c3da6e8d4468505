"""Tests for stance metrics (hand-computed cases) and the labelled-data loader."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from claims.types import Stance
from pipeline.errors import ConfigError
from pipeline.evaluate import direction_check, evaluate_stance, load_labelled
from pipeline.nlp.metrics import binary_ece, fit_temperature, stance_metrics, top_label_ece
from pipeline.train.data import StancePair

DATASETS = Path(__file__).parent / "data" / "datasets"
S, R, N = Stance.SUPPORTS, Stance.REFUTES, Stance.NEUTRAL


class FakeClassifier:
    """Returns canned probabilities in order."""

    name = "fake"

    def __init__(self, probs: Sequence[tuple[float, float, float]]) -> None:
        self.probs = list(probs)
        self.seen: list[tuple[str, str]] = []

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        self.seen.extend(pairs)
        return self.probs[: len(pairs)]


# gold S, S, R, N; predictions S (0.7), R (0.5, wrong), R (0.8), N (0.4).
GOLD = [S, S, R, N]
PROBS = [(0.7, 0.2, 0.1), (0.2, 0.5, 0.3), (0.1, 0.8, 0.1), (0.3, 0.3, 0.4)]


def test_stance_metrics_hand_computed() -> None:
    m = stance_metrics(GOLD, PROBS)
    assert m["n"] == 4
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["per_class"]["supports"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    )
    assert m["per_class"]["refutes"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    )
    assert m["per_class"]["neutral"] == pytest.approx(
        {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    )
    assert m["macro_f1"] == pytest.approx(7 / 9)
    # One example per bin: (|1-.7| + |0-.5| + |1-.8| + |1-.4|) / 4.
    assert m["ece"] == pytest.approx(0.4)
    # Supports vs refutes on the three non-neutral golds: S, R, R predicted.
    assert m["support_refute_n"] == 3
    assert m["support_refute_macro_f1"] == pytest.approx(2 / 3)


def test_stance_metrics_support_refute_ignores_neutral_probability() -> None:
    # Neutral wins the argmax, but supports beats refutes, so the S-vs-R view is right.
    m = stance_metrics([S, R], [(0.3, 0.1, 0.6), (0.1, 0.3, 0.6)])
    assert m["accuracy"] == 0.0
    assert m["support_refute_macro_f1"] == pytest.approx(1.0)


def test_stance_metrics_macro_over_gold_classes_only() -> None:
    # No neutral gold: a neutral prediction costs supports recall, not a third F1 of 0.
    m = stance_metrics([S, R], [(0.2, 0.1, 0.7), (0.1, 0.8, 0.1)])
    assert m["per_class"]["supports"]["f1"] == 0.0
    assert m["per_class"]["refutes"]["f1"] == pytest.approx(1.0)
    assert m["macro_f1"] == pytest.approx(0.5)


def test_stance_metrics_length_mismatch() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        stance_metrics([S], [])


@pytest.mark.parametrize(
    ("confidences", "correct", "expected"),
    [
        ([], [], 0.0),
        ([0.9, 0.9], [True, True], 0.1),
        ([0.9, 0.9], [True, False], 0.4),
        ([1.0, 0.0], [True, False], 0.0),
        # 0.7 sits on a bin edge and must share the (0.6, 0.7] bin with 0.65.
        ([0.7, 0.65], [True, False], abs(1 - 1.35) / 2),
    ],
)
def test_top_label_ece(confidences: list[float], correct: list[bool], expected: float) -> None:
    assert top_label_ece(confidences, correct) == pytest.approx(expected)


def test_fit_temperature_matches_closed_form() -> None:
    # Three of four right at logit gap a: the NLL optimum has p = 3/4, i.e.
    # e^(a/T) / (e^(a/T) + 2) = 3/4, so T = a / ln 6.
    logits = [[4.0, 0.0, 0.0]] * 4
    assert fit_temperature(logits, [0, 0, 0, 1]) == pytest.approx(4 / math.log(6), rel=1e-3)


def test_fit_temperature_no_examples() -> None:
    assert fit_temperature([], []) == 1.0


def test_evaluate_stance_runs_classifier_on_pairs() -> None:
    pairs = [StancePair(f"claim {i}", f"evidence {i}", g, "x") for i, g in enumerate(GOLD)]
    fake = FakeClassifier(PROBS)
    m = evaluate_stance(fake, pairs)
    assert fake.seen == [(p.claim, p.evidence) for p in pairs]
    assert m["model"] == "fake"
    assert m["accuracy"] == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("relative", "split", "claims"),
    [
        ("healthver/healthver_dev.csv", "val", None),
        ("scifact/claims_train.jsonl", "val", {"Fluoride prevents tooth decay."}),
        ("healthver/multivers/claims_dev.jsonl", "val", {"Masks prevent COVID-19."}),
        (".", "val", {"Fluoride prevents tooth decay.", "Saliva tests detect SARS-CoV-2."}),
        (
            "checkcovid/train/covidCheck_train_composed+extracted.json",
            "val",
            {"Saliva tests detect SARS-CoV-2."},
        ),
        (
            "covidfact/train.tsv",
            "all",
            {
                "Dexamethasone reduces COVID-19 mortality.",
                "Dexamethasone increases COVID-19 mortality.",
            },
        ),
    ],
)
def test_load_labelled_formats(relative: str, split: str, claims: set[str] | None) -> None:
    pairs = load_labelled(DATASETS / relative, split=split)
    assert pairs
    if claims is None:
        assert len(pairs) == 3
    else:
        assert {p.claim for p in pairs} == claims


def test_load_labelled_all_is_superset_of_val() -> None:
    val = load_labelled(DATASETS, split="val")
    everything = load_labelled(DATASETS, split="all")
    assert set(val) < set(everything)


@pytest.mark.parametrize(
    ("relative", "split", "message"),
    [
        ("nope.csv", "val", "no labelled data"),
        ("README.md", "val", "no format"),
        ("scifact/claims_train.jsonl", "test", "split must be"),
    ],
)
def test_load_labelled_errors(relative: str, split: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_labelled(DATASETS / relative, split=split)


class DirectionBlind:
    """Matches topic words only: the same answer whatever the claim's direction."""

    name = "direction-blind"

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        return [(0.8, 0.1, 0.1) for _ in pairs]


class DirectionAware:
    """Refutes a claim that says "increase" when the evidence says it fell."""

    name = "direction-aware"

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        return [(0.1, 0.8, 0.1) if "increase" in claim else (0.8, 0.1, 0.1) for claim, _ in pairs]


DIRECTION_PAIRS = [
    StancePair("Masks reduce transmission.", "Spread fell by half.", S, "scifact"),
    StancePair("Zinc reduces colds.", "Colds fell.", S, "healthver"),
    StancePair("Masks do not reduce deaths.", "Deaths were unchanged.", S, "scifact"),
    StancePair("Tea lowers blood pressure.", "Unrelated.", N, "healthver"),
]


@pytest.mark.parametrize(
    ("model", "read_as_refutes"), [(DirectionBlind(), 0.0), (DirectionAware(), 1.0)]
)
def test_direction_check_tells_a_direction_blind_model_apart(
    model: DirectionBlind | DirectionAware, read_as_refutes: float
) -> None:
    out = direction_check(model, DIRECTION_PAIRS)  # type: ignore[arg-type]
    assert out["n"] == 2  # the negated claim and the neutral pair are not flipped
    assert out["original"]["predicted_refutes"] == 0.0
    assert out["flipped"]["predicted_refutes"] == read_as_refutes
    assert out["original"]["mean_p_supports"] == pytest.approx(0.8)


def test_direction_check_with_nothing_to_flip() -> None:
    assert direction_check(DirectionBlind(), DIRECTION_PAIRS[2:]) == {"n": 0}  # type: ignore[arg-type]


def test_binary_ece_bins_like_top_label_ece() -> None:
    # 0.7 sits on a bin edge; both ECEs put it in the same (7th) bin.
    assert binary_ece([0.7, 0.7], [1, 0]) == pytest.approx(0.2)
    assert binary_ece([0.05, 0.95], [0, 1]) == pytest.approx(0.05)
    assert binary_ece([], []) == 0.0
    with pytest.raises(ValueError):
        binary_ece([0.5], [])
