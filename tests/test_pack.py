"""Tests for the stance training pack, on the dataset fixtures."""

from __future__ import annotations

from pathlib import Path

from pipeline.train.data import is_validation_claim, normalise_claim
from pipeline.train.nli import NEUTRAL, TrainPair
from pipeline.train.pack import Doc, LexicalIndex, build_pack, read_pack, write_pack

DATASETS = Path(__file__).parent / "data" / "datasets"


def test_pack_keeps_validation_and_benchmark_claims_out_of_training() -> None:
    pack = build_pack(DATASETS, selector=None)
    trained = {
        normalise_claim(p.claim)
        for split in ("intermediate", "in-domain", "flips")
        for p in pack.splits[split]
    }
    assert trained
    assert not [c for c in trained if is_validation_claim(c)]
    # A HealthVer training claim that is also a dev-CSV claim (see the fixtures' README).
    assert normalise_claim("Obesity raises the risk of severe COVID-19.") not in trained
    assert {normalise_claim(p.claim) for p in pack.splits["validation"]} == {
        c
        for c in {normalise_claim(p.claim) for p in pack.splits["validation"]}
        if is_validation_claim(c)
    }


def test_pack_reads_claims_against_passages_and_sentences() -> None:
    pack = build_pack(DATASETS, selector=None)
    units = {p.unit for p in pack.splits["in-domain"]}
    assert units == {"sentence", "abstract"}
    passage = next(p for p in pack.splits["in-domain"] if p.unit == "abstract")
    # A passage starts with its abstract's title.
    assert passage.evidence.split(".")[0]


def test_mined_hard_negatives_never_come_from_gold_abstracts() -> None:
    pack = build_pack(DATASETS, selector=None, mine=True)
    hard = [p for s in pack.splits.values() for p in s if p.source.endswith("-hard")]
    assert hard and all(p.label == NEUTRAL for p in hard)
    distill = pack.splits["distill"]
    assert distill and all(p.source.endswith("-distill") for p in distill)
    gold_sentences = {(p.claim, p.evidence) for p in pack.splits["in-domain"] if p.label != NEUTRAL}
    assert not [p for p in hard if (p.claim, p.evidence) in gold_sentences]


def test_pack_round_trip(tmp_path: Path) -> None:
    pack = build_pack(DATASETS, selector=None)
    pack.splits["intermediate"].append(TrainPair("c", "e", "not-supports", "fever"))
    write_pack(pack, tmp_path / "p.jsonl.gz")
    again = read_pack(tmp_path / "p.jsonl.gz")
    assert again.splits == pack.splits
    assert again.meta == pack.meta


def test_lexical_index_ranks_by_shared_rare_words() -> None:
    docs = [
        Doc("1", "Statins and LDL", ("Statins lowered LDL cholesterol.",)),
        Doc("2", "Masks", ("Masks reduced transmission of the virus.",)),
        Doc("3", "Coffee", ("Coffee was not associated with the outcome.",)),
    ]
    index = LexicalIndex(docs)
    assert index.search("Do masks reduce virus transmission?", 2)[0] == "2"
    assert index.search("unrelated words only", 2) == []
