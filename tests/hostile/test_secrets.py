"""``NCBI_API_KEY`` never shows up in reports, logs, exceptions or the cache.

The key is set through the environment, as users set it, and the local E-utilities
server is scripted to fail in ways that produce messages, retries and log lines; its
429 answers echo the key back, as NCBI's do.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from claims.types import Report
from pipeline.config import load_config
from pipeline.errors import PubMedError
from pipeline.http import build_client
from pipeline.pubmed.cache import ResponseCache
from pipeline.pubmed.client import PubMed, RedactApiKey
from pipeline.report import RENDERERS
from pipeline.run import run
from tests.eutils_server import EutilsServer, Scripted
from tests.fakes import fake_models
from tests.hostile.conftest import NOW
from tests.hostile.test_eutils_faults import RECORDS, TEXT

KEY = "SeCrEtKeY0123456789abcdef"
_ECHO = f'{{"error":"API rate limit exceeded","api-key":"{KEY}","count":"11","limit":"10"}}'


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCBI_API_KEY", KEY)


def _all_text(exc: BaseException) -> str:
    """Everything an exception chain shows: messages, causes and contexts."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def _files_bytes(path: Path) -> bytes:
    """The SQLite file and its WAL/SHM companions, where recent writes live."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@pytest.mark.parametrize(
    "answers",
    [
        [Scripted(429, _ECHO.encode())] * 4,
        [Scripted(503, f"<html>upstream error for api_key={KEY}</html>".encode())] * 4,
        [Scripted(200, f"<html><p>proxy said api_key={KEY}</p></html>".encode())] * 4,
        [
            Scripted(
                200, f"<eSearchResult><ERROR>bad api_key={KEY}</ERROR></eSearchResult>".encode()
            )
        ],
        [
            Scripted(
                200,
                f"<eSearchResult><ERROR>backend: timeout {KEY}</ERROR></eSearchResult>".encode(),
            )
        ]
        * 4,
        [Scripted(400, _ECHO.encode())],
    ],
    ids=["429-echo", "503", "html-200", "error-element", "backend-error", "400-echo"],
)
def test_key_absent_from_exceptions_and_logs(
    key_env: None, caplog: pytest.LogCaptureFixture, answers: list[Scripted]
) -> None:
    caplog.set_level(logging.DEBUG)
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        server.script("esearch.fcgi", *answers)
        config = load_config({"eutils_url": server.base_url, "max_retries": 3}, env=None)
        assert config.api_key == KEY
        with build_client(config) as client:
            with pytest.raises(PubMedError) as info:
                PubMed(client, config, sleep=lambda s: None).search("exercise back pain")
        assert all(r.params.get("api_key") == KEY for r in server.log)  # it was sent
    assert KEY not in _all_text(info.value)
    assert caplog.records, "httpx should have logged the requests"
    assert KEY not in caplog.text
    assert KEY not in "\n".join(r.getMessage() for r in caplog.records)


def test_issue_7_httpx_request_log_redacts_the_key(
    key_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: httpx logged every E-utilities URL, api_key included, at INFO.
    caplog.set_level(logging.INFO, logger="httpx")
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        config = load_config({"eutils_url": server.base_url, "cache_path": None})
        with build_client(config) as client:
            PubMed(client, config, sleep=lambda s: None).search("exercise back pain")
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all("api_key=***" in line for line in lines)
    assert KEY not in caplog.text


def test_issue_7_error_element_echoing_the_key_is_scrubbed(key_env: None) -> None:
    # Before: a non-retryable <ERROR> answer's text reached the message unscrubbed.
    body = f"<eSearchResult><ERROR>Invalid api_key={KEY}</ERROR></eSearchResult>".encode()
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        server.script("esearch.fcgi", Scripted(200, body))
        config = load_config({"eutils_url": server.base_url, "cache_path": None})
        with build_client(config) as client:
            with pytest.raises(PubMedError) as info:
                PubMed(client, config, sleep=lambda s: None).search("exercise")
    assert "Invalid api_key=***" in str(info.value) and KEY not in _all_text(info.value)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("GET https://x/esearch.fcgi?db=pubmed&api_key=abc123&tool=t", "api_key=***&tool=t"),
        ("GET https://x/efetch.fcgi?API_KEY=abc123", "API_KEY=***"),
        ("no key here", "no key here"),
    ],
)
def test_redact_filter_rewrites_messages(message: str, expected: str) -> None:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "%s", (message,), None)
    assert RedactApiKey().filter(record) is True
    assert expected in record.getMessage() and "abc123" not in record.getMessage()


def test_key_absent_from_cache_and_reports(
    key_env: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cache_path = tmp_path / "eutils.sqlite"
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        # A few failures first so messages and retries happen, then real answers.
        server.script("esearch.fcgi", Scripted(429, _ECHO.encode()), Scripted(503))
        config = load_config(
            {"eutils_url": server.base_url, "cache_path": cache_path, "min_hits": 1}
        )
        assert config.api_key == KEY and KEY not in repr(config)
        with build_client(config) as client:
            cache = ResponseCache(cache_path)
            pubmed = PubMed(client, config, cache=cache, sleep=lambda s: None)
            report: Report = run(
                ["-"],
                config=config,
                client=client,
                pubmed=pubmed,
                models=fake_models(),
                now=lambda: NOW,
                stdin=io.BytesIO(TEXT),
            )
            cache.close()
    assert any(c.verdict.evidence for d in report.documents for c in d.claims)
    blob = _files_bytes(cache_path)
    assert b"esearch.fcgi" in blob and KEY.encode() not in blob
    for fmt in RENDERERS:
        out = io.StringIO()
        RENDERERS[fmt](report, out, color=False)
        assert KEY not in out.getvalue(), fmt
    assert KEY not in repr(report) and KEY not in caplog.text


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


@pytest.mark.parametrize("failure", ["timeout", "refused"])
def test_chained_causes_do_not_carry_the_request_url(key_env: None, failure: str) -> None:
    # httpx exceptions keep the request, whose URL holds api_key, as an attribute that a
    # caller logging `exc.__cause__.request.url` would print; none may reach the user.
    import httpx

    with EutilsServer(RECORDS, enforce_rate=False) as server:
        url = server.base_url
        if failure == "timeout":
            server.script("esearch.fcgi", *[Scripted(200, b"", delay=1.0)] * 3)
        overrides = {"eutils_url": url, "max_retries": 1, "timeout": 0.2, "cache_path": None}
        if failure == "refused":
            overrides["eutils_url"] = "http://127.0.0.1:9/entrez/eutils/"
        config = load_config(overrides)
        with build_client(config) as client:
            with pytest.raises(PubMedError) as info:
                PubMed(client, config, sleep=lambda s: None).search("exercise back pain")
    chain = _chain(info.value)
    assert not any(isinstance(e, httpx.HTTPError) for e in chain), [type(e) for e in chain]
    assert KEY not in _all_text(info.value)
