"""Retrieval stage: claims → one PubMed search each → fetched, non-retracted candidates.

Network I/O through the :class:`~pipeline.pubmed.client.PubMed` client it is given;
reads the vocabulary table once (``pipeline.vocabulary``).

For each claim, :func:`retrieve` sends one wide esearch (:func:`claims.query.build_query`:
the claim's concepts with their synonyms, ORed) for ``config.search_candidates`` PMIDs
in PubMed's relevance order. Then the PMIDs of *all* claims are fetched together in
batched efetch calls, so a document costs one search per claim plus a few fetches in
all, and retracted papers and retraction notices are dropped. The candidates come back
in PubMed's order; ``pipeline.rank`` orders them by closeness to the claim and keeps
``config.retmax``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from claims.query import build_query
from claims.types import Article, Claim, EvidenceStatus, Retrieval
from claims.vocabulary import Vocabulary
from pipeline.config import Config
from pipeline.errors import PubMedError
from pipeline.pubmed.client import FETCH_BATCH, PubMed
from pipeline.vocabulary import load_vocabulary

__all__ = ["retrieve"]


@dataclass(slots=True)
class _Search:
    term: str = ""
    translation: str | None = None
    pmids: list[str] = field(default_factory=list)
    error: str | None = None


def _search(claim: Claim, pubmed: PubMed, config: Config, vocabulary: Vocabulary) -> _Search:
    state = _Search()
    query = build_query(claim.text, claim.context, vocabulary)
    if query is None:
        return state
    try:
        result = pubmed.search(query.term, retmax=config.search_candidates)
    except PubMedError as exc:
        state.error = str(exc)
        return state
    state.term, state.translation = query.term, result.translation
    state.pmids = list(dict.fromkeys(result.pmids))
    return state


def retrieve(
    claims: Sequence[Claim],
    pubmed: PubMed,
    config: Config,
    vocabulary: Vocabulary | None = None,
) -> dict[str, Retrieval]:
    """Search PubMed for every claim and fetch the candidate abstracts found.

    Args:
        claims: The claims to search for.
        pubmed: The E-utilities client.
        config: Supplies ``search_candidates`` (PMIDs asked for per claim).
        vocabulary: Synonyms for the queries; defaults to the shipped table.

    Returns:
        A Retrieval per claim id. Status is FOUND with the candidates in PubMed's
        relevance order; NONE when PubMed answered but nothing usable came back;
        UNAVAILABLE, with ``error`` set, when E-utilities kept failing for that claim's
        search or fetches.
    """
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    # Searches run a few at a time: NCBI's latency, not its rate, would otherwise cap
    # throughput, and the client's shared limiter keeps the rate within NCBI's terms.
    workers = max(1, min(config.search_workers, len(claims)))
    if workers == 1:
        searches = {claim.id: _search(claim, pubmed, config, vocab) for claim in claims}
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="esearch") as pool:
            found = pool.map(lambda c: _search(c, pubmed, config, vocab), claims)
            searches = {claim.id: state for claim, state in zip(claims, found, strict=True)}

    # One efetch per FETCH_BATCH distinct PMIDs over all claims; a failing batch only
    # affects the claims whose PMIDs it held.
    wanted = sorted(
        {pmid for s in searches.values() for pmid in s.pmids}, key=lambda p: (len(p), p)
    )
    articles: dict[str, Article] = {}
    fetch_errors: dict[str, str] = {}
    for start in range(0, len(wanted), FETCH_BATCH):
        batch = wanted[start : start + FETCH_BATCH]
        try:
            articles.update(pubmed.fetch(batch))
        except PubMedError as exc:
            fetch_errors.update(dict.fromkeys(batch, str(exc)))

    results: dict[str, Retrieval] = {}
    for claim in claims:
        state = searches[claim.id]
        failed = [fetch_errors[p] for p in state.pmids if p in fetch_errors]
        error = state.error or (failed[0] if failed else None)
        kept = [articles[p] for p in state.pmids if p in articles and not articles[p].retracted]
        dropped = tuple(p for p in state.pmids if p in articles and articles[p].retracted)
        if kept:
            status = EvidenceStatus.FOUND
        elif error is not None:
            status = EvidenceStatus.UNAVAILABLE
        else:
            status = EvidenceStatus.NONE
        results[claim.id] = Retrieval(
            claim_id=claim.id,
            query=state.term,
            queries_tried=(state.term,) if state.term else (),
            query_translation=state.translation,
            articles=tuple(kept),
            status=status,
            dropped_retracted=dropped,
            error=error,
        )
    return results
