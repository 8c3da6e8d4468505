"""Platt scaling, shared by the promotional head and the claim-level verdict. Pure.

Both fit ``P = sigmoid(score / T + b)`` to held-out scores: the promotional head on its
cross-fitted logits, the verdict on the aggregated support of claims checked end to
end (:class:`claims.verdict.SupportCalibration`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

from claims.verdict import SupportCalibration


def fit_platt(
    scores: np.ndarray, labels: np.ndarray, *, with_bias: bool, balanced: bool = False
) -> tuple[float, float]:
    """Fit P = sigmoid(score / T + b) by minimising NLL; return (T, b).

    With ``with_bias`` this is Platt scaling; without, temperature scaling (Guo et al.
    2017), for small held-out splits where a second parameter would overfit.

    Args:
        scores: One score (logit or other monotone score) per example.
        labels: 1.0 for the positive class, 0.0 otherwise.
        with_bias: Fit the shift b as well as the temperature.
        balanced: Weight each class by the inverse of its frequency, so 0.5 stays the
            balanced decision point whatever the class shares in the data.
    """
    import torch

    z = torch.tensor(scores, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    weight = None
    if balanced:
        positives = float(y.sum())
        negatives = float(len(y)) - positives
        if positives and negatives:
            weight = torch.where(y > 0.5, len(y) / (2 * positives), len(y) / (2 * negatives))
    # Optimise log T so the temperature stays positive.
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    shift = torch.zeros(1, dtype=torch.float64, requires_grad=with_bias)
    opt = torch.optim.LBFGS([log_t, shift] if with_bias else [log_t], lr=0.1, max_iter=200)
    loss_fn = torch.nn.BCEWithLogitsLoss(weight=weight)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss: torch.Tensor = loss_fn(z / log_t.exp() + shift, y)
        loss.backward()
        return loss

    opt.step(closure)
    t, bias = float(log_t.exp().item()), float(shift.item())
    if not (math.isfinite(t) and math.isfinite(bias)):
        return 1.0, 0.0
    # A degenerate split (one class, perfectly separated) drives T to 0 or infinity.
    return min(max(t, 0.05), 20.0), min(max(bias, -10.0), 10.0)


def fit_support_calibration(
    support: Sequence[float], supported: Sequence[bool]
) -> SupportCalibration:
    """Fit the claim-level calibration from (aggregated support, gold label) pairs.

    Args:
        support: The uncalibrated aggregate of each claim's evidence
            (``claims.verdict.aggregate`` combined as ``decide`` does).
        supported: Whether each claim's gold label is SUPPORT (else CONTRADICT).

    Raises:
        ValueError: Fewer than two claims of either label.
    """
    if min(sum(supported), len(supported) - sum(supported)) < 2:
        raise ValueError("need at least two supported and two contradicted claims")
    t, b = fit_platt(
        np.asarray(support, dtype=np.float64),
        np.asarray(supported, dtype=np.float64),
        with_bias=True,
        balanced=True,
    )
    return SupportCalibration(t, b)


def cross_fitted_support(
    support: Sequence[float], supported: Sequence[bool], *, folds: int = 5, seed: int = 0
) -> list[float]:
    """Return each claim's P(supported) from a calibration fitted without it.

    Folds are stratified by label, so every fit sees both labels; the figures these
    give are what the shipped calibration can be expected to do on new claims.
    """
    by_label: dict[bool, list[int]] = {True: [], False: []}
    for i, gold in enumerate(supported):
        by_label[bool(gold)].append(i)
    fold_of = [0] * len(support)
    rng = random.Random(seed)
    for members in by_label.values():
        rng.shuffle(members)
        for rank, i in enumerate(members):
            fold_of[i] = rank % folds
    out = [0.0] * len(support)
    for fold in range(folds):
        train = [i for i in range(len(support)) if fold_of[i] != fold]
        calibration = fit_support_calibration(
            [support[i] for i in train], [supported[i] for i in train]
        )
        for i in range(len(support)):
            if fold_of[i] == fold:
                out[i] = calibration(support[i])
    return out
