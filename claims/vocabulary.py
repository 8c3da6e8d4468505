"""Names of medical concepts, looked up by any one of them. Pure.

A :class:`Vocabulary` is built from the text of a table with one concept per line, its
id, a tab, then its names separated by ``|`` (``pipeline/data/vocabulary.tsv``, derived
from the Human Phenotype Ontology: "Myocardial infarction|Heart attack"). Lookups
ignore case, punctuation and a plural ``-s`` on the last word, so "heart attacks" finds
the concept whose names are "Myocardial infarction" and "Heart attack".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Vocabulary", "vocabulary_key"]

_WORD = re.compile(r"[a-z0-9α-ω]+")


def vocabulary_key(words: Sequence[str]) -> tuple[str, ...]:
    """The lookup key of a phrase given as words: lower case, no punctuation, singular."""
    tokens = [t for w in words for t in _WORD.findall(w.lower().replace("’", "'"))]
    if tokens:
        last = tokens[-1]
        if len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
            tokens[-1] = last[:-1]
    return tuple(tokens)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Concepts and their names; see the module docstring."""

    names: tuple[tuple[str, ...], ...] = ()
    """Each concept's names, preferred name first."""
    source: str = ""
    """Where the table comes from (its first comment lines)."""
    _index: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict, repr=False)
    _longest: int = 0

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """Parse the table; ``#`` lines are comments and make up :attr:`source`."""
        names: list[tuple[str, ...]] = []
        comments: list[str] = []
        index: dict[tuple[str, ...], list[int]] = {}
        for line in text.splitlines():
            if line.startswith("#"):
                comments.append(line.lstrip("# ").strip())
                continue
            if "\t" not in line:
                continue
            concept = tuple(n.strip() for n in line.split("\t", 1)[1].split("|") if n.strip())
            if len(concept) < 2:
                continue
            for name in concept:
                key = vocabulary_key(name.split())
                if key and len(names) not in index.setdefault(key, []):
                    index[key].append(len(names))
            names.append(concept)
        return cls(
            names=tuple(names),
            source=" ".join(comments),
            _index={k: tuple(v) for k, v in index.items()},
            _longest=max((len(k) for k in index), default=0),
        )

    def __len__(self) -> int:
        return len(self.names)

    def synonyms(self, phrase: str) -> tuple[str, ...]:
        """Every name of every concept ``phrase`` names, the phrase's own concepts' order."""
        found = self._index.get(vocabulary_key(phrase.split()), ())
        return tuple(dict.fromkeys(n for i in found for n in self.names[i]))

    def match(self, words: Sequence[str], start: int) -> int:
        """Length of the longest name starting at ``words[start]``, or 0 if none does."""
        for size in range(min(self._longest, len(words) - start), 0, -1):
            if vocabulary_key(words[start : start + size]) in self._index:
                return size
        return 0
