"""Crash safety: SIGKILL mid-run, then rerun; and the run lock.

The killed run is a subprocess (``python -c``) scanning the same servers as the test.
Besides a kill from outside at a random moment, crashes are injected at the exact
windows that matter by replacing one of our own functions in that subprocess with one
that SIGKILLs the process at its Nth call.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.feedscan import ScanLocked, ScanState, read_status
from pipeline.report.json import load_report
from tests.conftest import REPO
from tests.eutils_server import EutilsServer
from tests.feedscan.conftest import Scan, item
from tests.feedscan.feed_server import Feed, FeedServer, rss

N_ITEMS = 6

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from datetime import UTC, datetime
    from pathlib import Path

    import pipeline.feedscan.scan as scan_mod
    from pipeline.config import Config
    from pipeline.feedscan import ScanState, scan_feeds
    from pipeline.http import build_client
    from pipeline.pubmed.client import PubMed
    from tests.fakes import fake_models

    eutils_url, feed_url, tmp, mode, nth = sys.argv[1:6]
    models = fake_models()
    predict = models.stance.predict

    def slow_predict(pairs, batch_size=32):
        time.sleep(0.15)  # so a kill from outside lands mid-run
        return predict(pairs, batch_size)

    models.stance.predict = slow_predict
    calls = {"n": 0}

    def kill_on_nth(original, torn=False):
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == int(nth):
                if torn:  # half a line reaches the file, then the process dies
                    path, line = args
                    with open(path, "ab") as fh:
                        fh.write(line.encode()[: len(line) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return wrapper

    if mode == "before-index":
        scan_mod.append_line = kill_on_nth(scan_mod.append_line)
    elif mode == "torn-index":
        scan_mod.append_line = kill_on_nth(scan_mod.append_line, torn=True)
    elif mode == "after-index":
        ScanState.index_written = kill_on_nth(ScanState.index_written)
    elif mode == "mid-report":
        scan_mod.write_report = kill_on_nth(scan_mod.write_report)

    config = Config(eutils_url=eutils_url, cache_path=None, min_hits=1, max_retries=0)
    with ScanState.open(Path(tmp) / "state.db") as state, build_client(config) as client:
        scan_feeds(
            [feed_url], state=state, out_dir=Path(tmp) / "out", config=config, client=client,
            pubmed=PubMed(client, config, sleep=lambda s: None), models=models,
            now=lambda: datetime.now(UTC), formats=("json", "markdown"),
        )
    """
)


def _start(eutils: EutilsServer, feed_url: str, tmp: Path, mode: str, nth: int) -> Any:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, eutils.base_url, feed_url, str(tmp), mode, str(nth)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _index_lines(tmp: Path) -> list[str]:
    path = tmp / "out" / "index.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def _check_complete(tmp: Path) -> None:
    """Every item indexed exactly once, every report present and loadable, no temp files."""
    entries = [json.loads(line) for line in _index_lines(tmp)]
    ids = [e["item_id"] for e in entries]
    assert len(ids) == len(set(ids)) == N_ITEMS, ids
    assert sorted(e["title"] for e in entries) == sorted(f"Post {n}" for n in range(N_ITEMS))
    for entry in entries:
        assert entry["status"] == "new" and set(entry["reports"]) == {"json", "markdown"}
        report = load_report((tmp / "out" / entry["reports"]["json"]).read_text())
        assert report.documents[0].document.title == entry["title"]
        assert (tmp / "out" / entry["reports"]["markdown"]).read_text().strip()
    assert not [p for p in (tmp / "out").iterdir() if p.name.endswith(".tmp")]


def _done_count(tmp: Path) -> int:
    return sum(s.items.get("done", 0) for s in read_status(tmp / "state.db"))


@pytest.fixture
def feed_url(feeds: FeedServer) -> str:
    feeds.feeds["/a.xml"] = Feed(rss([item(n) for n in range(N_ITEMS)]))
    return feeds.url("/a.xml")


def test_scan_sigkill_mid_run_then_rerun_completes_exactly_once(
    eutils: EutilsServer, feed_url: str, scan: Scan, tmp_path: Path
) -> None:
    proc = _start(eutils, feed_url, tmp_path, "sleep", 0)
    deadline = time.monotonic() + 60
    while len(_index_lines(tmp_path)) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    done = _done_count(tmp_path)
    assert 2 <= done < N_ITEMS
    summary = scan([feed_url], formats=("json", "markdown"))
    assert summary.ok and summary.items_new == N_ITEMS - done
    _check_complete(tmp_path)


@pytest.mark.parametrize(
    ("mode", "nth", "done_by_kill"),
    [
        ("mid-report", 3, 1),  # item 2's json renamed, its markdown not yet written
        ("before-index", 2, 2),  # item 2 committed done, its index line not appended
        ("torn-index", 2, 2),  # item 2's index line half written
        ("after-index", 2, 2),  # item 2's line fsynced, not yet marked written
    ],
)
def test_scan_killed_in_each_window_loses_and_repeats_nothing(
    eutils: EutilsServer,
    feed_url: str,
    scan: Scan,
    tmp_path: Path,
    mode: str,
    nth: int,
    done_by_kill: int,
) -> None:
    proc = _start(eutils, feed_url, tmp_path, mode, nth)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert _done_count(tmp_path) == done_by_kill
    summary = scan([feed_url], formats=("json", "markdown"))
    assert summary.ok and summary.items_new == N_ITEMS - done_by_kill
    _check_complete(tmp_path)


def test_scan_lock_refuses_a_second_run(tmp_path: Path) -> None:
    with ScanState.open(tmp_path / "state.db"):
        with pytest.raises(ScanLocked, match=f"pid {os.getpid()}.*this run did nothing"):
            ScanState.open(tmp_path / "state.db")
    ScanState.open(tmp_path / "state.db").close()


def test_scan_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pipeline.feedscan import ScanState;"
        "s = ScanState.open(sys.argv[1]); print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "state.db")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(ScanLocked, match=f"pid {proc.pid}"):
            ScanState.open(tmp_path / "state.db")
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    ScanState.open(tmp_path / "state.db").close()
