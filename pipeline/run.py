"""Orchestration: sources → documents → claims → PubMed evidence → verdicts → Report.

Performs I/O only through what it is handed (an httpx client, a PubMed client,
models); time comes from ``now`` so reports are reproducible in tests. A failure
for one source or claim becomes a ``Failure`` in the report and the run goes on.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, cast

import httpx

from claims.checkworthy import CheckworthyScorer
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
    Stage,
)
from claims.verdict import PROMO_THRESHOLD, RELEVANCE, ScoredSentence, decide
from pipeline.config import Config
from pipeline.errors import EmptyClaim, IngestError, PubMedError
from pipeline.evidence import Candidate, EvidenceSelector, abstract_passage
from pipeline.ingest import load_source
from pipeline.nlp.promo import promotional_signs
from pipeline.nlp.protocols import PromoModel, StanceModel
from pipeline.pubmed.client import PubMed
from pipeline.rank import CandidateRanker, keep_best
from pipeline.retrieve import retrieve

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages: ingest, retrieve, classify."""


@dataclass(slots=True)
class Models:
    """The models a run uses, loaded once per process."""

    stance: StanceModel
    promo: PromoModel
    selector: EvidenceSelector
    names: dict[str, str] = field(default_factory=dict)
    checkworthy: CheckworthyScorer | None = None
    """Chooses claims among the sentences the rules let through; None: the rules alone."""
    ranker: CandidateRanker | None = None
    """Orders each claim's candidate abstracts; None ranks with the selector's encoder
    and sentence vectors."""

    def __post_init__(self) -> None:
        if self.ranker is None:
            self.ranker = CandidateRanker(self.selector.embedder, sentences=self.selector.sentences)

    def with_empty_caches(self) -> Models:
        """These models with an evidence selector and candidate ranker of their own.

        Both cache vectors for their whole life, which suits one CLI run; a server that
        runs for months, or a benchmark timing a cold pass, wants them empty. The
        encoder and classifiers are shared.
        """
        old = self.selector
        selector = EvidenceSelector(
            old.embedder,
            per_claim=old.per_claim,
            per_article=old.per_article,
            first_cut=old.first_cut,
        )
        # The ranker shares the selector's sentence vectors, so it starts afresh with them.
        return dataclasses.replace(self, selector=selector, ranker=None)

    @property
    def description(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.names.items())


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _batches(claims: Sequence[Claim], size: int) -> list[Sequence[Claim]]:
    """Cut claims into retrieval units that grow from 4 to ``size`` and shrink back.

    Small units at the start get the first verdicts out quickly and give the classifier
    work while the larger ones are searched. Small units at the end matter because
    whatever the final search returns is classified with no network work left to
    overlap it. In the middle, units are large so that efetch calls, one per unit,
    stay a small share of the requests.
    """
    edge = max(1, min(4, size))
    ramp: list[int] = []
    step = edge
    # Sizes 4, 8, 16 … up to ``size``, used at both ends while the claims last.
    while step < size and 2 * (sum(ramp) + step) <= len(claims):
        ramp.append(step)
        step = min(size, step * 2)
    if not ramp:
        return [claims[i : i + size] for i in range(0, len(claims), size)]
    head, tail = ramp, [*ramp[::-1], edge]
    start, end = sum(head), len(claims) - sum(tail)
    if end < start:
        tail, end = ramp[::-1], len(claims) - sum(ramp)
    sizes = list(head)
    middle = end - start
    # A short remainder goes next to the ramp, so the middle ends on full units.
    if middle % size:
        sizes.append(middle % size)
    sizes.extend([size] * (middle // size))
    sizes.extend(tail)
    out: list[Sequence[Claim]] = []
    pos = 0
    for n in sizes:
        out.append(claims[pos : pos + n])
        pos += n
    return out


_DONE = object()


def _retrieve_ahead(
    claims: Sequence[Claim], pubmed: PubMed, config: Config, progress: Progress
) -> Iterator[tuple[Sequence[Claim], dict[str, Retrieval]]]:
    """Yield (claims, retrievals) in order while a background thread keeps searching.

    The searches never wait for the classifier, so NCBI's rate budget stays busy; each
    time the caller asks, it gets every unit retrieved since it last asked, merged, so a
    classifier that falls behind catches up in larger batches.
    """
    units = _batches(claims, config.batch_claims)
    if not units:
        return
    ready: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for unit in units:
                if stop.is_set():
                    return
                ready.put((unit, retrieve(unit, pubmed, config)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            ready.put(exc)
        finally:
            ready.put(_DONE)

    done = 0
    progress("retrieve", 0, len(claims))
    worker = threading.Thread(target=produce, name="retrieve-ahead", daemon=True)
    worker.start()
    try:
        finished = False
        error: BaseException | None = None
        while not finished:
            got = [ready.get()]
            while not ready.empty():
                got.append(ready.get_nowait())
            batch: list[Claim] = []
            found: dict[str, Retrieval] = {}
            for item in got:
                if item is _DONE:
                    finished = True
                elif isinstance(item, BaseException):
                    error = item
                else:
                    unit, retrieved = cast(tuple[Sequence[Claim], dict[str, Retrieval]], item)
                    batch.extend(unit)
                    found.update(retrieved)
            if batch:
                done += len(batch)
                progress("retrieve", done, len(claims))
                yield batch, found
            # Units searched before a crash are handed over first, so their work counts.
            if error is not None:
                raise error
    finally:
        # The caller stopped early or failed: let the searcher finish its unit and quit.
        stop.set()
        worker.join()


NOT_READ = (0.0, 0.0, 1.0)
"""(supports, refutes, neutral) of a passage the stance model did not read."""


def _worth_reading(candidate: Candidate, read_from: float | None) -> bool:
    return read_from is None or candidate.relevance >= read_from


@dataclass(slots=True)
class Assessment:
    """What the models and PubMed said about every claim, before any label. Created by
    :func:`assess`; :func:`check_documents` turns it into verdicts, and the benchmarks
    refit thresholds and calibrations on it with the real labelling steps."""

    per_doc: list[tuple[Document, list[Claim], tuple[str, ...]]]
    retrievals: dict[str, Retrieval]
    scored: dict[str, list[ScoredSentence]]
    promo: dict[str, float]
    failures: list[Failure]
    models: Models | None
    """None when nothing was checked (no document read), so nothing was loaded."""


def _passages(
    claim: Claim, candidates: Sequence[Candidate]
) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """One (claim, passage) pair per abstract: its title and chosen sentences in order.

    The stance model reads the passage; the report shows the abstract's most relevant
    sentence with the passage's stance, so an editor still sees one quotable line.
    """
    best: dict[str, Candidate] = {}
    chosen: dict[str, list[int]] = {}
    for cand in candidates:
        best.setdefault(cand.article.pmid, cand)
        sentences = cand.article.abstract
        if cand.sentence in sentences:
            chosen.setdefault(cand.article.pmid, []).append(sentences.index(cand.sentence))
    shown = list(best.values())
    pairs = [
        (
            claim.text,
            abstract_passage(c.article.title, c.article.abstract, chosen.get(c.article.pmid, []))
            or c.sentence,
        )
        for c in shown
    ]
    return shown, pairs


def assess(
    documents: Sequence[Document],
    *,
    config: Config,
    pubmed: PubMed,
    models: Models | Callable[[], Models],
    progress: Progress = _noop,
    split: bool = True,
    read_from: float | None = RELEVANCE.min_similarity,
) -> Assessment:
    """Split, retrieve, rank evidence and run the stance and promotional models.

    Args:
        documents: From ingest, or built from given claims.
        config: Retrieval, evidence-unit and cap settings.
        pubmed: The E-utilities client (``pipeline.pubmed.PubMed``).
        models: Stance, promotional, evidence-selection and check-worthiness models,
            or a callable returning them: when splitting it is called before the
            claims are chosen, otherwise once the first batch's searches are back, so
            models can load while those requests are in flight.
        progress: Progress callback.
        split: False to treat each document's whole text as one claim.
        read_from: The stance model reads only passages at least this similar to the
            claim: below the relevance rule's similarity none can be evidence, so their
            stance would decide nothing (they are kept as neutral). None reads every
            passage, as fitting the rule needs.
    """
    failures: list[Failure] = []
    loaded: list[Models] = []

    def get_models() -> Models:
        if not loaded:
            loaded.append(models() if callable(models) else models)
        return loaded[0]

    per_doc: list[tuple[Document, list[Claim], tuple[str, ...]]] = []
    for doc in documents:
        if split:
            claims, dropped = extract_claims(
                doc,
                max_claims=config.max_claims_per_document,
                scorer=get_models().checkworthy,
            )
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
    document_of = {c.id: doc for doc, claims, _ in per_doc for c in claims}
    retrievals: dict[str, Retrieval] = {}
    stance: dict[str, list[ScoredSentence]] = {}
    promo: dict[str, float] = {}
    for batch, found in _retrieve_ahead(all_claims, pubmed, config, progress):
        m = get_models()
        # The one wide search brings up to ``search_candidates`` abstracts; the stance
        # model reads only the best-ranked ``retmax``.
        assert m.ranker is not None  # set in Models.__post_init__
        found = keep_best(batch, found, m.ranker, config.retmax)
        retrievals.update(found)
        candidates = m.selector.select(batch, found)
        shown: dict[str, Sequence[Candidate]] = {}
        pairs: list[tuple[str, str]] = []
        for c in batch:
            if config.evidence_unit == "passage":
                shown[c.id], claim_pairs = _passages(c, candidates[c.id])
            else:
                shown[c.id] = candidates[c.id]
                claim_pairs = [(c.text, cand.sentence) for cand in candidates[c.id]]
            pairs.extend(
                pair
                for pair, cand in zip(claim_pairs, shown[c.id], strict=True)
                if _worth_reading(cand, read_from)
            )
        probs = iter(m.stance.predict(pairs) if pairs else [])
        for claim in batch:
            stance[claim.id] = [
                ScoredSentence(
                    cand.article,
                    cand.sentence,
                    cand.relevance,
                    *(next(probs) if _worth_reading(cand, read_from) else NOT_READ),
                )
                for cand in shown[claim.id]
            ]
        # Scored here rather than after the loop, so that it overlaps the next searches.
        items = [(c.text, document_of[c.id].text) for c in batch]
        promo.update(zip((c.id for c in batch), m.promo.predict_pairs(items), strict=True))
        progress("classify", len(stance), len(all_claims))
    # One failure per cause, not per claim: a dead network fails every claim the same
    # way, and each claim's verdict already says it is unverified and why (#14).
    unavailable: dict[str, list[str]] = {}
    for claim in all_claims:
        r = retrievals.get(claim.id)
        if r is not None and r.status is EvidenceStatus.UNAVAILABLE:
            unavailable.setdefault(r.error or "evidence unavailable", []).append(claim.id)
    for error, ids in unavailable.items():
        subject = f"{len(ids)} claim{'s' if len(ids) != 1 else ''}"
        # Retrieval keeps the message, not the exception, so the base class is named.
        failures.append(
            Failure(
                Stage.PUBMED,
                subject,
                PubMedError.__name__,
                f"{error} ({subject} unverified)",
                claim_ids=tuple(ids),
            )
        )
    return Assessment(
        per_doc, retrievals, stance, promo, failures, get_models() if per_doc else None
    )


def check_documents(
    documents: Sequence[Document],
    *,
    config: Config,
    pubmed: PubMed,
    models: Models | Callable[[], Models],
    progress: Progress = _noop,
    split: bool = True,
) -> tuple[list[DocumentReport], list[Failure]]:
    """Check every claim of already-ingested documents (see :func:`assess` for the args).

    Returns:
        One DocumentReport per document, in order, and the failures met on the way.
    """
    a = assess(
        documents, config=config, pubmed=pubmed, models=models, progress=progress, split=split
    )
    if a.models is None:
        return [], a.failures
    m = a.models
    # Labelled promotional only when more likely than not (or from the user's own
    # threshold); from the model's fitted lower threshold up it is "possibly promotional".
    label_threshold = config.promo_threshold or PROMO_THRESHOLD
    reports: list[DocumentReport] = []
    for doc, claims, notes in a.per_doc:
        promo_probs = [a.promo[c.id] for c in claims]
        checked: list[CheckedClaim] = []
        for claim, q in zip(claims, promo_probs, strict=True):
            flagged = q >= label_threshold
            verdict = decide(
                claim,
                a.retrievals.get(claim.id),
                a.scored[claim.id],
                q,
                model=m.description,
                max_evidence=config.evidence_per_claim,
                promo_threshold=label_threshold,
                promo_possible=min(m.promo.possible_threshold, label_threshold),
                promo_signs=promotional_signs(claim.text, doc.text) if flagged else (),
                # Asked only where there is evidence: the stance model loads on first use.
                support_calibration=m.stance.support_calibration if a.scored[claim.id] else None,
            )
            checked.append(CheckedClaim(claim, verdict))
        context = (
            m.promo.commercial_context(doc.text, promo_probs)
            if doc.kind is not SourceKind.CLAIM
            else False
        )
        reports.append(DocumentReport(doc, tuple(checked), context, notes))
    return reports, a.failures


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
            failures.append(Failure(Stage.INGEST, locator, type(exc).__name__, str(exc)))
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


def claim_documents(
    texts: Sequence[str], fetched_at: datetime
) -> tuple[list[Document], list[Failure]]:
    """One document per given claim (``claim:N``); empty texts become failures instead."""
    documents: list[Document] = []
    failures: list[Failure] = []
    for n, text in enumerate(texts, start=1):
        text = text.strip()
        locator = f"claim:{n}"
        if not text:
            error = EmptyClaim(f"{locator} is empty", subject=locator)
            failures.append(Failure(Stage.INPUT, locator, type(error).__name__, str(error)))
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
                fetched_at=fetched_at,
            )
        )
    return documents, failures


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
    documents, failures = claim_documents(texts, started)
    reports, more = check_documents(
        documents, config=config, pubmed=pubmed, models=models, progress=progress, split=False
    )
    return Report(
        generated_at=started,
        documents=tuple(reports),
        failures=tuple(failures + more),
        sources=tuple(f"claim:{n}" for n in range(1, len(texts) + 1)),
    )
