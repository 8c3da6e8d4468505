"""Web app benchmark: how soon an editor sees claims, how long a check takes, memory,
and many checks at once. Network I/O on 127.0.0.1 only; reads ``<repo>/../shared``.

It starts the local E-utilities server (SciFact's corpus as PubMed, answering 429 past
NCBI's 3 requests/s) and ``claimscan serve`` as real processes, with the shipped models,
then:

1. submits the clinic seed page's text and times, from the submit, the first claims
   shown (the list of claims found, before any verdict) and the finished report, both
   through the JSON API (polled every 50 ms) and, when Chromium and Playwright are
   there, in a real browser (the form, then the live page);
2. submits 10 short articles at once and checks that all 10 finish;
3. runs 10 more one after another, and reads the server's resident memory after the
   models loaded, after the seed page, and after the 20 checks.

Run from the repository root::

    python -m benchmarks.web                # about 5 minutes on 2 CPU cores
    python -m benchmarks.web --claims 3     # shorter articles for steps 2 and 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks.throughput import SCIFACT, SHARED, ServerProcess

SEED_PAGE = SHARED / "seeds" / "003_ac18f91f1603e9fe.txt"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _articles(n: int, claims_each: int) -> list[str]:
    """Short articles made of SciFact training claims (one paragraph each)."""
    with open(SCIFACT / "claims_train.jsonl", encoding="utf-8") as fh:
        claims = [json.loads(line)["claim"] for line in fh]
    # Every 7th claim, so consecutive articles do not share topics (or cache entries).
    picked = claims[::7]
    return ["\n\n".join(picked[i * claims_each : (i + 1) * claims_each]) for i in range(n)]


def _wait(client: httpx.Client, check_id: str, timeout: float = 1800) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/checks/{check_id}").json()
        if state["status"] in {"done", "failed"}:
            return state  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise TimeoutError(check_id)


def _seed_via_api(client: httpx.Client, title: str, text: str) -> dict[str, float]:
    start = time.perf_counter()
    check_id = client.post("/api/checks", json={"title": title, "text": text}).json()["id"]
    first = None
    while True:
        state = client.get(f"/api/checks/{check_id}").json()
        now = time.perf_counter() - start
        if first is None and (state["preview"] or state["report"]):
            first = now
        if state["status"] in {"done", "failed"}:
            break
        time.sleep(0.05)
    assert state["status"] == "done", state["error"]
    claims = sum(len(d["claims"]) for d in state["report"]["documents"])
    return {"first_claims_s": first or now, "report_s": now, "claims": claims}


def _seed_via_browser(base: str, title: str, text: str) -> dict[str, float] | None:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(base + "/")
        page.click("summary:has-text('paste text')")
        page.fill("#title", title)
        page.fill("#text", text)
        start = time.perf_counter()
        page.click("button:has-text('Check')")
        page.wait_for_selector("#live-claims li, .card", timeout=600_000)
        first = time.perf_counter() - start
        page.wait_for_selector(".card", timeout=1_800_000)
        done = time.perf_counter() - start
        browser.close()
    return {"first_claims_s": first, "report_s": done}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--claims", type=int, default=5, help="claims per short article")
    args = parser.parse_args(argv)
    if not SEED_PAGE.is_file():
        print(f"needs {SEED_PAGE} (../shared)", file=sys.stderr)
        return 2
    text = SEED_PAGE.read_text(encoding="utf-8")
    title = text.split("\n", 1)[0]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with ServerProcess(SCIFACT / "corpus.jsonl") as eutils, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NCBI_", "CLAIMSCAN_"))}
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline",
                "serve",
                "--port",
                str(port),
                "--data",
                str(Path(tmp) / "data"),
                "--eutils-url",
                eutils.base_url,
                "--no-cache",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                while True:
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if server.poll() is not None:
                        raise RuntimeError("claimscan serve exited")
                    time.sleep(0.2)
                ready_s = time.perf_counter() - started
                rss_ready = _rss_mb(server.pid)
                seed = _seed_via_api(client, title, text)
                browser = _seed_via_browser(base, title, text)
                rss_seed = _rss_mb(server.pid)

                articles = _articles(20, args.claims)
                start = time.perf_counter()
                with ThreadPoolExecutor(max_workers=10) as pool:
                    ids = list(
                        pool.map(
                            lambda t: client.post("/api/checks", json={"text": t}).json()["id"],
                            articles[:10],
                        )
                    )
                states = [_wait(client, i) for i in ids]
                burst_s = time.perf_counter() - start
                done = sum(s["status"] == "done" for s in states)
                for article in articles[10:]:
                    states.append(
                        _wait(
                            client, client.post("/api/checks", json={"text": article}).json()["id"]
                        )
                    )
                rss_20 = _rss_mb(server.pid)
                listed = len(client.get("/api/checks", params={"limit": 200}).json()["checks"])
        finally:
            server.terminate()
            server.wait(timeout=60)

    print(f"server ready (models loaded) after {ready_s:.1f} s; RSS {rss_ready:.0f} MB")
    print(
        f"seed page ({seed['claims']:.0f} claims), API: first claims shown after "
        f"{seed['first_claims_s']:.2f} s, finished report after {seed['report_s']:.1f} s "
        f"({seed['claims'] / seed['report_s']:.2f} claims/s)"
    )
    if browser is not None:
        print(
            "seed page, Chromium: first claims on the page after "
            f"{browser['first_claims_s']:.2f} s, report on the page after "
            f"{browser['report_s']:.1f} s"
        )
    else:
        print("seed page, Chromium: skipped (no chromium or playwright)")
    print(
        f"10 checks of {args.claims} claims submitted at once: {done}/10 done in {burst_s:.1f} s; "
        f"failed: {[s['error'] for s in states[:10] if s['status'] != 'done']}"
    )
    total_done = sum(s["status"] == "done" for s in states)
    print(f"20 checks: {total_done}/20 done; {listed} checks listed (incl. the seed runs)")
    print(
        f"server RSS: {rss_ready:.0f} MB ready, {rss_seed:.0f} MB after the seed page, "
        f"{rss_20:.0f} MB after 20 more checks"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
