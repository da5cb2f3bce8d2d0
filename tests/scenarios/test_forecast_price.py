"""Tests of scenarios.forecast_price: the LEAR median, the scale-free bands, the copula, the D-1 rule."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

from scenarios.forecast_price import (
    DayAheadPriceForecaster,
    daily_matrix,
    fit_lear,
    lear_features,
    level_state_paths,
)
from scenarios.history import load_epftoolbox
from scenarios.metrics import crps_from_quantiles, interval_coverage

SMALL = {"calibration_windows_days": (28,), "error_window_days": 28, "scale_window_days": 14, "refit_every_days": 7}


def synthetic_history(n_days=120, noise=0.0, seed=0) -> pd.DataFrame:
    """Hourly prices = weekly pattern (+ iid Gaussian noise) and a load forecast, from 2020-01-06."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2020-01-06", periods=24 * n_days, freq="h")
    week = 50 + 20 * np.sin(np.arange(7 * 24) / 24 * 2 * np.pi) + 10 * np.repeat(np.arange(7) % 3, 24)
    price = np.resize(week, len(hours)) + noise * rng.standard_normal(len(hours))
    load = 60000 + 5000 * np.cos(np.arange(len(hours)) / 24 * 2 * np.pi) + 500 * rng.standard_normal(len(hours))
    return pd.DataFrame({"price_eur_per_mwh": price, "load_forecast_mw": load}, index=hours)


def test_lear_features_hold_lags_and_never_the_day_itself():
    days = pd.date_range("2020-01-06", periods=10, freq="D")
    prices = np.arange(240, dtype=float).reshape(10, 24)
    X, names = lear_features(prices, [prices + 1000], days)
    assert X.shape == (10, 24 * 4 + 24 * 3 + 7) == (10, len(names))
    t = 8
    assert X[t, names.index("price_d-1_h5")] == prices[t - 1, 5]
    assert X[t, names.index("price_d-7_h0")] == prices[t - 7, 0]
    assert X[t, names.index("exog0_d-0_h3")] == prices[t, 3] + 1000  # the day's own forecast
    assert not np.isin(prices[t], X[t, :96]).any()  # never the day's own prices
    assert X[t, names.index("dow1")] == 1.0  # 2020-01-14 is a Tuesday


def test_lear_learns_a_weekly_pattern_to_the_noise_level():
    frame = synthetic_history(130, noise=2.0, seed=5)
    P = daily_matrix(frame, "price_eur_per_mwh").to_numpy()
    X, _ = lear_features(P, [], pd.date_range("2020-01-06", periods=130, freq="D"))
    fit = fit_lear(X[7:110], P[7:110])
    # the oracle (the weekly pattern itself) has MAE 2 sqrt(2 / pi) = 1.60; D-1 persistence about 15
    mae = np.mean(np.abs(fit.predict(X[110:130]) - P[110:130]))
    assert mae < 1.3 * 2 * np.sqrt(2 / np.pi)


def test_bands_are_calibrated_on_iid_noise():
    frame = synthetic_history(150, noise=5.0, seed=1)
    model = DayAheadPriceForecaster(**SMALL)
    days = pd.date_range("2020-04-05", "2020-06-03", freq="D")
    medians = model.walk_forward(frame, days[0] - pd.Timedelta(days=28), days[-1])
    P = daily_matrix(frame, "price_eur_per_mwh").loc[days].to_numpy()
    q = np.array([model.fit(frame, day, medians=medians).predict_quantiles([0.05, 0.5, 0.95]).to_numpy()
                  for day in days])
    coverage = interval_coverage(q[..., 0], q[..., 2], P)
    assert 0.85 <= coverage <= 0.95
    # the 90 % band of N(0, 5^2) noise is 16.4 wide; estimation error of the median widens it a little
    assert 16.4 <= np.mean(q[..., 2] - q[..., 0]) <= 16.4 * 1.3
    # level recalibration and re-centring keep stationary errors calibrated
    other = DayAheadPriceForecaster(**SMALL, recalibrate_levels=True, recentre_errors=True)
    q2 = np.array([other.fit(frame, day, medians=medians).predict_quantiles([0.05, 0.95]).to_numpy()
                   for day in days])
    assert 0.85 <= interval_coverage(q2[..., 0], q2[..., 1], P) <= 0.95


def test_forecast_is_equivariant_to_price_unit_and_offset():
    """Scale-free targets: prices x 10 + 30 give quantiles x 10 + 30 (no cap, no hand rescaling)."""
    frame = synthetic_history(90, noise=4.0, seed=2)
    crisis = frame.assign(price_eur_per_mwh=10 * frame["price_eur_per_mwh"] + 30)
    day = pd.Timestamp("2020-03-30")
    base = DayAheadPriceForecaster(**SMALL).fit(frame, day).predict_quantiles([0.05, 0.5, 0.95])
    scaled = DayAheadPriceForecaster(**SMALL).fit(crisis, day).predict_quantiles([0.05, 0.5, 0.95])
    np.testing.assert_allclose(scaled.to_numpy(), 10 * base.to_numpy() + 30, rtol=1e-6)


def test_fit_reads_no_price_of_the_forecast_day_or_later():
    frame = synthetic_history(90, noise=4.0, seed=3)
    day = pd.Timestamp("2020-03-30")
    spoiled = frame.copy()
    spoiled.loc[day:, "price_eur_per_mwh"] = 1e6
    a = DayAheadPriceForecaster(**SMALL).fit(frame, day).predict_quantiles()
    b = DayAheadPriceForecaster(**SMALL).fit(spoiled, day).predict_quantiles()
    pd.testing.assert_frame_equal(a, b)


def test_quantiles_increase_with_level_and_samples_follow_the_copula():
    frame = synthetic_history(90, noise=4.0, seed=4)
    model = DayAheadPriceForecaster(**SMALL).fit(frame, "2020-03-30")
    q = model.predict_quantiles().to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    s = model.sample(4000, random_state=7)
    assert s.values.shape == (4000, 24, 1) and s.variables == ("p0_eur_per_mwh",)
    np.testing.assert_array_equal(s.values, model.sample(4000, random_state=7).values)
    # Spearman correlation of a Gaussian copula with correlation r is 6/pi asin(r/2)
    r = model.correlation_[10, 11]
    rho = stats.spearmanr(s.values[:, 10, 0], s.values[:, 11, 0])[0]
    assert rho == pytest.approx(6 / np.pi * np.arcsin(r / 2), abs=0.05)
    # Ledoit-Wolf shrinks the copula's correlations towards 0
    shrunk = DayAheadPriceForecaster(**SMALL, correlation_shrinkage="ledoit_wolf").fit(frame, "2020-03-30")
    off = ~np.eye(24, dtype=bool)
    assert np.abs(shrunk.correlation_[off]).mean() < np.abs(model.correlation_[off]).mean()
    # each hour's sample quantiles agree with predict_quantiles
    np.testing.assert_allclose(np.quantile(s.values[:, :, 0], 0.5, axis=0), model.predict_quantiles([0.5])[0.5],
                               atol=0.05 * (q[:, 94] - q[:, 4]).max())


def test_bad_parameters_name_the_field():
    frame = synthetic_history(60)
    with pytest.raises(ValueError, match="calibration_windows_days"):
        DayAheadPriceForecaster(calibration_windows_days=(7,)).fit(frame)
    with pytest.raises(ValueError, match="refit_every_days"):
        DayAheadPriceForecaster(calibration_windows_days=(28, 56), refit_every_days=(1,)).fit(frame)
    with pytest.raises(KeyError, match="wind_mw"):
        DayAheadPriceForecaster(exogenous_columns=("wind_mw",), **SMALL).fit(frame)
    with pytest.raises(ValueError, match="correlation_shrinkage"):
        DayAheadPriceForecaster(correlation_shrinkage=2.0, **SMALL).fit(frame)
    with pytest.raises(ValueError, match="recentre_errors"):
        DayAheadPriceForecaster(recentre_errors="yes", **SMALL).fit(frame)
    with pytest.raises(RuntimeError, match="not fitted"):
        DayAheadPriceForecaster().predict_quantiles()
    model = clone(DayAheadPriceForecaster(error_window_days=91))
    assert model.get_params()["error_window_days"] == 91


def test_epftoolbox_two_weeks_beat_the_seasonal_naive(shared_data):
    """On the real epftoolbox France data, 14 days of January 2015, one 56-day window refitted weekly."""
    history = load_epftoolbox(shared_data / "prices" / "epftoolbox_FR_2011_2016.csv", "FR")
    model = DayAheadPriceForecaster(calibration_windows_days=(56,), error_window_days=21, refit_every_days=7)
    days = pd.date_range("2015-01-04", "2015-01-17", freq="D")
    medians = model.walk_forward(history, days[0] - pd.Timedelta(days=21), days[-1])
    prices = daily_matrix(history.frame, "price_eur_per_mwh")
    t = prices.index.get_indexer(days)
    P = prices.to_numpy()
    naive = np.where(np.isin(days.dayofweek, (0, 5, 6))[:, None], P[t - 7], P[t - 1])
    mae = np.mean(np.abs(medians.loc[days].to_numpy() - P[t]))
    assert mae < 0.8 * np.mean(np.abs(naive - P[t]))
    q = np.array([model.fit(history, d, medians=medians).predict_quantiles().to_numpy() for d in days])
    levels = np.arange(1, 100) / 100
    # a deterministic forecast's CRPS is its MAE: the seasonal naive's is far above ours
    assert np.mean(crps_from_quantiles(q, levels, P[t])) < 0.8 * np.mean(np.abs(naive - P[t]))
    assert 0.75 <= interval_coverage(q[..., 4], q[..., 94], P[t]) <= 1.0


def test_paths_widen_with_lead_time_and_start_as_the_day_forecast(shared_data):
    """Two weeks of paths from 2014-10-01 on the epftoolbox data: the daily level's 90 % range grows."""
    history = load_epftoolbox(shared_data / "prices" / "epftoolbox_FR_2011_2016.csv", "FR")
    day = pd.Timestamp("2014-10-01")
    model = DayAheadPriceForecaster(calibration_windows_days=(56,), error_window_days=28, refit_every_days=7)
    model.fit(history, day)
    spoiled = history.frame.copy()
    spoiled.loc[day:, "price_eur_per_mwh"] = np.nan  # prices of the day and later are never read
    paths = model.sample_paths(1000, 14, spoiled, random_state=1)
    assert paths.values.shape == (1000, 14 * 24, 1)
    daily_mean = paths.values[:, :, 0].reshape(1000, 14, 24).mean(axis=2)
    spread = np.quantile(daily_mean, 0.95, axis=0) - np.quantile(daily_mean, 0.05, axis=0)
    assert spread[7:].mean() > 1.15 * spread[0]
    first_day = model.sample(1000, random_state=2).values[:, :, 0]
    np.testing.assert_allclose(np.median(paths.values[:, :24, 0], axis=0), np.median(first_day, axis=0),
                               atol=0.15 * spread[0])


def random_walk_prices(n_days=900, sigma=3.0, seed=0):
    """Daily level a Gaussian random walk (sd ``sigma`` EUR/MWh a day) + a fixed hourly shape + noise."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2019-01-01", periods=n_days, freq="D")
    level = 60 + np.cumsum(sigma * rng.standard_normal(n_days))
    shape = 15 * np.sin(2 * np.pi * (np.arange(24) - 6) / 24)
    P = level[:, None] + shape[None, :] + rng.standard_normal((n_days, 24))
    return pd.DataFrame(P, index=days, columns=range(24)), level, shape, rng


def test_level_state_spread_grows_like_the_random_walk_it_learnt():
    """For a random-walk level the daily mean at lead k has sd sigma sqrt(k) (day 1 given with sd sigma)."""
    sigma, n = 3.0, 4000
    prices, level, shape, rng = random_walk_prices(sigma=sigma)
    day = prices.index[-1] + pd.Timedelta(days=1)
    first = (level[-1] + sigma * rng.standard_normal(n))[:, None] + shape + rng.standard_normal((n, 24))
    paths = level_state_paths(first, prices, day, 8, window_days=728, same_weekday=False, random_state=1)
    assert paths.values.shape == (n, 8 * 24, 1)
    np.testing.assert_array_equal(paths.values[:, :24, 0], first)
    daily = paths.values[:, :, 0].reshape(n, 8, 24).mean(axis=2)
    np.testing.assert_allclose(daily.std(axis=0), sigma * np.sqrt(np.arange(1, 9)), rtol=0.1)
    assert np.all(np.diff(np.quantile(daily, 0.95, axis=0) - np.quantile(daily, 0.05, axis=0)) > 0)
    # the hourly shape of later days is the learnt one (peak-to-trough 30 EUR/MWh)
    later = paths.values[:, 5 * 24:6 * 24, 0].mean(axis=0)
    assert later.max() - later.min() == pytest.approx(30, rel=0.1)


def test_level_state_reads_no_price_of_the_day_or_later_and_checks_input():
    prices, level, shape, rng = random_walk_prices(n_days=400, seed=3)
    day = prices.index[300]
    first = level[299] + shape + rng.standard_normal((50, 24))
    a = level_state_paths(first, prices, day, 5, random_state=0)
    spoiled = prices.copy()
    spoiled.loc[day:] = 1e6
    b = level_state_paths(first, spoiled, day, 5, random_state=0)
    np.testing.assert_array_equal(a.values, b.values)
    with pytest.raises(ValueError, match="first_day"):
        level_state_paths(first[:, :23], prices, day, 5)
    with pytest.raises(ValueError, match="window_days"):
        level_state_paths(first, prices, day, 5, window_days=20)
    with pytest.raises(ValueError, match="prices must hold the days up to"):
        level_state_paths(first, prices.iloc[:200], day, 5)


def test_forecaster_level_paths_start_with_its_day_and_read_no_later_price():
    frame = synthetic_history(150, noise=5.0, seed=2)
    day = pd.Timestamp("2020-05-20")
    model = DayAheadPriceForecaster(**SMALL).fit(frame, day)
    spoiled = frame.copy()
    spoiled.loc[day:, "price_eur_per_mwh"] = np.nan
    paths = model.sample_level_paths(400, 5, spoiled, window_days=120, random_state=3)
    assert paths.values.shape == (400, 5 * 24, 1) and np.isfinite(paths.values).all()
    first = model.sample(400, random_state=4).values[:, :, 0]
    np.testing.assert_allclose(np.median(paths.values[:, :24, 0], axis=0), np.median(first, axis=0), atol=3.0)
    again = model.sample_level_paths(400, 5, frame, window_days=120, random_state=3)
    np.testing.assert_array_equal(again.values, paths.values)
