"""Fixtures for the web app: a local E-utilities server, fake models, the app in-process,
and the app served for real by uvicorn (for the browser)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pipeline.config import Config
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.run import Models
from pipeline.web import WebSettings, create_app
from tests.eutils_server import EutilsServer
from tests.fakes import fake_models
from tests.test_run import RECORDS, TEXT

__all__ = ["TEXT", "live_server", "wait_for"]

BASE = "http://127.0.0.1"


@pytest.fixture
def eutils() -> Iterator[EutilsServer]:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        yield server


@pytest.fixture
def config(eutils: EutilsServer) -> Config:
    return Config(eutils_url=eutils.base_url, cache_path=None, min_hits=1, max_retries=0)


MakeApp = Callable[..., Starlette]


@pytest.fixture
def pubmed(config: Config) -> Iterator[PubMed]:
    """An E-utilities client whose rate limiter never sleeps (the server does not enforce)."""
    with build_client(config) as http:
        yield PubMed(http, config, sleep=lambda s: None)


@pytest.fixture
def make_app(tmp_path: Path, config: Config, pubmed: PubMed) -> MakeApp:
    """Build the app on ``tmp_path/data`` with fake models; keywords go to WebSettings
    (or ``load_models`` / ``transport`` to create_app)."""

    def make(
        load_models: Callable[[], Models] = fake_models,
        transport: httpx.BaseTransport | None = None,
        **settings: Any,
    ) -> Starlette:
        settings.setdefault("data_dir", tmp_path / "data")
        return create_app(
            WebSettings(**settings),
            config,
            load_models=load_models,
            transport=transport,
            pubmed=pubmed,
        )

    return make


@pytest.fixture
def client(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app(), base_url=BASE) as c:
        yield c


def wait_for(client: TestClient | httpx.Client, check_id: str, timeout: float = 30.0) -> dict:
    """Poll the API until the check is done or failed; return its last state."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/api/checks/{check_id}").json()
        if state["status"] in {"done", "failed"}:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"check {check_id} still {state['status']} after {timeout}s")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Starlette) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
