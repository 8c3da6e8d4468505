from __future__ import annotations

import pytest

from pipeline.embed import token_batches


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
