"""build_query: informative terms, vocabulary synonyms, one readable term, context. Pure."""

from __future__ import annotations

import subprocess
import sys

import pytest

from claims.query import MAX_TERMS, build_query, informative_terms
from claims.vocabulary import Vocabulary
from tests.eutils_server import Record, SearchIndex, parse_term


@pytest.mark.parametrize(
    ("claim", "absent"),
    [
        (
            "Studies suggest that it may possibly reduce the risk of falls.",
            ["studies", "suggest", "it", "may"],
        ),
        ("These researchers claim vitamin D could help.", ["these", "researchers", "could"]),
        ("In 2019, 45% of 300 adults took 40 mg of zinc.", ["2019", "45%", "300", "40"]),
    ],
)
def test_informative_terms_drop_stopwords_hedges_and_numbers(claim: str, absent: list[str]) -> None:
    terms = informative_terms(claim)
    assert terms
    for word in absent:
        assert word not in terms


@pytest.mark.parametrize(
    ("claim", "phrase"),
    [
        ("Vitamin D prevents falls.", "vitamin d"),
        ("Type 2 diabetes is linked to obesity.", "type 2"),
        ("Fat infiltration predicts poor recovery.", "fat infiltration"),
        ("Breast cancer risk rises with alcohol.", "breast cancer"),
    ],
)
def test_informative_terms_keep_phrases(claim: str, phrase: str) -> None:
    assert phrase in informative_terms(claim)


@pytest.mark.parametrize(
    ("claim", "first"),
    [
        ("ALDH1 expression is associated with poorer prognosis.", "aldh1"),
        ("Female carriers of the APOE4 allele have increased risk.", "apoe4"),
    ],
)
def test_informative_terms_rank_gene_names_first(claim: str, first: str) -> None:
    assert informative_terms(claim)[0] == first


VOCABULARY = Vocabulary.from_text(
    "# test table\n"
    "HP:0001658\tMyocardial infarction|Heart attack\n"
    "HP:0000822\tHypertension|High blood pressure|Arterial hypertension\n"
    "HP:0000458\tAnosmia|Loss of smell\n"
)


def test_build_query_names_the_concepts_once_each() -> None:
    query = build_query("Melatonin supplements improve sleep quality in shift workers.")
    assert query is not None
    assert query.label == "melatonin; supplements; improve; sleep; quality; shift; workers"
    # One group per concept, ORed: no combinations of concepts to read through.
    assert query.term.count(" OR ") == sum(len(c.names) for c in query.concepts) - 1
    assert " AND " not in query.term
    assert all(f"{c.names[0]}" in query.term for c in query.concepts)


@pytest.mark.parametrize(
    ("claim", "group"),
    [
        (
            "Heart attacks are rising.",
            '("heart attacks"[tiab] OR "heart attack"[tiab] OR "myocardial infarction"[tiab])',
        ),
        (
            "Loss of smell predicts infection.",
            '("loss of smell"[tiab] OR anosmia[tiab])',
        ),
        ("Tumors shrink with melatonin.", "(tumors[tiab] OR tumor[tiab])"),
        ("Mutations in muscles of mice.", "(mutations[tiab] OR mutation[tiab])"),
        ("Coronaviruses spread.", "(coronaviruses[tiab] OR coronavirus[tiab])"),
    ],
)
def test_build_query_ors_synonyms_and_number(claim: str, group: str) -> None:
    query = build_query(claim, vocabulary=VOCABULARY)
    assert query is not None
    assert group in query.term


def test_build_query_finds_abstracts_that_use_the_medical_name() -> None:
    index = SearchIndex(
        [
            Record("1", "Myocardial infarction outcomes", ("Mortality fell.",)),
            Record("2", "Stroke outcomes", ("Mortality fell.",)),
        ]
    )
    query = build_query("Heart attacks are often fatal.", vocabulary=VOCABULARY)
    assert query is not None
    without = build_query("Heart attacks are often fatal.")
    assert without is not None
    assert index.search(parse_term(query.term)) == ["1"]
    assert index.search(parse_term(without.term)) == []


def test_build_query_resolves_these_muscles_from_context() -> None:
    query = build_query(
        "Fat infiltration in these muscles predicts poor outcome.",
        context="MRI of the rotator cuff muscles after surgery.",
    )
    assert query is not None
    assert '"rotator cuff"[tiab]' in query.term


def test_build_query_resolves_this_study_from_context() -> None:
    query = build_query("This study shows a benefit.", context="Semaglutide and weight loss")
    assert query is not None
    assert "semaglutide[tiab]" in query.term


@pytest.mark.parametrize("claim", ["", "It may be so.", "42%"])
def test_build_query_none_when_nothing_searchable(claim: str) -> None:
    assert build_query(claim) is None


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Statins work.", "(statins[tiab] OR statin[tiab]) OR work[tiab]"),
        ("Aspirin.", "aspirin[tiab]"),
    ],
)
def test_build_query_short_claims(claim: str, expected: str) -> None:
    query = build_query(claim)
    assert query is not None
    assert query.term == expected


def test_build_query_caps_terms() -> None:
    claim = " ".join(f"word{c}xyz" for c in "abcdefghijkl")
    query = build_query(claim)
    assert query is not None
    assert len(query.concepts) == MAX_TERMS


def test_build_query_balanced_and_parseable() -> None:
    claim = "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors."
    query = build_query(claim, vocabulary=VOCABULARY)
    assert query is not None
    assert query.term.count("(") == query.term.count(")")
    assert parse_term(query.term) is not None


def test_query_module_is_pure() -> None:
    code = (
        "import sys, claims.query, claims.vocabulary;"
        "print(sorted(m for m in ('httpx', 'rich', 'pipeline', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("claim", "context", "referent"),
    [
        (
            "It causes direct injury to the deep spinal muscles.",
            "A whiplash event does not just strain the muscles of the neck and upper spine.",
            "whiplash",
        ),
        (
            "They work less well when the tissue has been replaced by scar and fat.",
            "Physiotherapy, exercise, and manual therapy are valuable tools for spinal pain.",
            "physiotherapy",
        ),
    ],
)
def test_issue_14_pronoun_subject_is_searched_with_its_referent(
    claim: str, context: str, referent: str
) -> None:
    assert referent in build_query(claim, context).term.lower()
    assert referent not in build_query(claim).term.lower()
