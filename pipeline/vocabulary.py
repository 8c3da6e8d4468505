"""Load the medical vocabulary that maps lay names to PubMed's (``claims.vocabulary``).

Disk I/O: reads ``pipeline/data/vocabulary.tsv`` once per process. The table is
derived from the Human Phenotype Ontology by ``tools/build_vocabulary.py``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from claims.vocabulary import Vocabulary
from pipeline.errors import ConfigError

DEFAULT_VOCABULARY = Path(__file__).resolve().parent / "data" / "vocabulary.tsv"


@lru_cache(maxsize=2)
def load_vocabulary(path: Path = DEFAULT_VOCABULARY) -> Vocabulary:
    """Read and parse the vocabulary table.

    Raises:
        ConfigError: The file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the vocabulary {path}: {exc}; reinstall claimscan or rebuild it "
            "with tools/build_vocabulary.py"
        ) from exc
    return Vocabulary.from_text(text)
