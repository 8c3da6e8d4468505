"""Fakes for the model seams, so pipeline tests run in milliseconds without weights.

They are deterministic and simple enough to reason about in assertions:
- ``FakeEmbedder``: hashed bag-of-words vectors (shared words → high cosine).
- ``FakeStance``: "not"/"no"/"fails" in the evidence → refutes; otherwise supports when
  the claim and evidence share at least two content words, else neutral.
- ``FakePromo``: ®, ™, "superior", "#1" or "our clinic" → 0.9, else 0.05.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from claims.verdict import SupportCalibration
from pipeline.evidence import EvidenceSelector
from pipeline.run import Models

_WORD = re.compile(r"[a-z]{3,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - {"the", "and", "for", "with", "that", "this"}


class FakeEmbedder:
    name = "fake-embedder"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in _words(text):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


class FakeStance:
    name = "fake-stance"
    support_calibration: SupportCalibration | None = None

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        out = []
        for claim, evidence in pairs:
            if re.search(r"\b(not|no|fails?|failed)\b", evidence.lower()):
                out.append((0.05, 0.9, 0.05))
            elif len(_words(claim) & _words(evidence)) >= 2:
                out.append((0.9, 0.05, 0.05))
            else:
                out.append((0.1, 0.1, 0.8))
        return out


class FakePromo:
    threshold = 0.5
    possible_threshold = 0.25
    _CUE = re.compile(r"[®™]|superior|#1|our clinic", re.IGNORECASE)

    def predict_pairs(self, items: Sequence[tuple[str, str]]) -> list[float]:
        return [0.9 if self._CUE.search(s) else 0.05 for s, _ in items]

    def commercial_context(self, document_text: str, sentence_probs: Sequence[float]) -> bool:
        return sum(p >= 0.5 for p in sentence_probs) >= 2


def fake_models() -> Models:
    return Models(
        stance=FakeStance(),
        promo=FakePromo(),
        selector=EvidenceSelector(FakeEmbedder()),  # type: ignore[arg-type]
        names={"stance": "fake-stance", "encoder": "fake-embedder"},
    )
