"""The Python API: ``check``, ``check_text``, ``check_url``, ``check_claims``.

These build the HTTP client, the E-utilities client and the models from a Config
and call ``pipeline.run``; the CLI is a shell over them. Network, disk and model
loading all happen here or below.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import BinaryIO

from claims.types import Report
from pipeline.config import RULES_ONLY, Config, load_config
from pipeline.nlp.protocols import StanceModel
from pipeline.run import Models, Progress, _noop, run, run_claims


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


def _utcnow() -> datetime:
    return datetime.now(UTC)


def check(
    sources: Sequence[str],
    *,
    config: Config | None = None,
    stdin: BinaryIO | None = None,
    progress: Progress = _noop,
) -> Report:
    """Check URLs, files, or ``-`` (stdin) and return the report.

    Args:
        sources: What to check; sources that fail are listed in ``report.failures``.
        config: Settings; defaults to the environment's.
        stdin: Read for the ``-`` source.
        progress: Called as ``progress(stage, done, total)``.
    """
    from pipeline.http import build_client
    from pipeline.pubmed.client import open_pubmed

    config = config or load_config()
    models = models_for(config)
    with build_client(config) as client:
        pubmed = open_pubmed(client, config)
        return run(
            sources,
            config=config,
            client=client,
            pubmed=pubmed,
            models=models,
            now=_utcnow,
            stdin=stdin,
            progress=progress,
        )


def check_url(url: str, *, config: Config | None = None) -> Report:
    """Check one web page or feed."""
    return check([url], config=config)


def check_text(text: str, *, config: Config | None = None) -> Report:
    """Check a text (plain or Markdown) as if it were a file."""
    return check(["-"], config=config, stdin=io.BytesIO(text.encode("utf-8")))


def check_claims(
    texts: Sequence[str], *, config: Config | None = None, progress: Progress = _noop
) -> Report:
    """Check each text as one claim, without splitting; one document per claim, in order."""
    from pipeline.http import build_client
    from pipeline.pubmed.client import open_pubmed

    config = config or load_config()
    # Models are loaded before any search starts: loading them in parallel with the
    # first searches held the GIL long enough to bunch rate-limited requests, so NCBI
    # would have seen more than its limit in one second (tests/test_cli.py caught it).
    models = models_for(config)
    with build_client(config) as client:
        pubmed = open_pubmed(client, config)
        return run_claims(
            texts, config=config, pubmed=pubmed, models=models, now=_utcnow, progress=progress
        )
