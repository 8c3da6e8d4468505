from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.nlp.embed import int8_copy, load_embedder
from pipeline.nlp.hf import token_batches
from tests.conftest import tiny_bert


@pytest.mark.parametrize(
    ("lengths", "max_batch", "budget"),
    [([5, 300, 10, 250, 7, 8], 4, 512), ([100] * 50, 32, 4096), ([1], 8, 10), ([], 8, 10)],
)
def test_token_batches_cover_everything_within_budget(
    lengths: list[int], max_batch: int, budget: int
) -> None:
    batches = token_batches(lengths, max_batch, budget)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= max_batch
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= budget


def test_int8_copy_shares_embeddings_and_leaves_the_original_alone(tmp_path: Path) -> None:
    import torch

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "vitamin", "bone", "pain", "back"]
    embedder = load_embedder(str(tiny_bert(tmp_path / "tiny", vocab)))
    texts = ["vitamin bone", "back pain pain vitamin"]
    before = embedder.encode(texts)
    fast = int8_copy(embedder)
    after = fast.encode(texts)

    np.testing.assert_array_equal(embedder.encode(texts), before)
    assert isinstance(embedder.model.encoder.layer[0].output.dense, torch.nn.Linear)
    assert not isinstance(fast.model.encoder.layer[0].output.dense, torch.nn.Linear)
    table = fast.model.embeddings.word_embeddings.weight
    assert table.data_ptr() == embedder.model.embeddings.word_embeddings.weight.data_ptr()
    assert after.shape == before.shape
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.0, rtol=1e-5)
