"""Claim-level verdicts through the real retrieval path, with ``unverified`` as its own outcome.

Network I/O on 127.0.0.1 only (the local E-utilities server from ``tests/``, serving a
dataset's corpus as PubMed); reads ``<repo>/../shared/data``; loads the configured models.

Each claim is checked as ``claimscan claim`` checks it (:func:`pipeline.run.assess`,
then the real labelling steps of :mod:`claims.verdict`) and compared with its gold
label: ``supported`` ↔ SUPPORT, ``contested`` ↔ CONTRADICT. An ``unverified`` claim
is neither right nor wrong about the claim; it counts against accuracy and recall,
and its share is printed (coverage = the share that got a verdict).

Sets (never trained on; the stance model's validation split for SciFact):

- ``scifact``: SciFact training claims in our validation split, SciFact corpus;
- ``healthver``: HealthVer dev claims (MultiVerS), HealthVer corpus;
- ``healthver-train-val``: HealthVer training claims in our validation split.

The claim-level calibration is cross-fitted: every claim is scored by a Platt fit that
did not see it (5 folds over all three sets), so the figures printed for "calibrated"
are honest out-of-sample figures; ``--write`` stores the fit on all of them.

Run from the repository root::

    python -m benchmarks.verdicts                       # all three sets
    python -m benchmarks.verdicts --evidence-unit passage
    python -m benchmarks.verdicts --write               # store the calibration fit
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from claims.types import Label, Retrieval
from claims.verdict import (
    ScoredSentence,
    SupportCalibration,
    decide,
    on_topic,
    score_claim,
)
from pipeline.api import models_for
from pipeline.config import Config, load_config
from pipeline.http import build_client
from pipeline.nlp.metrics import prf_of, top_label_ece
from pipeline.nlp.stance import CALIBRATION_KEY, META_FILE
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.run import Assessment, Models, assess, claim_documents
from pipeline.train.calibrate import cross_fitted_support, fit_support_calibration
from pipeline.train.data import is_validation_claim
from tests.eutils_server import EutilsServer, Record, load_scifact_corpus

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = {
    # name: (claims file, corpus file, keep only our validation split?)
    "scifact": (DATA / "scifact" / "claims_train.jsonl", DATA / "scifact" / "corpus.jsonl", True),
    "healthver": (
        DATA / "healthver" / "multivers" / "claims_dev.jsonl",
        DATA / "healthver" / "multivers" / "corpus.jsonl",
        False,
    ),
    "healthver-train-val": (
        DATA / "healthver" / "multivers" / "claims_train.jsonl",
        DATA / "healthver" / "multivers" / "corpus.jsonl",
        True,
    ),
}
GOLD = {"SUPPORT": Label.SUPPORTED, "CONTRADICT": Label.CONTESTED}


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark claim: its text, gold label and gold abstracts."""

    text: str
    gold: Label
    gold_docs: frozenset[str]


def read_cases(path: Path, validation_only: bool) -> list[Case]:
    """Claims whose evidence all says SUPPORT or all says CONTRADICT."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = " ".join(row["claim"].split())
            labels = {e["label"] for ev in row["evidence"].values() for e in ev}
            if len(labels) == 1 and (not validation_only or is_validation_claim(text)):
                out.append(Case(text, GOLD[labels.pop()], frozenset(row["evidence"])))
    return out


def benchmark_config(fast: bool, evidence_unit: str | None, stance_model: str | None) -> Config:
    """The shipped settings, no cache and no environment, with the benchmark's choices."""
    overrides: dict[str, object] = {"cache_path": None, "stance_model": stance_model}
    if fast:
        overrides["fast"] = True
    if evidence_unit:
        overrides["evidence_unit"] = evidence_unit
    return load_config(overrides, env={})


def assess_cases(
    texts: Sequence[str], corpus: Sequence[Record], models: Models, config: Config
) -> Assessment:
    """Run :func:`pipeline.run.assess` on claims against ``corpus`` served as PubMed."""
    with EutilsServer(list(corpus)) as server:
        # With a key, at NCBI's 10 requests/s: the figures measure verdicts, not waiting.
        keyed = replace(
            config, eutils_url=server.base_url, api_key="benchmark-key", cache_path=None
        )
        with build_client(keyed) as client:
            pubmed = PubMed(client, keyed, limiter=RateLimiter(keyed.rate_limit))
            documents, _ = claim_documents(list(texts), datetime.now(UTC))
            # Every passage read: the relevance rule is fitted on these assessments.
            return assess(
                documents, config=keyed, pubmed=pubmed, models=models, split=False, read_from=None
            )


def claim_inputs(
    a: Assessment,
) -> list[tuple[object, Retrieval | None, list[ScoredSentence], float]]:
    """(claim, retrieval, scored sentences, P(promotional)) per claim, in input order."""
    return [
        (claim, a.retrievals.get(claim.id), a.scored[claim.id], a.promo[claim.id])
        for _, claims, _ in a.per_doc
        for claim in claims
    ]


def scores(gold: Sequence[Label], pred: Sequence[Label], conf: Sequence[float | None]) -> dict:  # type: ignore[type-arg]
    """Accuracy, macro-F1 over supported/contested, coverage, ECE of the labelled claims."""
    out: dict[str, object] = {"n": len(gold)}
    f1s = []
    for label in (Label.SUPPORTED, Label.CONTESTED):
        m = prf_of(list(gold), list(pred), label)
        out[f"{label.value} P/R/F1"] = (m["precision"], m["recall"], m["f1"])
        f1s.append(m["f1"])
    correct = [g is p for g, p in zip(gold, pred, strict=True)]
    decided = [i for i, p in enumerate(pred) if p in (Label.SUPPORTED, Label.CONTESTED)]
    out["accuracy"] = sum(correct) / len(gold) if gold else 0.0
    out["macro-F1"] = sum(f1s) / 2
    out["coverage"] = len(decided) / len(gold) if gold else 0.0
    out["accuracy when labelled"] = (
        sum(correct[i] for i in decided) / len(decided) if decided else 0.0
    )
    out["ECE (labelled)"] = top_label_ece(
        [float(conf[i] or 0.0) for i in decided], [correct[i] for i in decided]
    )
    out["unverified"] = sum(p is Label.UNVERIFIED for p in pred)
    out["promotional"] = sum(p is Label.COMMERCIAL_PROMOTIONAL for p in pred)
    return out


def print_scores(name: str, figures: dict) -> None:  # type: ignore[type-arg]
    parts = []
    for key, value in figures.items():
        if isinstance(value, tuple):
            parts.append(f"{key} " + "/".join(f"{x:.2f}" for x in value))
        elif isinstance(value, float):
            parts.append(f"{key} {value:.3f}")
        else:
            parts.append(f"{key} {value}")
    print(f"{name}: " + "; ".join(parts))


def main(argv: list[str] | None = None) -> int:
    """Check every set, print figures before and after a cross-fitted calibration."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stance-model", help="stance model (default: shipped)")
    parser.add_argument("--fast", action="store_true", help="the fast (MiniLM) stance model")
    parser.add_argument("--evidence-unit", choices=("sentence", "passage"))
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated sets")
    parser.add_argument("--write", action="store_true", help="store the calibration fit")
    args = parser.parse_args(argv)
    chosen = [s for s in args.sets.split(",") if s]
    for name in chosen:
        if name not in SETS or not SETS[name][0].is_file():
            print(f"unknown set {name!r} or its data is missing under {DATA}", file=sys.stderr)
            return 2
    config = benchmark_config(args.fast, args.evidence_unit, args.stance_model)
    models = models_for(config)
    print(f"models: {models.description}; evidence unit {config.evidence_unit}")

    per_set: dict[
        str, tuple[list[Case], list[tuple[object, Retrieval | None, list[ScoredSentence], float]]]
    ] = {}
    for name in chosen:
        claims_file, corpus_file, validation_only = SETS[name]
        cases = read_cases(claims_file, validation_only)
        corpus = load_scifact_corpus(corpus_file)
        a = assess_cases([c.text for c in cases], corpus, models, config)
        per_set[name] = (cases, claim_inputs(a))

    # Raw aggregate of every claim with on-topic evidence, for the cross-fitted calibration.
    pooled = [
        (name, i)
        for name, (_, inputs) in per_set.items()
        for i, (_, _, scored, q) in enumerate(inputs)
        if any(on_topic(s) for s in scored)
    ]
    raw = [score_claim(per_set[n][1][i][2], 0.0).raw_supported for n, i in pooled]
    truth = [per_set[n][0][i].gold is Label.SUPPORTED for n, i in pooled]
    held_out = dict(zip(pooled, cross_fitted_support(raw, truth), strict=True)) if pooled else {}
    total = sum(len(c) for c, _ in per_set.values())
    print(f"claims with on-topic evidence: {len(pooled)} of {total}")

    for name, (cases, inputs) in per_set.items():
        gold = [c.gold for c in cases]
        for kind in ("uncalibrated", "cross-fitted calibration"):
            verdicts = []
            for i, (claim, retrieval, scored, q) in enumerate(inputs):
                calibration = None
                if kind != "uncalibrated" and (name, i) in held_out:
                    # A calibration that maps this claim's raw aggregate to its held-out P.
                    calibration = Fixed(held_out[(name, i)])
                verdicts.append(
                    decide(claim, retrieval, scored, q, support_calibration=calibration)  # type: ignore[arg-type]
                )
            print_scores(
                f"{name} {kind}",
                scores(gold, [v.label for v in verdicts], [v.confidence for v in verdicts]),
            )
            if kind == "uncalibrated":
                found = [
                    bool(c.gold_docs & {e.pmid for e in v.evidence})
                    for c, v in zip(cases, verdicts, strict=True)
                ]
                print(f"{name}: gold abstract among the cited {sum(found) / len(found):.3f}")
    if pooled:
        fitted = fit_support_calibration(raw, truth)
        print(
            f"fit on all {len(raw)}: temperature {fitted.temperature:.4f}, shift {fitted.shift:.4f}"
        )
        if args.write:
            sets = {n: len(c) for n, (c, _) in per_set.items()}
            return write_calibration(config, fitted, sets, len(raw))
    return 0


class Fixed:
    """A calibration that returns one held-out probability, whatever it is given."""

    def __init__(self, p: float) -> None:
        self.p = p

    def __call__(self, support: float) -> float:
        return self.p


def write_calibration(
    config: Config,
    fitted: SupportCalibration,
    sets: dict[str, int],
    n: int,
    command: str = "python -m benchmarks.verdicts --write",
) -> int:
    """Store ``fitted`` as the stance model's claim-level calibration (its ``stance.json``)."""
    meta_path = Path(config.stance_model) / META_FILE
    if not meta_path.is_file():
        print(f"cannot write: {meta_path} does not exist", file=sys.stderr)
        return 2
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta[CALIBRATION_KEY] = {
        "temperature": round(fitted.temperature, 4),
        "shift": round(fitted.shift, 4),
        "fitted_on": sets,
        "claims_with_evidence": n,
        "evidence_unit": config.evidence_unit,
        "command": command,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {CALIBRATION_KEY} to {meta_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
