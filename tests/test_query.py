"""build_queries: informative terms, synonyms, relaxation ladder, context. Pure."""

from __future__ import annotations

import subprocess
import sys

import pytest

from claims.query import MAX_TERMS, build_queries, informative_terms
from tests.eutils_server import SearchIndex, parse_term


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


def test_build_queries_ladder_relaxes_to_two_terms() -> None:
    ladder = build_queries("Melatonin supplements improve sleep quality in shift workers.")
    assert len(ladder) == 2
    index = SearchIndex([])
    assert all(parse_term(q) is not None for q in ladder)
    assert len(ladder[0]) > len(ladder[1])
    assert index.search(parse_term(ladder[0])) == []


@pytest.mark.parametrize(
    ("claim", "fragment"),
    [
        ("Fat infiltration worsens outcomes.", '("fat infiltration" OR "fatty infiltration")'),
        ("Tumors shrink with melatonin.", "(tumors OR tumours OR tumor)"),
        ("Mutations in muscles of mice.", "(mutations OR mutation)"),
    ],
)
def test_build_queries_or_synonyms(claim: str, fragment: str) -> None:
    assert fragment in build_queries(claim)[0]


def test_build_queries_resolves_these_muscles_from_context() -> None:
    ladder = build_queries(
        "Fat infiltration in these muscles predicts poor outcome.",
        context="MRI of the rotator cuff muscles after surgery.",
    )
    assert '"rotator cuff"' in ladder[0]


def test_build_queries_resolves_this_study_from_context() -> None:
    ladder = build_queries("This study shows a benefit.", context="Semaglutide and weight loss")
    assert "semaglutide" in ladder[0]


@pytest.mark.parametrize("claim", ["", "It may be so.", "42%"])
def test_build_queries_empty_when_nothing_searchable(claim: str) -> None:
    assert build_queries(claim) == []


@pytest.mark.parametrize(
    ("claim", "expected"),
    [("Statins work.", ["(statins OR statin) AND work"]), ("Aspirin.", ["aspirin"])],
)
def test_build_queries_short_claims(claim: str, expected: list[str]) -> None:
    assert build_queries(claim) == expected


def test_build_queries_caps_terms() -> None:
    claim = " ".join(f"word{c}xyz" for c in "abcdefghijkl")
    first = build_queries(claim)[0]
    assert len({w for w in informative_terms(claim) if w in first}) == MAX_TERMS


def test_build_queries_balanced_and_parseable() -> None:
    claim = "ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors."
    queries = build_queries(claim)
    assert queries  # an empty ladder would pass the loop below without checking anything
    for query in queries:
        assert query.count("(") == query.count(")")
        assert parse_term(query) is not None


def test_query_module_is_pure() -> None:
    code = (
        "import sys, claims.query;"
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
    assert referent in build_queries(claim, context)[0]
    assert referent not in build_queries(claim)[0]
