"""Tests for the intermediate-stage loaders, on tiny files in their real formats."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pipeline.train.nli import (
    NEUTRAL,
    NOT_SUPPORTS,
    REFUTES,
    SUPPORTS,
    iter_nli,
    load_climate_fever,
    load_fever_rte,
    load_nli4ct,
)


def _fever(root: Path) -> None:
    d = root / "nli" / "fever_nli_dev"
    d.mkdir(parents=True)
    (d / "dev.raw.input0").write_text("Paris is in France.\nThe sky is green.\n")
    (d / "dev.raw.input1").write_text("Paris is French.\nThe sky is blue.\n")
    (d / "dev.label").write_text("entailment\nnot_entailment\n")


def test_fever_not_entailment_is_a_partial_label(tmp_path: Path) -> None:
    _fever(tmp_path)
    pairs = load_fever_rte(tmp_path / "nli" / "fever_nli_dev")
    assert [(p.claim, p.label) for p in pairs] == [
        ("Paris is French.", SUPPORTS),
        ("The sky is blue.", NOT_SUPPORTS),
    ]


def test_climate_fever_labels_each_evidence_sentence(tmp_path: Path) -> None:
    path = tmp_path / "cf.jsonl"
    row = {
        "claim": "CO2 warms the planet.",
        "evidences": [
            {"evidence": "CO2 traps heat.", "evidence_label": "SUPPORTS"},
            {"evidence": "Ice is cold.", "evidence_label": "NOT_ENOUGH_INFO"},
            {"evidence": "CO2 cools the planet.", "evidence_label": "REFUTES"},
        ],
    }
    path.write_text(json.dumps(row) + "\n")
    assert [p.label for p in load_climate_fever(path)] == [SUPPORTS, NEUTRAL, REFUTES]


def test_nli4ct_reads_both_trials_of_a_comparison(tmp_path: Path) -> None:
    d = tmp_path / "nli4ct"
    d.mkdir()
    trials = {
        "NCT1": {"Clinical Trial ID": "NCT1", "Results": ["Outcome: 10% responded."]},
        "NCT2": {"Clinical Trial ID": "NCT2", "Results": ["Outcome: 40% responded."]},
    }
    statements = {
        "a": {
            "Type": "Comparison",
            "Section_id": "Results",
            "Primary_id": "NCT1",
            "Secondary_id": "NCT2",
            "Statement": "More responded in the secondary trial.",
            "Label": "Entailment",
        }
    }
    with zipfile.ZipFile(d / "training_data.zip", "w") as zf:
        for tid, trial in trials.items():
            zf.writestr(f"CT json/{tid}.json", json.dumps(trial))
        zf.writestr("train.json", json.dumps(statements))
        zf.writestr("dev.json", json.dumps({}))
    (d / "gold_test.json").write_text(json.dumps({}))
    (pair,) = load_nli4ct(d)
    assert pair.label == SUPPORTS
    assert "Primary trial: Outcome: 10% responded." in pair.evidence
    assert "Secondary trial: Outcome: 40% responded." in pair.evidence


def test_iter_nli_skips_what_is_absent(tmp_path: Path) -> None:
    assert list(iter_nli(tmp_path, curriculum_per_task=10, seed=1)) == []
    _fever(tmp_path)
    assert len(list(iter_nli(tmp_path, curriculum_per_task=10, seed=1))) == 2
