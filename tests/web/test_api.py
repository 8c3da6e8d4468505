"""The JSON API in-process: submit, progress, report, list, reviews, failures, restart."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from claims.types import SCHEMA_VERSION
from pipeline.config import Config
from pipeline.errors import ModelLoadError
from pipeline.report.json import dump_report, load_report
from pipeline.web import WebSettings, create_app
from pipeline.web.store import INTERRUPTED
from pipeline.web.worker import STOPPED
from tests.eutils_server import EutilsServer
from tests.fakes import fake_models
from tests.test_run import RECORDS
from tests.web.conftest import BASE, TEXT, MakeApp, wait_for

COLDS = "Vitamin C supplementation prevents colds in the general population."


def _submit(client: TestClient, **body: str) -> str:
    response = client.post("/api/checks", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_api_check_text_answers_202_then_the_json_report(client: TestClient) -> None:
    response = client.post("/api/checks", json={"text": TEXT, "title": "Notes"})
    assert response.status_code == 202
    body = response.json()
    assert body["status_url"] == f"/api/checks/{body['id']}" == response.headers["location"]
    state = wait_for(client, body["id"])
    assert state["status"] == "done" and state["error"] is None
    assert state["progress"] == {"claims_done": 3, "claims_total": 3}
    report = state["report"]
    assert report["schema_version"] == SCHEMA_VERSION
    # Exactly what the JSON report writer makes of the same report.
    assert report == json.loads(dump_report(load_report(json.dumps(report))))
    claims = report["documents"][0]["claims"]
    assert [c["label"] for c in claims] == ["supported", "contested", "commercial-promotional"]
    assert all("review" not in c for c in claims)


def test_api_lists_past_checks_by_label_and_query(client: TestClient) -> None:
    first = _submit(client, text=TEXT)
    second = _submit(client, text=COLDS, title="Winter column")
    for check_id in (first, second):
        assert wait_for(client, check_id)["status"] == "done"
    listed = client.get("/api/checks").json()["checks"]
    assert [c["id"] for c in listed] == [second, first]
    assert listed[1]["labels"]["commercial-promotional"] == 1
    by_label = client.get("/api/checks", params={"label": "commercial-promotional"}).json()
    assert [c["id"] for c in by_label["checks"]] == [first]
    # The query searches titles and claim texts, ignoring case.
    assert [c["id"] for c in client.get("/api/checks?q=WINTER").json()["checks"]] == [second]
    assert len(client.get("/api/checks?q=colds").json()["checks"]) == 2
    assert [c["id"] for c in client.get("/api/checks?q=exercise").json()["checks"]] == [first]
    assert client.get("/api/checks?q=100%25").json()["checks"] == []
    assert client.get("/api/checks?label=maybe").status_code == 400


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "paste a link"),
        ({"url": "ftp://example.org/x"}, 400, "not an http"),
        ({"url": "file:///etc/passwd"}, 400, "not an http"),
        ({"url": "/etc/passwd"}, 400, "not an http"),
        ({"url": "https://example.org/a", "text": "Some text."}, 400, "one thing"),
        ({"text": "   \n "}, 400, "empty"),
        ({"text": 42}, 400, "strings"),
        ({"text": "x", "title": "t" * 301}, 400, "title"),
    ],
)
def test_api_refuses_bad_submissions(
    client: TestClient, body: dict, status: int, message: str
) -> None:
    response = client.post("/api/checks", json=body)
    assert response.status_code == status and message in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"text": "Vitamin D prevents falls."}', "text/plain", 415),
        (b'{"text": "Vitamin D prevents falls."}', "application/x-www-form-urlencoded", 415),
        (b'{"text": ', "application/json", 400),
        (b'["text"]', "application/json", 400),
    ],
)
def test_api_takes_json_objects_only(
    client: TestClient, content: bytes, content_type: str, status: int
) -> None:
    response = client.post("/api/checks", content=content, headers={"content-type": content_type})
    assert response.status_code == status


def test_api_unknown_check_is_404(client: TestClient) -> None:
    assert client.get("/api/checks/0123456789abcdef").status_code == 404
    assert client.get("/checks/0123456789abcdef").status_code == 404


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path != "/article":
            self.send_error(404)
            return
        body = (
            "<html><head><title>Back pain</title></head><body><article>"
            f"<h1>Back pain</h1><p>{TEXT}</p></article></body></html>"
        )
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def pages() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_api_url_check_fetches_the_page(make_app: MakeApp, pages: str) -> None:
    with TestClient(make_app(allow_private_urls=True), base_url=BASE) as client:
        state = wait_for(client, _submit(client, url=f"{pages}/article"))
    assert state["status"] == "done", state["error"]
    assert len(state["report"]["documents"][0]["claims"]) == 3
    assert state["title"] == "Back pain"


def test_api_failed_check_says_why(make_app: MakeApp, pages: str) -> None:
    with TestClient(make_app(allow_private_urls=True), base_url=BASE) as client:
        check_id = _submit(client, url=f"{pages}/missing")
        state = wait_for(client, check_id)
        page = client.get(f"/checks/{check_id}").text
    assert state["status"] == "failed" and state["report"] is None
    assert "returned HTTP 404" in state["error"]
    assert "This check failed" in page and "returned HTTP 404" in page


def test_healthz_and_checks_wait_for_the_models(make_app: MakeApp) -> None:
    release = threading.Event()

    def slow_models():  # type: ignore[no-untyped-def]
        release.wait(30)
        return fake_models()

    with TestClient(make_app(load_models=slow_models), base_url=BASE) as client:
        loading = client.get("/healthz")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        check_id = _submit(client, text=TEXT)
        # The claims found are shown before any model has run.
        for _ in range(200):
            state = client.get(f"/api/checks/{check_id}").json()
            if state["preview"]:
                break
            threading.Event().wait(0.02)
        assert state["status"] == "running"
        assert state["preview"]["documents"][0]["claims"][0].startswith("Exercise therapy")
        assert state["progress"] == {"claims_done": 0, "claims_total": 3}
        release.set()
        assert wait_for(client, check_id)["status"] == "done"
        assert client.get("/healthz").status_code == 200


def test_models_that_cannot_load_fail_checks_with_the_reason(make_app: MakeApp) -> None:
    def broken():  # type: ignore[no-untyped-def]
        raise ModelLoadError("no stance adapter at /nowhere; check --stance-model")

    with TestClient(make_app(load_models=broken), base_url=BASE) as client:
        state = wait_for(client, _submit(client, text=TEXT))
        health = client.get("/healthz")
    assert state["status"] == "failed" and "no stance adapter at /nowhere" in state["error"]
    assert health.status_code == 500 and "no stance adapter" in health.json()["error"]


def test_api_review_is_stored_and_shown_in_the_report(client: TestClient) -> None:
    check_id = _submit(client, text=TEXT)
    claims = wait_for(client, check_id)["report"]["documents"][0]["claims"]
    target = claims[0]["id"]
    response = client.post(
        f"/api/checks/{check_id}/claims/{target}/review",
        json={"reviewer": "Ana Lima", "label": "contested", "note": "Small trials only."},
    )
    assert response.status_code == 200, response.text
    review = response.json()["review"]
    assert review["reviewer"] == "Ana Lima" and review["label"] == "contested"
    assert review["reviewed_at"].endswith("+00:00")
    after = client.get(f"/api/checks/{check_id}").json()["report"]["documents"][0]["claims"]
    assert after[0]["review"] == review and all("review" not in c for c in after[1:])
    # The model's label is kept in the report; the review's label counts in the list.
    assert after[0]["label"] == "supported"
    labels = client.get("/api/checks").json()["checks"][0]["labels"]
    assert (labels["supported"], labels["contested"]) == (0, 2)
    download = client.get(f"/checks/{check_id}/report.json")
    assert "attachment" in download.headers["content-disposition"]
    assert download.json()["documents"][0]["claims"][0]["review"] == review
    # A later review replaces it; no label keeps the model's.
    client.post(f"/api/checks/{check_id}/claims/{target}/review", json={"reviewer": "Bo"})
    final = client.get(f"/api/checks/{check_id}").json()["report"]["documents"][0]["claims"][0]
    assert final["review"]["reviewer"] == "Bo" and final["review"]["label"] is None
    assert client.get("/api/checks").json()["checks"][0]["labels"]["supported"] == 1


@pytest.mark.parametrize(
    ("claim", "body", "status"),
    [
        (None, {"reviewer": "Ana", "label": "probably"}, 400),
        (None, {"reviewer": "  "}, 400),
        (None, {"reviewer": "A" * 81}, 400),
        (None, {"reviewer": "Ana", "note": "n" * 2001}, 400),
        ("0000000000000000", {"reviewer": "Ana"}, 404),
    ],
)
def test_api_review_refuses_bad_input(
    client: TestClient, claim: str | None, body: dict, status: int
) -> None:
    check_id = _submit(client, text=TEXT)
    claims = wait_for(client, check_id)["report"]["documents"][0]["claims"]
    url = f"/api/checks/{check_id}/claims/{claim or claims[0]['id']}/review"
    response = client.post(url, json=body)
    assert response.status_code == status, response.text


def test_api_review_of_an_unfinished_check_is_409(make_app: MakeApp) -> None:
    release = threading.Event()
    app = make_app(load_models=lambda: (release.wait(30), fake_models())[1])
    with TestClient(app, base_url=BASE) as client:
        check_id = _submit(client, text=TEXT)
        response = client.post(f"/api/checks/{check_id}/claims/x/review", json={"reviewer": "A"})
        release.set()
    assert response.status_code == 409


def test_ten_checks_submitted_at_once_all_finish(make_app: MakeApp) -> None:
    with TestClient(make_app(workers=2), base_url=BASE) as client:
        texts = [f"{TEXT}\nItem {n} of the batch.\n" for n in range(10)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            ids = list(pool.map(lambda t: _submit(client, text=t), texts))
        states = [wait_for(client, check_id, timeout=60) for check_id in ids]
        listed = client.get("/api/checks").json()["checks"]
    assert len(set(ids)) == 10 and len(listed) == 10
    assert [s["status"] for s in states] == ["done"] * 10
    assert all(len(s["report"]["documents"][0]["claims"]) == 3 for s in states)


def test_restart_keeps_finished_checks_and_fails_interrupted_ones(
    make_app: MakeApp, tmp_path: Path
) -> None:
    with TestClient(make_app(), base_url=BASE) as client:
        finished = _submit(client, text=TEXT)
        assert wait_for(client, finished)["status"] == "done"
        client.post(
            f"/api/checks/{finished}/claims/"
            f"{client.get(f'/api/checks/{finished}').json()['report']['documents'][0]['claims'][0]['id']}"
            "/review",
            json={"reviewer": "Ana"},
        )
    never = threading.Event()
    with TestClient(make_app(load_models=lambda: never.wait(60)), base_url=BASE) as client:
        running = _submit(client, text=TEXT)
        queued = _submit(client, text=COLDS)
        for _ in range(200):
            if client.get(f"/api/checks/{running}").json()["status"] == "running":
                break
            threading.Event().wait(0.02)
    never.set()
    with TestClient(make_app(), base_url=BASE) as client:
        kept = client.get(f"/api/checks/{finished}").json()
        stopped = client.get(f"/api/checks/{running}").json()
        waiting = client.get(f"/api/checks/{queued}").json()
    assert kept["status"] == "done" and kept["report"]["documents"][0]["claims"][0]["review"]
    assert stopped["status"] == "failed" and stopped["error"] in {STOPPED, INTERRUPTED}
    assert waiting["status"] == "failed" and waiting["error"] == INTERRUPTED


def test_checks_at_once_share_one_rate_limit(tmp_path: Path) -> None:
    # The default E-utilities client: the process-wide limiter, against a server that
    # answers 429 past 3 requests in any second.

    with EutilsServer(RECORDS, enforce_rate=True) as server:
        config = Config(eutils_url=server.base_url, cache_path=None, min_hits=1, max_retries=0)
        app = create_app(
            WebSettings(data_dir=tmp_path / "data", workers=3), config, load_models=fake_models
        )
        with TestClient(app, base_url=BASE) as client:
            ids = [
                _submit(client, text=TEXT),
                _submit(client, text=COLDS),
                _submit(client, text=TEXT),
            ]
            states = [wait_for(client, check_id, timeout=60) for check_id in ids]
        assert [s["status"] for s in states] == ["done"] * 3
        assert all(not s["report"]["failures"] for s in states)
        assert server.max_in_window() <= 3 and len(server.log) >= 6


def test_evidence_cache_does_not_outlive_a_check(make_app: MakeApp) -> None:
    # A server runs for months: the process-wide selector and ranker must not keep every
    # abstract's vectors (each check gets its own, sharing the encoder).
    models = fake_models()
    with TestClient(make_app(load_models=lambda: models), base_url=BASE) as client:
        for text in (TEXT, COLDS):
            assert wait_for(client, _submit(client, text=text))["status"] == "done"
    assert models.selector.sentences._vectors == {}
    assert models.ranker is not None
    assert models.ranker._vectors == {}
    assert models.ranker.sentences is models.selector.sentences
    assert models.selector.embedder.calls > 0  # type: ignore[attr-defined]
