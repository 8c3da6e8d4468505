"""Platt scaling and the claim-level support calibration."""

from __future__ import annotations

import numpy as np
import pytest

from claims.verdict import SupportCalibration
from pipeline.train.calibrate import cross_fitted_support, fit_platt, fit_support_calibration


def test_fit_platt_recovers_temperature_and_shift() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 4.0, 20_000)
    labels = (rng.random(logits.size) < 1 / (1 + np.exp(-(logits / 2.0 - 1.0)))).astype(float)
    t, b = fit_platt(logits, labels, with_bias=True)
    assert t == pytest.approx(2.0, rel=0.1)
    assert b == pytest.approx(-1.0, abs=0.1)
    t_only, b_none = fit_platt(logits, labels, with_bias=False)
    assert b_none == 0.0
    assert t_only > 0


def _claims(n: int, share_supported: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores that separate the labels only partly, as the real aggregate does."""
    rng = np.random.default_rng(seed)
    supported = rng.random(n) < share_supported
    support = np.clip(rng.normal(np.where(supported, 0.6, 0.4), 0.25), 0.0, 1.0)
    return support, supported


def test_balanced_fit_keeps_the_decision_point_when_one_label_dominates() -> None:
    # Same score distributions, 80% or 20% supported: an unweighted fit would move the
    # 0.5 crossing with the shares; the balanced one keeps it between the two means.
    for share in (0.8, 0.2):
        support, supported = _claims(5000, share)
        cal = fit_support_calibration(support.tolist(), supported.tolist())
        crossing = -cal.shift * cal.temperature
        assert crossing == pytest.approx(0.5, abs=0.03)
    unweighted_t, unweighted_b = fit_platt(support, supported.astype(float), with_bias=True)
    assert -unweighted_b * unweighted_t > 0.55


def test_calibrated_support_is_honest_about_a_weak_signal() -> None:
    # A score near 1 from evidence that separates the labels this poorly must not read
    # as near-certain support.
    support, supported = _claims(4000, 0.5, seed=1)
    cal = fit_support_calibration(support.tolist(), supported.tolist())
    assert 0.6 < cal(1.0) < 0.9
    assert 0.1 < cal(0.0) < 0.4
    assert cal(0.2) < cal(0.5) < cal(0.8)


def test_cross_fitted_support_scores_each_claim_without_it() -> None:
    support, supported = _claims(200, 0.7, seed=2)
    out = cross_fitted_support(support.tolist(), supported.tolist(), folds=5)
    assert len(out) == 200
    assert all(0.0 < p < 1.0 for p in out)
    # Deterministic for a seed, and not the full-data fit applied to everyone.
    assert out == cross_fitted_support(support.tolist(), supported.tolist(), folds=5)
    full = fit_support_calibration(support.tolist(), supported.tolist())
    assert any(abs(p - full(s)) > 1e-6 for p, s in zip(out, support, strict=True))


def test_support_calibration_needs_both_labels() -> None:
    with pytest.raises(ValueError, match="two supported and two contradicted"):
        fit_support_calibration([0.9, 0.8, 0.7], [True, True, False])


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
def test_support_calibration_rejects_unusable_temperatures(temperature: float) -> None:
    with pytest.raises(ValueError, match="temperature"):
        SupportCalibration(temperature, 0.0)
