"""Tests of scenarios.renewables: the two-scale Gaussian process of the PV and wind models recovers
known parameters from its own simulations."""

import numpy as np
import pytest

from scenarios.renewables import TwoScaleGaussian


def test_two_scale_process_fit_recovers_known_parameters():
    truth = TwoScaleGaussian(loading=0.7, hourly_ar=0.8, daily_ar=0.6)
    y = truth.simulate(1, 3000, np.random.default_rng(0))[0].reshape(3000, 24)
    y[:, :6] = np.nan  # PV-like: night hours unobserved
    y[:, 19:] = np.nan
    fit = TwoScaleGaussian.fit(y)
    assert fit.loading == pytest.approx(0.7, abs=0.05)
    assert fit.hourly_ar == pytest.approx(0.8, abs=0.05)
    assert fit.daily_ar == pytest.approx(0.6, abs=0.08)
    z = fit.daily_scores(y)
    assert np.nanstd(z) == pytest.approx(1.0, abs=0.1)


def test_smooth_level_process_fit_recovers_known_parameters():
    truth = TwoScaleGaussian(loading=0.6, hourly_ar=0.9, daily_ar=0.5, smooth_level=True)
    y = truth.simulate(1, 2000, np.random.default_rng(1))[0]
    assert np.std(y) == pytest.approx(1.0, abs=0.05)  # unit variance after interpolation
    fit = TwoScaleGaussian.fit_smooth(y)
    assert fit.loading == pytest.approx(0.6, abs=0.1)
    assert fit.hourly_ar == pytest.approx(0.9, abs=0.03)
    assert fit.daily_ar == pytest.approx(0.5, abs=0.15)
