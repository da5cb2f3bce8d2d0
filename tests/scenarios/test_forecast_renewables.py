"""Tests of scenarios.forecast_renewables: calibrated error law from past hours, D-1 rule, copula, zeros."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from scenarios.forecast_renewables import RenewableForecaster
from scenarios.metrics import chi_square_flatness, interval_coverage, rank_histogram


def synthetic(n_days=90, error_sd=0.4, ar=0.0, seed=0):
    """Forecast capacity factors in (0.05, 0.8) and actuals = expit(logit(forecast) + AR(1) Gaussian error)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=24 * n_days, freq="h", tz="UTC")
    f = 0.05 + 0.75 * rng.random(len(index))
    eps = rng.standard_normal(len(index))
    z = np.empty(len(index))
    z[0] = eps[0]
    for t in range(1, len(index)):
        z[t] = ar * z[t - 1] + np.sqrt(1 - ar ** 2) * eps[t]
    a = expit(logit(f) + error_sd * z)
    return pd.Series(f, index=index), pd.Series(a, index=index)


def test_bands_of_a_known_error_law_are_calibrated_and_ranks_flat():
    f, a = synthetic(seed=1)
    days = pd.date_range("2021-02-15", periods=40, freq="D", tz="UTC")
    lo, hi, obs, members = [], [], [], []
    for i, day in enumerate(days):
        model = RenewableForecaster(window_days=28, n_neighbours=150, hour_weight=0.0,
                                    inactive_threshold=0.0).fit(f, a, day)
        q = model.predict_quantiles([0.05, 0.95]).to_numpy()
        y = a.loc[day:day + pd.Timedelta(hours=23)].to_numpy()
        lo.append(q[:, 0]), hi.append(q[:, 1]), obs.append(y)
        members.append(model.sample(20, random_state=i).values[:, :, 0].T)
    assert 0.86 <= interval_coverage(np.concatenate(lo), np.concatenate(hi), np.concatenate(obs)) <= 0.94
    counts = rank_histogram(np.vstack(members), np.concatenate(obs), random_state=0)
    assert chi_square_flatness(counts)[1] > 0.01


def test_hourly_copula_recovers_the_error_persistence():
    f, a = synthetic(n_days=60, ar=0.7, seed=2)
    model = RenewableForecaster(window_days=56, n_neighbours=200, hour_weight=0.0, inactive_threshold=0.0)
    model.fit(f, a, "2021-03-01")
    assert model.hourly_ar_ == pytest.approx(0.7, abs=0.05)


def test_fit_reads_no_actual_of_the_day_or_later_and_inactive_hours_give_zero():
    f, a = synthetic(n_days=40, seed=3)
    day = pd.Timestamp("2021-02-05", tz="UTC")
    f = f.copy()
    f.loc[day:day + pd.Timedelta(hours=5)] = 0.0  # night
    spoiled = a.copy()
    spoiled.loc[day:] = 1.0
    params = {"capacity_kw": 250.0, "window_days": 28, "n_neighbours": 100}
    q1 = RenewableForecaster(**params).fit(f, a, day).predict_quantiles()
    q2 = RenewableForecaster(**params).fit(f, spoiled, day).predict_quantiles()
    pd.testing.assert_frame_equal(q1, q2)
    assert (q1.iloc[:6] == 0).all().all()
    assert 0 < q1.iloc[6:].to_numpy().min() and q1.to_numpy().max() <= 250.0
    s = RenewableForecaster(**params).fit(f, a, day).sample(30, random_state=0)
    assert s.values.shape == (30, 24, 1) and np.all(s.values[:, :6] == 0)


def test_bad_input_names_the_field():
    f, a = synthetic(n_days=20)
    with pytest.raises(ValueError, match="n_neighbours"):
        RenewableForecaster(n_neighbours=5).fit(f, a, "2021-01-15")
    with pytest.raises(ValueError, match="active past hours"):
        RenewableForecaster(window_days=2, n_neighbours=100).fit(f, a, "2021-01-15")
    with pytest.raises(ValueError, match="24 hourly values"):
        RenewableForecaster().fit(f, a, "2021-03-15")
    with pytest.raises(ValueError, match="forecast must be a pandas Series"):
        RenewableForecaster().fit(f.to_numpy(), a, "2021-01-15")
