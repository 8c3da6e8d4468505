"""Tests for the stance training-data loaders, on the fixtures in tests/data/datasets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from claims.types import Stance
from pipeline.errors import ConfigError
from pipeline.train.data import (
    SOURCES,
    StancePair,
    balance,
    class_weights,
    describe,
    direction_flips,
    flip_direction,
    heldout_claims,
    is_validation_claim,
    load_checkcovid,
    load_covidfact,
    load_healthver_csv,
    load_healthver_multivers,
    load_scifact,
    load_training_pairs,
    parse_label,
    split_by_claim,
    training_splits,
)

DATASETS = Path(__file__).parent / "data" / "datasets"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _counts(pairs: list[StancePair]) -> dict[Stance, int]:
    counts = Counter(p.label for p in pairs)
    return {s: counts[s] for s in Stance}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SUPPORT", Stance.SUPPORTS),
        ("Supports", Stance.SUPPORTS),
        ("entailment", Stance.SUPPORTS),
        ("CONTRADICT", Stance.REFUTES),
        ("REFUTE", Stance.REFUTES),
        ("not_entailment", Stance.REFUTES),
        ("Neutral", Stance.NEUTRAL),
        ("NOTENOUGHINFO", Stance.NEUTRAL),
        ("NEI", Stance.NEUTRAL),
    ],
)
def test_parse_label_maps_dataset_spellings(raw: str, expected: Stance) -> None:
    assert parse_label(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", ""])
def test_parse_label_rejects_unknown(raw: str) -> None:
    with pytest.raises(ValueError, match="unknown stance label"):
        parse_label(raw)


def test_load_scifact_rationales_and_neutrals() -> None:
    pairs = load_scifact(DATASETS / "scifact")
    assert _counts(pairs) == {Stance.SUPPORTS: 2, Stance.REFUTES: 1, Stance.NEUTRAL: 7}
    refute = next(p for p in pairs if p.label is Stance.REFUTES)
    # A multi-sentence rationale is joined in abstract order, whatever order it lists.
    assert refute.evidence == (
        "Aspirin did not reduce myocardial infarction in healthy elderly people. "
        "Major bleeding was more common with aspirin."
    )
    # Upstream trailing whitespace is gone.
    assert all(p.evidence == p.evidence.strip() for p in pairs)
    nei = [p for p in pairs if p.claim == "Coffee causes dehydration."]
    assert [p.label for p in nei] == [Stance.NEUTRAL, Stance.NEUTRAL]


def test_load_healthver_multivers_strips_claims() -> None:
    pairs = load_healthver_multivers(DATASETS / "healthver" / "multivers")
    assert _counts(pairs) == {Stance.SUPPORTS: 2, Stance.REFUTES: 1, Stance.NEUTRAL: 6}
    assert "Masks reduce transmission of respiratory viruses." in {p.claim for p in pairs}


def test_load_checkcovid_nei_evidence_is_neutral() -> None:
    pairs = load_checkcovid(DATASETS / "checkcovid")
    assert _counts(pairs) == {Stance.SUPPORTS: 1, Stance.REFUTES: 1, Stance.NEUTRAL: 5}
    nei = [p for p in pairs if p.claim == "Hydroxychloroquine causes heart damage."]
    assert {p.evidence for p in nei} == {
        "The trial stopped early.",
        "Hydroxychloroquine did not prevent infection after exposure.",
    }
    assert all(p.label is Stance.NEUTRAL for p in nei)


def test_load_covidfact_keeps_unquoted_quotes() -> None:
    pairs = load_covidfact(DATASETS / "covidfact" / "train.tsv")
    assert [p.label for p in pairs] == [Stance.SUPPORTS, Stance.REFUTES]
    assert '"in the RECOVERY trial"' in pairs[0].evidence


def test_load_healthver_csv_rows() -> None:
    pairs = load_healthver_csv(DATASETS / "healthver" / "healthver_dev.csv")
    assert [p.label for p in pairs] == [Stance.SUPPORTS, Stance.REFUTES, Stance.NEUTRAL]
    assert pairs[1].claim == "Vitamin D appears increase COVID-19 mortality rates"


def test_load_training_pairs_excludes_heldout_claims() -> None:
    held = heldout_claims(DATASETS)
    pairs = load_training_pairs(DATASETS, exclude_claims=held)
    assert "Obesity raises the risk of severe COVID-19." not in {p.claim for p in pairs}
    assert {p.source for p in pairs} == set(SOURCES)


def test_load_training_pairs_unknown_source() -> None:
    with pytest.raises(ConfigError, match="unknown training set"):
        load_training_pairs(DATASETS, ["healthfc"])


def test_load_training_pairs_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CLAIMSCAN_DATA"):
        load_training_pairs(tmp_path, ["scifact"])


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Fluoride prevents tooth decay.", True),
        ("  fluoride   PREVENTS tooth decay. ", True),
        ("Saliva tests detect SARS-CoV-2.", True),
        ("Statins lower LDL cholesterol.", False),
    ],
)
def test_is_validation_claim_is_stable_and_normalised(claim: str, expected: bool) -> None:
    assert is_validation_claim(claim) is expected


def test_split_by_claim_keeps_each_claim_on_one_side() -> None:
    train, val = split_by_claim(load_training_pairs(DATASETS))
    assert {p.claim for p in val} == {
        "Fluoride prevents tooth decay.",
        "Saliva tests detect SARS-CoV-2.",
    }
    assert not {p.claim for p in train} & {p.claim for p in val}


def test_balance_samples_neutrals_deterministically() -> None:
    pairs = load_training_pairs(DATASETS)
    first = balance(pairs, neutral_ratio=0.5, seed=1)
    labelled = sum(1 for p in pairs if p.label is not Stance.NEUTRAL)
    assert _counts(first)[Stance.NEUTRAL] == round(labelled * 0.5)
    assert balance(pairs, neutral_ratio=0.5, seed=1) == first
    assert all(p in pairs for p in first)


def test_class_weights_equalise_class_totals() -> None:
    pairs = [
        StancePair("c", "e", Stance.SUPPORTS, "x"),
        StancePair("c", "e", Stance.SUPPORTS, "x"),
        StancePair("c", "e", Stance.SUPPORTS, "x"),
        StancePair("c", "e", Stance.REFUTES, "x"),
    ]
    weights = class_weights(pairs)
    assert weights[Stance.SUPPORTS] * 3 == pytest.approx(weights[Stance.REFUTES])
    assert weights[Stance.NEUTRAL] == 0.0
    assert sum(weights[p.label] for p in pairs) == pytest.approx(len(pairs))


@pytest.mark.parametrize(
    ("claim", "flipped"),
    [
        ("Vitamin D increases bone density.", "Vitamin D decreases bone density."),
        ("Exercise Reduces chronic pain.", "Exercise Increases chronic pain."),
        ("Statins lead to LOWER LDL cholesterol.", "Statins lead to HIGHER LDL cholesterol."),
        (
            "Smoking is positively associated with cancer.",
            "Smoking is negatively associated with cancer.",
        ),
        # Negated, two direction words, or none: no clean opposite, so no flip.
        ("Statins do not increase diabetes risk.", None),
        ("Masks didn't reduce transmission.", None),
        ("Higher BMI is associated with higher risk.", None),
        ("Masks reduce transmission.", "Masks increase transmission."),
        ("Fluoride prevents tooth decay.", None),
    ],
)
def test_flip_direction(claim: str, flipped: str | None) -> None:
    assert flip_direction(claim) == flipped


def test_direction_flips_turn_supported_claims_into_refuted_ones() -> None:
    pairs = [
        StancePair(
            "Masks reduce transmission.", "Masks cut spread by 50%.", Stance.SUPPORTS, "scifact"
        ),
        StancePair("Masks reduce deaths.", "No effect on deaths.", Stance.REFUTES, "scifact"),
        StancePair("Drug X reduces fever.", "Drug X lowered fever.", Stance.SUPPORTS, "covidfact"),
        StancePair("Tea lowers blood pressure.", "Unrelated.", Stance.NEUTRAL, "healthver"),
    ]
    assert direction_flips(pairs) == [
        StancePair(
            "Masks increase transmission.",
            "Masks cut spread by 50%.",
            Stance.REFUTES,
            "scifact-flip",
        )
    ]


def test_training_splits_add_flips_to_train_only() -> None:
    plain_train, plain_val = training_splits(DATASETS)
    train, val = training_splits(DATASETS, flips=True)
    assert val == plain_val
    added = train[len(plain_train) :]
    assert train[: len(plain_train)] == plain_train
    assert added == direction_flips(plain_train)
    assert all(p.label is Stance.REFUTES and p.source.endswith("-flip") for p in added)


def test_training_splits_max_pairs_caps_train_only() -> None:
    train, val = training_splits(DATASETS, max_pairs=3)
    assert len(train) == 3
    assert {p.claim for p in val} <= {
        "Fluoride prevents tooth decay.",
        "Saliva tests detect SARS-CoV-2.",
    }
    assert describe(val)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data is not beside the repository")
def test_shared_data_loads_with_disjoint_split() -> None:
    train, val = training_splits(SHARED_DATA)
    counts = _counts(train)
    assert min(counts.values()) > 1000
    assert len(val) > 500
    assert not {p.claim for p in train} & {p.claim for p in val}
    held = set(heldout_claims(SHARED_DATA))
    assert not held & {p.claim for p in train}
