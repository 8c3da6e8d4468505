"""Rebuild the candidate sentences of ``checkworthy.jsonl`` from ``../shared``.

Reads the seeds and datasets under a shared directory (default ``../shared``), splits
each chosen document with claimscan's own ingest and splitter, and writes one JSON line
per candidate sentence (no labels) to stdout. The labels in ``checkworthy.jsonl`` were
given by reading these sentences; ``tests/test_checkworthy_data.py`` checks that this
script still yields exactly the sentences labelled there.

    python data/checkworthy/candidates.py --shared ../shared > candidates.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from claims.split import candidate_sentences, repetition_key
from claims.types import Document
from pipeline.ingest import document_from_bytes, document_from_text

FAKEHEALTH_DOCUMENTS = 80
"""Press releases drawn (seed 14) from the 298 FakeHealth HealthRelease items."""
FAKEHEALTH_MORE = 30
"""Further releases drawn (seed 15) from the rest, labelled in a second round."""
FAKEHEALTH_MAX_CHARS = 9000
"""Longer releases (a few reach 28,000 characters) would weigh too much on their own."""
SCIFACT_ABSTRACTS = 25
HEALTHFC_ARTICLES = 60
SEED = 14
_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def split_of(source: str, corpus: str) -> str:
    """Train, val or test for a whole document, fixed by a hash of its name.

    The two seeds and every HealthFC article are test: the seeds because the issue's
    figures are measured on them, HealthFC because its licence (CC BY-NC-ND) allows
    evaluation but not a shipped model trained on it.
    """
    if corpus in {"seed", "healthfc"}:
        return "test"
    bucket = int(hashlib.sha256(source.encode()).hexdigest(), 16) % 100
    return "train" if bucket < 55 else "val" if bucket < 75 else "test"


def _documents(shared: Path) -> Iterator[tuple[str, str, Document]]:
    """Yield (corpus, source name, document) for every chosen document."""
    for path in sorted((shared / "seeds").iterdir()):
        for doc in document_from_bytes(path.read_bytes(), path.name, _NOW):
            yield "seed", f"seed:{path.stem}", doc

    releases = shared / "data/fakehealth-releases/content_HealthRelease.jsonl"
    rows = [json.loads(line) for line in releases.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if 0 < len(r["text"]) <= FAKEHEALTH_MAX_CHARS]
    first = random.Random(SEED).sample(rows, FAKEHEALTH_DOCUMENTS)
    for r in sorted(first, key=lambda r: r["news_id"]):
        doc = document_from_text(r["text"], r["news_id"], _NOW, title=r["title"] or None)
        yield "fakehealth", f"fakehealth:{r['news_id']}", doc

    corpus = (shared / "data/scifact/corpus.jsonl").read_text(encoding="utf-8")
    abstracts = [json.loads(line) for line in corpus.splitlines()]
    for a in sorted(
        random.Random(SEED).sample(abstracts, SCIFACT_ABSTRACTS), key=lambda a: a["doc_id"]
    ):
        text = " ".join(s.strip() for s in a["abstract"])
        doc = document_from_text(text, str(a["doc_id"]), _NOW, title=a["title"])
        yield "scifact", f"scifact:{a['doc_id']}", doc

    with (shared / "data/healthfc/healthfc_train.csv").open(encoding="utf-8") as f:
        claims = list(csv.DictReader(f))
    for n, row in sorted(
        (n, row)
        for n, row in enumerate(claims)
        if n in set(random.Random(SEED).sample(range(len(claims)), HEALTHFC_ARTICLES))
    ):
        text = f"{row['en_claim'].strip()}\n\n{row['en_explanation'].strip()}"
        doc = document_from_text(text, row["url"], _NOW, title=row["de_title"] or None)
        yield "healthfc", f"healthfc:{n}", doc

    # Second round, labelled after the first: more releases for the head to learn from.
    chosen = {r["news_id"] for r in first}
    rest = [r for r in rows if r["news_id"] not in chosen]
    for r in sorted(
        random.Random(SEED + 1).sample(rest, FAKEHEALTH_MORE), key=lambda r: r["news_id"]
    ):
        doc = document_from_text(r["text"], r["news_id"], _NOW, title=r["title"] or None)
        yield "fakehealth", f"fakehealth:{r['news_id']}", doc


def candidates(shared: Path) -> Iterator[dict[str, object]]:
    """Yield one unlabelled record per distinct candidate sentence of each document."""
    for corpus, source, doc in _documents(shared):
        seen: set[str] = set()
        for cand in candidate_sentences(doc):
            key = repetition_key(cand.text)
            if key in seen:
                # The pipeline checks a repeated sentence once; label it once.
                continue
            seen.add(key)
            yield {
                "text": cand.text,
                "source": source,
                "corpus": corpus,
                "start": cand.start,
                "end": cand.end,
                "split": split_of(source, corpus),
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    args = parser.parse_args(argv)
    for record in candidates(args.shared):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
