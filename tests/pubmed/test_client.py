"""The real PubMed client against the local E-utilities server (tests/eutils_server.py).

Fault-injection tests turn the server's rate check off and give the client a fake
sleep, so retries cost no real time. The limiter's guarantee is tested on a fake clock;
only the server's own 429 test uses the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.config import Config
from pipeline.errors import PubMedHTTPError, PubMedParseError, PubMedUnreachable, RateLimited
from pipeline.http import build_client
from pipeline.pubmed.cache import ResponseCache
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from tests.eutils_server import EutilsServer, Record, Scripted

SECRET = "SECRET-NCBI-KEY-0123456789"
RECORDS = [
    Record("1001", "Vitamin D and falls in older adults", ("Vitamin D reduced falls.",)),
    Record("1002", "Vitamin D supplements and fractures", ("No effect on fractures was seen.",)),
    Record("1003", "Falls prevention by exercise", ("Exercise prevented falls.",)),
    Record("1004", "Statins and muscle pain", ("Muscle pain was rare.",), retracted=True),
] + [Record(str(2_000_000 + i), f"Filler record {i}", ("Nothing here.",)) for i in range(600)]


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def server() -> Iterator[EutilsServer]:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        yield server


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def make(
    server: EutilsServer,
    http: httpx.Client,
    sleep: FakeSleep,
    *,
    cache: ResponseCache | None = None,
    limiter: RateLimiter | None = None,
    **settings: object,
) -> PubMed:
    config = Config(eutils_url=server.base_url, **settings)  # type: ignore[arg-type]
    return PubMed(http, config, limiter=limiter or RateLimiter(10_000), cache=cache, sleep=sleep)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with build_client(Config(timeout=5.0)) as client:
        yield client


def test_client_search_returns_ranked_hits(server, http, sleep) -> None:
    result = make(server, http, sleep).search("vitamin d AND falls")
    assert result.term == "vitamin d AND falls"
    assert result.pmids[0] == "1001"
    assert result.count == 1
    assert result.translation


def test_client_sends_tool_email_and_search_params(server, http, sleep) -> None:
    pubmed = make(server, http, sleep, email="dev@example.org")
    pubmed.search("falls", retmax=2)
    pubmed.fetch(["1001", "1002"])
    log = server.log
    assert [r.endpoint for r in log] == ["esearch.fcgi", "efetch.fcgi"]
    assert all(r.params["tool"] == "claimscan" for r in log)
    assert all(r.params["email"] == "dev@example.org" for r in log)
    assert all("api_key" not in r.params for r in log)
    assert log[0].params | {"term": "falls"} == log[0].params
    assert (log[0].params["sort"], log[0].params["retmax"]) == ("relevance", "2")


def test_client_fetch_returns_articles_by_pmid(server, http, sleep) -> None:
    articles = make(server, http, sleep).fetch(["1001", "1004", "424242", "1001"])
    assert set(articles) == {"1001", "1004"}
    assert articles["1001"].abstract == ("Vitamin D reduced falls.",)
    assert articles["1004"].retracted is True


def test_client_fetch_batches_500_and_posts_long_lists(server, http, sleep) -> None:
    pmids = [str(2_000_000 + i) for i in range(600)]
    articles = make(server, http, sleep).fetch(pmids)
    assert len(articles) == 600
    fetches = server.requests("efetch.fcgi")
    assert [len(r.params["id"].split(",")) for r in fetches] == [500, 100]
    assert [r.method for r in fetches] == ["POST", "GET"]


def test_client_429_storm_still_answers(server, http, sleep) -> None:
    server.script("esearch.fcgi", *[Scripted(429, b'{"error":"API rate limit exceeded"}')] * 4)
    pubmed = make(server, http, sleep)
    assert pubmed.search("falls").count == 2
    assert pubmed.stats.rate_limited == 4
    assert pubmed.stats.retries == 4
    assert pubmed.stats.requests == 5
    # Exponential: each backoff at least half of 1, 2, 4, 8 seconds.
    assert [s >= 2**i / 2 for i, s in enumerate(sleep.calls)] == [True] * 4


def test_client_respects_retry_after(server, http, sleep) -> None:
    server.script("esearch.fcgi", Scripted(429, b"{}", {"Retry-After": "7"}))
    make(server, http, sleep).search("falls")
    assert sleep.calls and sleep.calls[0] >= 7


def test_client_persistent_429_raises_rate_limited(server, http, sleep) -> None:
    server.script("esearch.fcgi", *[Scripted(429, b"{}")] * 3)
    with pytest.raises(RateLimited) as info:
        make(server, http, sleep, max_retries=2).search("vitamin d")
    message = str(info.value)
    # The cause is the server's and the same for every claim: no term, so a run's
    # claims that all hit it share one line (#14).
    assert message.startswith("esearch returned 429") and "vitamin" not in message
    assert "after 2 retries" in message
    assert "NCBI_API_KEY" in message


def test_client_survives_20_percent_5xx(http, sleep) -> None:
    with EutilsServer(RECORDS, enforce_rate=False, fail_rate=0.2, seed=7) as server:
        pubmed = make(server, http, sleep)
        counts = [pubmed.search(term).count for term in ["falls", "vitamin", "statins"] * 3]
        articles = pubmed.fetch(["1001", "1002", "1003"])
    assert counts == [2, 2, 1] * 3
    assert len(articles) == 3
    assert pubmed.stats.server_errors > 0
    assert pubmed.stats.retries == pubmed.stats.server_errors


def test_client_persistent_5xx_raises_http_error(server, http, sleep) -> None:
    server.script("efetch.fcgi", *[Scripted(503, b"down")] * 2)
    with pytest.raises(PubMedHTTPError, match=r"efetch returned HTTP 503"):
        make(server, http, sleep, max_retries=1).fetch(["1001"])


def test_client_retries_truncated_body(server, http, sleep) -> None:
    body = http.get(server.base_url + "esearch.fcgi", params={"term": "falls"}).content
    server.clear_log()
    server.script("esearch.fcgi", Scripted(200, body[: len(body) // 2]))
    pubmed = make(server, http, sleep)
    assert pubmed.search("falls").count == 2
    assert pubmed.stats.retries == 1


def test_client_persistently_truncated_raises_parse_error(server, http, sleep) -> None:
    server.script("efetch.fcgi", *[Scripted(200, b"<PubmedArticleSet><Pub")] * 2)
    with pytest.raises(PubMedParseError, match="efetch for PMIDs 1001"):
        make(server, http, sleep, max_retries=1).fetch(["1001"])


def test_client_retries_timeouts(server, sleep) -> None:
    server.script("esearch.fcgi", Scripted(200, b"", delay=0.6))
    with build_client(Config(timeout=0.2)) as http:
        pubmed = make(server, http, sleep, timeout=0.2)
        assert pubmed.search("falls").count == 2
    assert pubmed.stats.retries == 1


@pytest.mark.parametrize(
    ("scripted", "error"),
    [
        (Scripted(400, b"bad request"), PubMedHTTPError),
        (
            Scripted(200, b"<eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>"),
            PubMedParseError,
        ),
    ],
)
def test_client_does_not_retry_request_errors(server, http, sleep, scripted, error) -> None:
    server.script("esearch.fcgi", scripted)
    pubmed = make(server, http, sleep)
    with pytest.raises(error):
        pubmed.search("falls")
    assert pubmed.stats.requests == 1


def test_issue_14_connection_refused_fails_at_once_and_for_the_rest_of_the_run(http, sleep) -> None:
    server = EutilsServer(RECORDS).start()
    url = server.base_url
    server.stop()
    config = Config(eutils_url=url, api_key=SECRET, max_retries=5)
    pubmed = PubMed(http, config, limiter=RateLimiter(1000), sleep=sleep)
    with pytest.raises(PubMedUnreachable) as info:
        pubmed.search("falls after hip fracture in older adults")
    # One request, no backoff: a refused connection does not mend by retrying.
    assert pubmed.stats.requests == 1 and sleep.calls == []
    message = str(info.value)
    assert "127.0.0.1" in message and "--eutils-url" in message
    assert "falls" not in message and SECRET not in message
    # Later calls fail without touching the network.
    with pytest.raises(PubMedUnreachable):
        pubmed.fetch(["1001"])
    assert pubmed.stats.requests == 1


def test_client_api_key_sent_but_never_stored_or_shown(server, http, sleep, tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with ResponseCache(path) as cache:
        pubmed = make(server, http, sleep, cache=cache, api_key=SECRET)
        pubmed.search("falls")
        pubmed.fetch(["1001"])
        # The 429 body echoes the key, as NCBI's does; the message must not.
        server.script("esearch.fcgi", *[Scripted(429, f'{{"api-key":"{SECRET}"}}'.encode())] * 2)
        with pytest.raises(RateLimited) as info:
            make(server, http, sleep, cache=cache, api_key=SECRET, max_retries=1).search("x")
    assert all(r.params.get("api_key") == SECRET for r in server.log)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    for file in tmp_path.iterdir():
        assert SECRET.encode() not in file.read_bytes()


def test_client_cache_hit_makes_rerun_free(server, http, sleep, tmp_path: Path) -> None:
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        first = make(server, http, sleep, cache=cache)
        result = first.search("falls")
        articles = first.fetch(result.pmids)
        sent = len(server.log)
        second = make(server, http, sleep, cache=cache)
        assert second.search("falls") == result
        assert second.fetch(result.pmids) == articles
    assert len(server.log) == sent == 2
    assert second.stats.requests == 0
    assert second.stats.cache_hits == 2


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _most_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


@pytest.mark.parametrize("api_key", [None, SECRET], ids=["no key", "key"])
def test_client_limiter_keeps_server_rate(api_key: str | None) -> None:
    # The guarantee NCBI's rule asks for, on a fake clock so that machine load cannot
    # move it (#15): every request the real client sends to a real server, retries
    # included, waits for a limiter slot, and no one-second window holds more than the
    # rate. Times are read when each request leaves the client.
    clock = FakeClock()
    sent: list[float] = []
    with (
        EutilsServer(RECORDS, enforce_rate=False) as server,
        httpx.Client(event_hooks={"request": [lambda request: sent.append(clock.now)]}) as http,
    ):
        config = Config(eutils_url=server.base_url, api_key=api_key)
        limiter = RateLimiter(config.rate_limit, clock=clock.time, sleep=clock.sleep)
        pubmed = PubMed(http, config, limiter=limiter, sleep=clock.sleep)
        server.script("esearch.fcgi", Scripted(503))  # one retry, which needs a slot too
        terms = ["falls", "vitamin", "statins"] * 4
        for term in terms:
            pubmed.search(term)
        statuses = [r.status for r in server.log]
    rate = int(config.rate_limit)
    assert len(sent) == len(statuses) == len(terms) + 1 and statuses.count(503) == 1
    assert _most_in_window(sent) == rate
    # 13 requests at `rate` per window cannot fit in fewer than 13 // rate windows.
    assert sent[-1] - sent[0] >= (len(sent) - 1) // rate * 1.0


def test_server_answers_429_past_three_per_second(http) -> None:
    with EutilsServer(RECORDS) as server:
        statuses = [
            http.get(server.base_url + "esearch.fcgi", params={"term": "falls"}).status_code
            for _ in range(4)
        ]
    assert statuses == [200, 200, 200, 429]
