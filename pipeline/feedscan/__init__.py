"""Scheduled feed scanning (``claimscan feed``): state, conditional fetches, the scan.

Re-exports the public names; see :mod:`pipeline.feedscan.scan` for the guarantees.
"""

from pipeline.feedscan.scan import (
    DEFAULT_MAX_ATTEMPTS,
    FailureKind,
    ItemOutcome,
    ItemStatus,
    ScanFailure,
    ScanSummary,
    normalize_feeds,
    parse_feed_list,
    scan_feeds,
)
from pipeline.feedscan.state import ScanLocked, ScanState
from pipeline.feedscan.status import FeedStatus, read_status

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "FailureKind",
    "FeedStatus",
    "ItemOutcome",
    "ItemStatus",
    "ScanFailure",
    "ScanLocked",
    "ScanState",
    "ScanSummary",
    "normalize_feeds",
    "parse_feed_list",
    "read_status",
    "scan_feeds",
]
