"""Vocabulary: parsing the table, lookups by any name, the shipped HPO extract."""

from __future__ import annotations

import pytest

from claims.vocabulary import Vocabulary, vocabulary_key
from pipeline.vocabulary import load_vocabulary

TABLE = """# Derived from a test ontology, release 1.
HP:1\tMyocardial infarction|Heart attack
HP:2\tHypertension|High blood pressure
HP:3\tOnly one name
broken line without a tab
"""


def test_vocabulary_from_text_keeps_concepts_with_two_names() -> None:
    vocabulary = Vocabulary.from_text(TABLE)
    assert len(vocabulary) == 2
    assert "release 1" in vocabulary.source


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("heart attack", ("Myocardial infarction", "Heart attack")),
        ("Heart Attacks", ("Myocardial infarction", "Heart attack")),
        ("high-blood pressure", ("Hypertension", "High blood pressure")),
        ("stroke", ()),
    ],
)
def test_vocabulary_synonyms_ignore_case_punctuation_and_plural(
    phrase: str, expected: tuple[str, ...]
) -> None:
    assert Vocabulary.from_text(TABLE).synonyms(phrase) == expected


@pytest.mark.parametrize(
    ("words", "start", "size"),
    [
        (["people", "with", "high", "blood", "pressure"], 2, 3),
        (["people", "with", "high", "blood", "pressure"], 0, 0),
        (["heart", "attacks", "kill"], 0, 2),
    ],
)
def test_vocabulary_match_longest_name(words: list[str], start: int, size: int) -> None:
    assert Vocabulary.from_text(TABLE).match(words, start) == size


def test_vocabulary_key_singularises_last_word_only() -> None:
    assert vocabulary_key(["Heart", "attacks"]) == ("heart", "attack")
    assert vocabulary_key(["diabetes", "mellitus"]) == ("diabetes", "mellitus")


@pytest.mark.parametrize(
    ("lay", "medical"),
    [
        ("heart attack", "Myocardial infarction"),
        ("high blood pressure", "Hypertension"),
        ("loss of smell", "Anosmia"),
        ("shortness of breath", "Dyspnea"),
    ],
)
def test_shipped_vocabulary_maps_lay_names(lay: str, medical: str) -> None:
    vocabulary = load_vocabulary()
    assert "Human Phenotype Ontology" in vocabulary.source
    assert medical in vocabulary.synonyms(lay)
