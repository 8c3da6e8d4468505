"""One :class:`Session` per command, API call or server: the wiring, built in one place.

A session holds what every run needs from outside the pure pipeline: the HTTP client for
pages and feeds, the E-utilities client (with its cache and rate limiter), the models
(loaded on first use, once per process) and the clock. The CLI commands, the Python API,
the web app's worker and the benchmarks all get these from here, so a setting in
``Config`` means the same thing everywhere.

I/O: opening a session opens HTTP clients and the E-utilities cache (SQLite); asking for
the models loads them from disk (or fetches the default stance model once). The runs
themselves are :mod:`pipeline.run`'s and :mod:`pipeline.feedscan`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import httpx

from claims.types import Document, DocumentReport, Failure, Report
from pipeline.config import RULES_ONLY, Config, load_config
from pipeline.http import build_client
from pipeline.nlp.protocols import StanceModel
from pipeline.pubmed.client import PubMed, open_pubmed
from pipeline.pubmed.limiter import RateLimiter
from pipeline.run import Models, Progress, _noop, check_documents, run, run_claims

if TYPE_CHECKING:
    from pathlib import Path

    from pipeline.feedscan import ItemOutcome, ScanState, ScanSummary

__all__ = ["Session", "load_models", "models_for", "utcnow"]


def utcnow() -> datetime:
    """The clock every session uses unless given another: aware, in UTC."""
    return datetime.now(UTC)


@lru_cache(maxsize=4)
def load_models(
    stance_model: str,
    promo_model: str,
    base_model: str | None,
    per_claim: int = 8,
    quantize: bool = False,
    int8_selector: bool = False,
    checkworthy_model: str = RULES_ONLY,
) -> Models:
    """Load the stance, promotional, check-worthiness and embedding models once per process.

    Args:
        stance_model: Stance adapter directory, model directory or hub id.
        promo_model: Promotional head directory.
        base_model: Encoder; None means the embedded all-MiniLM-L6-v2.
        per_claim: Evidence sentences classified per claim.
        quantize: Run the encoders' Linear layers in dynamic int8 (faster on CPU).
        int8_selector: Rank evidence sentences with an int8 copy of the encoder even
            when ``quantize`` is off (see ``Config.int8_selector``).
        checkworthy_model: Check-worthiness head directory, or ``rules`` for none.

    Raises:
        ModelLoadError: A model directory or hub id cannot be loaded.
    """
    from pipeline.evidence import EvidenceSelector
    from pipeline.nlp.embed import int8_copy, load_embedder
    from pipeline.nlp.promo import load_promo_classifier
    from pipeline.nlp.stance import LazyStance, load_stance_classifier

    embedder = load_embedder(base_model)
    # A stance adapter names its own base in stance.json; --base-model is the encoder's.
    # Loaded on first use: claims without evidence never need it.
    stance: StanceModel = LazyStance(stance_model)
    promo = load_promo_classifier(promo_model, base_model)
    checkworthy = None
    if checkworthy_model != RULES_ONLY:
        from pipeline.nlp.checkworthy import load_checkworthy_classifier

        # Loaded before any int8 copy is made: the head reads the float32 vectors it was
        # trained on, and keeps what the promotional head would flag.
        checkworthy = load_checkworthy_classifier(checkworthy_model, base_model).with_promo(promo)
    if quantize:
        fast = int8_copy(embedder)
        if promo.embedder is embedder:
            # The promotional head reads the same encoder as evidence selection.
            promo.embedder = fast
        embedder, stance = fast, int8_copy(load_stance_classifier(stance_model))
    elif int8_selector:
        # Only the ranking of evidence sentences, the largest CPU cost per claim, runs in
        # int8; the promotional head keeps reading the float32 vectors it was trained on.
        embedder = int8_copy(embedder)
    return Models(
        stance=stance,
        promo=promo,
        selector=EvidenceSelector(embedder, per_claim=per_claim),
        names={"stance": stance.name, "encoder": embedder.name},
        checkworthy=checkworthy,
    )


def models_for(config: Config) -> Models:
    """Return the (cached) models a config names."""
    return load_models(
        config.stance_model,
        config.promo_model,
        config.base_model,
        config.evidence_candidates,
        config.quantize,
        config.int8_selector,
        config.checkworthy_model,
    )


class Session:
    """The clients, models and clock of one command, API call or server.

    Build one with :meth:`open` and close it (or use it in a ``with`` block); the runs
    are its methods. Safe to share between threads: the HTTP clients are, the models
    load once under a lock, and every E-utilities request of the process passes one
    rate limiter.

    Attributes:
        config: The settings everything here was built from.
        http: Fetches pages and feeds.
        pubmed: Searches and fetches PubMed (cached, rate-limited).
        now: The clock for fetch times and ``generated_at``.
    """

    def __init__(
        self,
        config: Config,
        *,
        http: httpx.Client,
        pubmed: PubMed,
        models: Models | Callable[[], Models] | None = None,
        now: Callable[[], datetime] = utcnow,
        owned: Sequence[httpx.Client] = (),
        owns_cache: bool = False,
    ) -> None:
        self.config = config
        self.http = http
        self.pubmed = pubmed
        self.now = now
        self._loader = models if callable(models) else None
        self._models: Models | None = models if isinstance(models, Models) else None
        self._lock = threading.Lock()
        self._owned = tuple(owned)
        self._owns_cache = owns_cache

    @classmethod
    def open(
        cls,
        config: Config | None = None,
        *,
        models: Models | Callable[[], Models] | None = None,
        transport: httpx.BaseTransport | None = None,
        public_only: bool = False,
        pubmed: PubMed | None = None,
        limiter: RateLimiter | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> Session:
        """Build a session from a Config: the one place clients and models are wired.

        Args:
            config: Settings; by default the environment's (:func:`load_config`).
            models: Loaded models, or a function loading them; by default those
                ``config`` names, loaded on first use and shared by the process.
            transport: Replaces the network for pages and feeds (tests).
            public_only: Pages and feeds may not reach loopback, link-local or private
                addresses (``claimscan serve``). E-utilities requests then go through a
                client of their own, since the configured server may be a local one.
            pubmed: An E-utilities client to use instead of opening one (tests).
            limiter: A rate limiter of its own for the E-utilities client, instead of
                the process-wide one (benchmarks that must not share a budget).
            now: The clock.

        Raises:
            ConfigError: The environment holds an unusable setting.
        """
        config = config or load_config()
        http = build_client(config, transport, public_only=public_only)
        owned = [http]
        owns_cache = False
        if pubmed is None:
            eutils = http
            if public_only or transport is not None:
                eutils = build_client(config)
                owned.append(eutils)
            pubmed = open_pubmed(eutils, config, limiter=limiter)
            owns_cache = True
        return cls(
            config,
            http=http,
            pubmed=pubmed,
            models=models if models is not None else (lambda: models_for(config)),
            now=now,
            owned=owned,
            owns_cache=owns_cache,
        )

    # -- models

    def models(self) -> Models:
        """The models, loaded on the first call (once, whichever thread asks first).

        Raises:
            ModelLoadError: A model cannot be loaded; the next call tries again.
        """
        with self._lock:
            if self._models is None:
                if self._loader is None:
                    self._loader = lambda: models_for(self.config)
                self._models = self._loader()
            return self._models

    @property
    def models_loaded(self) -> bool:
        """True once :meth:`models` has returned."""
        return self._models is not None

    # -- runs

    def check(
        self,
        sources: Sequence[str],
        *,
        stdin: BinaryIO | None = None,
        progress: Progress = _noop,
    ) -> Report:
        """Check URLs, files, or ``-`` (stdin); see :func:`pipeline.run.run`."""
        # Loaded after the sources are read, so a dead URL fails in a second, and
        # before any search, since splitting needs them: loading while the first searches
        # ran held the GIL long enough to bunch rate-limited requests past NCBI's limit
        # (tests/test_cli.py).
        return run(
            sources,
            config=self.config,
            client=self.http,
            pubmed=self.pubmed,
            models=self.models,
            now=self.now,
            stdin=stdin,
            progress=progress,
        )

    def check_claims(self, texts: Sequence[str], *, progress: Progress = _noop) -> Report:
        """Check each text as one claim, without splitting; see :func:`pipeline.run.run_claims`."""
        models = self.models()
        return run_claims(
            texts,
            config=self.config,
            pubmed=self.pubmed,
            models=models,
            now=self.now,
            progress=progress,
        )

    def check_documents(
        self,
        documents: Sequence[Document],
        *,
        models: Models | None = None,
        progress: Progress = _noop,
    ) -> tuple[list[DocumentReport], list[Failure]]:
        """Check already-ingested documents; see :func:`pipeline.run.check_documents`.

        Args:
            documents: From ingest.
            models: Instead of the session's (e.g. with a selector of the check's own).
            progress: Progress callback.
        """
        return check_documents(
            documents,
            config=self.config,
            pubmed=self.pubmed,
            models=models if models is not None else self.models,
            progress=progress,
        )

    def scan_feeds(
        self,
        feeds: Sequence[str],
        *,
        state: ScanState,
        out_dir: Path,
        formats: Sequence[str] = ("json",),
        since: datetime | None = None,
        max_items: int | None = None,
        max_attempts: int | None = None,
        on_item: Callable[[ItemOutcome], None] | None = None,
    ) -> ScanSummary:
        """Scan feeds into ``out_dir``; see :func:`pipeline.feedscan.scan_feeds`.

        The models load only if some item needs checking: an all-304 run stays cheap.
        """
        from pipeline.feedscan import DEFAULT_MAX_ATTEMPTS
        from pipeline.feedscan import scan_feeds as scan

        return scan(
            feeds,
            state=state,
            out_dir=out_dir,
            config=self.config,
            client=self.http,
            pubmed=self.pubmed,
            models=self.models,
            now=self.now,
            formats=formats,
            since=since,
            max_items=max_items,
            max_attempts=max_attempts if max_attempts is not None else DEFAULT_MAX_ATTEMPTS,
            on_item=on_item,
        )

    # -- lifecycle

    def close(self) -> None:
        """Close the clients and the E-utilities cache this session opened."""
        if self._owns_cache and self.pubmed.cache is not None:
            self.pubmed.cache.close()
        for client in self._owned:
            client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
