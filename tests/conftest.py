"""Shared fixtures: a clean environment for every test, and paths to shared data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
SEED_FEED = SEEDS / "000_0d7cf7fb99d67cb8.txt"
SEED_PAGE = SEEDS / "003_ac18f91f1603e9fe.txt"
DATA = Path(__file__).resolve().parent / "data"


def tiny_bert(
    directory: Path, vocab: Sequence[str], id2label: dict[int, str] | None = None
) -> Path:
    """Save a random 2-layer, 32-wide BERT and a WordPiece tokenizer over ``vocab``.

    With ``id2label`` it is a sequence classifier (a stand-in NLI model); without, a
    bare encoder (a stand-in for MiniLM). Tests load it with the real loading code.
    """
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(vocab_file=str(vocab_file), do_lower_case=True).save_pretrained(directory)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    if id2label is None:
        BertModel(config).save_pretrained(directory)
    else:
        config.id2label = id2label
        config.label2id = {v: k for k, v in id2label.items()}
        BertForSequenceClassification(config).save_pretrained(directory)
    return directory


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present")


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No API key, proxy or hub setting leaks in from the developer's shell; no real cache."""
    import os

    for name in list(os.environ):
        if name.startswith(("NCBI_", "HF_", "CLAIMSCAN_")) or name.lower() in {
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    # Tests that run the CLI end to end use the embedded fast stance model: the default
    # one is fetched from PyPI on first use, and the tests never use the network.
    monkeypatch.setenv("CLAIMSCAN_FAST", "1")
