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
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from claims.split import claim_from_text
from claims.types import Article, EvidenceStatus, Label, Retrieval
from claims.verdict import ScoredSentence, decide
from pipeline.api import models_for
from pipeline.config import load_config
from pipeline.evaluate import expected_calibration_error
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.run import run_claims
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
    out["ECE"] = expected_calibration_error(conf, correct)
    out["labelled promotional"] = sum(p is Label.COMMERCIAL_PROMOTIONAL for p in pred)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run both evaluations and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stance-model", help="stance model (default: shipped)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="scifact")
    args = parser.parse_args(argv)
    claims_file, corpus_file, validation_only = DATASETS[args.dataset]
    if not claims_file.is_file():
        print(f"needs {claims_file}", file=sys.stderr)
        return 2
    rows = _claims(claims_file, validation_only)
    corpus = {r.pmid: r for r in load_scifact_corpus(corpus_file)}
    config = load_config({"cache_path": None, "stance_model": args.stance_model}, env={})
    models = models_for(config)
    gold = [row["gold"] for row in rows]

    with EutilsServer(list(corpus.values())) as server:
        keyed = load_config(
            {
                "cache_path": None,
                "eutils_url": server.base_url,
                "api_key": "benchmark-key",
                "stance_model": args.stance_model,
            },
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
    verdicts = [doc.claims[0].verdict for doc in report.documents]
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
        verdict = decide(claim, retrieval, scored, 0.0)
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
        parts = []
        for key, value in scores.items():
            if isinstance(value, tuple):
                parts.append(f"{key} " + "/".join(f"{x:.2f}" for x in value))
            elif isinstance(value, float):
                parts.append(f"{key} {value:.3f}")
            else:
                parts.append(f"{key} {value}")
        print(f"{name}: " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
