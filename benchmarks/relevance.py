"""Fit when retrieved abstracts count as evidence, on training claims; report on held-out ones.

Network I/O on 127.0.0.1 only (the local E-utilities server from ``tests/``); reads
``<repo>/../shared/data``; loads the configured models once per missing dump.

Each set is checked through retrieval and the stance model once and stored
(:mod:`benchmarks.assessments`, under ``--dir``); everything after that is the real,
pure labelling of :mod:`claims.verdict`, so it is refit and measured in seconds.

**Fitting** (training claims only; none is a benchmark claim):

- ``fit-scifact``, ``fit-healthver``: SciFact and HealthVer training claims outside our
  validation split (a seeded sample), against their own corpora: their gold abstracts
  are there and should be cited;
- ``fit-offtopic-checkcovid``, ``fit-offtopic-healthver``: Check-COVID training claims
  and HealthVer training claims outside our validation split, against SciFact's corpus,
  which predates COVID-19: nothing there is about them, and nothing should be cited.
  The two differ: Check-COVID's are about the virus, HealthVer's often join COVID-19 to
  a topic the corpus does cover (alcohol, blood-pressure drugs, vitamin D).

The rule (:class:`claims.verdict.Relevance`) chosen is the one that cites a gold
abstract for the most in-domain claims while citing anything for at most 10 % of the
claims of each off-topic set.

**Reporting** (never used for fitting), with that rule:

- abstention: Check-COVID dev and HealthVer dev claims (all of them) against SciFact's
  corpus: share labelled ``supported`` and share with any abstract shown as evidence;
- claim level: the sets of :mod:`benchmarks.verdicts`, calibration cross-fitted.

Run from the repository root::

    python -m benchmarks.relevance                 # dumps what is missing, fits, reports
    python -m benchmarks.relevance --dir runs/assess
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.assessments import Inputs, dump, load
from benchmarks.verdicts import (
    GOLD,
    SETS,
    Fixed,
    assess_cases,
    benchmark_config,
    claim_inputs,
    print_scores,
    read_cases,
    scores,
    write_calibration,
)
from claims.types import Label, Stance
from claims.verdict import RELEVANCE, Relevance, SupportCalibration, decide, on_topic, score_claim
from pipeline.api import models_for
from pipeline.config import Config
from pipeline.train.calibrate import cross_fitted_support, fit_support_calibration
from pipeline.train.data import is_validation_claim
from tests.eutils_server import load_scifact_corpus

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SCIFACT = DATA / "scifact"
HEALTHVER = DATA / "healthver" / "multivers"
CHECKCOVID = DATA / "checkcovid"
FIT_SAMPLE = 60
OFF_TOPIC_SAMPLE = 100
OFF_TOPIC_SETS = ("fit-offtopic-checkcovid", "fit-offtopic-healthver")
ABSTAIN_SAMPLE = 100
SIMILARITY_GRID = tuple(round(0.25 + 0.05 * i, 2) for i in range(10))
DECISIVE_GRID = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
MAX_OFF_TOPIC_CITED = 0.10


def _sample(rows: list[Any], n: int, seed: str) -> list[Any]:
    return random.Random(seed).sample(rows, min(n, len(rows)))


def _checkcovid_claims(split: str) -> list[str]:
    path = CHECKCOVID / split / f"covidCheck_{split}_composed+extracted.json"
    with open(path, encoding="utf-8") as fh:
        return [" ".join(json.loads(line)["claim"].split()) for line in fh if line.strip()]


def _all_claims(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [" ".join(json.loads(line)["claim"].split()) for line in fh if line.strip()]


def _specs() -> dict[str, tuple[list[str], list[dict[str, Any]], Path]]:
    """Set name → (claim texts, per-claim extras with gold, corpus file)."""
    specs: dict[str, tuple[list[str], list[dict[str, Any]], Path]] = {}

    def labelled(cases: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
        return [c.text for c in cases], [
            {"gold": c.gold.value, "gold_docs": sorted(c.gold_docs)} for c in cases
        ]

    for name, path, corpus in (
        ("fit-scifact", SCIFACT / "claims_train.jsonl", SCIFACT / "corpus.jsonl"),
        ("fit-healthver", HEALTHVER / "claims_train.jsonl", HEALTHVER / "corpus.jsonl"),
    ):
        cases = [c for c in read_cases(path, False) if not is_validation_claim(c.text)]
        texts, extra = labelled(_sample(cases, FIT_SAMPLE, name))
        specs[name] = (texts, extra, corpus)
    hv_train = [
        t for t in _all_claims(HEALTHVER / "claims_train.jsonl") if not is_validation_claim(t)
    ]
    for name, pool in zip(OFF_TOPIC_SETS, (_checkcovid_claims("train"), hv_train), strict=True):
        off = _sample(pool, OFF_TOPIC_SAMPLE, name)
        specs[name] = (off, [{} for _ in off], SCIFACT / "corpus.jsonl")
    for name, (claims_file, corpus_file, validation_only) in SETS.items():
        texts, extra = labelled(read_cases(claims_file, validation_only))
        specs[name] = (texts, extra, corpus_file)
    for name, texts in (
        ("abstain-checkcovid-dev", _sample(_checkcovid_claims("dev"), ABSTAIN_SAMPLE, "cc")),
        (
            "abstain-healthver-dev",
            _sample(_all_claims(HEALTHVER / "claims_dev.jsonl"), ABSTAIN_SAMPLE, "hv"),
        ),
    ):
        specs[name] = (texts, [{} for _ in texts], SCIFACT / "corpus.jsonl")
    return specs


def ensure_dumps(directory: Path, config: Config) -> dict[str, tuple[list[Inputs], list[dict]]]:  # type: ignore[type-arg]
    """Load every set's dump, checking the missing ones first (the slow part)."""
    out = {}
    models = None
    for name, (texts, extra, corpus_file) in _specs().items():
        path = directory / f"{name}.jsonl"
        if not path.exists():
            models = models or models_for(config)
            print(f"checking {name} ({len(texts)} claims)…", file=sys.stderr, flush=True)
            a = assess_cases(texts, load_scifact_corpus(corpus_file), models, config)
            dump(path, claim_inputs(a), extra)  # type: ignore[arg-type]
        out[name] = load(path)
    return out


def _cited_gold(inputs: Sequence[Inputs], rows: Sequence[dict], rule: Relevance) -> float:  # type: ignore[type-arg]
    hits = [
        any(on_topic(s, rule) and s.article.pmid in set(row["gold_docs"]) for s in scored)
        for (_, _, scored, _), row in zip(inputs, rows, strict=True)
    ]
    return sum(hits) / len(hits) if hits else 0.0


def _cited_any(inputs: Sequence[Inputs], rule: Relevance) -> float:
    hits = [any(on_topic(s, rule) for s in scored) for _, _, scored, _ in inputs]
    return sum(hits) / len(hits) if hits else 0.0


def fit_rule(dumps: dict[str, tuple[list[Inputs], list[dict]]]) -> Relevance:  # type: ignore[type-arg]
    """The rule citing gold for most in-domain fit claims, off-topic ones at most 10 % in
    each off-topic set."""
    best: tuple[float, float, Relevance] | None = None
    for sim in SIMILARITY_GRID:
        for dec in DECISIVE_GRID:
            rule = Relevance(sim, dec)
            off = max(_cited_any(dumps[name][0], rule) for name in OFF_TOPIC_SETS)
            gold = (
                sum(_cited_gold(*dumps[name], rule) for name in ("fit-scifact", "fit-healthver"))
                / 2
            )
            if off <= MAX_OFF_TOPIC_CITED and (best is None or (gold, -off) > best[:2]):
                best = (gold, -off, rule)
            print(f"  similarity ≥ {sim:.2f}, decisive ≥ {dec:.2f}: gold cited {gold:.3f}, "
                  f"off-topic cited {off:.3f} (the larger set)")  # fmt: skip
    if best is None:
        raise SystemExit("no rule keeps off-topic citations under 10 % on the fit sets")
    return best[2]


def report_abstention(dumps: dict[str, tuple[list[Inputs], list[dict]]], rule: Relevance) -> None:  # type: ignore[type-arg]
    """Shares on claims whose topic the corpus lacks, calibrated without HealthVer dev.

    The calibration here is fitted on the SciFact and HealthVer-training benchmark claims
    only: HealthVer's dev claims are among the abstention claims (against another
    corpus), and a fit that had seen them would not be out of sample.
    """
    calibration = _calibration(dumps, rule, [n for n in SETS if n != "healthver"])
    for name in ("abstain-checkcovid-dev", "abstain-healthver-dev"):
        inputs, _ = dumps[name]
        verdicts = [
            decide(c, r, s, q, support_calibration=calibration, rule=rule) for c, r, s, q in inputs
        ]
        n = len(verdicts)
        supported = sum(v.label is Label.SUPPORTED for v in verdicts)
        shown = sum(
            any(e.stance in (Stance.SUPPORTS, Stance.REFUTES) for e in v.evidence) for v in verdicts
        )
        print(
            f"{name}: n {n}; labelled supported {supported / n:.3f} ({supported}); with an "
            f"abstract shown as supporting or refuting {shown / n:.3f} ({shown})"
        )


def report_verdicts(
    dumps: dict[str, tuple[list[Inputs], list[dict]]], rule: Relevance
) -> SupportCalibration:  # type: ignore[type-arg]
    """Claim-level figures with a calibration cross-fitted over the benchmark sets."""
    pooled = [
        (name, i)
        for name in SETS
        for i, (_, _, scored, _) in enumerate(dumps[name][0])
        if any(on_topic(s, rule) for s in scored)
    ]
    raw = [score_claim(dumps[n][0][i][2], 0.0, None, rule).raw_supported for n, i in pooled]
    truth = [dumps[n][1][i]["gold"] == Label.SUPPORTED.value for n, i in pooled]
    held = dict(zip(pooled, cross_fitted_support(raw, truth), strict=True))
    for name in SETS:
        inputs, rows = dumps[name]
        gold = [GOLD_BY_VALUE[row["gold"]] for row in rows]
        verdicts = []
        for i, (c, r, s, q) in enumerate(inputs):
            cal = Fixed(held[(name, i)]) if (name, i) in held else None
            verdicts.append(decide(c, r, s, q, support_calibration=cal, rule=rule))  # type: ignore[arg-type]
        print_scores(
            f"{name} (cross-fitted)",
            scores(gold, [v.label for v in verdicts], [v.confidence for v in verdicts]),
        )
    fitted = fit_support_calibration(raw, truth)
    print(f"calibration fit on all {len(raw)}: temperature {fitted.temperature:.4f}, "
          f"shift {fitted.shift:.4f}")  # fmt: skip
    return fitted


GOLD_BY_VALUE = {label.value: label for label in GOLD.values()}


def _calibration(
    dumps: dict[str, tuple[list[Inputs], list[dict]]], rule: Relevance, names: Sequence[str]
) -> SupportCalibration:  # type: ignore[type-arg]
    raw, truth = [], []
    for name in names:
        for (_, _, scored, _), row in zip(*dumps[name], strict=True):
            if any(on_topic(s, rule) for s in scored):
                raw.append(score_claim(scored, 0.0, None, rule).raw_supported)
                truth.append(row["gold"] == Label.SUPPORTED.value)
    return fit_support_calibration(raw, truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("runs/assess"))
    parser.add_argument("--fast", action="store_true", help="the fast (MiniLM) stance model")
    parser.add_argument("--evidence-unit", choices=("sentence", "passage"))
    parser.add_argument(
        "--write",
        action="store_true",
        help="store the calibration fitted with the shipped rule "
        "(claims.verdict.RELEVANCE) in the stance model",
    )
    args = parser.parse_args(argv)
    config = benchmark_config(args.fast, args.evidence_unit, None)
    directory = args.dir / (("fast-" if args.fast else "") + config.evidence_unit)
    dumps = ensure_dumps(directory, config)
    print("fit sets: " + ", ".join(f"{n} {len(dumps[n][0])}" for n in dumps if n.startswith("fit")))
    rule = fit_rule(dumps)
    print(f"chosen: similarity ≥ {rule.min_similarity:.2f}, decisive ≥ {rule.min_decisive:.2f}")
    fits: dict[Relevance, SupportCalibration] = {}
    for name, shown in (("the shipped rule", RELEVANCE), ("the chosen rule", rule)):
        print(f"\nwith {name} (similarity ≥ {shown.min_similarity:.2f}, "
              f"decisive ≥ {shown.min_decisive:.2f}):")  # fmt: skip
        fits[shown] = report_verdicts(dumps, shown)
        report_abstention(dumps, shown)
    if args.write:
        # The calibration must match the rule claimscan runs with, which is the shipped
        # one (one rule for every stance model); a new rule is a code change, reviewed.
        if rule != RELEVANCE:
            print("note: the chosen rule differs from claims.verdict.RELEVANCE; the "
                  "calibration written is the one for RELEVANCE", file=sys.stderr)  # fmt: skip
        sets = {name: len(dumps[name][0]) for name in SETS}
        with_evidence = sum(
            any(on_topic(s, RELEVANCE) for s in scored)
            for name in SETS
            for _, _, scored, _ in dumps[name][0]
        )
        return write_calibration(
            config, fits[RELEVANCE], sets, with_evidence, "python -m benchmarks.relevance --write"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
