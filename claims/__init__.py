"""claimscan's pure core: the data types and the pure stages (split, query, verdict).

Nothing here performs I/O or imports httpx, feedparser, transformers, rich or click.
"""

from claims.types import (
    SCHEMA_VERSION,
    Article,
    CheckedClaim,
    Claim,
    Document,
    DocumentReport,
    EvidenceItem,
    EvidenceStatus,
    Failure,
    Label,
    LabelScores,
    Report,
    Retrieval,
    SearchResult,
    SourceKind,
    Stage,
    Stance,
    Verdict,
)

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "CheckedClaim",
    "Claim",
    "Document",
    "DocumentReport",
    "EvidenceItem",
    "EvidenceStatus",
    "Failure",
    "Label",
    "LabelScores",
    "Report",
    "Retrieval",
    "SearchResult",
    "SourceKind",
    "Stage",
    "Stance",
    "Verdict",
]
