"""retrieve(): one wide search per claim, batched fetches, retractions and failures, end
to end against the local E-utilities server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from claims.query import build_query
from claims.types import Claim, EvidenceStatus
from pipeline.config import Config
from pipeline.http import build_client
from pipeline.pubmed.client import PubMed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.retrieve import retrieve
from tests.eutils_server import EutilsServer, Record, Scripted

MELATONIN = "Melatonin supplements improve sleep quality in shift workers."
RECORDS = [
    Record("11", "Melatonin and sleep onset", ("Melatonin shortened sleep latency.",)),
    Record("12", "Sleep after melatonin in the elderly", ("Melatonin helped sleep.",)),
    Record("13", "Melatonin for jet lag", ("Sleep improved with melatonin.",)),
    Record("14", "Melatonin fabricated sleep data", ("Sleep and melatonin.",), retracted=True),
    Record("21", "Statins and muscle pain", ("Statins caused muscle pain rarely.",)),
    Record("22", "Muscle symptoms on statins", ("Statins and muscle aches.",)),
    Record("23", "Statin intolerance", ("Muscle pain led to stopping statins.",)),
]


def claim(text: str, context: str = "") -> Claim:
    return Claim(Claim.make_id("doc", 0, len(text), text), text, "doc", 0, len(text), context)


@pytest.fixture
def server() -> Iterator[EutilsServer]:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with build_client(Config()) as client:
        yield client


def setup(server: EutilsServer, http: httpx.Client, **settings: object) -> tuple[PubMed, Config]:
    config = Config(eutils_url=server.base_url, **settings)  # type: ignore[arg-type]
    pubmed = PubMed(http, config, limiter=RateLimiter(10_000), sleep=lambda s: None)
    return pubmed, config


def test_retrieve_one_search_per_claim_finds_partial_matches(server, http) -> None:
    pubmed, config = setup(server, http)
    assert pubmed.search(MELATONIN).count == 0  # the whole sentence finds nothing
    server.clear_log()
    c = claim(MELATONIN)
    result = retrieve([c], pubmed, config)[c.id]
    assert result.status is EvidenceStatus.FOUND
    query = build_query(MELATONIN)
    assert query is not None
    assert result.queries_tried == (result.query,) == (query.term,)
    assert {a.pmid for a in result.articles} == {"11", "12", "13"}
    assert len(server.requests("esearch.fcgi")) == 1
    assert server.requests("esearch.fcgi")[-1].params["retmax"] == str(config.search_candidates)


def test_retrieve_searches_the_vocabulary_synonyms(http) -> None:
    records = [Record("31", "Myocardial infarction in women", ("Outcomes were worse.",))]
    with EutilsServer(records, enforce_rate=False) as server:
        pubmed, config = setup(server, http)
        c = claim("Heart attacks kill more women.")
        result = retrieve([c], pubmed, config)[c.id]
    assert [a.pmid for a in result.articles] == ["31"]
    assert '"myocardial infarction"[tiab]' in result.query


def test_retrieve_never_returns_retracted(server, http) -> None:
    pubmed, config = setup(server, http)
    c = claim(MELATONIN)
    result = retrieve([c], pubmed, config)[c.id]
    assert "14" not in {a.pmid for a in result.articles}
    assert result.dropped_retracted == ("14",)


def test_retrieve_fetches_all_claims_in_one_batch(server, http) -> None:
    pubmed, config = setup(server, http)
    claims = [claim(MELATONIN), claim("Statins cause muscle pain."), claim(MELATONIN + " ")]
    results = retrieve(claims, pubmed, config)
    assert len(server.requests("efetch.fcgi")) == 1
    ids = server.requests("efetch.fcgi")[0].params["id"].split(",")
    assert len(ids) == len(set(ids))
    assert {a.pmid for a in results[claims[1].id].articles} == {"21", "22", "23"}


@pytest.mark.parametrize(
    ("text", "searched"), [("Quantum zebras levitate.", True), ("It may be so.", False)]
)
def test_retrieve_zero_hits_is_none(server, http, text: str, searched: bool) -> None:
    pubmed, config = setup(server, http)
    c = claim(text)
    result = retrieve([c], pubmed, config)[c.id]
    assert result.status is EvidenceStatus.NONE
    assert (result.articles, result.error) == ((), None)
    # The term sent is kept even when it found nothing, so a report can show it.
    assert bool(result.query) is searched
    assert len(server.requests("esearch.fcgi")) == int(searched)


def test_retrieve_search_failure_is_unavailable(server, http) -> None:
    # One search at a time, so the scripted failures meet the first claim's search.
    pubmed, config = setup(server, http, max_retries=1, search_workers=1)
    server.script("esearch.fcgi", *[Scripted(503, b"down")] * 2)
    melatonin, statins = claim(MELATONIN), claim("Statins cause muscle pain.")
    results = retrieve([melatonin, statins], pubmed, config)
    assert results[melatonin.id].status is EvidenceStatus.UNAVAILABLE
    assert "503" in (results[melatonin.id].error or "")
    # Said without the term: the same cause reads as one line for the whole run (#14).
    assert "esearch returned HTTP 503" in (results[melatonin.id].error or "")
    assert results[statins.id].status is EvidenceStatus.FOUND


def test_retrieve_fetch_failure_is_unavailable(server, http) -> None:
    pubmed, config = setup(server, http, max_retries=0)
    server.script("efetch.fcgi", Scripted(503, b"down"))
    c = claim(MELATONIN)
    result = retrieve([c], pubmed, config)[c.id]
    assert result.status is EvidenceStatus.UNAVAILABLE
    assert result.error and "efetch" in result.error


def test_retrieve_respects_search_candidates(server, http) -> None:
    pubmed, config = setup(server, http)
    c = claim(MELATONIN)
    result = retrieve([c], pubmed, replace(config, search_candidates=2))[c.id]
    assert len(result.articles) <= 2


def test_retrieve_records_how_pubmed_read_the_query(server, http) -> None:
    pubmed, config = setup(server, http)
    c = claim(MELATONIN)
    result = retrieve([c], pubmed, config)[c.id]
    assert result.query_translation  # the server answers QueryTranslation like NCBI
    assert "melatonin" in result.query_translation.lower()
