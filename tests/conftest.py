"""Shared fixtures: a clean environment for every test, and paths to shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
SEED_FEED = SEEDS / "000_0d7cf7fb99d67cb8.txt"
SEED_PAGE = SEEDS / "003_ac18f91f1603e9fe.txt"
DATA = Path(__file__).resolve().parent / "data"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present")


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No API key, proxy or hub setting leaks in from the developer's shell; no real cache."""
    import os

    for name in list(os.environ):
        if name.startswith(("NCBI_", "HF_", "CLAIMSCAN_")) or name.lower() in {
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
