"""Intermediate-stage training pairs: NLI and fact-checking sets outside the health domain.

Reads ``shared/data/nli/`` (see its README) and returns :class:`TrainPair` records;
everything after reading is pure. Published scientific-claim verifiers all learn
entailment on general NLI or FEVER before the in-domain claims; these sets are what
can be had offline:

- FEVER as RTE: ``entailment`` is supports. ``not_entailment`` merges refutes and
  not-enough-info, so it is kept as the partial label :data:`NOT_SUPPORTS`: the loss
  asks only that supports be unlikely, not which of the other two holds.
- Climate-FEVER: every (claim, evidence sentence) pair with its own label.
- NLI4CT: statements against clinical-trial report sections (Entailment/Contradiction).
  The held-out-for-the-task ``gold_test.json`` is labelled and none of our
  evaluation sets, so it is training data here.
- Curriculum probes (negation, monotonicity, quantifiers, comparatives, …): templated
  and far from health prose, so only a small sample per task.

PubMedQA is left out: its questions are not claims, and turning "Does X reduce Y?"
into "X reduces Y" by rule gets negations and comparisons wrong often enough to teach
the opposite of what we want.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPPORTS = "supports"
REFUTES = "refutes"
NEUTRAL = "neutral"
NOT_SUPPORTS = "not-supports"
"""Partial label: refutes or neutral, we do not know which (FEVER's not_entailment)."""
LABELS = (SUPPORTS, REFUTES, NEUTRAL, NOT_SUPPORTS)

CURRICULUM_TASKS = (
    "negation",
    "monotonicity_infer",
    "quantifier",
    "comparative",
    "lexical",
    "boolean",
    "conditional",
    "counting",
    "counterfactual",
)
_NLI_LABEL = {"entailment": SUPPORTS, "contradiction": REFUTES, "neutral": NEUTRAL}
_CLIMATE_LABEL = {"SUPPORTS": SUPPORTS, "REFUTES": REFUTES, "NOT_ENOUGH_INFO": NEUTRAL}


@dataclass(frozen=True, slots=True)
class TrainPair:
    """One stance-training example in any stage. Created by the pack builders."""

    claim: str
    evidence: str
    """A sentence, a rationale set, or a title plus sentences of one abstract."""
    label: str
    """One of :data:`LABELS`."""
    source: str
    unit: str = "sentence"
    """``sentence`` or ``abstract``: what the evidence is, for the model card."""

    def as_json(self) -> dict[str, str]:
        return {
            "claim": self.claim,
            "evidence": self.evidence,
            "label": self.label,
            "source": self.source,
            "unit": self.unit,
        }

    @staticmethod
    def from_json(row: dict[str, Any]) -> TrainPair:
        if row["label"] not in LABELS:
            raise ValueError(f"unknown label {row['label']!r}")
        return TrainPair(
            row["claim"], row["evidence"], row["label"], row["source"], row.get("unit", "sentence")
        )


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def load_fever_rte(directory: Path) -> list[TrainPair]:
    """FEVER dev as RTE: ``dev.raw.input0`` evidence, ``input1`` claim, ``dev.label``."""
    evidence = (directory / "dev.raw.input0").read_text(encoding="utf-8").splitlines()
    claims = (directory / "dev.raw.input1").read_text(encoding="utf-8").splitlines()
    labels = (directory / "dev.label").read_text(encoding="utf-8").splitlines()
    out = []
    for ev, claim, label in zip(evidence, claims, labels, strict=True):
        if ev.strip() and claim.strip():
            out.append(
                TrainPair(
                    _clean(claim),
                    _clean(ev),
                    SUPPORTS if label.strip() == "entailment" else NOT_SUPPORTS,
                    "fever",
                )
            )
    return out


def load_climate_fever(path: Path) -> list[TrainPair]:
    """Climate-FEVER: one pair per (claim, evidence sentence), labelled per sentence."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            for ev in row["evidences"]:
                label = _CLIMATE_LABEL.get(ev["evidence_label"])
                if label and ev["evidence"].strip():
                    out.append(
                        TrainPair(
                            _clean(row["claim"]), _clean(ev["evidence"]), label, "climate-fever"
                        )
                    )
    return out


def _section(trial: dict[str, Any], section: str) -> str:
    return _clean(" ".join(trial.get(section, [])))


def load_nli4ct(directory: Path) -> list[TrainPair]:
    """NLI4CT statements against the named section of their trial report(s)."""
    out = []
    with zipfile.ZipFile(directory / "training_data.zip") as zf:
        trials: dict[str, dict[str, Any]] = {}
        for name in zf.namelist():
            if name.startswith("CT json/") and name.endswith(".json"):
                trial = json.loads(zf.read(name))
                trials[trial["Clinical Trial ID"]] = trial
        sets = [json.loads(zf.read(n)) for n in ("train.json", "dev.json")]
    sets.append(json.loads((directory / "gold_test.json").read_text(encoding="utf-8")))
    for statements in sets:
        for row in statements.values():
            primary = trials.get(row["Primary_id"])
            if primary is None:
                continue
            section = row["Section_id"]
            premise = _section(primary, section)
            secondary = trials.get(row.get("Secondary_id") or "")
            if row.get("Type") == "Comparison" and secondary is not None:
                premise = (
                    f"Primary trial: {premise} Secondary trial: {_section(secondary, section)}"
                )
            label = _NLI_LABEL.get(str(row["Label"]).lower())
            if premise and label:
                out.append(TrainPair(_clean(row["Statement"]), premise, label, "nli4ct"))
    return out


def load_curriculum(directory: Path, per_task: int, seed: int) -> list[TrainPair]:
    """A seeded sample of ``per_task`` training pairs from each curriculum probe."""
    out = []
    for task in CURRICULUM_TASKS:
        path = directory / f"{task}.zip"
        if not path.exists():
            continue
        with zipfile.ZipFile(path) as zf:
            name = next(
                n
                for n in zf.namelist()
                if n.endswith("/train.jsonl") and not n.startswith("__MACOSX")
            )
            rows = [json.loads(line) for line in zf.read(name).splitlines() if line.strip()]
        rows = [r for r in rows if r.get("gold_label") in _NLI_LABEL]
        for r in random.Random(f"{seed}:{task}").sample(rows, min(per_task, len(rows))):
            out.append(
                TrainPair(
                    _clean(r["hypothesis"]),
                    _clean(r["premise"]),
                    _NLI_LABEL[r["gold_label"]],
                    f"curriculum-{task}",
                )
            )
    return out


def iter_nli(data_dir: Path, *, curriculum_per_task: int, seed: int) -> Iterator[TrainPair]:
    """Every intermediate pair from ``data_dir/nli`` that is present, in a stable order."""
    nli = data_dir / "nli"
    if (nli / "fever_nli_dev").is_dir():
        yield from load_fever_rte(nli / "fever_nli_dev")
    if (nli / "climate_fever" / "climate-fever.jsonl").is_file():
        yield from load_climate_fever(nli / "climate_fever" / "climate-fever.jsonl")
    if (nli / "nli4ct" / "training_data.zip").is_file():
        yield from load_nli4ct(nli / "nli4ct")
    if (nli / "curriculum_ling").is_dir() and curriculum_per_task > 0:
        yield from load_curriculum(nli / "curriculum_ling", curriculum_per_task, seed)
