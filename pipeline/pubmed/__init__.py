"""PubMed through NCBI E-utilities: client, parsers, rate limiter and response cache.

The parsers are pure; the client performs network I/O and the cache reads and writes an
SQLite file. See each module's docstring.
"""

from pipeline.pubmed.cache import ResponseCache
from pipeline.pubmed.client import PubMed, PubMedStats, open_pubmed
from pipeline.pubmed.limiter import RateLimiter, shared_limiter
from pipeline.pubmed.parse import (
    MalformedResponse,
    parse_efetch,
    parse_esearch,
    parse_esearch_json,
    split_sentences,
)

__all__ = [
    "MalformedResponse",
    "PubMed",
    "PubMedStats",
    "RateLimiter",
    "ResponseCache",
    "open_pubmed",
    "parse_efetch",
    "parse_esearch",
    "parse_esearch_json",
    "shared_limiter",
    "split_sentences",
]
