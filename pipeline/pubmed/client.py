"""The PubMed E-utilities client: esearch and efetch over HTTP. Network I/O; cache I/O.

Every request

* carries ``tool``, ``email`` and, when configured, ``api_key`` (NCBI's usage policy);
* waits for a slot from a :class:`~pipeline.pubmed.limiter.RateLimiter` (3/s, 10/s with a
  key), so a whole process stays under NCBI's limit;
* is answered from a :class:`~pipeline.pubmed.cache.ResponseCache` when one is given;
* is retried with exponential backoff and jitter on 429, 5xx, timeouts, connection
  errors and truncated or unparsable bodies, honouring ``Retry-After``, up to
  ``Config.max_retries`` times; then it raises :class:`~pipeline.errors.RateLimited`,
  :class:`~pipeline.errors.PubMedHTTPError` or :class:`~pipeline.errors.PubMedParseError`
  with the term or PMIDs in the message and never the API key.

This package is the only place that catches ``httpx.HTTPError`` for E-utilities.

The API key travels in the query string (or the form body of a POST), and httpx logs
every request URL at INFO. Rather than move the key out of the URL (NCBI documents it as
a URL parameter, and POSTing every request would change what NCBI and proxies see),
importing this module installs :class:`RedactApiKey` on the ``httpx`` logger, so any handler, at any
level, sees ``api_key=***`` (#7). Error messages are scrubbed here too, including those
whose text comes from NCBI's answer, which can echo the key back.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx

from claims.types import Article, SearchResult
from pipeline.config import Config
from pipeline.errors import (
    PubMedError,
    PubMedHTTPError,
    PubMedParseError,
    PubMedUnreachable,
    RateLimited,
)
from pipeline.pubmed.cache import EFETCH_TTL, ResponseCache
from pipeline.pubmed.limiter import RateLimiter, shared_limiter
from pipeline.pubmed.parse import MalformedResponse, parse_efetch, parse_esearch

__all__ = ["FETCH_BATCH", "PubMed", "PubMedStats", "RedactApiKey", "open_pubmed"]

T = TypeVar("T")

FETCH_BATCH = 500
"""PMIDs per efetch call. NCBI asks for POST beyond about 200 ids (longer lists go as
POST, see :data:`POST_OVER_CHARS`) and sets no lower cap on ids per POST; each claim
brings ``Config.search_candidates`` (100) PMIDs, and at 200 a batch the fetches alone
would cost 0.5 requests per claim (#18)."""
POST_OVER_CHARS = 1000
"""Send as POST once the term or comma-joined id list is longer than this (long URLs fail)."""
BACKOFF_BASE = 1.0
"""First backoff in seconds; NCBI counts requests per one-second window."""
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0
"""Longest ``Retry-After`` honoured, so a bogus header cannot stall a run for hours."""

_API_KEY_PARAM = re.compile(r"(api_key=)[^&\s\"'>]+", re.IGNORECASE)


class RedactApiKey(logging.Filter):
    """Rewrite log records so an ``api_key=...`` URL parameter reads ``api_key=***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message in place; never drops a record."""
        message = record.getMessage()
        if "api_key=" in message.lower():
            record.msg, record.args = _API_KEY_PARAM.sub(r"\1***", message), None
        return True


def _install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactApiKey) for f in logger.filters):
        logger.addFilter(RedactApiKey())


_install_log_redaction()


@dataclass(slots=True)
class PubMedStats:
    """Counters for one client: what it sent and what came back."""

    requests: int = 0
    """HTTP requests actually sent (cache hits excluded)."""
    rate_limited: int = 0
    """429 answers received."""
    server_errors: int = 0
    """5xx answers received."""
    retries: int = 0
    """Requests repeated after a failure of any kind."""
    cache_hits: int = 0
    """Answers served from the cache without a request."""


class PubMed:
    """Search and fetch PubMed records through NCBI E-utilities.

    Args:
        client: The HTTP client (from ``pipeline.http.build_client``).
        config: Supplies the base URL, API key, tool, email, retries and retmax.
        limiter: Rate limiter; defaults to the process-wide one for ``config.rate_limit``
            (or a private one on ``clock``/``sleep`` when those are replaced).
        cache: Response cache; None disables caching.
        sleep: Used for backoff between retries; tests pass a fake.
        clock: Monotonic clock for a default private limiter.
        rng: Source of backoff jitter; tests pass a seeded one.
    """

    def __init__(
        self,
        client: httpx.Client,
        config: Config,
        *,
        limiter: RateLimiter | None = None,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self.config = config
        if limiter is None:
            if sleep is time.sleep and clock is time.monotonic:
                limiter = shared_limiter(config.rate_limit)
            else:
                limiter = RateLimiter(config.rate_limit, clock=clock, sleep=sleep)
        self.limiter = limiter
        self.cache = cache
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.stats = PubMedStats()
        self._stats_lock = threading.Lock()
        self._fetched: dict[str, Article] = {}
        self.unreachable: str | None = None
        """Why E-utilities could not be connected to, once it could not; then every
        request fails at once instead of retrying a dead network claim after claim."""

    def search(self, term: str, retmax: int | None = None) -> SearchResult:
        """Run an esearch, PMIDs sorted by relevance.

        Args:
            term: PubMed query term.
            retmax: PMIDs to return; defaults to ``config.retmax``.

        Returns:
            Count, PMIDs and QueryTranslation, with ``term`` set to the term sent.

        Raises:
            RateLimited: Still 429 after all retries.
            PubMedHTTPError: Still failing at the HTTP level after all retries.
            PubMedParseError: An error answer, or bodies that never parsed.
        """
        params = {
            "db": "pubmed",
            "term": term,
            "retmax": str(retmax if retmax is not None else self.config.retmax),
            "sort": "relevance",
            "retmode": "xml",
        }
        # Terms of relaxed claims run long; a message quotes the start, never the whole.
        shown = term if len(term) <= 60 else term[:57] + "…"
        what = f"esearch for term={shown!r}"
        result = self._call(
            "esearch.fcgi",
            params,
            what=what,
            parse=functools.partial(parse_esearch, what=what),
            ttl=self.config.esearch_ttl,
            # Relaxed claim terms can run to a few thousand characters; NCBI asks for
            # POST rather than very long URLs.
            post=len(term) > POST_OVER_CHARS,
        )
        return SearchResult(
            term=term, count=result.count, pmids=result.pmids, translation=result.translation
        )

    def fetch(self, pmids: Sequence[str]) -> dict[str, Article]:
        """Fetch records by PMID with efetch, up to :data:`FETCH_BATCH` per request.

        Args:
            pmids: PMIDs in any order; duplicates are fetched once.

        Returns:
            Articles by PMID. PMIDs PubMed does not know are absent.

        Raises:
            RateLimited, PubMedHTTPError, PubMedParseError: As for :meth:`search`.
        """
        # Records already fetched by this client are reused: claims fetched in separate
        # batches often share PMIDs, and batch-keyed cache entries would not match.
        wanted = {p.strip() for p in pmids if p.strip()}
        with self._stats_lock:
            articles = {p: self._fetched[p] for p in wanted if p in self._fetched}
        # Sorted so the same set of PMIDs always makes the same batches and cache keys.
        unique = sorted(wanted - articles.keys(), key=lambda p: (len(p), p))
        for batch in _chunks(unique, FETCH_BATCH):
            ids = ",".join(batch)
            params = {"db": "pubmed", "id": ids, "retmode": "xml"}
            what = f"efetch for PMIDs {_describe_ids(batch)}"
            parsed = self._call(
                "efetch.fcgi",
                params,
                what=what,
                parse=functools.partial(parse_efetch, what=what),
                ttl=EFETCH_TTL,
                post=len(ids) > POST_OVER_CHARS,
            )
            articles.update((article.pmid, article) for article in parsed)
            with self._stats_lock:
                self._fetched.update((article.pmid, article) for article in parsed)
        return articles

    def _count(self, field: str) -> None:
        with self._stats_lock:
            setattr(self.stats, field, getattr(self.stats, field) + 1)

    def _scrub(self, text: str) -> str:
        key = self.config.api_key
        return text.replace(key, "***") if key else text

    def _safe_cause(self, exc: BaseException) -> BaseException:
        # Chained causes are printed in tracebacks and read by callers (str(e.__cause__)),
        # so one whose message holds the key is replaced by a scrubbed stand-in. httpx
        # errors are replaced even when their message is clean: they keep the request,
        # and its URL carries api_key.
        key = self.config.api_key
        if key and (key in str(exc) or isinstance(exc, httpx.HTTPError)):
            return PubMedError(f"{type(exc).__name__}: {self._scrub(str(exc))}")
        return exc

    def _call(
        self,
        endpoint: str,
        params: Mapping[str, str],
        *,
        what: str,
        parse: Callable[[bytes], T],
        ttl: float,
        post: bool = False,
    ) -> T:
        if self.cache is not None:
            cached = self.cache.get(endpoint, params)
            if cached is not None:
                try:
                    result = parse(cached)
                except PubMedParseError:
                    # A body that no longer parses (older parser, disk damage) is dropped
                    # and fetched again rather than failing the run.
                    self.cache.delete(endpoint, params)
                else:
                    self._count("cache_hits")
                    return result

        if self.unreachable is not None:
            raise PubMedUnreachable(self.unreachable)
        url = self.config.eutils_url + endpoint
        sent = dict(params, tool=self.config.tool, email=self.config.email)
        if self.config.api_key:
            sent["api_key"] = self.config.api_key

        retries = self.config.max_retries
        last_status: int | None = None
        problem = ""
        retry_after: float | None = None
        cause: BaseException | None = None
        for attempt in range(retries + 1):
            if attempt:
                self._count("retries")
                self._backoff(attempt, retry_after)
            retry_after = None
            self.limiter.acquire()
            self._count("requests")
            try:
                if post:
                    response = self._client.post(url, data=sent)
                else:
                    response = self._client.get(url, params=sent)
            except httpx.TimeoutException as exc:
                last_status, cause = None, self._safe_cause(exc)
                problem = f"timed out after {self.config.timeout:g}s"
                continue
            except httpx.ConnectError as exc:
                # Refused or unknown host: no retry mends that within a run (#14).
                host = httpx.URL(self.config.eutils_url).host
                self.unreachable = (
                    f"cannot connect to E-utilities at {host} ({self._scrub(str(exc))}); "
                    "check the network connection or --eutils-url / CLAIMSCAN_EUTILS_URL"
                )
                raise PubMedUnreachable(self.unreachable) from self._safe_cause(exc)
            except httpx.RequestError as exc:
                last_status, cause = None, self._safe_cause(exc)
                detail = self._scrub(str(exc))
                problem = f"failed to connect or read ({type(exc).__name__}: {detail})"
                continue

            status = response.status_code
            if status == 429:
                self._count("rate_limited")
                last_status, cause, problem = 429, None, "429 Too Many Requests"
                retry_after = _retry_after(response.headers.get("Retry-After"))
                continue
            if status >= 500:
                self._count("server_errors")
                last_status, cause, problem = status, None, f"HTTP {status}"
                continue
            if status >= 400:
                # 4xx other than 429 means the request itself is wrong: retrying cannot help.
                raise PubMedHTTPError(
                    f"{what} returned HTTP {status} from {url}; check the term syntax "
                    "and the E-utilities URL (--eutils-url)"
                )
            try:
                result = parse(response.content)
            except MalformedResponse as exc:
                last_status, cause, problem = status, self._safe_cause(exc), self._scrub(str(exc))
                continue
            except PubMedParseError as exc:
                refused = self._scrub(str(exc))
            else:
                if self.cache is not None:
                    self.cache.put(endpoint, params, response.content, ttl)
                return result
            # An <ERROR> answer's text is NCBI's, and NCBI echoes the key in some of them.
            # Raised outside the handler so the unscrubbed original is not even kept as
            # __context__ (#7).
            raise PubMedParseError(refused)

        # Said without the term or PMIDs: the cause is the server's, it is the same for
        # every claim, and so it reads as one line for a whole run (#14).
        raise self._give_up(endpoint.split(".")[0], retries, last_status, problem) from cause

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        # "Equal jitter": half the exponential step fixed, half random, so clients
        # that failed together do not all retry in the same instant.
        step = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        delay = step / 2 + self._rng.uniform(0, step / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._sleep(delay)

    def _give_up(
        self, what: str, retries: int, last_status: int | None, problem: str
    ) -> PubMedError:
        tries = f"after {retries} retries"
        if last_status == 429:
            hint = (
                "wait a minute and retry; another process may share this API key"
                if self.config.api_key
                else "set NCBI_API_KEY to raise the limit"
            )
            return RateLimited(f"{what} returned 429 {tries}; {hint}")
        if last_status is not None and last_status >= 500:
            return PubMedHTTPError(
                f"{what} returned HTTP {last_status} {tries}; NCBI may be down, try again later"
            )
        if last_status is None:
            return PubMedHTTPError(
                f"{what} {problem} {tries}; check the network, the E-utilities URL "
                "(--eutils-url) or raise CLAIMSCAN_TIMEOUT"
            )
        return PubMedParseError(
            f"{problem} ({tries}); NCBI may be sending error pages, try again later"
        )


def open_pubmed(
    client: httpx.Client, config: Config, *, limiter: RateLimiter | None = None
) -> PubMed:
    """Return a PubMed client with the cache ``config.cache_path`` names (if any).

    Args:
        client: The HTTP client.
        config: The run configuration.
        limiter: A limiter of its own; by default the process-wide one for
            ``config.rate_limit``.
    """
    cache = (
        ResponseCache(config.cache_path, server=config.eutils_url)
        if config.cache_path is not None
        else None
    )
    return PubMed(client, config, cache=cache, limiter=limiter)


def _retry_after(value: str | None) -> float | None:
    # Only the delay-seconds form: NCBI does not send HTTP dates here, and a date would
    # need the wall clock, which this module keeps out of its logic.
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _describe_ids(ids: Sequence[str]) -> str:
    shown = ",".join(ids[:5])
    return shown if len(ids) <= 5 else f"{shown},… ({len(ids)} in all)"


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
