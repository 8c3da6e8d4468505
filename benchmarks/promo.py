"""Promotional model benchmark: scoring speed, the issue's examples, plain health claims.

Reads ``<repo>/../shared`` (the two seed documents and the public data sets) and the
model directories; no network. Sections (all by default):

- ``speed``: claims of both seeds scored in their pages, on as many torch threads as
  ``--threads`` (2, this project's CPU budget): sentences/s and ms per sentence.
- ``examples``: the sentences quoted in issue 16, each scored in its seed page as
  ``claimscan check`` would (a lone claim is its own document, as ``claimscan claim``
  does), with the band it falls in.
- ``plain``: plain health claims, each checked alone: SciFact training claims that
  ``data/promo`` does not hold, HealthVer (MultiVerS train and dev, never trained on)
  and COVID-Fact claims. Counts those labelled promotional (P >= the label threshold)
  and those in the "possibly promotional" band, and prints the flagged ones.
- ``healthfc``: every sentence of the English explanations of HealthFC's
  consumer-health articles (non-commercial journalism; CC BY-NC-ND, so read here for
  evaluation and never trained on), each scored in its article.

Run from the repository root::

    python -m benchmarks.promo                                   # the default model
    python -m benchmarks.promo --model pipeline/models/promo-fast --section speed
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
SEEDS = SHARED / "seeds"
PROMO_DATA = REPO / "data" / "promo" / "promo.jsonl"

# (seed file or None for a lone claim, sentence as quoted in issue 16, annotated label)
EXAMPLES: tuple[tuple[str | None, str, int], ...] = (
    ("000_0d7cf7fb99d67cb8.txt", "Physiotherapy, exercise, and manual therapy are valuable "
     "tools for many spinal pain presentations.", 0),
    ("003_ac18f91f1603e9fe.txt", "We already know that studies have associated atrophy (or "
     "wasting) of the multifidus with not only back pain but also sciatica.", 0),
    ("003_ac18f91f1603e9fe.txt", "Healthy back muscles are important not just for our back "
     "but for our entire body.", 0),
    (None, "Homeopathic remedies are more effective than placebo.", 0),
    ("000_0d7cf7fb99d67cb8.txt", "These approaches, delivered through TNPC (Transcutaneous "
     "Neuromyofascial Precision Care), work at the level of the fibrotic and dystonic tissue "
     "rather than the surface symptom.", 1),
    ("000_0d7cf7fb99d67cb8.txt", "Each intervention is guided by a patient-specific injury "
     "map", 1),
    ("000_0d7cf7fb99d67cb8.txt", "Targeted neuromodulatory approaches are used to interrupt "
     "the dystonic cycle", 1),
    ("003_ac18f91f1603e9fe.txt", "Before considering surgery, consider an evaluation of your "
     "condition with a regenerative treatment specialist.", 1),
)  # fmt: skip


def _seed_documents() -> dict[str, Any]:
    """Each seed file read as ``claimscan check FILE`` reads it: its first document."""
    import httpx

    from pipeline.config import load_config
    from pipeline.ingest import load_source

    config = load_config(env={})
    now = datetime.now(UTC)
    with httpx.Client() as client:
        return {
            p.name: load_source(str(p), client=client, config=config, now=now)[0]
            for p in sorted(SEEDS.glob("*.txt"))
        }


def _band(p: float, model: Any) -> str:
    if p >= model.threshold:
        return "promotional"
    return "possibly promotional" if p >= model.possible_threshold else "not promotional"


def speed(model: Any, repeats: int) -> None:
    from claims.split import extract_claims

    items = []
    for doc in _seed_documents().values():
        claims, _ = extract_claims(doc)
        items += [(c.text, doc.text) for c in claims]
    model.predict_pairs(items[:8])  # warm-up: first calls allocate
    start = time.perf_counter()
    for _ in range(repeats):
        model.predict_pairs(items)
    seconds = (time.perf_counter() - start) / repeats
    print(f"speed: {len(items)} claims of the 2 seeds, scored in their pages, {repeats} runs")
    print(
        f"  {len(items) / seconds:.1f} sentences/s, {1000 * seconds / len(items):.1f} ms/sentence"
    )


def examples(model: Any) -> None:
    from claims.split import extract_claims

    docs = _seed_documents()
    edges = f"label {model.threshold:.2f}, possibly {model.possible_threshold:.2f}"
    print(f"examples (thresholds: {edges})")
    for seed, quoted, gold in EXAMPLES:
        if seed is None:
            text, page = quoted, quoted
        else:
            doc = docs[seed]
            claims, _ = extract_claims(doc)
            found = [c.text for c in claims if c.text.startswith(quoted[:40])]
            text, page = (found[0] if found else quoted), doc.text
        p = model.predict_pairs([(text, page)])[0]
        print(f"  {p:.2f} {_band(p, model):<21} (annotated {gold}) {text[:90]}")


def _trained_texts() -> set[str]:
    return {json.loads(line)["text"].strip().lower() for line in PROMO_DATA.open()}


def plain_sets() -> dict[str, list[str]]:
    """Plain health claims not in the training data, by set, deduplicated."""
    trained = _trained_texts()
    sets: dict[str, list[str]] = {}

    def keep(name: str, texts: list[str]) -> None:
        seen: set[str] = set()
        out = []
        for t in (t.strip() for t in texts):
            if t and t.lower() not in trained and t.lower() not in seen:
                seen.add(t.lower())
                out.append(t)
        sets[name] = out

    def claims(path: Path, field: str = "claim") -> list[str]:
        return [json.loads(line)[field] for line in path.open() if line.strip()]

    keep("scifact train (untrained)", claims(DATA / "scifact" / "claims_train.jsonl"))
    keep(
        "healthver multivers train+dev",
        claims(DATA / "healthver" / "multivers" / "claims_train.jsonl")
        + claims(DATA / "healthver" / "multivers" / "claims_dev.jsonl"),
    )
    rows: list[str] = []
    for name in ("train.tsv", "dev.tsv"):
        with (DATA / "covidfact" / name).open(encoding="utf-8") as f:
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            rows += [r[2] for r in reader if len(r) > 2]
    keep("covidfact train+dev", rows)
    return sets


def plain(model: Any, show: int) -> None:
    total, flagged_total = 0, 0
    for name, texts in plain_sets().items():
        probs = model.predict_pairs([(t, t) for t in texts])
        flagged = [(p, t) for p, t in zip(probs, texts, strict=True) if p >= model.threshold]
        possible = sum(model.possible_threshold <= p < model.threshold for p in probs)
        total += len(texts)
        flagged_total += len(flagged)
        rate = 1000 * len(flagged) / len(texts)
        print(f"plain claims, {name}: {len(flagged)} of {len(texts)} labelled promotional "
              f"({rate:.1f} per 1,000); {possible} possibly")  # fmt: skip
        for p, t in sorted(flagged, reverse=True)[:show]:
            print(f"    {p:.2f} {t[:110]}")
    print(f"plain claims, all: {flagged_total} of {total} labelled promotional")


def healthfc(model: Any, show: int) -> None:
    from claims.split import sentence_spans

    path = DATA / "healthfc" / "healthfc_train.csv"
    with path.open(encoding="utf-8") as f:
        articles = [row["en_explanation"] for row in csv.DictReader(f) if row["en_explanation"]]
    items = []
    for text in articles:
        for span in sentence_spans(text):
            sentence = text[span.start : span.end]
            if len(sentence.split()) >= 6:
                items.append((sentence, text))
    probs = model.predict_pairs(items)
    flagged = [(p, s) for p, (s, _) in zip(probs, items, strict=True) if p >= model.threshold]
    possible = sum(model.possible_threshold <= p < model.threshold for p in probs)
    print(f"healthfc explanations: {len(flagged)} of {len(items)} sentences ({len(articles)} "
          f"articles) labelled promotional; {possible} possibly")  # fmt: skip
    for p, s in sorted(flagged, reverse=True)[:show]:
        print(f"    {p:.2f} {s[:110]}")


SECTIONS: dict[str, Callable[[Any, argparse.Namespace], None]] = {
    "speed": lambda m, a: speed(m, a.repeats),
    "examples": lambda m, a: examples(m),
    "plain": lambda m, a: plain(m, a.show),
    "healthfc": lambda m, a: healthfc(m, a.show),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.promo", description=__doc__)
    parser.add_argument("--model", default=None, help="model directory (default: configured)")
    parser.add_argument("--section", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--show", type=int, default=12, help="flagged sentences to print")
    parser.add_argument(
        "--label-threshold", type=float, help="label from this P instead of the model's own"
    )
    args = parser.parse_args(argv)
    if not SEEDS.is_dir() or not DATA.is_dir():
        print(f"no shared data at {SHARED}; nothing to measure")
        return 0
    import torch

    from pipeline.config import load_config
    from pipeline.nlp.promo import load_promo_classifier

    torch.set_num_threads(args.threads)
    path = args.model or load_config().promo_model
    start = time.perf_counter()
    model = load_promo_classifier(path)
    if args.label_threshold is not None:
        model = model.with_threshold(args.label_threshold)
    print(f"model {path}: loaded in {time.perf_counter() - start:.1f} s, "
          f"{args.threads} torch threads")  # fmt: skip
    for name in args.section or list(SECTIONS):
        SECTIONS[name](model, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
