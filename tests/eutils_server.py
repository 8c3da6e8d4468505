"""A local, real-HTTP stand-in for NCBI E-utilities, for tests and benchmarks.

Network I/O: listens on 127.0.0.1 (a free port) in a daemon thread. Reads files only in
:func:`load_corpus`.

It serves a corpus of :class:`Record` objects the way PubMed would::

    from tests.eutils_server import EutilsServer, Record, Scripted

    records = [Record("1", "Vitamin D and falls", ("Vitamin D reduced falls.",))]
    with EutilsServer(records) as server:
        config = Config(eutils_url=server.base_url)
        ...                                  # run the real client against it
        assert server.max_in_window() <= 3   # no 1-second window held more than 3

Endpoints (under ``base_url``, GET or form-encoded POST):

``esearch.fcgi``
    ``term``, ``retmax`` (default 20), ``retstart``, ``retmode=xml|json``, ``sort``.
    Term syntax: words are AND-ed; ``OR``/``AND``/``NOT`` (upper case) with parentheses;
    ``"quoted phrases"``; hyphenated words are phrases; ``word*`` truncation. Field tags
    restrict the term before them (or every term of the parenthesised group before
    them), as PubMed does: ``[tiab]``/``[Title/Abstract]`` title and abstract, ``[ti]``/
    ``[Title]`` title, ``[mh]``/``[MeSH Terms]``/``[majr]`` a record's MeSH heading
    (the whole heading, not a word of it; no explosion to narrower headings), and
    ``[tw]``, ``[All Fields]`` or no tag: title, abstract and headings. Unknown tags
    search all fields, like PubMed's. There is no automatic term mapping: a term finds
    only the words it contains. Tokens are lower-cased and lightly stemmed (plural
    ``-s``/``-ies``), and English stopwords are ignored as PubMed does. Hits are ranked
    by BM25 over title and abstract. Zero hits carry ``<ErrorList><PhraseNotFound>``
    for unknown terms.
``efetch.fcgi``
    ``id`` (comma-separated), answers a ``PubmedArticleSet`` in PubMed's layout
    (MedlineCitation/PMID, Article/Journal/Title, JournalIssue/PubDate/Year,
    ArticleTitle, Abstract/AbstractText, PublicationTypeList, and for retracted records
    a "Retracted Publication" type plus CommentsCorrectionsList/RetractionIn). The
    abstract's sentences are joined into one AbstractText, as PubMed stores them.

Like NCBI, more than 3 requests in any 1 s window (10 when an ``api_key`` is sent) are
answered 429 with a JSON body (``enforce_rate=False`` turns this off). Rejected requests
do not count towards the window.

Fault injection:

* ``fail_rate``: share of requests answered 503, drawn from ``random.Random(seed)``.
* ``delay``: seconds to wait before every answer (client timeouts).
* ``truncate_rate``: share of 200 answers cut in half (with a matching Content-Length).
* :meth:`EutilsServer.script` queues exact answers (:class:`Scripted`) per endpoint,
  served before anything else, e.g. ``server.script("esearch.fcgi", Scripted(429))``.

Every request is logged (:attr:`EutilsServer.log`, a list of :class:`LoggedRequest`
with arrival ``time.monotonic()``, method, endpoint, params and status), so tests can
check the rate, the presence of ``tool``/``email``, and where an ``api_key`` went.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

__all__ = [
    "EutilsServer",
    "LoggedRequest",
    "Record",
    "Scripted",
    "combine_corpora",
    "load_corpus",
    "load_scifact_corpus",
]


@dataclass(frozen=True, slots=True)
class Record:
    """One PubMed record served by the fake server."""

    pmid: str
    title: str
    abstract: tuple[str, ...] = ()
    journal: str = "Journal of Reproducible Results"
    year: int | None = 2020
    publication_types: tuple[str, ...] = ("Journal Article",)
    retracted: bool = False
    mesh: tuple[str, ...] = ()
    """MeSH headings the record is indexed under (searched by ``[mh]``)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Record:
        """Build a record from ``{pmid, title, abstract, journal?, year?, ...}``."""
        return cls(
            pmid=str(data["pmid"]),
            title=str(data["title"]),
            abstract=tuple(str(s) for s in data.get("abstract", ())),
            journal=str(data.get("journal", cls.journal)),
            year=data.get("year", 2020),
            publication_types=tuple(data.get("publication_types", ("Journal Article",))),
            retracted=bool(data.get("retracted", False)),
            mesh=tuple(str(h) for h in data.get("mesh", ())),
        )


def load_corpus(path: Path | str, limit: int | None = None, prefix: str = "") -> list[Record]:
    """Read a corpus of JSON lines with ``title`` and ``abstract`` (a list of sentences).

    Reads SciFact's and HealthVer's (MultiVerS) ``corpus.jsonl``, keyed by ``doc_id``,
    and Check-COVID's ``corpus.json``, keyed by ``cord_id``.

    Args:
        path: The corpus file.
        limit: Read at most this many documents.
        prefix: Put before every id to make the PMID, so that corpora whose ids overlap
            (SciFact's and HealthVer's are both small integers) can be served together.

    Returns:
        The records, in file order.
    """
    records = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            doc = json.loads(line)
            key = doc["doc_id"] if "doc_id" in doc else doc["cord_id"]
            records.append(
                Record(
                    pmid=f"{prefix}{key}",
                    title=doc["title"].strip(),
                    abstract=tuple(s.strip() for s in doc["abstract"] if s.strip()),
                )
            )
            if limit is not None and len(records) >= limit:
                break
    return records


def load_scifact_corpus(path: Path | str, limit: int | None = None) -> list[Record]:
    """Read a SciFact-format ``corpus.jsonl``, using ``doc_id`` as the PMID."""
    return load_corpus(path, limit)


def combine_corpora(*corpora: Iterable[Record]) -> list[Record]:
    """Join corpora into one to serve together, e.g. a dataset's and distractors.

    Raises:
        ValueError: Two records share a PMID (give :func:`load_corpus` a ``prefix``).
    """
    out: list[Record] = []
    seen: set[str] = set()
    for corpus in corpora:
        for record in corpus:
            if record.pmid in seen:
                raise ValueError(f"PMID {record.pmid} is in two corpora; load one with a prefix")
            seen.add(record.pmid)
            out.append(record)
    return out


@dataclass(frozen=True, slots=True)
class Scripted:
    """An exact answer to serve once, before the corpus logic."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering."""


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the server saw it."""

    time: float
    """``time.monotonic()`` at arrival."""
    method: str
    endpoint: str
    """The last path segment, e.g. ``esearch.fcgi``."""
    params: Mapping[str, str]
    """Query and form parameters (the last value of each)."""
    status: int


# ---------------------------------------------------------------- search engine

_STOPWORDS = frozenset(
    """a about again all almost also although always among an and another any are as at
    be because been before being between both but by can could did do does done due
    during each either enough especially etc for found from further had has have having
    here how however i if in into is it its itself just kg km made mainly make may mg
    might ml mm most mostly must nearly neither no nor not of often on our overall
    perhaps pmid quite rather really regarding seem seen several should show showed
    shown shows significantly since so some such than that the their theirs them then
    there therefore these they this those through thus to upon use used using various
    very was we were what when which while with within without would""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def analyze(text: str) -> list[str]:
    """Lower-case, split on non-alphanumerics and stem. Keeps stopwords (for phrases)."""
    return [_stem(t) for t in _WORD.findall(text.lower())]


# Field tags as PubMed spells them (lower-cased, without brackets) -> fields searched.
_FIELDS: dict[str, frozenset[str]] = {
    "tiab": frozenset({"ti", "ab"}),
    "title/abstract": frozenset({"ti", "ab"}),
    "ti": frozenset({"ti"}),
    "title": frozenset({"ti"}),
    "mh": frozenset({"mh"}),
    "mesh terms": frozenset({"mh"}),
    "mesh": frozenset({"mh"}),
    "majr": frozenset({"mh"}),
    "tw": frozenset({"ti", "ab", "mh"}),
    "text word": frozenset({"ti", "ab", "mh"}),
    "all fields": frozenset({"ti", "ab", "mh"}),
    "all": frozenset({"ti", "ab", "mh"}),
}
_ALL_FIELDS = frozenset({"ti", "ab", "mh"})
_TAG_NAMES = {
    frozenset({"ti", "ab"}): "Title/Abstract",
    frozenset({"ti"}): "Title",
    frozenset({"mh"}): "MeSH Terms",
    _ALL_FIELDS: "All Fields",
}


@dataclass(frozen=True, slots=True)
class _Term:
    tokens: tuple[str, ...]
    text: str
    prefix: bool = False
    quoted: bool = False
    fields: frozenset[str] = _ALL_FIELDS


@dataclass(frozen=True, slots=True)
class _Op:
    op: str  # "AND", "OR" or "NOT" (NOT: first child minus the others)
    children: tuple[_Term | _Op, ...]


_Node = _Term | _Op
_QUERY_TOKEN = re.compile(r'\s*(\(|\)|\[[^\]]*\]|"[^"]*"|[^\s()"\[]+)')


def _tagged(node: _Node | None, fields: frozenset[str]) -> _Node | None:
    if node is None:
        return None
    if isinstance(node, _Term):
        return _Term(node.tokens, node.text, node.prefix, node.quoted, fields)
    children = tuple(_tagged(c, fields) for c in node.children)
    return _Op(node.op, tuple(c for c in children if c is not None))


def parse_term(term: str) -> _Node | None:
    """Parse a PubMed term into a tree; None when nothing searchable is left.

    Raises:
        ValueError: Unbalanced parentheses.
    """
    tokens = _QUERY_TOKEN.findall(term)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def parse_or() -> _Node | None:
        nonlocal pos
        children = [parse_and()]
        while peek() == "OR":
            pos += 1
            children.append(parse_and())
        kept = tuple(c for c in children if c is not None)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else _Op("OR", kept)

    def parse_and() -> _Node | None:
        nonlocal pos
        children: list[_Node | None] = [parse_atom()]
        negated: list[_Node] = []
        while peek() not in (None, ")", "OR"):
            if peek() == "AND":
                pos += 1
                children.append(parse_atom())
            elif peek() == "NOT":
                pos += 1
                node = parse_atom()
                if node is not None:
                    negated.append(node)
            else:
                children.append(parse_atom())
        kept = tuple(c for c in children if c is not None)
        if not kept:
            return None
        node: _Node = kept[0] if len(kept) == 1 else _Op("AND", kept)
        return _Op("NOT", (node, *negated)) if negated else node

    def parse_tag(node: _Node | None) -> _Node | None:
        nonlocal pos
        token = peek()
        if token is None or not token.startswith("["):
            return node
        pos += 1
        return _tagged(node, _FIELDS.get(token[1:-1].strip().lower(), _ALL_FIELDS))

    def parse_atom() -> _Node | None:
        nonlocal pos
        token = peek()
        if token is None:
            return None
        pos += 1
        if token.startswith("["):
            return None  # a tag with nothing before it, as PubMed: ignored
        if token == "(":
            node = parse_or()
            if peek() != ")":
                raise ValueError(f"unbalanced parentheses in {term!r}")
            pos += 1
            return parse_tag(node)
        if token == ")":
            raise ValueError(f"unbalanced parentheses in {term!r}")
        quoted = token.startswith('"')
        raw = token.strip('"')
        prefix = raw.endswith("*") and not quoted
        words = _WORD.findall(raw.lower())
        if not quoted:
            words = [w for w in words if w not in _STOPWORDS]
        if not words:
            parse_tag(None)
            return None
        stems = tuple(words) if prefix else tuple(_stem(w) for w in words)
        return parse_tag(_Term(stems, raw, prefix=prefix, quoted=quoted))

    node = parse_or()
    if pos != len(tokens):
        raise ValueError(f"unbalanced parentheses in {term!r}")
    return node


def _translate(node: _Node) -> str:
    if isinstance(node, _Term):
        tag = _TAG_NAMES.get(node.fields, "All Fields")
        if len(node.tokens) > 1 or node.quoted:
            return f'"{node.text.lower()}"[{tag}]'
        return f"{node.text.lower()}[{tag}]"
    joiner = f" {node.op} "
    return "(" + joiner.join(_translate(c) for c in node.children) + ")"


class SearchIndex:
    """An inverted index over title, abstract and MeSH headings, with AND/OR/NOT, phrase
    and field matching, ranked by BM25 over title + abstract."""

    K1 = 1.2
    B = 0.75

    def __init__(self, records: Iterable[Record]) -> None:
        self.records: dict[str, Record] = {}
        self.docs: dict[str, list[str]] = {}
        """Title + abstract tokens, for BM25."""
        self.fields: dict[str, dict[str, list[str]]] = {"ti": {}, "ab": {}}
        self.postings: dict[str, dict[str, int]] = defaultdict(dict)
        self.headings: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for record in records:
            self.records[record.pmid] = record
            title = analyze(record.title)
            abstract = analyze(" ".join(record.abstract))
            self.fields["ti"][record.pmid] = title
            self.fields["ab"][record.pmid] = abstract
            tokens = title + abstract
            self.docs[record.pmid] = tokens
            for token, tf in Counter(tokens).items():
                self.postings[token][record.pmid] = tf
            for heading in record.mesh:
                self.headings[tuple(analyze(heading))].add(record.pmid)
        self.avg_len = sum(map(len, self.docs.values())) / max(1, len(self.docs))

    def _in_field(self, field: str, pmid: str, term: _Term) -> bool:
        tokens = self.fields[field][pmid]
        if term.prefix:
            return any(t.startswith(term.tokens[0]) for t in tokens)
        n = len(term.tokens)
        if n == 1:
            return term.tokens[0] in tokens
        return any(tuple(tokens[i : i + n]) == term.tokens for i in range(len(tokens) - n + 1))

    def _term_docs(self, term: _Term) -> set[str]:
        found: set[str] = set()
        if "mh" in term.fields:
            found |= self.headings.get(term.tokens, set())
        text_fields = [f for f in ("ti", "ab") if f in term.fields]
        if not text_fields:
            return found
        if term.prefix:
            candidates: set[str] = set()
            for token, posting in self.postings.items():
                if token.startswith(term.tokens[0]):
                    candidates.update(posting)
        else:
            sets = [set(self.postings.get(t, ())) for t in term.tokens]
            candidates = set.intersection(*sets) if sets else set()
        if len(term.tokens) == 1 and len(text_fields) == 2 and not term.prefix:
            return found | candidates
        return found | {
            pmid
            for pmid in candidates
            if any(self._in_field(field, pmid, term) for field in text_fields)
        }

    def _match(self, node: _Node) -> set[str]:
        if isinstance(node, _Term):
            return self._term_docs(node)
        sets = [self._match(c) for c in node.children]
        if node.op == "AND":
            return set.intersection(*sets)
        if node.op == "OR":
            return set.union(*sets)
        return sets[0].difference(*sets[1:])

    def _positive_terms(self, node: _Node) -> list[_Term]:
        if isinstance(node, _Term):
            return [node]
        children = node.children[:1] if node.op == "NOT" else node.children
        return [t for c in children for t in self._positive_terms(c)]

    def missing_phrases(self, node: _Node) -> list[str]:
        """Return the terms of ``node`` that match no document at all."""
        return [t.text for t in self._positive_terms(node) if not self._term_docs(t)]

    def search(self, node: _Node) -> list[str]:
        """Return matching PMIDs, best BM25 score first (ties: higher PMID first)."""
        hits = self._match(node)
        n_docs = len(self.docs)
        tokens = {tok for t in self._positive_terms(node) if not t.prefix for tok in t.tokens}
        scores = dict.fromkeys(hits, 0.0)
        for token in tokens:
            posting = self.postings.get(token, {})
            df = len(posting)
            if not df:
                continue
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            for pmid in hits:
                tf = posting.get(pmid)
                if tf:
                    norm = 1 - self.B + self.B * len(self.docs[pmid]) / self.avg_len
                    scores[pmid] += idf * tf * (self.K1 + 1) / (tf + self.K1 * norm)
        return sorted(hits, key=lambda p: (-scores[p], -int(p) if p.isdigit() else 0, p))


# ---------------------------------------------------------------- responses


def _esearch_xml(
    count: int,
    pmids: Sequence[str],
    retmax: int,
    retstart: int,
    translation: str,
    missing: Sequence[str],
) -> bytes:
    ids = "".join(f"<Id>{p}</Id>\n" for p in pmids)
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
        '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
        f"<eSearchResult><Count>{count}</Count><RetMax>{len(pmids)}</RetMax>"
        f"<RetStart>{retstart}</RetStart><IdList>\n{ids}</IdList><TranslationSet/>"
        f"<QueryTranslation>{escape(translation)}</QueryTranslation>"
    ]
    if count == 0:
        if missing:
            found = "".join(f"<PhraseNotFound>{escape(m)}</PhraseNotFound>" for m in missing)
            parts.append(f"<ErrorList>{found}</ErrorList>")
        parts.append("<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>")
    parts.append("</eSearchResult>\n")
    return "".join(parts).encode()


def _esearch_json(
    count: int, pmids: Sequence[str], retstart: int, translation: str, missing: Sequence[str]
) -> bytes:
    result: dict[str, Any] = {
        "count": str(count),
        "retmax": str(len(pmids)),
        "retstart": str(retstart),
        "idlist": list(pmids),
        "translationset": [],
        "querytranslation": translation,
    }
    if count == 0:
        result["errorlist"] = {"phrasesnotfound": list(missing), "fieldsnotfound": []}
        result["warninglist"] = {"outputmessages": ["No items found."]}
    return json.dumps(
        {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}
    ).encode()


def _article_xml(record: Record) -> str:
    pub_types = list(record.publication_types)
    if record.retracted and "Retracted Publication" not in pub_types:
        pub_types.append("Retracted Publication")
    types = "".join(f"<PublicationType>{escape(t)}</PublicationType>" for t in pub_types)
    year = f"<Year>{record.year}</Year>" if record.year is not None else ""
    abstract = ""
    if record.abstract:
        text = escape(" ".join(record.abstract))
        abstract = f"<Abstract><AbstractText>{text}</AbstractText></Abstract>"
    headings = ""
    if record.mesh:
        names = "".join(
            f'<MeshHeading><DescriptorName MajorTopicYN="N">{escape(h)}</DescriptorName>'
            "</MeshHeading>"
            for h in record.mesh
        )
        headings = f"<MeshHeadingList>{names}</MeshHeadingList>"
    corrections = ""
    if record.retracted:
        corrections = (
            '<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn">'
            f"<RefSource>{escape(record.journal)}. {record.year or ''}</RefSource>"
            f'<PMID Version="1">9{record.pmid}</PMID></CommentsCorrections>'
            "</CommentsCorrectionsList>"
        )
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{escape(record.pmid)}</PMID>'
        '<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Print">'
        f"<PubDate>{year}</PubDate></JournalIssue><Title>{escape(record.journal)}</Title>"
        f"</Journal><ArticleTitle>{escape(record.title)}</ArticleTitle>{abstract}"
        f"<Language>eng</Language><PublicationTypeList>{types}</PublicationTypeList>"
        f"</Article>{headings}{corrections}</MedlineCitation><PubmedData><PublicationStatus>ppublish"
        "</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{escape(record.pmid)}</ArticleId></ArticleIdList>'
        "</PubmedData></PubmedArticle>\n"
    )


def _efetch_xml(records: Iterable[Record]) -> bytes:
    body = "".join(_article_xml(r) for r in records)
    return (
        '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
        '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
        f"<PubmedArticleSet>\n{body}</PubmedArticleSet>\n"
    ).encode()


def _error_xml(root: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}><ERROR>{escape(message)}</ERROR>'
        f"</{root}>\n"
    ).encode()


# ---------------------------------------------------------------- the server


class EutilsServer:
    """A threaded local E-utilities server over a corpus. See the module docstring.

    Args:
        records: The corpus (:class:`Record` objects or mappings with the same keys).
        enforce_rate: Answer 429 past 3 requests/s (10 with an ``api_key``), as NCBI.
        fail_rate: Share of requests answered 503.
        seed: Seed for the fault-injection RNG.
        delay: Seconds to wait before each answer.
        truncate_rate: Share of 200 answers cut in half.
    """

    PREFIX = "/entrez/eutils/"

    def __init__(
        self,
        records: Iterable[Record | Mapping[str, Any]] = (),
        *,
        enforce_rate: bool = True,
        fail_rate: float = 0.0,
        seed: int = 0,
        delay: float = 0.0,
        truncate_rate: float = 0.0,
        port: int = 0,
    ) -> None:
        self.port = port
        self.index = SearchIndex(
            r if isinstance(r, Record) else Record.from_mapping(r) for r in records
        )
        self.enforce_rate = enforce_rate
        self.fail_rate = fail_rate
        self.delay = delay
        self.truncate_rate = truncate_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._log: list[LoggedRequest] = []
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> EutilsServer:
        """Bind to 127.0.0.1 (on a free port unless one was given) and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"app": self})
        httpd = _QuietServer(("127.0.0.1", self.port), handler)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EutilsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The E-utilities base URL, ending in ``/``, for ``Config.eutils_url``."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{self.PREFIX}"

    # -- test helpers

    def script(self, endpoint: str, *responses: Scripted) -> None:
        """Queue exact answers for ``endpoint`` (e.g. ``"esearch.fcgi"``), served in order."""
        with self._lock:
            self._scripts[endpoint].extend(responses)

    @property
    def log(self) -> list[LoggedRequest]:
        """A copy of the request log, in arrival order."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget logged requests and the rate windows."""
        with self._lock:
            self._log.clear()
            self._windows.clear()

    def requests(self, endpoint: str | None = None) -> list[LoggedRequest]:
        """Logged requests, optionally only those to ``endpoint``."""
        return [r for r in self.log if endpoint is None or r.endpoint == endpoint]

    def max_in_window(self, window: float = 1.0) -> int:
        """The most requests that arrived within any ``window`` seconds (half-open)."""
        times = sorted(r.time for r in self.log)
        best, start = 0, 0
        for end, t in enumerate(times):
            while times[start] <= t - window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- request handling

    def _admit(self, params: Mapping[str, str], client: str, now: float) -> tuple[bool, int]:
        key = params.get("api_key") or client
        limit = 10 if params.get("api_key") else 3
        window = self._windows[key]
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return False, limit
        window.append(now)
        return True, limit

    def handle(
        self, method: str, path: str, params: Mapping[str, str], client: str
    ) -> tuple[int, dict[str, str], bytes, float]:
        """Answer one request: (status, headers, body, delay before sending)."""
        now = time.monotonic()
        endpoint = path.rsplit("/", 1)[-1]
        with self._lock:
            status, headers, body, delay = self._answer(endpoint, params, client, now)
            self._log.append(LoggedRequest(now, method, endpoint, dict(params), status))
        return status, headers, body, delay

    def _answer(
        self, endpoint: str, params: Mapping[str, str], client: str, now: float
    ) -> tuple[int, dict[str, str], bytes, float]:
        json_type = {"Content-Type": "application/json; charset=UTF-8"}
        xml_type = {"Content-Type": "text/xml; charset=UTF-8"}
        if self.enforce_rate:
            admitted, limit = self._admit(params, client, now)
            if not admitted:
                # NCBI echoes the key (or the caller's IP) in the body; so does this.
                body = json.dumps(
                    {
                        "error": "API rate limit exceeded",
                        "api-key": params.get("api_key") or client,
                        "count": str(limit + 1),
                        "limit": str(limit),
                    }
                ).encode()
                return 429, json_type, body, 0.0
        queue = self._scripts.get(endpoint)
        if queue:
            scripted = queue.popleft()
            return scripted.status, dict(scripted.headers), scripted.body, scripted.delay
        if self.fail_rate and self._rng.random() < self.fail_rate:
            return 503, {"Content-Type": "text/html"}, b"<html>Service unavailable</html>", 0.0
        if endpoint == "esearch.fcgi":
            status, headers, body = self._esearch(params)
        elif endpoint == "efetch.fcgi":
            status, headers, body = 200, xml_type, self._efetch(params)
        else:
            return 404, xml_type, _error_xml("eResult", f"Unknown utility {endpoint}"), 0.0
        if status == 200 and self.truncate_rate and self._rng.random() < self.truncate_rate:
            body = body[: len(body) // 2]
        return status, headers, body, self.delay

    def _esearch(self, params: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        as_json = params.get("retmode") == "json"
        content = {"Content-Type": "application/json" if as_json else "text/xml; charset=UTF-8"}
        term = params.get("term", "")
        try:
            retmax = int(params.get("retmax", "20"))
            retstart = int(params.get("retstart", "0"))
            node = parse_term(term)
        except ValueError as exc:
            if as_json:
                return 200, content, json.dumps({"esearchresult": {"ERROR": str(exc)}}).encode()
            return 200, content, _error_xml("eSearchResult", str(exc))
        if not term.strip():
            message = "Empty term and query_key - nothing todo"
            if as_json:
                return 200, content, json.dumps({"esearchresult": {"ERROR": message}}).encode()
            return 200, content, _error_xml("eSearchResult", message)
        hits = self.index.search(node) if node is not None else []
        missing = self.index.missing_phrases(node) if node is not None and not hits else [term]
        page = hits[retstart : retstart + retmax]
        translation = _translate(node) if node is not None else ""
        if as_json:
            return 200, content, _esearch_json(len(hits), page, retstart, translation, missing)
        return (
            200,
            content,
            _esearch_xml(len(hits), page, retmax, retstart, translation, missing),
        )

    def _efetch(self, params: Mapping[str, str]) -> bytes:
        ids = [i.strip() for i in params.get("id", "").split(",") if i.strip()]
        if not ids:
            return _error_xml("eFetchResult", "Empty id list - nothing todo")
        found = [self.index.records[i] for i in ids if i in self.index.records]
        return _efetch_xml(found)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out hang up mid-answer; that is the point of the delay knob.
        pass


class _Handler(BaseHTTPRequestHandler):
    app: EutilsServer
    protocol_version = "HTTP/1.1"
    # Headers and body in one send: separate small writes meet Nagle + delayed ACK (40 ms).
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _serve(self, method: str, params: dict[str, list[str]]) -> None:
        flat = {k: v[-1] for k, v in params.items()}
        status, headers, body, delay = self.app.handle(
            method, urlsplit(self.path).path, flat, self.client_address[0]
        )
        if delay:
            time.sleep(delay)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET", parse_qs(urlsplit(self.path).query, keep_blank_values=True))

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode("utf-8", "replace")
        params = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        params.update(parse_qs(form, keep_blank_values=True))
        self._serve("POST", params)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a SciFact-format corpus as E-utilities until interrupted (for trying claimscan).

    Example::

        python -m tests.eutils_server ../shared/data/scifact/corpus.jsonl --port 8765 &
        CLAIMSCAN_EUTILS_URL=http://127.0.0.1:8765/ claimscan check article.html
    """
    import argparse

    parser = argparse.ArgumentParser(description="Serve a corpus as E-utilities on 127.0.0.1.")
    parser.add_argument("corpus", type=Path, help="corpus.jsonl (doc_id, title, abstract)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    with EutilsServer(load_scifact_corpus(args.corpus), port=args.port) as server:
        print(f"serving {args.corpus} at {server.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
