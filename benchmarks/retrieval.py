"""Retrieval benchmark: the real PubMed client against the local E-utilities server.

Network I/O on 127.0.0.1 only; reads SciFact from ``<repo>/../shared/data/scifact``.
Serves SciFact's corpus as PubMed (doc_id = PMID), retrieves evidence for the first N
training claims that have evidence, without an API key (so at NCBI's 3 requests/s),
and prints evidence recall@3/5/10 (gold doc_ids among the retrieved PMIDs, in rank
order, averaged over claims), the share of claims with zero hits, E-utilities requests
per claim and 429s received.

Run from the repository root::

    python -m benchmarks.retrieval            # first 100 claims
    python -m benchmarks.retrieval -n 300 --fast   # no rate limit, for tuning
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from claims.types import Claim, EvidenceStatus
from pipeline.config import Config
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.retrieve import retrieve
from tests.eutils_server import EutilsServer, load_scifact_corpus

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
TARGETS = {"recall@10": 0.85, "requests/claim": 1.3, "429s": 0}


def load_claims(path: Path, n: int) -> list[tuple[Claim, set[str]]]:
    """Return the first ``n`` claims that have evidence, with their gold doc_ids."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if not row["evidence"]:
                continue
            text = row["claim"]
            url = f"scifact:claim:{row['id']}"
            claim = Claim(Claim.make_id(url, 0, len(text), text), text, url, 0, len(text))
            out.append((claim, set(row["evidence"])))
            if len(out) >= n:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100, help="claims to run (default 100)")
    parser.add_argument(
        "--fast", action="store_true", help="no rate limit on either side (tuning only)"
    )
    parser.add_argument("--misses", action="store_true", help="list claims with recall@10 < 1")
    args = parser.parse_args(argv)
    if not SCIFACT.is_dir():
        print(f"SciFact not found at {SCIFACT}", file=sys.stderr)
        return 2

    claims = load_claims(SCIFACT / "claims_train.jsonl", args.n)
    records = load_scifact_corpus(SCIFACT / "corpus.jsonl")
    with EutilsServer(records, enforce_rate=not args.fast) as server:
        config = Config(eutils_url=server.base_url)
        limiter = RateLimiter(1000.0) if args.fast else None
        started = time.monotonic()
        with build_client(config) as client:
            pubmed = PubMed(client, config, limiter=limiter)
            results = retrieve([c for c, _ in claims], pubmed, config)
        elapsed = time.monotonic() - started
        log = server.log

    recall = {k: 0.0 for k in (3, 5, 10)}
    zero = 0
    rungs = 0
    for claim, gold in claims:
        result = results[claim.id]
        ranked = [a.pmid for a in result.articles]
        rungs += len(result.queries_tried)
        if result.status is EvidenceStatus.NONE:
            zero += 1
        for k in recall:
            recall[k] += len(gold & set(ranked[:k])) / len(gold)
        if args.misses and len(gold & set(ranked[:10])) < len(gold):
            print(f"MISS {claim.text}\n     tried={result.queries_tried}\n     gold={gold}")
    n = len(claims)
    esearch = sum(1 for r in log if r.endpoint == "esearch.fcgi")
    efetch = sum(1 for r in log if r.endpoint == "efetch.fcgi")
    too_many = sum(1 for r in log if r.status == 429)
    print(f"claims: {n} (SciFact train with evidence), corpus: {len(records)} abstracts")
    for k, total in recall.items():
        print(f"recall@{k}: {total / n:.3f}")
    print(f"zero-hit claims: {zero / n:.1%}")
    print(
        f"requests/claim: {len(log) / n:.2f} "
        f"({esearch} esearch, {efetch} efetch, {rungs / n:.2f} rungs/claim)"
    )
    print(f"429s received: {too_many} (client stats: {pubmed.stats})")
    print(f"max requests in any 1 s window: {server.max_in_window()}; wall time {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
