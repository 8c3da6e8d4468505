"""Abstention: claims whose topic the corpus lacks must come out unverified, never supported.

Network I/O on 127.0.0.1 only (the local E-utilities server from ``tests/``); reads
``<repo>/../shared/data``; loads the configured models.

SciFact's 5,183 abstracts predate COVID-19, so served as PubMed they hold no evidence
for or against COVID-19 claims. Check-COVID's and HealthVer's dev claims (never
trained on; every claim, whatever its gold label) are checked against that corpus as
``claimscan claim`` would check them. Retrieval still finds abstracts that share
words with them (coronaviruses, masks, vitamin D); the question is whether they are
then cited as evidence. Printed per set:

- labelled ``supported`` (target: at most 5 %);
- with any abstract shown as supporting or refuting (target: at most 10 %);
- ``unverified``, by evidence status (none, off-topic, found but inconclusive).

Run from the repository root::

    python -m benchmarks.abstention
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from benchmarks.verdicts import assess_cases, benchmark_config, claim_inputs
from claims.types import Label, Stance
from claims.verdict import decide
from pipeline.session import Session
from tests.eutils_server import load_scifact_corpus

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETS = {
    "checkcovid-dev": DATA / "checkcovid" / "dev" / "covidCheck_dev_composed+extracted.json",
    "healthver-dev": DATA / "healthver" / "multivers" / "claims_dev.jsonl",
}
CORPUS = DATA / "scifact" / "corpus.jsonl"


def read_claims(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [" ".join(json.loads(line)["claim"].split()) for line in fh if line.strip()]


def main(argv: list[str] | None = None) -> int:
    """Check every claim of both sets against the SciFact corpus and print the shares."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="the fast (MiniLM) stance model")
    parser.add_argument("--evidence-unit", choices=("sentence", "passage"))
    args = parser.parse_args(argv)
    if not CORPUS.is_file() or not all(p.is_file() for p in SETS.values()):
        print(f"needs SciFact, Check-COVID and HealthVer under {DATA}", file=sys.stderr)
        return 2
    config = benchmark_config(args.fast, args.evidence_unit, None)
    with Session.open(config) as session:
        models = session.models()
    corpus = load_scifact_corpus(CORPUS)
    print(f"models: {models.description}; evidence unit {config.evidence_unit}")
    calibration = models.stance.support_calibration
    for name, path in SETS.items():
        claims = read_claims(path)
        a = assess_cases(claims, corpus, models, config)
        verdicts = [
            decide(claim, r, scored, q, support_calibration=calibration if scored else None)  # type: ignore[arg-type]
            for claim, r, scored, q in claim_inputs(a)
        ]
        n = len(verdicts)
        supported = sum(v.label is Label.SUPPORTED for v in verdicts)
        cited = sum(
            any(e.stance in (Stance.SUPPORTS, Stance.REFUTES) for e in v.evidence) for v in verdicts
        )
        labels = Counter(v.label.value for v in verdicts)
        unverified = Counter(
            v.evidence_status.value for v in verdicts if v.label is Label.UNVERIFIED
        )
        print(
            f"{name}: n {n}; labelled supported {supported / n:.3f} ({supported}); "
            f"with an abstract shown as supporting or refuting {cited / n:.3f} ({cited}); "
            f"labels {dict(labels)}; unverified by evidence status {dict(unverified)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
