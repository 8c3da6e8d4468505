"""Who may use the app and what a browser can be made to do: token, hosts, CSRF, CSP,
escaping, body limits, and URLs that must not reach internal addresses."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from starlette.testclient import TestClient

from tests.web.conftest import BASE, TEXT, MakeApp, wait_for

TOKEN = "newsroom-token-1234"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


# -- token


@pytest.fixture
def guarded(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app(token=TOKEN, allowed_hosts=None), base_url=BASE) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/checks"),
        ("GET", "/api/checks/0123456789abcdef"),
        ("POST", "/api/checks"),
        ("POST", "/api/checks/0123456789abcdef/claims/0/review"),
        ("POST", "/checks"),
        ("POST", "/healthz"),
    ],
)
def test_token_is_required_on_the_api(guarded: TestClient, method: str, path: str) -> None:
    response = guarded.request(method, path, json={"text": TEXT})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in response.json()["error"]


@pytest.mark.parametrize(
    "path", ["/", "/checks/0123456789abcdef", "/checks/0123456789abcdef/report.json", "/feeds"]
)
def test_token_pages_redirect_to_login(guarded: TestClient, path: str) -> None:
    response = guarded.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_token_healthz_and_static_files_are_open(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/static/web.css").status_code == 200
    assert guarded.get("/login").status_code == 200


@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_token_wrong_credentials_are_refused(guarded: TestClient, header: str) -> None:
    assert guarded.get("/api/checks", headers={"Authorization": header}).status_code == 401


def test_token_bearer_opens_the_api(guarded: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = guarded.post("/api/checks", json={"text": TEXT}, headers=auth)
    assert response.status_code == 202
    guarded.headers.update(auth)
    assert wait_for(guarded, response.json()["id"])["status"] == "done"


def test_token_login_form_sets_a_cookie(guarded: TestClient) -> None:
    form = guarded.get("/login?next=/feeds")
    csrf = _csrf(form.text)
    wrong = guarded.post("/login?next=/feeds", data={"csrf": csrf, "token": "nope"})
    assert wrong.status_code == 401 and "wrong token" in wrong.text
    no_csrf = guarded.post("/login", data={"token": TOKEN})
    assert no_csrf.status_code == 403
    ok = guarded.post(
        "/login?next=/feeds", data={"csrf": csrf, "token": TOKEN}, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/feeds"
    cookie = ok.headers["set-cookie"]
    assert TOKEN not in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert guarded.get("/").status_code == 200
    assert guarded.get("/api/checks").status_code == 200
    guarded.post("/logout", follow_redirects=False)
    assert guarded.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_token_login_never_redirects_off_site(guarded: TestClient, target: str) -> None:
    csrf = _csrf(guarded.get("/login").text)
    response = guarded.post(
        "/login",
        params={"next": target},
        data={"csrf": csrf, "token": TOKEN},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


# -- hosts (DNS rebinding) without a token


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example", 400),
        ("evil.example:8000", 400),
        ("127.0.0.1:8000", 200),
        ("localhost", 200),
        ("[::1]:8000", 200),
    ],
)
def test_without_token_only_loopback_host_names_are_answered(
    client: TestClient, host: str, status: int
) -> None:
    assert client.get("/api/checks", headers={"Host": host}).status_code == status


# -- cross-site requests


def _index_csrf(client: TestClient) -> str:
    return _csrf(client.get("/").text)


def test_csrf_form_needs_the_token_of_this_browser(client: TestClient) -> None:
    data = {"text": TEXT, "title": "Notes"}
    assert client.post("/checks", data=data).status_code == 403
    assert client.post("/checks", data={**data, "csrf": "0" * 64}).status_code == 403
    data["csrf"] = _index_csrf(client)
    ok = client.post("/checks", data=data, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith("/checks/")
    # Another browser (another cookie) cannot reuse this one's token.
    with TestClient(client.app, base_url=BASE) as other:
        assert other.post("/checks", data=data).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": BASE, "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_refused(client: TestClient, headers: dict[str, str]) -> None:
    data = {"text": TEXT, "csrf": _index_csrf(client)}
    assert client.post("/checks", data=data, headers=headers).status_code == 403
    assert client.post("/api/checks", json={"text": TEXT}, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": BASE, "Sec-Fetch-Site": "same-origin"},
        # What Chromium sends for a form on a page whose referrer policy is no-referrer.
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Origin": BASE},
        {},
    ],
)
def test_same_origin_posts_are_accepted(client: TestClient, headers: dict[str, str]) -> None:
    data = {"text": TEXT, "csrf": _index_csrf(client)}
    response = client.post("/checks", data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 303


def test_review_form_needs_csrf_and_shows_after_reload(client: TestClient) -> None:
    check_id = client.post("/api/checks", json={"text": TEXT}).json()["id"]
    claim = wait_for(client, check_id)["report"]["documents"][0]["claims"][1]["id"]
    url = f"/checks/{check_id}/claims/{claim}/review"
    form = {"reviewer": "Ana <b>Lima</b>", "label": "supported", "note": "Checked the RCT."}
    assert client.post(url, data=form).status_code == 403
    form["csrf"] = _csrf(client.get(f"/checks/{check_id}").text)
    done = client.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"#review-{claim}")
    page = client.get(f"/checks/{check_id}").text
    section = page[page.index(f'id="review-{claim}"') :]
    assert "Reviewed</strong> by Ana &lt;b&gt;Lima&lt;/b&gt;" in section[:600]
    assert "Checked the RCT." in section[:900]


# -- headers and escaping


@pytest.mark.parametrize("path", ["/", "/feeds", "/login", "/api/checks", "/healthz"])
def test_every_response_has_a_strict_csp(client: TestClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


HOSTILE = (
    'Vitamin D <script>document.title="pwned"</script> prevents falls in older adults. '
    "Our clinic's <img src=x onerror=alert(1)> therapy is superior."
)


def test_pages_escape_source_text_and_run_no_inline_script(client: TestClient) -> None:
    check_id = client.post(
        "/api/checks", json={"text": HOSTILE, "title": "<svg onload=alert(1)>"}
    ).json()["id"]
    wait_for(client, check_id)
    for path in (f"/checks/{check_id}", "/"):
        html = client.get(path).text
        assert "<script>document" not in html and "<img src=x" not in html
        assert "<svg" not in html and "&lt;svg onload=alert(1)&gt;" in html
        # Every script is a file from /static/; no inline script, no inline style.
        assert re.findall(r"<script[^>]*>", html) == [
            s for s in re.findall(r"<script[^>]*>", html) if 'src="/static/' in s
        ]
        assert "<style" not in html and " style=" not in html
    assert "&lt;script&gt;document.title" in client.get(f"/checks/{check_id}").text


def test_served_report_stylesheet_colours_every_label(client: TestClient) -> None:
    # The check page draws labels with the report's classes; without their rules the
    # chips, badges and highlights render blank (seen in a new-user trial).
    from pipeline.report._common import LABEL_LOOKS

    css = client.get("/static/report.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for label, look in LABEL_LOOKS.items():
        assert f".lab--{label.value} {{ --c: {look.colour};" in css.text


@pytest.mark.parametrize("name", ["../app.py", "report.html.j2", "web.py", "%2e%2e%2fstore.py"])
def test_static_serves_only_its_own_files(client: TestClient, name: str) -> None:
    assert client.get(f"/static/{name}").status_code == 404


# -- body limits


def test_oversized_bodies_are_refused(make_app: MakeApp) -> None:
    with TestClient(make_app(max_body=10_000), base_url=BASE) as client:
        big = "Vitamin D prevents falls. " * 1000
        assert client.post("/api/checks", json={"text": big}).status_code == 413
        # Without a Content-Length the body is counted as it arrives.
        chunks = (b'{"text": "' + b"a" * 4096 for _ in range(5))
        chunked = client.post(
            "/api/checks", content=chunks, headers={"content-type": "application/json"}
        )
        assert chunked.status_code == 413
        csrf = _index_csrf(client)
        upload = client.post(
            "/checks", data={"csrf": csrf}, files={"file": ("a.txt", big.encode(), "text/plain")}
        )
        assert upload.status_code == 413
        assert (
            client.post("/api/checks", json={"text": "Vitamin D prevents falls."}).status_code
            == 202
        )


def test_file_upload_is_checked(client: TestClient) -> None:
    csrf = _index_csrf(client)
    response = client.post(
        "/checks",
        data={"csrf": csrf},
        files={"file": ("notes.md", TEXT.encode(), "text/markdown")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    check_id = response.headers["location"].rsplit("/", 1)[1]
    state = wait_for(client, check_id)
    assert state["status"] == "done" and state["source"] == "notes.md"
    empty = client.post(
        "/checks", data={"csrf": csrf}, files={"file": ("e.txt", b"", "text/plain")}
    )
    assert empty.status_code == 400 and "e.txt is empty" in empty.text


# -- URLs that must not reach internal addresses


class _Internal(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        body = f"<html><body><p>{TEXT}</p></body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def internal() -> Iterator[int]:
    _Internal.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Internal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:{port}/admin", "loopback"),
        ("http://localhost:{port}/admin", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://10.0.0.1/router", "private"),
        ("http://10.255.1.2:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0:{port}/", "unspecified"),
    ],
)
def test_ssrf_private_addresses_are_refused(
    client: TestClient, internal: int, url: str, kind: str
) -> None:
    check_id = client.post("/api/checks", json={"url": url.format(port=internal)}).json()["id"]
    state = wait_for(client, check_id)
    assert state["status"] == "failed"
    assert "refused" in state["error"] and f"{kind}" in state["error"]
    assert "--allow-private-urls" in state["error"]
    assert _Internal.hits == 0


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/"],
)
def test_ssrf_a_redirect_to_a_private_address_is_refused(
    make_app: MakeApp, internal: int, target: str
) -> None:
    # A public address (a literal, so no DNS is needed) that answers with a redirect.
    seen: list[str] = []

    def public_site(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": target.format(port=internal)})

    app = make_app(transport=httpx.MockTransport(public_site))
    with TestClient(app, base_url=BASE) as client:
        check_id = client.post("/api/checks", json={"url": "http://93.184.216.34/story"}).json()
        state = wait_for(client, check_id["id"])
    assert seen == ["http://93.184.216.34/story"]
    assert state["status"] == "failed" and "refused" in state["error"]
    assert _Internal.hits == 0


def test_ssrf_allow_private_urls_lifts_the_rule(make_app: MakeApp, internal: int) -> None:
    with TestClient(make_app(allow_private_urls=True), base_url=BASE) as client:
        check_id = client.post(
            "/api/checks", json={"url": f"http://127.0.0.1:{internal}/page"}
        ).json()["id"]
        assert wait_for(client, check_id)["status"] == "done"
    assert _Internal.hits == 1
