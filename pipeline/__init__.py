"""claimscan's pipeline: ingest, PubMed retrieval, classification, reports and the CLI.

The Python API mirrors the CLI::

    from pipeline import check_text, check_url
    report = check_url("https://example.org/article")
"""

__version__ = "0.1.0"
