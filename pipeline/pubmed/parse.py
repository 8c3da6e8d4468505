"""Parse E-utilities answers (esearch XML/JSON, efetch PubMed XML) into claims types. Pure.

Parsers take the raw response bytes and never touch the network or the file system:
the lxml parser is built with ``resolve_entities=False``, ``no_network=True`` and
``huge_tree=False``, and any body that declares its own entities (billion laughs, XXE)
is refused before lxml sees it, since no genuine E-utilities answer has an internal DTD.

Two kinds of :class:`~pipeline.errors.PubMedParseError` come out of here:

* :class:`MalformedResponse` — the body is not the document it should be (truncated,
  HTML, empty, a transient backend error). Worth retrying.
* plain :class:`~pipeline.errors.PubMedParseError` — a well-formed answer that reports an
  error in the request itself (``<ERROR>Invalid query</ERROR>``). Retrying cannot help.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from lxml import etree

from claims.types import Article, SearchResult
from claims.verdict import RETRACTION_TYPES
from pipeline.errors import MalformedResponse, PubMedParseError

__all__ = [
    "MalformedResponse",
    "parse_efetch",
    "parse_esearch",
    "parse_esearch_json",
    "split_sentences",
]


# Phrases NCBI puts in <ERROR> when its backend, not the request, failed; these answers
# come with status 200 and succeed on retry (Biopython's Entrez retries them too).
_TRANSIENT_ERRORS = ("backend", "temporarily", "unable to obtain", "timeout", "try again")


_RETRACTION_REFS = frozenset({"RetractionIn", "RetractionOf"})


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def _load(body: bytes, what: str) -> etree._Element:
    """Parse ``body`` safely and return its root element.

    Raises:
        MalformedResponse: Empty, entity-declaring, or not well-formed XML.
    """
    if not body or not body.strip():
        raise MalformedResponse(f"{what}: empty response body")
    # A literal "<!ENTITY" can only occur in a DTD (in text it would be escaped), and
    # real E-utilities answers reference an external DTD without declaring entities.
    if b"<!ENTITY" in body:
        raise MalformedResponse(f"{what}: response declares XML entities; refusing to parse it")
    try:
        return etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(
            f"{what}: response is not well-formed XML (truncated or not XML?): {exc}"
        ) from exc


def _text(element: etree._Element | None) -> str:
    """Return all text under ``element`` with whitespace collapsed ('' for None)."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _check_error_element(root: etree._Element, what: str) -> None:
    """Raise for an ``<ERROR>`` answer, as a retryable error when NCBI's backend failed."""
    error = root if root.tag == "ERROR" else root.find("ERROR")
    if error is None:
        return
    message = _text(error) or "unspecified error"
    if any(phrase in message.lower() for phrase in _TRANSIENT_ERRORS):
        raise MalformedResponse(f"{what}: E-utilities reported a backend error: {message}")
    raise PubMedParseError(f"{what}: E-utilities reported an error: {message}")


def _expect_root(root: etree._Element, tag: str, what: str) -> None:
    _check_error_element(root, what)
    if root.tag != tag:
        # An HTML error page or another utility's answer: usually a proxy or outage.
        raise MalformedResponse(f"{what}: expected <{tag}>, got <{root.tag}>")


def parse_esearch(body: bytes, *, what: str = "esearch") -> SearchResult:
    """Parse an esearch XML answer.

    Zero hits (``<ErrorList><PhraseNotFound>``) are a valid answer with ``count == 0``.

    Args:
        body: The raw response body.
        what: What was being parsed, for error messages (e.g. ``"esearch for term='x'"``).

    Returns:
        The hit count, PMIDs in the server's order, and QueryTranslation. ``term`` is
        left empty: the caller knows the term it sent.

    Raises:
        MalformedResponse: Truncated, HTML or otherwise not an eSearchResult.
        PubMedParseError: A well-formed ``<ERROR>`` answer.
    """
    root = _load(body, what)
    _expect_root(root, "eSearchResult", what)
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise MalformedResponse(f"{what}: eSearchResult has no usable <Count>")
    pmids = tuple(_text(el) for el in root.iterfind("IdList/Id") if _text(el))
    translation = root.find("QueryTranslation")
    return SearchResult(
        term="",
        count=int(count_text),
        pmids=pmids,
        translation=_text(translation) if translation is not None else None,
    )


def parse_esearch_json(body: bytes, *, what: str = "esearch") -> SearchResult:
    """Parse an esearch ``retmode=json`` answer.

    Args:
        body: The raw response body.
        what: What was being parsed, for error messages.

    Returns:
        The same fields as :func:`parse_esearch`.

    Raises:
        MalformedResponse: Not JSON, truncated, or without ``esearchresult``.
        PubMedParseError: An ``{"error": ...}`` answer, or ``esearchresult.ERROR``.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponse(f"{what}: response is not valid JSON (truncated?): {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedResponse(f"{what}: expected a JSON object, got {type(data).__name__}")
    if "error" in data:
        raise PubMedParseError(f"{what}: E-utilities reported an error: {data['error']}")
    result = data.get("esearchresult")
    if not isinstance(result, dict):
        raise MalformedResponse(f"{what}: JSON answer has no 'esearchresult' object")
    if "ERROR" in result:
        raise PubMedParseError(f"{what}: E-utilities reported an error: {result['ERROR']}")
    count = str(result.get("count", ""))
    if not count.isdigit():
        raise MalformedResponse(f"{what}: esearchresult has no usable 'count'")
    idlist = result.get("idlist", [])
    if not isinstance(idlist, list):
        raise MalformedResponse(f"{what}: esearchresult 'idlist' is not a list")
    translation = result.get("querytranslation")
    return SearchResult(
        term="",
        count=int(count),
        pmids=tuple(str(pmid) for pmid in idlist),
        translation=str(translation) if translation is not None else None,
    )


# Words that end in "." without ending a sentence; compared lowercased, without the dot.
_ABBREVIATIONS = frozenset(
    "e.g i.e al vs cf fig figs ref refs approx ca no nos dr mr mrs ms prof st etc "
    "resp incl eq eqs vol suppl jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split abstract text into sentences with a regex and an abbreviation list.

    Good enough for abstracts: splits after ``.``, ``!`` or ``?`` followed by space and
    an upper-case letter or digit, except after common abbreviations ("et al.", "e.g.",
    "Fig.") and single initials ("J. Smith").

    Args:
        text: One paragraph of abstract text.

    Returns:
        The sentences, stripped; no empty strings.
    """
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start() + 1]
        last_word = before.rsplit(None, 1)[-1] if before.split() else ""
        stem = last_word.rstrip(".!?\"')]").lower()
        if text[match.start()] == "." and (
            stem in _ABBREVIATIONS or (len(stem) == 1 and stem.isalpha())
        ):
            continue
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _abstract_sentences(sections: Iterable[etree._Element]) -> tuple[str, ...]:
    sentences: list[str] = []
    for section in sections:
        text = _text(section)
        if not text:
            continue
        parts = split_sentences(text)
        label = (section.get("Label") or "").strip()
        if label and parts:
            parts[0] = f"{label}: {parts[0]}"
        sentences.extend(parts)
    return tuple(sentences)


def _year(article: etree._Element) -> int | None:
    year = article.findtext("Journal/JournalIssue/PubDate/Year")
    if year and year.strip()[:4].isdigit():
        return int(year.strip()[:4])
    medline_date = article.findtext("Journal/JournalIssue/PubDate/MedlineDate") or ""
    match = re.search(r"\d{4}", medline_date)
    if match:
        return int(match.group())
    year = article.findtext("ArticleDate/Year")
    if year and year.strip()[:4].isdigit():
        return int(year.strip()[:4])
    return None


def _is_retracted(citation: etree._Element, pub_types: tuple[str, ...]) -> bool:
    if RETRACTION_TYPES.intersection(pub_types):
        return True
    return any(
        ref.get("RefType") in _RETRACTION_REFS
        for ref in citation.iterfind("CommentsCorrectionsList/CommentsCorrections")
    )


def _parse_article(node: etree._Element, what: str) -> Article:
    citation = node.find("MedlineCitation")
    if citation is None:
        raise MalformedResponse(f"{what}: <PubmedArticle> without <MedlineCitation>")
    # Only the citation's own PMID: CommentsCorrections and references carry PMIDs too.
    pmid = _text(citation.find("PMID"))
    article = citation.find("Article")
    if not pmid or article is None:
        raise MalformedResponse(f"{what}: <PubmedArticle> without <PMID> or <Article>")
    pub_types = tuple(
        _text(el) for el in article.iterfind("PublicationTypeList/PublicationType") if _text(el)
    )
    return Article(
        pmid=pmid,
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        abstract=_abstract_sentences(article.iterfind("Abstract/AbstractText")),
        journal=_text(article.find("Journal/Title")),
        year=_year(article),
        publication_types=pub_types,
        retracted=_is_retracted(citation, pub_types),
    )


def _parse_book(node: etree._Element, what: str) -> Article:
    doc = node.find("BookDocument")
    pmid = _text(doc.find("PMID")) if doc is not None else ""
    if doc is None or not pmid:
        raise MalformedResponse(f"{what}: <PubmedBookArticle> without <BookDocument>/<PMID>")
    year_text = doc.findtext("Book/PubDate/Year") or ""
    pub_types = tuple(_text(el) for el in doc.iterfind("PublicationType") if _text(el)) or ("Book",)
    return Article(
        pmid=pmid,
        title=_text(doc.find("ArticleTitle")) or _text(doc.find("Book/BookTitle")),
        abstract=_abstract_sentences(doc.iterfind("Abstract/AbstractText")),
        journal=_text(doc.find("Book/BookTitle")),
        year=int(year_text[:4]) if year_text[:4].isdigit() else None,
        publication_types=pub_types,
        retracted=_is_retracted(doc, pub_types),
    )


def parse_efetch(body: bytes, *, what: str = "efetch") -> list[Article]:
    """Parse an efetch ``db=pubmed retmode=xml`` answer (a ``PubmedArticleSet``).

    Args:
        body: The raw response body.
        what: What was being parsed, for error messages (e.g. ``"efetch for PMIDs 1,2"``).

    Returns:
        One Article per ``PubmedArticle`` (and ``PubmedBookArticle``), in document order.
        PMIDs PubMed does not know are simply absent, as in PubMed's own answer.

    Raises:
        MalformedResponse: Truncated, HTML, or a record missing its PMID.
        PubMedParseError: A well-formed ``<ERROR>`` answer.
    """
    root = _load(body, what)
    _expect_root(root, "PubmedArticleSet", what)
    articles: list[Article] = []
    for node in root:
        if node.tag == "PubmedArticle":
            articles.append(_parse_article(node, what))
        elif node.tag == "PubmedBookArticle":
            articles.append(_parse_book(node, what))
    return articles
