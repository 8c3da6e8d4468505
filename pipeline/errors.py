"""The exceptions claimscan raises on purpose. Pure.

```
ClaimscanError
├── ConfigError
├── IngestError ── FeedError, EmptyClaim, PageError ── PrivateAddressRefused
├── PubMedError ── PubMedHTTPError ── RateLimited, PubMedUnreachable
│                └─ PubMedParseError ── MalformedResponse
├── ClassifierError ── ModelLoadError
├── ReportError
└── ScanLocked
```

Every message says what failed (with the URL, path, term or PMID) and what the
user can do about it. Third-party exceptions are translated where they enter
our code (``raise PageError(...) from exc``); programming errors are left alone.
"""

from __future__ import annotations


class ClaimscanError(Exception):
    """Base class for every expected, user-facing failure."""


class ConfigError(ClaimscanError):
    """A setting, flag or environment variable has an unusable value."""


class IngestError(ClaimscanError):
    """A source could not be fetched, read or turned into text."""

    def __init__(self, message: str, *, subject: str = "") -> None:
        super().__init__(message)
        self.subject = subject


class FeedError(IngestError):
    """A feed was unreadable or held no usable items."""


class PageError(IngestError):
    """A page or file could not be fetched or had no extractable text."""


class EmptyClaim(IngestError):
    """A claim given to check (``claimscan claim``, ``check_claims``) was empty."""


class PrivateAddressRefused(PageError):
    """A URL is, resolves to or redirects to a loopback, link-local or private address,
    and the fetching client only reaches public ones (``claimscan serve``)."""


class PubMedError(ClaimscanError):
    """E-utilities failed or answered with something we cannot use."""


class PubMedHTTPError(PubMedError):
    """E-utilities kept failing at the HTTP level (5xx, timeouts, resets) after retries."""


class PubMedParseError(PubMedError):
    """An E-utilities body was not the XML or JSON it should be (truncated, HTML, error body)."""


class MalformedResponse(PubMedParseError):
    """The body is truncated, not XML/JSON, or a transient backend error: worth a retry."""


class PubMedUnreachable(PubMedHTTPError):
    """E-utilities could not be connected to at all (refused, unknown host).

    Unlike a 429, a 5xx or a timeout, this does not mend within a run, so the client
    stops trying after the first one and every later request fails at once.
    """


class RateLimited(PubMedHTTPError):
    """E-utilities kept answering 429 after backoff."""


class ClassifierError(ClaimscanError):
    """A model failed while classifying."""


class ModelLoadError(ClassifierError):
    """A model or adapter could not be loaded from the configured path or hub id."""


class ReportError(ClaimscanError):
    """A report could not be written or a saved report could not be read."""


class ScanLocked(ClaimscanError):
    """Another ``claimscan feed`` run holds the lock on the same state file."""
