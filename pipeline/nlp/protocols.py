"""The model interfaces the pipeline depends on; the only definitions of them.

The orchestration (``pipeline.run``), the evaluation commands and the benchmarks take
these, so a test can hand in a light fake and a user any model that fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from claims.verdict import SupportCalibration


@runtime_checkable
class StanceModel(Protocol):
    """Scores (claim, evidence) pairs: calibrated P(supports), P(refutes), P(neutral)."""

    name: str
    """Shown in verdicts and reports: a short model name, never a local path."""

    # A read-only property, so a model may compute it (LazyStance loads on first use)
    # or hold it as a plain attribute.
    @property
    def support_calibration(self) -> SupportCalibration | None:
        """Maps a claim's aggregated support to P(supported); None where none was fitted."""
        ...

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32
    ) -> list[tuple[float, float, float]]:
        """Return (p_supports, p_refutes, p_neutral) per (claim, evidence) pair."""
        ...


class PromoModel(Protocol):
    """Scores sentences as commercial-promotional, read in their document."""

    @property
    def threshold(self) -> float:
        """P(promotional) from which a sentence is labelled promotional (0.5 as shipped:
        the probability is calibrated, so promotional is then more likely than not)."""
        ...

    @property
    def possible_threshold(self) -> float:
        """P(promotional) from which a sentence below ``threshold`` is "possibly
        promotional"; fitted on cross-fitted training predictions."""
        ...

    def predict_pairs(self, items: Sequence[tuple[str, str]]) -> list[float]:
        """P(promotional) of each (sentence, text of its document) pair."""
        ...

    def commercial_context(self, document_text: str, sentence_probs: Sequence[float]) -> bool:
        """Whether the page as a whole reads as promotion."""
        ...


class Encoder(Protocol):
    """Sentence vectors of unit length, one row per text."""

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...
