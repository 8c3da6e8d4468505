"""The HTML report in a real browser: highlights render, the page's script runs, payloads don't.

Needs headless Chromium; skipped when ``chromium`` is not on PATH. Runs with
networking features off and a throwaway profile, on a local file only.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from claims.types import Report
from pipeline.report.html import render_html

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def page(tmp_path: Path, report: Report) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def test_html_browser_dom(tmp_path: Path, page: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    # The page's own script ran (allowed by its CSP hash) ...
    assert 'data-claimscan-js="ready"' in dom
    # ... and no injected one did: it would have retitled the page.
    assert "<title>claimscan report: 2 documents</title>" in dom
    assert "pwned</title>" not in dom
    assert "<img" not in dom
    for anchor, marker in [
        ("d1-c1", "[S1]"),
        ("d1-c2", "[C2]"),
        ("d1-c3", "[P3]"),
        ("d2-c1", "[S1]"),
        ("d2-c2", "[C2]"),
    ]:
        assert f'id="claim-{anchor}"' in dom
        assert f'id="card-{anchor}"' in dom
        assert f'<span class="marker">{marker}</span>' in dom
    assert dom.count("<script>") == 1


def test_html_browser_screenshot(tmp_path: Path, page: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri())
    assert shot.stat().st_size > 10_000
