"""Retrieval benchmark: the real PubMed client against the local E-utilities server.

Network I/O on 127.0.0.1 only; reads the datasets under ``<repo>/../shared/data``;
loads the embedded encoder to rank candidates.

Serves a dataset's abstracts as PubMed, together with SciFact's 5,183 abstracts as
distractors (PubMed holds tens of millions: a query that matches everything must not
look like a win), and checks each claim as the pipeline does: one esearch per claim,
batched efetch per unit of claims (as ``pipeline.run`` cuts them), the encoder ranks
the candidates (``pipeline.rank``) and the best ``Config.retmax`` are kept. Prints, as
ratios over the claims: gold abstract among the first 3/5/10 kept (hit@k; the 10 kept
are what evidence selection reads), recall@10 (share of a claim's gold abstracts kept),
gold among the candidates before ranking, E-utilities requests per claim and 429s.

Datasets and splits (never tune on ``dev``):

* ``scifact``: SciFact training claims with evidence; ``dev`` is our validation split
  (``is_validation_claim``), ``train`` the rest. Served alone: it is the distractor set.
* ``healthver``: HealthVer's MultiVerS claims with evidence, over its 322 abstracts.
* ``checkcovid``: Check-COVID ``composed+extracted`` claims, over its 347 abstracts.

Run from the repository root::

    python -m benchmarks.retrieval --dataset healthver            # dev split, no API key
    python -m benchmarks.retrieval --dataset scifact --split train --fast   # tuning
    python -m benchmarks.retrieval --dataset checkcovid --split train --fast --head-weight 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from claims.query import build_query
from claims.types import Article, Claim, EvidenceStatus
from pipeline.config import Config
from pipeline.http import build_client
from pipeline.nlp.embed import load_embedder
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.rank import HEAD_WEIGHT, RERANK_TOP, CandidateRanker, keep_best
from pipeline.retrieve import retrieve
from pipeline.run import _batches
from pipeline.train.data import is_validation_claim
from pipeline.vocabulary import load_vocabulary
from tests.eutils_server import (
    EutilsServer,
    Record,
    SearchIndex,
    combine_corpora,
    load_corpus,
    parse_term,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TARGETS = {"scifact": 0.90, "healthver": 0.70, "checkcovid": 0.70}
"""Gold abstract among the kept ones (hit@10), issue #18."""


@dataclass(frozen=True, slots=True)
class Case:
    claim: Claim
    gold: frozenset[str]


def _claim(text: str, key: str) -> Claim:
    text = " ".join(text.split())
    return Claim(Claim.make_id(key, 0, len(text), text), text, key, 0, len(text))


def load_dataset(name: str, split: str) -> tuple[list[Case], list[Record]]:
    """Return the claims (with their gold PMIDs) and the corpus to serve, distractors in."""
    scifact = load_corpus(DATA / "scifact" / "corpus.jsonl")
    cases: list[Case] = []
    if name == "scifact":
        with open(DATA / "scifact" / "claims_train.jsonl", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["evidence"] and is_validation_claim(row["claim"]) == (split == "dev"):
                    gold = frozenset(str(k) for k in row["evidence"])
                    cases.append(Case(_claim(row["claim"], f"scifact:{row['id']}"), gold))
        return cases, scifact
    if name == "healthver":
        path = DATA / "healthver" / "multivers" / f"claims_{split}.jsonl"
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["evidence"]:
                    gold = frozenset(f"hv{k}" for k in row["evidence"])
                    cases.append(Case(_claim(row["claim"], f"healthver:{row['id']}"), gold))
        corpus = load_corpus(DATA / "healthver" / "multivers" / "corpus.jsonl", prefix="hv")
        return cases, combine_corpora(corpus, scifact)
    if name == "checkcovid":
        path = DATA / "checkcovid" / split / f"covidCheck_{split}_composed+extracted.json"
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                gold = frozenset({f"cc{row['cord_id']}"})
                cases.append(Case(_claim(row["claim"], f"checkcovid:{row['id']}"), gold))
        corpus = load_corpus(DATA / "checkcovid" / "corpus.json", prefix="cc")
        return cases, combine_corpora(corpus, scifact)
    raise ValueError(f"unknown dataset {name!r}")


def _article(record: Record) -> Article:
    return Article(record.pmid, record.title, record.abstract, record.journal, record.year)


def direct(
    cases: list[Case], records: list[Record], config: Config, ranker: CandidateRanker | None
) -> tuple[dict[str, list[str]], dict[str, list[str]], list[int]]:
    """Search the server's index in process (no HTTP, no rate limit): for tuning only."""
    index = SearchIndex(records)
    vocabulary = load_vocabulary()
    pools: dict[str, list[str]] = {}
    kept: dict[str, list[str]] = {}
    counts: list[int] = []
    for case in cases:
        query = build_query(case.claim.text, "", vocabulary)
        node = parse_term(query.term) if query else None
        hits = index.search(node) if node is not None else []
        counts.append(len(hits))
        pool = hits[: config.search_candidates]
        pools[case.claim.id] = pool
        articles = [_article(index.records[p]) for p in pool]
        if ranker is not None:
            articles = [r.article for r in ranker.rank(case.claim, articles)]
        kept[case.claim.id] = [a.pmid for a in articles[: config.retmax]]
    return pools, kept, counts


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(TARGETS), default="scifact")
    parser.add_argument("--split", choices=("dev", "train"), default="dev")
    parser.add_argument("-n", type=int, default=0, help="only the first N claims")
    parser.add_argument("--api-key", action="store_true", help="send a key: 10 requests/s")
    parser.add_argument(
        "--fast", action="store_true", help="search the index in process, no HTTP (tuning)"
    )
    parser.add_argument("--candidates", type=int, help="PMIDs per esearch (search_candidates)")
    parser.add_argument("--no-rank", action="store_true", help="keep PubMed's order")
    parser.add_argument(
        "--head-weight",
        type=float,
        default=HEAD_WEIGHT,
        help="weight of each abstract's opening against its best sentence (tuning)",
    )
    parser.add_argument(
        "--rerank-top",
        type=int,
        default=RERANK_TOP,
        help="candidates re-scored with their best sentence (tuning)",
    )
    parser.add_argument("--misses", action="store_true", help="list claims whose gold is missed")
    args = parser.parse_args(argv)
    if not (DATA / "scifact" / "corpus.jsonl").is_file():
        print(f"datasets not found under {DATA}", file=sys.stderr)
        return 2

    cases, records = load_dataset(args.dataset, args.split)
    if args.n:
        cases = cases[: args.n]
    ranker = (
        None if args.no_rank else CandidateRanker(load_embedder(None), head_weight=args.head_weight)
    )
    overrides = {"search_candidates": args.candidates} if args.candidates else {}
    started = time.monotonic()
    log = []
    stats = None
    busiest = 0
    if args.fast:
        config = Config(**overrides)
        pools, kept, counts = direct(cases, records, config, ranker)
    else:
        with EutilsServer(records) as server:
            config = Config(
                eutils_url=server.base_url,
                api_key="benchmark-key" if args.api_key else None,
                **overrides,
            )
            with build_client(config) as client:
                pubmed = PubMed(client, config, limiter=RateLimiter(config.rate_limit))
                pools, kept, counts = {}, {}, []
                claims = [c.claim for c in cases]
                for unit in _batches(claims, config.batch_claims):
                    found = retrieve(unit, pubmed, config)
                    for claim in unit:
                        pools[claim.id] = [a.pmid for a in found[claim.id].articles]
                    if ranker is not None:
                        found = keep_best(unit, found, ranker, config.retmax)
                    for claim in unit:
                        kept[claim.id] = [a.pmid for a in found[claim.id].articles][: config.retmax]
                        if found[claim.id].status is EvidenceStatus.NONE:
                            counts.append(0)
                stats = pubmed.stats
            log = server.log
            busiest = server.max_in_window()
    elapsed = time.monotonic() - started

    n = len(cases)
    hit = {k: 0 for k in (3, 5, 10)}
    recall10 = 0.0
    in_pool = 0
    for case in cases:
        ranked = kept[case.claim.id]
        for k in hit:
            hit[k] += bool(case.gold & set(ranked[:k]))
        recall10 += len(case.gold & set(ranked[:10])) / len(case.gold)
        in_pool += bool(case.gold & set(pools[case.claim.id]))
        if args.misses and not case.gold & set(ranked[:10]):
            query = build_query(case.claim.text, "", load_vocabulary())
            print(f"MISS {case.claim.text}\n     {query.term if query else ''}")
    print(
        f"{args.dataset} {args.split}: {n} claims; corpus {len(records)} abstracts "
        f"(SciFact's {5183 if args.dataset != 'scifact' else 0} as distractors); "
        f"{config.search_candidates} candidates per claim, {config.retmax} kept, "
        f"ranking {'off' if ranker is None else 'on'}"
    )
    target = TARGETS[args.dataset]
    print(
        f"gold among kept: hit@3 {hit[3] / n:.3f}, hit@5 {hit[5] / n:.3f}, "
        f"hit@10 {hit[10] / n:.3f} (target {target:.2f}); recall@10 {recall10 / n:.3f}; "
        f"gold among candidates {in_pool / n:.3f}"
    )
    if args.fast:
        print(
            f"hits per query: median {statistics.median(counts):.0f} of {len(records)} "
            f"({statistics.median(counts) / len(records):.1%}); wall {elapsed:.1f}s"
        )
        return 0
    esearch = sum(1 for r in log if r.endpoint == "esearch.fcgi")
    efetch = sum(1 for r in log if r.endpoint == "efetch.fcgi")
    too_many = sum(1 for r in log if r.status == 429)
    print(
        f"requests/claim {len(log) / n:.2f} ({esearch} esearch, {efetch} efetch); "
        f"429s {too_many}; zero-hit claims {sum(1 for c in counts if c == 0) / n:.1%}"
    )
    window = 10 if args.api_key else 3
    print(
        f"max requests in any 1 s window {busiest} (limit {window}); "
        f"client {stats}; wall {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
