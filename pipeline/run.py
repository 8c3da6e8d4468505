"""Orchestration: sources → documents → claims → PubMed evidence → verdicts → Report.

Performs I/O only through what it is handed (an httpx client, a PubMed client,
models); time comes from ``now`` so reports are reproducible in tests. A failure
for one source or claim becomes a ``Failure`` in the report and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol

import httpx

from claims.split import claim_from_text, extract_claims
from claims.types import (
    CheckedClaim,
    Claim,
    Document,
    DocumentReport,
    EvidenceStatus,
    Failure,
    Report,
    Retrieval,
    SourceKind,
)
from claims.verdict import ScoredSentence, decide
from pipeline.config import Config
from pipeline.errors import IngestError
from pipeline.evidence import EvidenceSelector
from pipeline.ingest import load_source
from pipeline.pubmed.client import PubMed
from pipeline.retrieve import retrieve

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages: ingest, retrieve, classify."""


class StanceModel(Protocol):
    name: str

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]: ...


class PromoModel(Protocol):
    @property
    def threshold(self) -> float: ...

    def predict(self, sentences: Sequence[str], document_text: str) -> list[float]: ...

    def commercial_context(self, document_text: str, sentence_probs: Sequence[float]) -> bool: ...


@dataclass(slots=True)
class Models:
    """The models a run uses, loaded once per process."""

    stance: StanceModel
    promo: PromoModel
    selector: EvidenceSelector
    names: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.names.items())


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _batches(claims: Sequence[Claim], size: int) -> list[Sequence[Claim]]:
    # A small first batch gets the first verdicts out quickly; later ones are larger so
    # that efetch calls (one per batch) stay a small share of the requests.
    first = max(1, min(4, size))
    out: list[Sequence[Claim]] = [claims[:first]] if claims else []
    out.extend(claims[i : i + size] for i in range(first, len(claims), size))
    return out


def _retrieve_ahead(
    claims: Sequence[Claim], pubmed: PubMed, config: Config, progress: Progress
) -> Iterator[tuple[Sequence[Claim], dict[str, Retrieval]]]:
    """Yield (batch, retrievals) in order, retrieving the next batch in the background.

    While the caller classifies one batch on the CPU, the next batch's searches are in
    flight, so neither NCBI's rate budget nor the CPU sits idle.
    """
    batches = _batches(claims, config.batch_claims)
    if not batches:
        return
    done = 0
    progress("retrieve", 0, len(claims))
    with ThreadPoolExecutor(1, thread_name_prefix="retrieve") as ahead:
        pending = ahead.submit(retrieve, batches[0], pubmed, config)
        for i, batch in enumerate(batches):
            found = pending.result()
            if i + 1 < len(batches):
                pending = ahead.submit(retrieve, batches[i + 1], pubmed, config)
            done += len(batch)
            progress("retrieve", done, len(claims))
            yield batch, found


def check_documents(
    documents: Sequence[Document],
    *,
    config: Config,
    pubmed: PubMed,
    models: Models | Callable[[], Models],
    progress: Progress = _noop,
    split: bool = True,
) -> tuple[list[DocumentReport], list[Failure]]:
    """Check every claim of already-ingested documents.

    Args:
        documents: From ingest, or built from given claims.
        config: Retrieval and cap settings.
        pubmed: The E-utilities client (``pipeline.pubmed.PubMed``).
        models: Stance, promotional and evidence-selection models, or a callable
            returning them: it is first called once the first batch's searches are
            back, so models can load while those requests are in flight.
        progress: Progress callback.
        split: False to treat each document's whole text as one claim.

    Returns:
        One DocumentReport per document, in order, and the failures met on the way.
    """
    failures: list[Failure] = []
    per_doc: list[tuple[Document, list[Claim], tuple[str, ...]]] = []
    for doc in documents:
        if split:
            claims, dropped = extract_claims(doc, max_claims=config.max_claims_per_document)
            notes = (
                (
                    f"{dropped} further claims were not checked: the limit is "
                    f"{config.max_claims_per_document} per document (max_claims_per_document).",
                )
                if dropped
                else ()
            )
        else:
            claims, notes = [claim_from_text(doc.text, doc.url)], ()
        per_doc.append((doc, claims, notes))

    all_claims = [c for _, claims, _ in per_doc for c in claims]
    loaded: list[Models] = []

    def get_models() -> Models:
        if not loaded:
            loaded.append(models() if callable(models) else models)
        return loaded[0]

    retrievals: dict[str, Retrieval] = {}
    stance: dict[str, list[ScoredSentence]] = {}
    for batch, found in _retrieve_ahead(all_claims, pubmed, config, progress):
        retrievals.update(found)
        candidates = get_models().selector.select(batch, found)
        pairs = [(c.text, cand.sentence) for c in batch for cand in candidates[c.id]]
        probs = iter(get_models().stance.predict(pairs) if pairs else [])
        for claim in batch:
            stance[claim.id] = [
                ScoredSentence(cand.article, cand.sentence, cand.relevance, *next(probs))
                for cand in candidates[claim.id]
            ]
        progress("classify", len(stance), len(all_claims))
    for claim in all_claims:
        r = retrievals.get(claim.id)
        if r is not None and r.status is EvidenceStatus.UNAVAILABLE:
            failures.append(
                Failure("pubmed", claim.text, "PubMedError", r.error or "evidence unavailable")
            )

    reports: list[DocumentReport] = []
    for doc, claims, notes in per_doc:
        m = get_models()
        promo_probs = m.promo.predict([c.text for c in claims], doc.text) if claims else []
        checked: list[CheckedClaim] = []
        for claim, q in zip(claims, promo_probs, strict=True):
            verdict = decide(
                claim,
                retrievals.get(claim.id),
                stance[claim.id],
                q,
                model=m.description,
                max_evidence=config.evidence_per_claim,
                promo_threshold=m.promo.threshold,
            )
            checked.append(CheckedClaim(claim, verdict))
        context = (
            m.promo.commercial_context(doc.text, promo_probs)
            if doc.kind is not SourceKind.CLAIM
            else False
        )
        reports.append(DocumentReport(doc, tuple(checked), context, notes))
    return reports, failures


def run(
    sources: Sequence[str],
    *,
    config: Config,
    client: httpx.Client,
    pubmed: PubMed,
    models: Models | Callable[[], Models],
    now: Callable[[], datetime],
    stdin: BinaryIO | None = None,
    progress: Progress = _noop,
) -> Report:
    """Check every source and return the report; failed sources are listed, not raised.

    Args:
        sources: URLs, paths, or ``-`` for stdin.
        config: Run settings.
        client: HTTP client for pages and feeds.
        pubmed: E-utilities client.
        models: Loaded models.
        now: Clock for fetch times and ``generated_at``.
        stdin: Read for the ``-`` source.
        progress: Progress callback.
    """
    started = now()
    documents: list[Document] = []
    failures: list[Failure] = []
    for n, locator in enumerate(sources):
        progress("ingest", n, len(sources))
        try:
            documents.extend(
                load_source(locator, client=client, config=config, now=now(), stdin=stdin)
            )
        except IngestError as exc:
            failures.append(Failure("ingest", locator, type(exc).__name__, str(exc)))
    progress("ingest", len(sources), len(sources))
    reports, more = check_documents(
        documents, config=config, pubmed=pubmed, models=models, progress=progress
    )
    return Report(
        generated_at=started,
        documents=tuple(reports),
        failures=tuple(failures + more),
        sources=tuple(sources),
    )


def run_claims(
    texts: Sequence[str],
    *,
    config: Config,
    pubmed: PubMed,
    models: Models | Callable[[], Models],
    now: Callable[[], datetime],
    progress: Progress = _noop,
) -> Report:
    """Check sentences as given, one claim each, without splitting.

    Empty texts become failures (one per input) so callers can keep input order.
    """
    started = now()
    documents: list[Document] = []
    failures: list[Failure] = []
    for n, text in enumerate(texts, start=1):
        text = text.strip()
        locator = f"claim:{n}"
        if not text:
            failures.append(Failure("input", locator, "EmptyClaim", f"{locator} is empty"))
            continue
        documents.append(
            Document(
                url=locator,
                source=locator,
                kind=SourceKind.CLAIM,
                title=text if len(text) <= 80 else text[:77] + "…",
                text=text,
                author=None,
                published=None,
                fetched_at=started,
            )
        )
    reports, more = check_documents(
        documents, config=config, pubmed=pubmed, models=models, progress=progress, split=False
    )
    return Report(
        generated_at=started,
        documents=tuple(reports),
        failures=tuple(failures + more),
        sources=tuple(f"claim:{n}" for n in range(1, len(texts) + 1)),
    )
