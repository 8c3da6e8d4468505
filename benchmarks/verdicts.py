"""Claim-level accuracy through the real retrieval path: SciFact validation claims, end to end.

Network I/O on 127.0.0.1 only (the local E-utilities server from ``tests/``, serving
SciFact's corpus as PubMed); reads ``<repo>/../shared/data/scifact``; loads the
configured models.

For each SciFact training claim in our validation split (``is_validation_claim``, the
split the stance adapter never trained on) whose gold label is SUPPORT or CONTRADICT,
claimscan checks the claim as ``claimscan claim`` would and its label is compared with
gold: ``supported`` ↔ SUPPORT, ``contested`` ↔ CONTRADICT. A second row gives the
same figures when the verdict is computed from the gold rationale sentences instead
of retrieved evidence, which separates retrieval errors from stance errors.

Run from the repository root::

    python -m benchmarks.verdicts                      # SciFact validation split
    python -m benchmarks.verdicts --dataset healthver  # HealthVer dev (never trained on)
    python -m benchmarks.verdicts --calibrate [--write]

``--calibrate`` fits the claim-level :class:`~claims.verdict.SupportCalibration`: it
checks the claims of all three sets with the stance model's calibration switched off,
prints each set's figures before and after a calibration cross-fitted over them (each
claim scored by a fit that did not see it), and with ``--write`` stores the fit on all
claims in the stance model's ``stance.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from claims.split import claim_from_text
from claims.types import Article, EvidenceStatus, Label, Retrieval, Verdict
from claims.verdict import SUPPORT_THRESHOLD, ScoredSentence, decide
from pipeline.api import models_for
from pipeline.config import load_config
from pipeline.http import build_client
from pipeline.nlp.metrics import top_label_ece
from pipeline.nlp.stance import CALIBRATION_KEY, META_FILE
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.run import Models, run_claims
from pipeline.train.calibrate import cross_fitted_support, fit_support_calibration
from pipeline.train.data import is_validation_claim
from tests.eutils_server import EutilsServer, load_scifact_corpus

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS = {
    # name: (claims file, corpus file, keep claim?) — SciFact's validation split of its
    # training claims, and HealthVer's dev claims (held out from training altogether).
    "scifact": (DATA / "scifact" / "claims_train.jsonl", DATA / "scifact" / "corpus.jsonl", True),
    "healthver": (
        DATA / "healthver" / "multivers" / "claims_dev.jsonl",
        DATA / "healthver" / "multivers" / "corpus.jsonl",
        False,
    ),
    # HealthVer training claims in the stance adapter's validation split: never trained
    # on, but their abstracts were, paired with other claims (as were HealthVer dev's).
    "healthver-train-val": (
        DATA / "healthver" / "multivers" / "claims_train.jsonl",
        DATA / "healthver" / "multivers" / "corpus.jsonl",
        True,
    ),
}
GOLD = {"SUPPORT": Label.SUPPORTED, "CONTRADICT": Label.CONTESTED}


def _claims(path: Path, validation_only: bool) -> list[dict]:  # type: ignore[type-arg]
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            row["claim"] = row["claim"].strip()
            labels = {e["label"] for ev in row["evidence"].values() for e in ev}
            if len(labels) == 1 and (not validation_only or is_validation_claim(row["claim"])):
                row["gold"] = GOLD[labels.pop()]
                rows.append(row)
    return rows


def _scores(gold: list[Label], pred: list[Label], conf: list[float]) -> dict[str, float]:
    out: dict[str, float] = {"n": len(gold)}
    f1s = []
    for label in (Label.SUPPORTED, Label.CONTESTED):
        tp = sum(g is label and p is label for g, p in zip(gold, pred, strict=True))
        fp = sum(g is not label and p is label for g, p in zip(gold, pred, strict=True))
        fn = sum(g is label and p is not label for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[f"{label.value} P/R/F1"] = (prec, rec, f1)  # type: ignore[assignment]
        f1s.append(f1)
    correct = [g is p for g, p in zip(gold, pred, strict=True)]
    out["accuracy"] = sum(correct) / len(gold)
    out["macro-F1"] = sum(f1s) / 2
    out["ECE"] = top_label_ece(conf, correct)
    out["labelled promotional"] = sum(p is Label.COMMERCIAL_PROMOTIONAL for p in pred)
    return out


def _check(rows: list[dict], corpus: dict, models: Models) -> list[Verdict]:  # type: ignore[type-arg]
    """Check each claim as ``claimscan claim`` would, against the corpus served as PubMed."""
    with EutilsServer(list(corpus.values())) as server:
        keyed = load_config(
            {"cache_path": None, "eutils_url": server.base_url, "api_key": "benchmark-key"},
            env={},
        )
        with build_client(keyed) as client:
            pubmed = PubMed(client, keyed, limiter=RateLimiter(keyed.rate_limit))
            report = run_claims(
                [row["claim"] for row in rows],
                config=keyed,
                pubmed=pubmed,
                models=models,
                now=lambda: datetime.now(UTC),
            )
    return [doc.claims[0].verdict for doc in report.documents]


def _load(dataset: str) -> tuple[list[dict], dict]:  # type: ignore[type-arg]
    claims_file, corpus_file, validation_only = DATASETS[dataset]
    rows = _claims(claims_file, validation_only)
    return rows, {r.pmid: r for r in load_scifact_corpus(corpus_file)}


def _print_scores(name: str, scores: dict[str, float]) -> None:
    parts = []
    for key, value in scores.items():
        if isinstance(value, tuple):
            parts.append(f"{key} " + "/".join(f"{x:.2f}" for x in value))
        elif isinstance(value, float):
            parts.append(f"{key} {value:.3f}")
        else:
            parts.append(f"{key} {value}")
    print(f"{name}: " + "; ".join(parts))


def _recalibrated(verdict: Verdict, p_supported: float) -> tuple[Label, float]:
    """The label and confidence ``decide`` gives with P(supported) replaced."""
    if verdict.label is Label.COMMERCIAL_PROMOTIONAL or verdict.evidence_status is not (
        EvidenceStatus.FOUND
    ):
        return verdict.label, verdict.confidence
    rest = 1.0 - verdict.scores[Label.COMMERCIAL_PROMOTIONAL.value]
    if p_supported >= SUPPORT_THRESHOLD:
        return Label.SUPPORTED, rest * p_supported
    return Label.CONTESTED, rest * (1.0 - p_supported)


def _raw_support(verdict: Verdict) -> float:
    """The aggregate before calibration, from a verdict computed without one."""
    supported = verdict.scores[Label.SUPPORTED.value]
    total = supported + verdict.scores[Label.CONTESTED.value]
    return supported / total if total else 0.0


def calibrate(models: Models, *, write: bool) -> int:
    """Fit, cross-validate and optionally store the claim-level support calibration."""
    uncalibrated = copy.copy(models)
    uncalibrated.stance = copy.copy(models.stance)
    uncalibrated.stance.support_calibration = None
    sets: dict[str, tuple[list[Label], list[Verdict]]] = {}
    for dataset in DATASETS:
        rows, corpus = _load(dataset)
        sets[dataset] = ([row["gold"] for row in rows], _check(rows, corpus, uncalibrated))
    # Only claims with scored evidence get a calibrated support; the others keep theirs.
    pooled = [
        (dataset, i)
        for dataset, (_, verdicts) in sets.items()
        for i, v in enumerate(verdicts)
        if v.evidence_status is EvidenceStatus.FOUND
    ]
    support = [_raw_support(sets[d][1][i]) for d, i in pooled]
    supported = [sets[d][0][i] is Label.SUPPORTED for d, i in pooled]
    held_out = dict(zip(pooled, cross_fitted_support(support, supported), strict=True))
    print(f"claims with scored evidence: {len(pooled)} of {sum(len(g) for g, _ in sets.values())}")
    for dataset, (gold, verdicts) in sets.items():
        before = [(v.label, v.confidence) for v in verdicts]
        after = [
            _recalibrated(v, held_out[(dataset, i)]) if (dataset, i) in held_out else before[i]
            for i, v in enumerate(verdicts)
        ]
        for name, pairs in (("uncalibrated", before), ("cross-fitted calibration", after)):
            pred, conf = [p for p, _ in pairs], [c for _, c in pairs]
            _print_scores(f"{dataset} {name}", _scores(gold, pred, conf))
    fitted = fit_support_calibration(support, supported)
    print(
        f"fit on all {len(support)}: temperature {fitted.temperature:.4f}, shift {fitted.shift:.4f}"
    )
    if write:
        meta_path = Path(models.stance.name) / META_FILE
        if not meta_path.is_file():
            print(f"cannot write: {meta_path} does not exist", file=sys.stderr)
            return 2
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta[CALIBRATION_KEY] = {
            "temperature": fitted.temperature,
            "shift": fitted.shift,
            "fitted_on": {d: len(g) for d, (g, _) in sets.items()},
            "claims_with_evidence": len(support),
            "command": "python -m benchmarks.verdicts --calibrate --write",
        }
        meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_KEY} to {meta_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run both evaluations and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stance-model", help="stance model (default: shipped)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="scifact")
    parser.add_argument(
        "--calibrate", action="store_true", help="fit the claim-level support calibration"
    )
    parser.add_argument(
        "--write", action="store_true", help="with --calibrate: store it in stance.json"
    )
    args = parser.parse_args(argv)
    needed = list(DATASETS) if args.calibrate else [args.dataset]
    for dataset in needed:
        if not DATASETS[dataset][0].is_file():
            print(f"needs {DATASETS[dataset][0]}", file=sys.stderr)
            return 2
    config = load_config({"cache_path": None, "stance_model": args.stance_model}, env={})
    models = models_for(config)
    if args.calibrate:
        return calibrate(models, write=args.write)
    rows, corpus = _load(args.dataset)
    gold = [row["gold"] for row in rows]
    verdicts = _check(rows, corpus, models)
    found = [
        any(e.pmid in row["evidence"] for e in v.evidence)
        for row, v in zip(rows, verdicts, strict=True)
    ]

    # Oracle evidence: the gold rationale sentences, each scored by the stance model.
    oracle_pred, oracle_conf = [], []
    for row in rows:
        claim = claim_from_text(row["claim"], f"scifact:{row['id']}")
        pairs, arts = [], []
        for doc_id, sets in row["evidence"].items():
            record = corpus[doc_id]
            article = Article(doc_id, record.title, tuple(record.abstract), "", None)
            for s in sets:
                for i in s["sentences"]:
                    pairs.append((row["claim"], record.abstract[i]))
                    arts.append(article)
        probs = models.stance.predict(pairs)
        scored = [
            ScoredSentence(a, p[1], 1.0, *pr) for a, p, pr in zip(arts, pairs, probs, strict=True)
        ]
        retrieval = Retrieval(claim.id, "", (), tuple(arts), EvidenceStatus.FOUND)
        verdict = decide(
            claim, retrieval, scored, 0.0, support_calibration=models.stance.support_calibration
        )
        oracle_pred.append(verdict.label)
        oracle_conf.append(verdict.confidence)

    rows_out = {
        "retrieved evidence (end to end)": _scores(
            gold, [v.label for v in verdicts], [v.confidence for v in verdicts]
        ),
        "gold rationale sentences": _scores(gold, oracle_pred, oracle_conf),
    }
    print(
        f"{args.dataset} claims: {len(rows)} "
        f"({sum(g is Label.SUPPORTED for g in gold)} SUPPORT, "
        f"{sum(g is Label.CONTESTED for g in gold)} CONTRADICT); model {models.description}"
    )
    print(f"claims whose cited evidence includes a gold abstract: {sum(found) / len(found):.3f}")
    for name, scores in rows_out.items():
        _print_scores(name, scores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
