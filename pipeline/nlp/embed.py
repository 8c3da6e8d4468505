"""Sentence embeddings from the embedded all-MiniLM-L6-v2 (or any BERT-style encoder).

Loads model weights from disk once per process; otherwise pure computation.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from pipeline.errors import ModelLoadError
from pipeline.nlp.hf import quiet_transformers, resolve_model, token_batches

T = TypeVar("T")


def int8_copy(holder: T) -> T:
    """Return a shallow copy of a model holder (``.model``) with dynamic int8 Linear layers.

    The original stays as it was: loaders cache their models per process, and other
    callers may want full precision. Everything quantisation leaves alone (the 47 MB
    word-embedding table, layer norms) is shared with the original, not copied.
    """
    import copy
    import warnings

    import torch

    model = holder.model  # type: ignore[attr-defined]
    shared: dict[int, object] = {}
    for module in model.modules():
        if not isinstance(module, torch.nn.Linear):
            for tensor in (*module.parameters(recurse=False), *module.buffers(recurse=False)):
                shared[id(tensor)] = tensor
    clone = copy.copy(holder)
    with warnings.catch_warnings():
        # torch deprecates torch.ao.quantization in favour of torchao (still present in
        # the pinned 2.13); nothing a user of claimscan can act on.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        clone.model = torch.ao.quantization.quantize_dynamic(  # type: ignore[attr-defined]
            copy.deepcopy(model, shared), {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
    return clone


class Embedder:
    """Mean-pooled, L2-normalised sentence vectors, as sentence-transformers computes them."""

    def __init__(self, tokenizer: Any, model: Any, name: str, max_length: int = 256) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.name = name
        self.max_length = max_length
        # Tokenizers and torch modules are not safe to drive from several threads at once.
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim), each row of unit length."""
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
            lengths = [len(x) for x in ids["input_ids"]]
            for idx in token_batches(lengths, batch_size):
                enc = self.tokenizer.pad(
                    {key: [ids[key][i] for i in idx] for key in ids}, return_tensors="pt"
                )
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.float().numpy()
        return out


@lru_cache(maxsize=4)
def load_embedder(name_or_path: str | None = None) -> Embedder:
    """Load an encoder once per process.

    Args:
        name_or_path: Hub id or local directory; None means the embedded MiniLM.

    Raises:
        ModelLoadError: The weights or tokenizer cannot be loaded.
    """
    from transformers import AutoModel, AutoTokenizer

    where = resolve_model(name_or_path)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(where)
            model = AutoModel.from_pretrained(where)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load encoder from {where!r}: {exc}; "
            "set CLAIMSCAN_BASE_MODEL to a local model directory"
        ) from exc
    model.eval()
    return Embedder(tokenizer, model, name=name_or_path or "all-MiniLM-L6-v2")
