"""Retrieval stage: claims → PubMed searches → fetched, non-retracted abstracts.

Network I/O through the :class:`~pipeline.pubmed.client.PubMed` client it is given.

For each claim, :func:`retrieve` walks the query ladder from
:func:`claims.query.build_queries`, strictest first, until a term has at least
``config.min_hits`` hits. Hits of stricter rungs that found too few are kept, ahead of
the looser rung's, since they match more of the claim. Then the PMIDs of *all* claims
are fetched together in batched efetch calls, so a document costs one search per claim
plus a few fetches in all, and retracted papers and retraction notices are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from claims.query import build_queries
from claims.types import Article, Claim, EvidenceStatus, Retrieval
from pipeline.config import Config
from pipeline.errors import PubMedError
from pipeline.pubmed.client import FETCH_BATCH, PubMed

__all__ = ["retrieve"]


@dataclass(slots=True)
class _Search:
    tried: list[str] = field(default_factory=list)
    used: str = ""
    used_count: int = 0
    translation: str | None = None
    pmids: list[str] = field(default_factory=list)
    error: str | None = None


def _search(claim: Claim, pubmed: PubMed, config: Config) -> _Search:
    state = _Search()
    for term in build_queries(claim.text, claim.context):
        try:
            result = pubmed.search(term, retmax=config.retmax)
        except PubMedError as exc:
            state.error = str(exc)
            break
        state.tried.append(term)
        for pmid in result.pmids:
            if pmid not in state.pmids and len(state.pmids) < config.retmax:
                state.pmids.append(pmid)
        if result.count > state.used_count:
            state.used, state.used_count = term, result.count
            state.translation = result.translation
        if result.count >= config.min_hits:
            state.used, state.translation = term, result.translation
            break
    return state


def retrieve(claims: Sequence[Claim], pubmed: PubMed, config: Config) -> dict[str, Retrieval]:
    """Search PubMed for every claim and fetch the abstracts found.

    Args:
        claims: The claims to search for.
        pubmed: The E-utilities client.
        config: Supplies ``retmax`` (abstracts per claim) and ``min_hits``.

    Returns:
        A Retrieval per claim id. Status is FOUND with articles in rank order; NONE when
        PubMed answered but nothing usable came back; UNAVAILABLE, with ``error`` set,
        when E-utilities kept failing for that claim's searches or fetches.
    """
    # Searches run a few at a time: NCBI's latency, not its rate, would otherwise cap
    # throughput, and the client's shared limiter keeps the rate within NCBI's terms.
    workers = max(1, min(config.search_workers, len(claims)))
    if workers == 1:
        searches = {claim.id: _search(claim, pubmed, config) for claim in claims}
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="esearch") as pool:
            found = pool.map(lambda c: _search(c, pubmed, config), claims)
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
            query=state.used,
            queries_tried=tuple(state.tried),
            query_translation=state.translation,
            articles=tuple(kept),
            status=status,
            dropped_retracted=dropped,
            error=error,
        )
    return results
