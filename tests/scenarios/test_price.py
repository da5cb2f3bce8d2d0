"""Day-ahead price model: realism of unconditional years (France 2015-2018) and skill of the
conditional mode on held-out 2019 days against a climatological bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from scenarios.metrics import energy_score, variogram_score
from scenarios.price import P0, DayAheadPriceModel, day_types

FIT_START, FIT_END = "2015-01-05", "2018-12-31"


@pytest.fixture(scope="module")
def history(entsoe_history):
    return entsoe_history


@pytest.fixture(scope="module")
def model(history):
    return DayAheadPriceModel(fit_start=FIT_START, fit_end=FIT_END).fit(history)


@pytest.fixture(scope="module")
def training_prices(history):
    return history["price_eur_per_mwh"].loc[FIT_START:"2018-12-31 23:00"]


def test_estimator_contract_clone_set_params_and_checks_in_fit():
    alphas = (1.0, 10.0)
    model = DayAheadPriceModel(fit_start=FIT_START, fit_end=FIT_END, ridge_alphas=alphas)
    assert model.ridge_alphas is alphas  # stored unchanged
    copy = clone(model)
    assert copy is not model and copy.get_params(deep=True) == model.get_params(deep=True)
    assert copy.set_params(marginal_groups="month", level_adaptation_days=0) is copy
    assert copy.marginal_groups == "month" and model.marginal_groups == "season"
    for bad, word in (({"marginal_groups": "week"}, "marginal_groups"), ({"ridge_alphas": ()}, "ridge_alphas"),
                      ({"residual_scale_power": -1}, "residual_scale_power"),
                      ({"level_adaptation_days": -3}, "level_adaptation_days")):
        unchecked = clone(model).set_params(**bad)  # accepted until fit
        with pytest.raises(ValueError, match=word):
            unchecked.fit(None)
        with pytest.raises(ValueError, match=word):
            DayAheadPriceModel(**bad).fit(None)


def test_day_types_use_french_holidays():
    days = pd.to_datetime(["2019-05-08", "2019-05-09", "2019-05-11", "2019-05-12", "2019-06-10"])
    assert day_types(days).tolist() == [2, 0, 1, 2, 2]  # 8 May and Whit Monday are holidays


def test_unconditional_years_reproduce_training_statistics(model, training_prices):
    n = 100
    s = model.sample(n, start="2019-01-01", years=1, random_state=7)
    p = s[P0]
    assert p.shape == (n, 8760) and s.variables == (P0,)
    hours = pd.date_range("2019-01-01", periods=8760, freq="h")
    data_month = training_prices.groupby(training_prices.index.month).mean().to_numpy()
    gen_month = np.array([p[:, hours.month == m].mean() for m in range(1, 13)])
    assert np.all(np.abs(gen_month / data_month - 1) < 0.05), gen_month / data_month
    data_neg = (training_prices < 0).mean()
    gen_neg = (p < 0).mean()
    assert 1 / 1.5 < gen_neg / data_neg < 1.5, (gen_neg, data_neg)
    data_ac = training_prices.autocorr(1)
    gen_ac = np.mean([np.corrcoef(x[1:], x[:-1])[0, 1] for x in p])
    assert abs(gen_ac - data_ac) < 0.1, (gen_ac, data_ac)
    # the daily level persists from day to day as in the data (AR(1) on the level factor)
    daily = p.reshape(n, 365, 24).mean(axis=2)
    gen_day_ac = np.mean([np.corrcoef(x[1:], x[:-1])[0, 1] for x in daily])
    data_daily = training_prices.groupby(training_prices.index.normalize()).mean()
    assert gen_day_ac > 0.5 and abs(gen_day_ac - data_daily.autocorr(1)) < 0.15


def test_conditional_mode_beats_climatology_on_2019(model, history, training_prices):
    rng = np.random.default_rng(0)
    days = pd.date_range("2019-01-01", "2019-12-31", freq="D")
    days = days[np.sort(rng.choice(len(days), 60, replace=False))]
    train = training_prices.to_frame("p")
    train = train.assign(day=train.index.normalize(), hour=train.index.hour).pivot(
        index="day", columns="hour", values="p")
    price = history["price_eur_per_mwh"]
    scores = []
    for d in days:
        obs = price.loc[d: d + pd.Timedelta(hours=23)].to_numpy()
        cond = model.sample_day(100, d, history, random_state=1)[P0]
        pool = train[train.index.month == d.month].to_numpy()
        clim = pool[rng.choice(len(pool), 100)]
        yesterday = price.loc[d - pd.Timedelta(days=1): d - pd.Timedelta(hours=1)].to_numpy()
        last_week = price.loc[d - pd.Timedelta(days=7): d - pd.Timedelta(days=6, hours=1)].to_numpy()
        scores.append([
            energy_score(cond, obs), energy_score(clim, obs),
            variogram_score(cond, obs), variogram_score(clim, obs),
            np.abs(np.median(cond, axis=0) - obs).mean(),
            np.abs(yesterday - obs).mean(), np.abs(last_week - obs).mean(),
        ])
    es_c, es_b, vs_c, vs_b, mae_med, mae_d1, mae_d7 = np.mean(scores, axis=0)
    print(f"ES {es_c:.2f} vs {es_b:.2f}; VS {vs_c:.1f} vs {vs_b:.1f}; "
          f"MAE median {mae_med:.2f}, D-1 {mae_d1:.2f}, D-7 {mae_d7:.2f}")
    assert es_c < es_b and vs_c < vs_b
    assert mae_med < mae_d1 and mae_med < mae_d7  # the median beats both persistences


def test_conditional_mode_ignores_the_day_own_prices(model, history):
    day = pd.Timestamp("2019-03-05")
    a = model.sample_day(20, day, history, random_state=3)
    frame = history.frame.copy()
    frame.loc[day: day + pd.Timedelta(hours=23), "price_eur_per_mwh"] = 1000.0
    frame.loc[day + pd.Timedelta(days=1):, "price_eur_per_mwh"] = -50.0
    b = model.sample_day(20, day, frame, random_state=3)
    assert np.array_equal(a.values, b.values)
    # but the day's forecasts matter: a much windier forecast lowers the prices
    windy = {"wind_onshore_forecast_mw": np.full(24, 12_000.0)}
    c = model.sample_day(20, day, history, forecasts=windy, random_state=3)
    assert c[P0].mean() < a[P0].mean()


def test_same_seed_same_output_and_json_round_trip(model, tmp_path):
    a = model.sample(4, start="2020-02-01", days=40, random_state=11)
    b = model.sample(4, start="2020-02-01", days=40, random_state=11)
    c = model.sample(4, start="2020-02-01", days=40, random_state=12)
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)
    path = model.to_json(tmp_path / "price.json")
    assert path.stat().st_size < 400_000
    loaded = DayAheadPriceModel.from_json(path)
    assert loaded.get_params() == model.get_params()
    # the JSON keeps 250 order statistics per marginal (extremes exact): same law, tiny differences
    big = model.sample(50, start="2020-01-01", years=1, random_state=11)[P0]
    big_loaded = loaded.sample(50, start="2020-01-01", years=1, random_state=11)[P0]
    assert np.abs(big - big_loaded).mean() < 0.1
    assert abs(big.mean() - big_loaded.mean()) < 0.05
    assert big.max() == pytest.approx(big_loaded.max(), abs=0.01)  # the extremes are kept
    # a second round trip is exact
    again = DayAheadPriceModel.from_json(loaded.to_json(tmp_path / "again.json"))
    d = again.sample(4, start="2020-02-01", days=40, random_state=11)
    e = loaded.sample(4, start="2020-02-01", days=40, random_state=11)
    assert np.abs(d.values - e.values).max() < 1e-9


def test_price_level_rescales_years(model):
    s = model.sample(60, start="2025-01-01", years=2, random_state=5,
                     price_level_eur_per_mwh={2025: 80.0, 2026: 120.0})
    hours = pd.date_range("2025-01-01", periods=s.n_periods, freq="h")
    assert abs(s[P0][:, hours.year == 2025].mean() / 80.0 - 1) < 0.03
    assert abs(s[P0][:, hours.year == 2026].mean() / 120.0 - 1) < 0.03


def test_latent_contract_round_trip(model):
    rng = np.random.default_rng(2)
    latent = rng.standard_normal((3, 30))
    s = model.sample(3, start="2019-04-01", days=30, random_state=0, latent=latent)
    hours = pd.date_range("2019-04-01", periods=30 * 24, freq="h")
    for i in range(3):
        recovered = model.latent_history(pd.DataFrame({"price_eur_per_mwh": s[P0][i]}, index=hours))
        assert list(recovered.columns) == ["p0_level"]
        assert np.corrcoef(recovered["p0_level"], latent[i])[0, 1] > 0.98
    with pytest.raises(ValueError, match="latent must have shape"):
        model.sample(3, start="2019-04-01", days=30, latent=latent[:, :10])


def test_input_errors(model, history):
    with pytest.raises(ValueError, match="exactly one of days="):
        model.sample(2, start="2019-01-01")
    with pytest.raises(ValueError, match="periods must be a positive multiple of 24"):
        model.sample(2, start="2019-01-01", periods=30)
    with pytest.raises(KeyError, match="lacks column 'price_eur_per_mwh'"):
        DayAheadPriceModel().fit(history.frame.drop(columns=["price_eur_per_mwh"]))
    with pytest.raises(RuntimeError, match="not fitted"):
        DayAheadPriceModel().sample(1, start="2019-01-01", days=1)


def test_level_adaptation_follows_the_2022_regime(model, history):
    """Held-out 2022 (energy crisis, 276 EUR/MWh on average): prices far above anything fitted."""
    import copy

    fixed = copy.copy(model)
    fixed.level_adaptation_days = 0
    price = history["price_eur_per_mwh"]
    errors = []
    for d in pd.date_range("2022-01-10", "2022-12-20", freq="17D"):
        obs = price.loc[d: d + pd.Timedelta(hours=23)].to_numpy()
        adaptive = np.median(model.sample_day(50, d, history, random_state=0)[P0], axis=0)
        frozen = np.median(fixed.sample_day(50, d, history, random_state=0)[P0], axis=0)
        yesterday = price.loc[d - pd.Timedelta(days=1): d - pd.Timedelta(hours=1)].to_numpy()
        errors.append([np.abs(adaptive - obs).mean(), np.abs(frozen - obs).mean(),
                       np.abs(yesterday - obs).mean()])
    adaptive, frozen, persistence = np.mean(errors, axis=0)
    print(f"2022 MAE: adaptive {adaptive:.1f}, fixed range {frozen:.1f}, D-1 {persistence:.1f}")
    assert adaptive < 0.5 * frozen
    assert adaptive < persistence
