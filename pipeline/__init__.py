"""claimscan's pipeline: ingest, PubMed retrieval, classification, reports and the CLI.

The Python API mirrors the CLI::

    from pipeline import check_text, check_url
    report = check_url("https://example.org/article")
    for doc in report.documents:
        for checked in doc.claims:
            print(checked.verdict.label, checked.claim.text)

``scan_feeds`` checks feeds' new items as ``claimscan feed`` does; a ``Session`` keeps
clients and models open across several checks.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
"""The one place the version is written: pyproject.toml reads it (hatch's dynamic version),
and ``--version`` and the User-Agent sent with every request use it."""
__all__ = [
    "Session",
    "__version__",
    "check",
    "check_claims",
    "check_text",
    "check_url",
    "load_config",
    "scan_feeds",
]


def __getattr__(name: str) -> Any:
    # Imported on first use so `claimscan --help` does not pay for httpx, lxml or torch.
    if name in {"Session", "check", "check_claims", "check_text", "check_url", "scan_feeds"}:
        from pipeline import api

        return getattr(api, name)
    if name == "load_config":
        from pipeline.config import load_config

        return load_config
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
