"""Classification latency: a 30-claim article, models loaded, evidence in hand.

Issue 8 asks that classification stay interactive on 2 CPU cores: a 30-claim article
in under 15 s once the models are loaded. Network waits are excluded: a first pass
fills an E-utilities response cache from the local server (``tests/``, serving SciFact's
corpus as PubMed), and the timed passes run the real ``check_documents`` path against
that cache with fresh evidence-selector and ranker caches, so no vector is reused.

The second table answers "what would a bigger stance model cost here": it times the
stance pass of the same article (its real claim/evidence pairs) through randomly
initialised models with the architecture of larger public NLI bases. Random weights
classify nonsense but cost exactly what trained ones do.

I/O: 127.0.0.1 only; reads ``<repo>/../shared/data/scifact``; a temporary SQLite cache.

Run from the repository root::

    python -m benchmarks.classify
    python -m benchmarks.classify --no-bigger     # skip the larger architectures
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from claims.split import extract_claims
from claims.types import Document
from pipeline.config import load_config
from pipeline.ingest import document_from_text
from pipeline.pubmed.limiter import RateLimiter
from pipeline.session import Session
from tests.eutils_server import EutilsServer, load_scifact_corpus

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
TARGET_S = 15.0

# name: (transformers config class, keyword arguments) for architectures of public NLI
# bases; vocabulary sizes are theirs, so the embedding tables cost what theirs do.
BIGGER = {
    "BERT-base (110M, e.g. PubMedBERT/BioLinkBERT-base NLI)": (
        "BertConfig",
        {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
         "intermediate_size": 3072, "vocab_size": 30522},
    ),
    "DeBERTa-v3-base (184M)": (
        "DebertaV2Config",
        {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
         "intermediate_size": 3072, "vocab_size": 128100, "relative_attention": True,
         "position_buckets": 256, "pos_att_type": ["p2c", "c2p"], "max_relative_positions": -1,
         "norm_rel_ebd": "layer_norm", "share_att_key": True, "position_biased_input": False},
    ),
    "DeBERTa-v3-large (435M, e.g. MNLI/FEVER/SciFact NLI checkpoints)": (
        "DebertaV2Config",
        {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
         "intermediate_size": 4096, "vocab_size": 128100, "relative_attention": True,
         "position_buckets": 256, "pos_att_type": ["p2c", "c2p"], "max_relative_positions": -1,
         "norm_rel_ebd": "layer_norm", "share_att_key": True, "position_biased_input": False},
    ),
}  # fmt: skip


def _article(n: int) -> Document:
    """An article of SciFact claims with at least ``n`` checkable sentences."""
    with open(SCIFACT / "claims_train.jsonl", encoding="utf-8") as fh:
        sentences = [json.loads(line)["claim"].strip() for line in fh][500:]
    take = n
    while True:
        text = " ".join(c if c.endswith(".") else c + "." for c in sentences[:take])
        doc = document_from_text(
            text, "benchmark:article", datetime.now(UTC), title="Benchmark article"
        )
        # Some claims are not checkable sentences on their own (fragments, questions).
        if len(extract_claims(doc, max_claims=10 * n)[0]) >= n:
            return doc
        take += 5


def _bigger_cost(pairs: list[tuple[str, str]], tokenizer: object, repeat: int) -> None:
    import torch
    import transformers

    print(f"\nstance pass over the same {len(pairs)} pairs, other architectures (random weights):")
    print(f"{'architecture':66}{'seconds':>10}{'pairs/s':>10}{'x MiniLM':>10}")
    from pipeline.nlp.stance import NliClassifier

    base_s = None
    configs = {"MiniLM-L6 (22M, ours)": ("BertConfig", {
        "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
        "intermediate_size": 1536, "vocab_size": 30522})}  # fmt: skip
    configs.update(BIGGER)
    for name, (cls_name, kwargs) in configs.items():
        config = getattr(transformers, cls_name)(
            num_labels=3, id2label={0: "entailment", 1: "contradiction", 2: "neutral"}, **kwargs
        )
        torch.manual_seed(0)
        model = transformers.AutoModelForSequenceClassification.from_config(config).eval()
        clf = NliClassifier(tokenizer, model, name=name)
        clf.predict(pairs[:8])
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            clf.predict(pairs)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        base_s = base_s or seconds
        print(f"{name:66}{seconds:>10.2f}{len(pairs) / seconds:>10.1f}{seconds / base_s:>10.1f}")
        del model, clf


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="claims in the article")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (median)")
    parser.add_argument("--no-bigger", action="store_true", help="skip larger architectures")
    parser.add_argument("--fast", action="store_true", help="the fast (MiniLM) models")
    args = parser.parse_args(argv)
    if not SCIFACT.is_dir():
        print(f"needs {SCIFACT}", file=sys.stderr)
        return 2

    article = _article(args.n)
    records = load_scifact_corpus(SCIFACT / "corpus.jsonl")
    with tempfile.TemporaryDirectory() as tmp, EutilsServer(records) as server:
        config = load_config(
            {
                "eutils_url": server.base_url,
                "cache_path": Path(tmp) / "eutils.sqlite",
                "max_claims_per_document": args.n,
                "fast": args.fast,
            },
            env={},
        )
        # Each pass gets a session (and so fresh request counts) over the same cache file.
        with Session.open(config, limiter=RateLimiter(3)) as session:
            models = session.models()
            session.check_documents([article])
            warm_requests = session.pubmed.stats.requests
        times, claims = [], 0
        for _ in range(args.repeat):
            fresh = models.with_empty_caches()
            with Session.open(config, models=fresh, limiter=RateLimiter(3)) as session:
                start = time.perf_counter()
                reports, _ = session.check_documents([article])
                times.append(time.perf_counter() - start)
                claims = len(reports[0].claims)
                assert session.pubmed.stats.requests == 0, "timed pass went to the network"
    seconds = statistics.median(times)
    print(f"models: {models.description}")
    print(
        f"{claims}-claim article, evidence cached ({warm_requests} requests to fill the cache): "
        f"classified in {seconds:.2f} s (median of {args.repeat}; "
        f"{claims / seconds:.1f} claims/s; target < {TARGET_S:.0f} s: "
        f"{'met' if seconds < TARGET_S else 'NOT met'})"
    )
    if not args.no_bigger:
        pairs = [(c.claim.text, e.sentence) for c in reports[0].claims for e in c.verdict.evidence]
        # Evidence kept on a verdict is at most evidence_per_claim; pad to the pairs the
        # stance model really reads per claim.
        per_claim = config.evidence_candidates
        pairs = (pairs * (1 + per_claim * claims // max(len(pairs), 1)))[: per_claim * claims]
        _bigger_cost(pairs, models.selector.embedder.tokenizer, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
