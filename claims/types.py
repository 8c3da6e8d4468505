"""Plain data passed between pipeline stages. Pure.

Every type is a frozen dataclass of immutable fields, so a stage can hand its
output to the next without copies and tests can compare results with ``==``.
Each docstring names the stage that creates it.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

SCHEMA_VERSION = 2
"""JSON report version: 2 added the ``unverified`` label, ``off-topic`` evidence and
``qualifiers``; ``claimscan render`` still reads version 1."""


class SourceKind(enum.Enum):
    """What a source turned out to be once fetched or read."""

    FEED = "feed"
    PAGE = "page"
    TEXT = "text"
    """Plain text or Markdown from a file, stdin or the Python API."""
    CLAIM = "claim"
    """A sentence given directly to ``claimscan claim``: checked without splitting."""


class Label(enum.Enum):
    """The verdict a user acts on."""

    SUPPORTED = "supported"
    """On-topic evidence supports the claim."""
    CONTESTED = "contested"
    """On-topic evidence refutes the claim, or on-topic evidence conflicts."""
    COMMERCIAL_PROMOTIONAL = "commercial-promotional"
    """The sentence sells a product, service or provider."""
    UNVERIFIED = "unverified"
    """No judgement: no on-topic evidence was found, or PubMed could not be reached."""


class Stage(enum.Enum):
    """The pipeline stage a :class:`Failure` happened in."""

    INGEST = "ingest"
    """Fetching or reading a source."""
    INPUT = "input"
    """A claim or text given directly was unusable (e.g. empty)."""
    SPLIT = "split"
    PUBMED = "pubmed"
    """Searching or fetching from E-utilities."""
    CLASSIFY = "classify"
    REPORT = "report"


class Stance(enum.Enum):
    """How one evidence sentence bears on a claim."""

    SUPPORTS = "supports"
    REFUTES = "refutes"
    NEUTRAL = "neutral"


class EvidenceStatus(enum.Enum):
    """Whether retrieval produced anything the verdict could rest on."""

    FOUND = "found"
    NONE = "none"
    """PubMed answered but nothing relevant came back."""
    OFF_TOPIC = "off-topic"
    """Abstracts came back, but none is about what the claim says."""
    UNAVAILABLE = "unavailable"
    """PubMed could not be reached or kept failing; no verdict on the evidence."""
    SKIPPED = "skipped"
    """Not searched, e.g. the claim was judged commercial-promotional first."""


@dataclass(frozen=True, slots=True)
class Document:
    """One article's text, from a page, a feed item, a file or stdin. Created by ingest."""

    url: str
    """Where the text came from: item link, page URL, file path or ``-``."""
    source: str
    """The locator the user gave (the feed URL for a feed item)."""
    kind: SourceKind
    title: str
    text: str
    """The text claim offsets refer to."""
    author: str | None
    published: datetime | None
    fetched_at: datetime
    headings: tuple[tuple[int, str], ...] = ()
    """(offset, heading text) pairs for headings kept out of the text's claims."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A checkable sentence with its exact place in its document. Created by ``split``."""

    id: str
    text: str
    document_url: str
    start: int
    end: int
    context: str = ""
    """What a pronoun or demonstrative subject points back to ("It transforms.", "These
    muscles …"): the previous sentence, or the section heading at a section start; ""
    when the sentence names its own subject. Searched with the claim and shown beside it."""
    also_at: tuple[tuple[int, int], ...] = ()
    """(start, end) of the other places the document repeats this sentence (tabs,
    sidebars): one claim, checked once, shown at every place."""

    @staticmethod
    def make_id(document_url: str, start: int, end: int, text: str) -> str:
        """Return a stable id for a claim; never key anything by claim text alone."""
        digest = hashlib.sha256(f"{document_url}\x00{start}\x00{end}\x00{text}".encode())
        return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Article:
    """A PubMed record. Created by the E-utilities parser."""

    pmid: str
    title: str
    abstract: tuple[str, ...]
    """Abstract sentences in order; section labels are folded into the first sentence."""
    journal: str
    year: int | None
    publication_types: tuple[str, ...] = ()
    retracted: bool = False
    """True for retracted papers and for retraction notices themselves."""

    @property
    def url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One esearch answer. Created by the PubMed client."""

    term: str
    count: int
    pmids: tuple[str, ...]
    translation: str | None = None


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What retrieval did for one claim. Created by the retrieval stage."""

    claim_id: str
    query: str
    """The term whose results were used ("" when none was)."""
    queries_tried: tuple[str, ...]
    articles: tuple[Article, ...]
    status: EvidenceStatus
    dropped_retracted: tuple[str, ...] = ()
    """PMIDs left out because they are retracted or retraction notices."""
    error: str | None = None
    query_translation: str | None = None
    """How PubMed read ``query`` (esearch's QueryTranslation), when it said."""


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One evidence sentence from one abstract, with its stance. Created by ``verdict``."""

    pmid: str
    title: str
    year: int | None
    journal: str
    publication_types: tuple[str, ...]
    sentence: str
    stance: Stance
    score: float
    """Probability of ``stance`` from the stance model, 0–1."""

    @property
    def url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"


class LabelScores(Mapping[str, float | None]):
    """Probability per label value, immutable and hashable (a frozen ``dict``).

    Keys keep the order they were given in, which is the order reports list them.
    """

    __slots__ = ("_items",)

    def __init__(
        self, items: Mapping[str, float | None] | Iterable[tuple[str, float | None]] = ()
    ) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: tuple[tuple[str, float | None], ...] = tuple(dict(pairs).items())

    def __getitem__(self, key: str) -> float | None:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._items))

    def __repr__(self) -> str:
        return f"LabelScores({dict(self._items)!r})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The label for one claim and why. Created by ``claims.verdict.decide``."""

    claim_id: str
    label: Label
    confidence: float | None
    """Calibrated probability of ``label``, at least 0.5; None for ``unverified``."""
    scores: Mapping[str, float | None]
    """Probability per label value (``supported``, ``contested``, ``commercial-promotional``);
    the first two are None when no on-topic evidence was read. Stored as
    :class:`LabelScores` whatever mapping is given, so a verdict is hashable."""
    rationale: str
    query: str
    evidence: tuple[EvidenceItem, ...]
    evidence_status: EvidenceStatus
    model: str = ""
    queries_tried: tuple[str, ...] = ()
    query_translation: str | None = None
    """How PubMed read ``query`` (esearch's QueryTranslation), when it said."""
    qualifiers: tuple[str, ...] = ()
    """Doubts in words, e.g. ``weak support`` or ``possibly promotional``; the numbers
    behind them are in ``scores``."""
    also_retrieved: tuple[str, ...] = ()
    """PMIDs retrieved but judged not about the claim: listed, never cited as evidence."""

    def __post_init__(self) -> None:
        if not isinstance(self.scores, LabelScores):
            # A frozen dataclass sets its own fields only through object.__setattr__.
            object.__setattr__(self, "scores", LabelScores(self.scores))


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    """A claim with its verdict, as reports show it. Created by the run stage."""

    claim: Claim
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """A document and its checked claims. Created by the run stage."""

    document: Document
    claims: tuple[CheckedClaim, ...]
    commercial_context: bool = False
    """The page as a whole reads as promotion (brand repeated, calls to action, provider voice)."""
    notes: tuple[str, ...] = ()
    """Things the reader should know, e.g. a claim cap was hit."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that failed for one item while the run went on. Created by any stage."""

    stage: Stage
    subject: str
    """The URL, path or locator the failure is about; for PubMed failures, which are
    grouped one per cause, how many claims it hit ("3 claims")."""
    error_type: str
    """The name of the ``pipeline.errors`` exception class behind it."""
    message: str
    claim_ids: tuple[str, ...] = ()
    """The ids of the claims it left unchecked, when it is about claims."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run produced. Created by the run stage; rendered by ``pipeline.report``."""

    generated_at: datetime
    documents: tuple[DocumentReport, ...]
    failures: tuple[Failure, ...] = ()
    schema_version: int = SCHEMA_VERSION
    sources: tuple[str, ...] = field(default=())

    def label_counts(self) -> dict[Label, int]:
        """Return how many claims got each label, over all documents."""
        counts = {label: 0 for label in Label}
        for doc in self.documents:
            for checked in doc.claims:
                counts[checked.verdict.label] += 1
        return counts
