"""Throughput benchmark: end-to-end claims/s against NCBI's rate bound, and cold-start times.

Network I/O on 127.0.0.1 only (the local E-utilities server from ``tests/``, in its
own process, loaded with SciFact's corpus as PubMed); reads ``<repo>/../shared``;
starts ``claimscan`` subprocesses for the cold-start and memory figures.

The bound: with an API key NCBI allows 10 requests/s (3 without), so no live pipeline
can check more than ``rate / requests-per-claim`` claims per second. The benchmark
prints the pipelined run as a fraction of that bound, beside a naive sequential
baseline (one claim at a time, one search in flight, no batching) measured in the
same run.

Run from the repository root::

    python -m benchmarks.throughput               # 200 claims with and without a key
    python -m benchmarks.throughput -n 60 --baseline 15   # quicker
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.ingest import load_source
from pipeline.pubmed.limiter import RateLimiter
from pipeline.run import Models
from pipeline.session import Session

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SCIFACT = SHARED / "data" / "scifact"
SEEDS = sorted((SHARED / "seeds").glob("*.txt"))


class TimedStance:
    """Wraps the stance model to count pairs and the seconds spent classifying them."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "stance")
        self.support_calibration = getattr(inner, "support_calibration", None)
        self.pairs = 0
        self.seconds = 0.0

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> list:  # type: ignore[type-arg]
        start = time.perf_counter()
        out = self.inner.predict(pairs, batch_size)  # type: ignore[attr-defined]
        self.seconds += time.perf_counter() - start
        self.pairs += len(pairs)
        return out  # type: ignore[no-any-return]


def _claims(n: int) -> list[str]:
    with open(SCIFACT / "claims_train.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line)["claim"] for line in fh]
    return rows[:n]


class ServerProcess:
    """The local E-utilities server in its own process, so its CPU is not ours."""

    def __init__(self, corpus: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.eutils_server", str(corpus), "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # "serving ..." once it listens
        self.base_url = f"http://127.0.0.1:{port}/entrez/eutils/"

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _scenario(
    server: ServerProcess,
    config: Config,
    models: Models,
    texts: list[str],
    *,
    sequential: bool = False,
) -> dict[str, float]:
    stance = TimedStance(models.stance)
    timed = dataclasses.replace(models, stance=stance)
    # A private limiter per scenario so one scenario's budget does not leak into the next,
    # and a pause so the server's window has forgotten the last scenario's requests
    # (without it a fresh limiter's first burst meets them and earns 429s).
    limiter = RateLimiter(config.rate_limit)
    if sequential:
        config = dataclasses.replace(config, search_workers=1, batch_claims=1)
    time.sleep(1.2)
    start = time.perf_counter()
    with Session.open(config, models=timed, limiter=limiter) as session:
        pubmed = session.pubmed
        if sequential:
            for text in texts:
                session.check_claims([text])
        else:
            session.check_claims(texts)
    seconds = time.perf_counter() - start
    # The client's own counts: every request sent, retries included, and 429s received.
    requests = pubmed.stats.requests
    rate = config.rate_limit
    per_claim = requests / len(texts)
    return {
        "claims": len(texts),
        "seconds": seconds,
        "claims/s": len(texts) / seconds,
        "requests/claim": per_claim,
        "bound claims/s": rate / per_claim,
        "fraction of bound": (len(texts) / seconds) / (rate / per_claim),
        "429s": pubmed.stats.rate_limited,
        "pairs/s": stance.pairs / stance.seconds if stance.seconds else 0.0,
    }


def _seeds(server: ServerProcess, config: Config, models: Models) -> dict[str, float]:
    docs = []
    limiter = RateLimiter(config.rate_limit)
    with Session.open(config, models=models, limiter=limiter) as session:
        for seed in SEEDS:
            docs.extend(
                load_source(str(seed), client=session.http, config=config, now=session.now())
            )
        start = time.perf_counter()
        reports, _ = session.check_documents(docs)
        seconds = time.perf_counter() - start
    claims = sum(len(r.claims) for r in reports)
    per_claim = session.pubmed.stats.requests / claims
    return {
        "claims": claims,
        "seconds": seconds,
        "claims/s": claims / seconds,
        "requests/claim": per_claim,
        "fraction of bound": (claims / seconds) / (config.rate_limit / per_claim),
    }


def _wall(cmd: list[str], env: dict[str, str], repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


_HWM_WRAPPER = """
import atexit, runpy, sys
OUT = sys.argv[1]
def _report():
    with open('/proc/self/status') as fh:
        hwm = next(line for line in fh if line.startswith('VmHWM'))
    with open(OUT, 'w') as out:
        out.write(hwm)
atexit.register(_report)
sys.argv = ['claimscan'] + sys.argv[2:]
runpy.run_module('pipeline', run_name='__main__')
"""


def _peak_rss_article(server: ServerProcess, env: dict[str, str], n_claims: int) -> float:
    """Peak RSS (MB) of a ``claimscan check`` subprocess on an n-claim article.

    Read from the child's own /proc VmHWM: getrusage's maxrss would count the image of
    this (large) process that the child held between fork and exec.
    """
    text = "\n\n".join(_claims(400)[200 : 200 + n_claims])
    with tempfile.TemporaryDirectory() as tmp:
        article, hwm = Path(tmp) / "article.txt", Path(tmp) / "hwm"
        article.write_text("# Benchmark article\n\n" + text + "\n")
        subprocess.run(
            [
                sys.executable,
                "-c",
                _HWM_WRAPPER,
                str(hwm),
                "check",
                str(article),
                "--format",
                "json",
                "--quiet",
                "--no-cache",
                "--eutils-url",
                server.base_url,
            ],
            env=env,
            check=False,
            capture_output=True,
        )
        kb = int(hwm.read_text().split()[1])
    return kb / 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="SciFact claims per scenario")
    parser.add_argument("--baseline", type=int, default=30, help="claims for the naive baseline")
    parser.add_argument("--stance-model", help="stance model to benchmark (default: shipped)")
    parser.add_argument("--quantize", action="store_true", help="dynamic int8 encoders")
    parser.add_argument(
        "--int8-selector", action="store_true", help="rank evidence with an int8 encoder"
    )
    args = parser.parse_args(argv)
    if not SCIFACT.is_dir():
        print(f"needs {SCIFACT}", file=sys.stderr)
        return 2

    base = load_config(
        {
            "cache_path": None,
            "stance_model": args.stance_model,
            "quantize": args.quantize or None,
            "int8_selector": args.int8_selector or None,
        },
        env={},
    )
    texts = _claims(args.n)
    with ServerProcess(SCIFACT / "corpus.jsonl") as server:
        t0 = time.perf_counter()
        with Session.open(base) as loader:
            models = loader.models()
        load_s = time.perf_counter() - t0
        print(f"models loaded in {load_s:.1f}s ({models.description})")
        # Warm-up: first forward passes and lazy imports are not what we measure.
        warm = dataclasses.replace(base, eutils_url=server.base_url, api_key="benchmark-key")
        _scenario(server, warm, models, _claims(400)[300:305])
        rows: dict[str, dict[str, float]] = {}
        for label, key in (("API key (10/s)", "benchmark-key"), ("no key (3/s)", None)):
            config = dataclasses.replace(base, eutils_url=server.base_url, api_key=key)
            rows[f"pipelined, {label}"] = _scenario(server, config, models, texts)
            rows[f"sequential, {label}"] = _scenario(
                server, config, models, texts[: args.baseline], sequential=True
            )
        keyed = dataclasses.replace(base, eutils_url=server.base_url, api_key="benchmark-key")
        seeds = _seeds(server, keyed, models)

        env = {**os.environ, "CLAIMSCAN_NO_CACHE": "1", "CLAIMSCAN_EUTILS_URL": server.base_url}
        env.pop("NCBI_API_KEY", None)
        if args.stance_model:
            env["CLAIMSCAN_STANCE_MODEL"] = args.stance_model
        if args.quantize:
            env["CLAIMSCAN_QUANTIZE"] = "1"
        if args.int8_selector:
            env["CLAIMSCAN_INT8_SELECTOR"] = "1"
        help_s = _wall([sys.executable, "-m", "pipeline", "--help"], env, repeat=3)
        first_s = _wall(
            [
                sys.executable,
                "-m",
                "pipeline",
                "claim",
                "--format",
                "json",
                "--quiet",
                "Exercise reduces chronic low back pain.",
            ],
            env,
        )
        rss_mb = _peak_rss_article(server, env, 50)

    cols = ["claims", "claims/s", "requests/claim", "fraction of bound", "429s", "pairs/s"]
    print(f"\n{'scenario':34}" + "".join(f"{c:>18}" for c in cols))
    for name, row in rows.items():
        print(f"{name:34}" + "".join(f"{row.get(c, float('nan')):>18.2f}" for c in cols))
    for label in ("API key (10/s)", "no key (3/s)"):
        fast, slow = rows[f"pipelined, {label}"], rows[f"sequential, {label}"]
        print(f"speed-up over sequential, {label}: {fast['claims/s'] / slow['claims/s']:.2f}x")
    print(
        f"seed articles (API key): {seeds['claims']:.0f} claims, {seeds['claims/s']:.2f} claims/s, "
        f"{seeds['requests/claim']:.2f} requests/claim, "
        f"{seeds['fraction of bound']:.2f} of the bound"
    )
    print(f"`claimscan --help` wall time: {help_s:.2f}s")
    print(f"first result for one claim (cold process, model load included): {first_s:.2f}s")
    print(f"peak RSS, 50-claim article (cold process): {rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
