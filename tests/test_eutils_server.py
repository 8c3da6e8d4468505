"""The local E-utilities server reads field tags and serves several corpora as PubMed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.eutils_server import Record, SearchIndex, combine_corpora, load_corpus, parse_term

RECORDS = [
    Record(
        "1", "Heart attack in women", ("Chest pain was absent.",), mesh=("Myocardial Infarction",)
    ),
    Record("2", "Chest pain clinics", ("A heart attack was ruled out.",)),
    Record("3", "Myocardial infarction registry", ("Outcomes of infarction.",)),
]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ('"heart attack"', {"1", "2"}),
        ('"heart attack"[tiab]', {"1", "2"}),
        ('"heart attack"[Title/Abstract]', {"1", "2"}),
        ('"heart attack"[ti]', {"1"}),
        ('"myocardial infarction"[mh]', {"1"}),
        (
            '"myocardial infarction"[MeSH Terms]',
            {
                "1",
            },
        ),
        ('"myocardial infarction"[tiab]', {"3"}),
        ('"myocardial infarction"', {"1", "3"}),
        ("infarction[mh]", set()),  # a heading matches whole, not word by word
        ('("heart attack" OR "myocardial infarction")[tiab] AND women', {"1"}),
        ('"heart attack"[tiab] NOT "chest pain"[ti]', {"1"}),
        ("chest[tiab] AND pain[ti]", {"2"}),
    ],
)
def test_search_field_tags_as_pubmed(term: str, expected: set[str]) -> None:
    index = SearchIndex(RECORDS)
    node = parse_term(term)
    assert node is not None
    assert set(index.search(node)) == expected


def test_parse_term_unbalanced_raises() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        parse_term("(heart[tiab] OR attack")


def test_load_corpus_reads_doc_id_and_cord_id_with_prefix(tmp_path: Path) -> None:
    scifact = tmp_path / "corpus.jsonl"
    scifact.write_text(json.dumps({"doc_id": 7, "title": "T", "abstract": ["A."]}) + "\n")
    cord = tmp_path / "corpus.json"
    cord.write_text(json.dumps({"cord_id": "8vp57c1o", "title": "C", "abstract": ["B."]}) + "\n")
    assert [r.pmid for r in load_corpus(scifact)] == ["7"]
    assert [r.pmid for r in load_corpus(cord, prefix="cc")] == ["cc8vp57c1o"]


def test_combine_corpora_refuses_clashing_ids() -> None:
    one, other = [Record("7", "One")], [Record("7", "Other")]
    with pytest.raises(ValueError, match="prefix"):
        combine_corpora(one, other)
    combined = combine_corpora(one, [Record("hv7", "Other")])
    assert [r.pmid for r in combined] == ["7", "hv7"]
