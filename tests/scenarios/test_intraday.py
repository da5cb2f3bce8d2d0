"""Intraday top-up (p1) and resale (p2) prices: ordering, means against hand calculations, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import clone

from scenarios.intraday import P0, P1, P2, IntradayResaleModel, load_error_premium_ratios
from scenarios.scenario_set import ScenarioSet


def _p0_set(p0: np.ndarray) -> ScenarioSet:
    n = p0.shape[0]
    return ScenarioSet(p0[:, :, None], np.full(n, 1.0 / n), (P0,))


@pytest.fixture(scope="module")
def p0_paths():
    rng = np.random.default_rng(0)
    # prices of every sign, including exact zeros and spikes
    base = rng.normal(40.0, 35.0, size=(1, 48))
    base[0, :3] = [0.0, -20.0, 500.0]
    return np.repeat(base, 4000, axis=0)


def test_ordering_everywhere(p0_paths):
    out = IntradayResaleModel(premium_ratio_std=0.3, resale_discount_ratio_std=0.3).sample(
        _p0_set(p0_paths), random_state=1)
    assert out.variables == (P0, P1, P2)
    assert np.array_equal(out[P0], p0_paths)
    assert np.all(out[P2] <= out[P0]) and np.all(out[P0] <= out[P1])
    assert np.all(out[P1] - out[P0] >= 2.0)  # the minimum premium
    assert np.all(out[P0] - out[P2] >= 1.0)  # the resale fee


def test_mean_premium_and_discount_match_hand_calculation(p0_paths):
    model = IntradayResaleModel(premium_ratio_mean=0.12, premium_ratio_std=0.1,
                                min_premium_eur_per_mwh=3.0, resale_discount_ratio_mean=0.08,
                                resale_discount_ratio_std=0.05, resale_fee_eur_per_mwh=1.5)
    out = model.sample(_p0_set(p0_paths), random_state=2)
    a = np.abs(p0_paths[0])
    # hand calculation: R lognormal with mean 0.12, sd 0.1 -> s^2 = ln(1 + (0.1/0.12)^2)
    s2 = np.log(1 + (0.1 / 0.12) ** 2)
    mu, s = np.log(0.12) - s2 / 2, np.sqrt(s2)
    with np.errstate(divide="ignore"):
        k = np.log(3.0 / a)  # premium = max(3, a R): 3 when R < 3 / a
        expected = np.where(a > 0, 3.0 * norm.cdf((k - mu) / s)
                            + a * 0.12 * norm.cdf((mu + s2 - k) / s), 3.0)
    assert np.allclose(model.expected_premium_eur_per_mwh(p0_paths[0]), expected)
    premium = (out[P1] - out[P0]).mean(axis=0)
    se = (out[P1] - out[P0]).std(axis=0) / np.sqrt(len(out)) + 1e-9
    assert np.all(np.abs(premium - expected) < 5 * se)
    assert abs(premium.mean() / expected.mean() - 1) < 0.01
    discount = (out[P0] - out[P2]).mean(axis=0)
    assert np.allclose(discount, 1.5 + 0.08 * a, rtol=0.02, atol=0.05)


def test_without_floor_the_premium_is_the_ratio_mean(p0_paths):
    model = IntradayResaleModel(premium_ratio_mean=0.2, premium_ratio_std=0.05,
                                min_premium_eur_per_mwh=0.0)
    out = model.sample(_p0_set(p0_paths), random_state=3)
    ratio = (out[P1] - out[P0])[:, 3:] / np.abs(out[P0][:, 3:])
    assert abs(ratio.mean() - 0.2) < 0.002
    assert abs(ratio.std() - 0.05) < 0.002
    # hourly correlation of the driving normal series: log-ratio lag-one correlation
    x = np.log(ratio)
    # (pooled over scenarios: every hour is N(mu, s), no small-sample bias of per-path estimates)
    lag = np.corrcoef(x[:, 1:].ravel(), x[:, :-1].ravel())[0, 1]
    assert abs(lag - 0.7) < 0.02


def test_same_seed_same_output(p0_paths):
    model = IntradayResaleModel()
    a = model.sample(_p0_set(p0_paths[:10]), random_state=5)
    b = model.sample(_p0_set(p0_paths[:10]), random_state=5)
    c = model.sample(_p0_set(p0_paths[:10]), random_state=6)
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)


def test_estimator_contract_clone_set_params_and_checks_in_fit():
    model = IntradayResaleModel(premium_ratio_mean=0.2)
    copy = clone(model)
    assert copy is not model and copy.get_params(deep=True) == model.get_params(deep=True)
    assert copy.set_params(hourly_correlation=0.5) is copy
    assert (copy.hourly_correlation, model.hourly_correlation) == (0.5, 0.7)
    copy.set_params(resale_fee_eur_per_mwh=-1.0)  # accepted until fit
    with pytest.raises(ValueError, match="resale_fee_eur_per_mwh"):
        copy.fit()


def test_validation_messages(p0_paths):
    with pytest.raises(ValueError, match="premium_ratio_mean must be > 0"):
        IntradayResaleModel(premium_ratio_mean=0).sample(_p0_set(p0_paths[:2]))
    with pytest.raises(ValueError, match="hourly_correlation must be in"):
        IntradayResaleModel(hourly_correlation=1.0).fit()
    with pytest.raises(KeyError, match="lacks variable 'p0_eur_per_mwh'"):
        bad = ScenarioSet(np.zeros((2, 3, 1)), [0.5, 0.5], ("load_kw",))
        IntradayResaleModel().sample(bad)


def _linear_market(n_days=200, b=0.001, mu=np.log(0.05), s=0.8, seed=0):
    """Price = 10 + b x load forecast exactly; actual load off by an error whose implied ratio
    |b e| / p is lognormal(mu, s) with a random sign."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=24 * n_days, freq="h")
    forecast = 60000 + 8000 * np.sin(np.arange(len(index)) / 24 * 2 * np.pi) + 3000 * rng.standard_normal(len(index))
    price = 10 + b * forecast
    ratio = np.exp(mu + s * rng.standard_normal(len(index)))
    actual = forecast + rng.choice([-1, 1], len(index)) * ratio * price / b
    frame = pd.DataFrame({"price_eur_per_mwh": price, "load_forecast_mw": forecast, "load_actual_mw": actual},
                         index=index)
    return frame, pd.Series(ratio, index=index)


def test_load_error_ratios_recover_the_implied_deviation_and_the_lognormal():
    frame, ratio = _linear_market()
    got = load_error_premium_ratios(frame, "2021-02-01", "2021-07-01")
    np.testing.assert_allclose(got.to_numpy(), ratio.loc[got.index].to_numpy(), rtol=1e-6)
    model = IntradayResaleModel.from_load_errors(frame, "2021-02-01", "2021-07-01")
    true = np.exp(np.log(0.05) + 0.8 * norm.ppf([0.05, 0.5, 0.95]))
    np.testing.assert_allclose(model.ratio_quantiles([0.05, 0.5, 0.95]), true, rtol=0.08)
    assert model.hourly_correlation == pytest.approx(0.0, abs=0.05)  # independent errors hour to hour
    assert model.premium_ratio_mean == model.resale_discount_ratio_mean


def test_load_error_ratios_read_no_price_of_the_day_for_the_slope_and_check_input():
    frame, _ = _linear_market(n_days=60, seed=1)
    a = load_error_premium_ratios(frame, "2021-02-10", "2021-02-10")
    spoiled = frame.copy()
    spoiled.loc["2021-02-11":, "price_eur_per_mwh"] *= 5  # later prices do not move day 10's slope
    b = load_error_premium_ratios(spoiled, "2021-02-10", "2021-02-10")
    pd.testing.assert_series_equal(a, b)
    with pytest.raises(KeyError, match="load_actual_mw"):
        load_error_premium_ratios(frame.drop(columns="load_actual_mw"), "2021-02-10", "2021-02-20")
    with pytest.raises(ValueError, match="slope_window_days"):
        load_error_premium_ratios(frame, "2021-02-10", "2021-02-20", slope_window_days=1)


def test_load_error_proxy_bands_cover_2022(entsoe_history):
    """Fit on 2015-2021, check on 2022: the 90 % band of the premium ratio covers the proxy's 2022 hours."""
    frame = entsoe_history.between("2015-01-05", "2022-12-31").frame
    model = IntradayResaleModel.from_load_errors(frame, "2015-02-01", "2021-12-31")
    lo, hi = model.ratio_quantiles([0.05, 0.95])
    r = load_error_premium_ratios(frame, "2022-01-01", "2022-12-31")
    assert 0.85 <= float(((r >= lo) & (r <= hi)).mean()) <= 0.95
