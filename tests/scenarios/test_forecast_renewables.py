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


def test_recalibration_maps_levels_through_the_past_pits_cdf():
    """Past PITs uniform on [0.25, 0.75] (a law too wide): level tau becomes 0.25 + 0.5 tau."""
    f, a = synthetic(n_days=60, seed=4)
    day = pd.Timestamp("2021-02-20", tz="UTC")
    params = {"window_days": 28, "n_neighbours": 150, "hour_weight": 0.0, "inactive_threshold": 0.0}
    plain = RenewableForecaster(**params).fit(f, a, day)
    hours = pd.date_range(day - pd.Timedelta(days=28), day - pd.Timedelta(hours=1), freq="h")
    pits = pd.Series(0.25 + 0.5 * (np.arange(len(hours)) + 0.5) / len(hours), index=hours)
    recal = RenewableForecaster(**params, recalibration_days=28).fit(f, a, day, pits=pits)
    levels = [0.05, 0.5, 0.9]
    expected = plain.predict_quantiles([0.25 + 0.5 * t for t in levels]).to_numpy()
    np.testing.assert_allclose(recal.predict_quantiles(levels).to_numpy(), expected, rtol=1e-3, atol=1e-6)
    # the recalibrated PIT is G(u): an actual at the law's 0.375 quantile has G = 0.25
    y = plain.predict_quantiles([0.375]).to_numpy()[:, 0]
    np.testing.assert_allclose(recal.predict_pit(y), 0.25, atol=0.01)
    # PITs of the day itself or later are never read
    spoiled = pd.concat([pits, pd.Series(0.0, index=pd.date_range(day, periods=48, freq="h"))])
    again = RenewableForecaster(**params, recalibration_days=28).fit(f, a, day, pits=spoiled)
    np.testing.assert_array_equal(again.predict_quantiles(levels).to_numpy(),
                                  recal.predict_quantiles(levels).to_numpy())


def test_pit_history_is_each_days_out_of_sample_pit():
    f, a = synthetic(n_days=50, seed=5)
    params = {"window_days": 28, "n_neighbours": 150, "hour_weight": 0.0, "inactive_threshold": 0.0}
    model = RenewableForecaster(**params, recalibration_days=7)
    pits = model.pit_history(f, a, "2021-02-01", "2021-02-07")
    assert len(pits) == 7 * 24 and pits.between(0, 1).all()
    day = pd.Timestamp("2021-02-04", tz="UTC")
    one = RenewableForecaster(**params).fit(f, a, day)
    y = a.loc[day:day + pd.Timedelta(hours=23)].to_numpy()
    np.testing.assert_allclose(pits.loc[day:day + pd.Timedelta(hours=23)].to_numpy(), one.predict_pit(y))
    # fit without pits computes the same history itself
    q1 = RenewableForecaster(**params, recalibration_days=7).fit(f, a, "2021-02-08").predict_quantiles()
    q2 = RenewableForecaster(**params, recalibration_days=7).fit(f, a, "2021-02-08", pits=pits).predict_quantiles()
    pd.testing.assert_frame_equal(q1, q2)


def test_recalibration_restores_coverage_when_the_spread_grows():
    """Error spread rising steadily: the 56-day law lags and is too narrow; recalibration widens it."""
    rng = np.random.default_rng(6)
    n_days = 200
    index = pd.date_range("2021-01-01", periods=24 * n_days, freq="h", tz="UTC")
    f = pd.Series(0.05 + 0.75 * rng.random(len(index)), index=index)
    sd = 0.1 + 0.9 * np.arange(len(index)) / len(index)
    a = pd.Series(expit(logit(f.to_numpy()) + sd * rng.standard_normal(len(index))), index=index)
    params = {"window_days": 56, "n_neighbours": 200, "hour_weight": 0.0, "inactive_threshold": 0.0}
    days = pd.date_range("2021-06-01", periods=40, freq="D", tz="UTC")
    pits = RenewableForecaster(**params).pit_history(f, a, days[0] - pd.Timedelta(days=28), days[-1])
    coverage = {}
    for n in (0, 28):
        lo, hi, obs = [], [], []
        for day in days:
            q = RenewableForecaster(**params, recalibration_days=n).fit(f, a, day, pits=pits)
            q = q.predict_quantiles([0.05, 0.95]).to_numpy()
            lo.append(q[:, 0]), hi.append(q[:, 1]), obs.append(a.loc[day:day + pd.Timedelta(hours=23)].to_numpy())
        coverage[n] = interval_coverage(np.concatenate(lo), np.concatenate(hi), np.concatenate(obs))
    assert coverage[0] < 0.85
    assert abs(coverage[28] - 0.9) < abs(coverage[0] - 0.9) and coverage[28] > 0.85


def test_recalibration_needs_past_pits():
    f, a = synthetic(n_days=40, seed=7)
    with pytest.raises(ValueError, match="recalibration_days"):
        RenewableForecaster(window_days=28, n_neighbours=100, recalibration_days=-1).fit(f, a, "2021-02-05")
    empty = pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    with pytest.raises(ValueError, match="past PITs"):
        RenewableForecaster(window_days=28, n_neighbours=100, recalibration_days=7).fit(f, a, "2021-02-05",
                                                                                      pits=empty)
