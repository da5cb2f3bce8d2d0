"""Joint price-wind scenarios: the daily dependence estimated from France 2015-2018 is reproduced
(windy days are cheap), vanishes with a zero-correlation joint model, and the clocks line up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr, ndtri
from sklearn.base import clone

from scenarios.joint import JointModel, hour_positions
from scenarios.price import P0, DayAheadPriceModel
from scenarios.pv import PVModel
from scenarios.scenario_set import ScenarioSet
from scenarios.wind import WindModel

FIT_START, FIT_END = "2015-01-05", "2018-12-31"
N_YEARS = 40


class NationalWindProxy:
    """A small real wind model: France's onshore capacity factor from the day-ahead forecast.

    CF = 0.22 x forecast / its trailing one-year mean (removes the capacity growth). Daily means
    have empirical marginals per month; their normal scores (within-month ranks) are the latent
    'wind_level', AR(1) from day to day; hours = daily mean x the month's mean diurnal shape.
    """

    variable = "wind_capacity_factor:france"

    def _daily(self, history):
        w = history["wind_onshore_forecast_mw"]
        cf = (0.22 * w / w.rolling(24 * 365, min_periods=24 * 60).mean()).clip(0, 1)
        wide = pd.DataFrame({"d": cf.index.normalize(), "h": cf.index.hour, "v": cf.to_numpy()})
        return wide.pivot(index="d", columns="h", values="v").dropna()

    def fit(self, history):
        wide = self._daily(history)
        daily = wide.mean(axis=1)
        months = daily.index.month.to_numpy()
        self.marginals_ = [np.sort(daily[months == m].to_numpy()) for m in range(1, 13)]
        self.shape_ = np.array([(wide[months == m].to_numpy() / daily[months == m].to_numpy()[:, None]
                                 ).mean(axis=0) for m in range(1, 13)])
        z = self.latent_history(history)["wind_level"]
        self.persistence_ = float(z.autocorr(1))
        return self

    def latent_history(self, history):
        daily = self._daily(history).mean(axis=1)
        ranks = daily.groupby(daily.index.month).rank()
        counts = daily.groupby(daily.index.month).transform("count")
        z = ndtri((ranks - 0.5) / counts)
        return pd.DataFrame({"wind_level": z.to_numpy()}, index=pd.DatetimeIndex(daily.index, name="date"))

    def sample(self, n, start, days, *, random_state=None, latent=None):
        rng = np.random.default_rng(random_state)
        if latent is None:
            e = rng.standard_normal((n, days))
            latent = np.empty((n, days))
            latent[:, 0] = e[:, 0]
            phi = self.persistence_
            for t in range(1, days):
                latent[:, t] = phi * latent[:, t - 1] + np.sqrt(1 - phi**2) * e[:, t]
        calendar = pd.date_range(pd.Timestamp(start).normalize(), periods=days, freq="D")
        u = ndtr(latent)
        daily = np.empty((n, days))
        for m in range(1, 13):
            cols = calendar.month == m
            srt = self.marginals_[m - 1]
            daily[:, cols] = np.interp(u[:, cols], (np.arange(len(srt)) + 0.5) / len(srt), srt)
        hourly = (daily[:, :, None] * self.shape_[calendar.month - 1][None]).clip(0, 1)
        return ScenarioSet(hourly.reshape(n, -1, 1), np.full(n, 1 / n), (self.variable,),
                           start=calendar[0],
                           metadata={"timezone": "Europe/Paris", "wall_clock_24h": True})


def _anomaly_correlation(price_daily, wind_daily, days):
    """Correlation of daily means after removing each (year, month) mean: the day-to-day link."""
    frame = pd.DataFrame({"p": price_daily, "w": wind_daily}, index=days)
    anomalies = frame - frame.groupby([days.year, days.month]).transform("mean")
    return float(anomalies.corr().iloc[0, 1])


@pytest.fixture(scope="module")
def training(entsoe_history):
    return entsoe_history.between(FIT_START, FIT_END)


@pytest.fixture(scope="module")
def models(training):
    price = DayAheadPriceModel(use_forecasts=False).fit(training)
    wind = NationalWindProxy().fit(training)
    return {"price": price, "wind": wind}


@pytest.fixture(scope="module")
def data_correlation(training, models):
    wide = models["wind"]._daily(training)
    price = training["price_eur_per_mwh"]
    price_daily = price.groupby(price.index.normalize()).mean().reindex(wide.index)
    return _anomaly_correlation(price_daily.to_numpy(), wide.mean(axis=1).to_numpy(), wide.index)


def _generated_correlation(s: ScenarioSet, wind_variable: str, days: int) -> float:
    calendar = pd.date_range("2019-01-01", periods=days, freq="D")
    p = s[P0].reshape(s.n_scenarios, days, 24).mean(axis=2)
    w = s[wind_variable].reshape(s.n_scenarios, days, 24).mean(axis=2)
    return float(np.mean([_anomaly_correlation(p[i], w[i], calendar) for i in range(s.n_scenarios)]))


def test_joint_model_reproduces_price_wind_correlation(models, training, data_correlation):
    assert data_correlation < -0.2  # France: windy days are cheap
    joint = JointModel(models, timezone="Europe/Paris").fit(training)
    assert joint.correlation_[0, 1] < -0.2
    s = joint.sample(N_YEARS, start="2019-01-01", days=365, random_state=3)
    assert s.variables == (P0, NationalWindProxy.variable)
    generated = _generated_correlation(s, NationalWindProxy.variable, 365)
    print(f"daily price-wind anomaly correlation: data {data_correlation:.3f}, generated {generated:.3f}")
    assert abs(generated - data_correlation) < 0.1
    # without dependence the link disappears
    independent = JointModel(models, shrinkage=1.0, timezone="Europe/Paris").fit(training)
    s0 = independent.sample(N_YEARS, start="2019-01-01", days=365, random_state=3)
    assert abs(_generated_correlation(s0, NationalWindProxy.variable, 365)) < 0.04


def test_sampled_latents_have_fitted_correlation_and_persistence(models, training):
    joint = JointModel(models).fit(training)
    z = joint.sample_latents(200, 200, random_state=0)
    assert np.allclose(np.corrcoef(z.reshape(-1, 2), rowvar=False), joint.correlation_, atol=0.02)
    for j in range(2):
        lag = np.corrcoef(z[:, 1:, j].ravel(), z[:, :-1, j].ravel())[0, 1]
        assert abs(lag - joint.persistence_[j]) < 0.02
    assert abs(joint.persistence_[0] - models["price"].level_persistence_) < 0.05
    same = joint.sample(2, start="2019-06-01", days=3, random_state=9)
    again = joint.sample(2, start="2019-06-01", days=3, random_state=9)
    assert np.array_equal(same.values, again.values)


def test_clock_positions_hand_checked():
    first_day = pd.Timestamp("2019-03-30")  # model output starts at local midnight of this day
    targets = pd.date_range("2019-03-31 00:00", periods=4, freq="h", tz="UTC")
    # 00:00Z = 01:00 CET (hour 25 from 30 March 00:00), 01:00Z = 03:00 CEST (27: 02:00 skipped)
    assert hour_positions(targets, first_day, "Europe/Paris", True).tolist() == [25, 27, 28, 29]
    assert hour_positions(targets, first_day, "UTC", False).tolist() == [24, 25, 26, 27]
    autumn = pd.date_range("2019-10-27 00:00", periods=3, freq="h", tz="UTC")
    # 00:00Z = 02:00 CEST, 01:00Z = 02:00 CET (the repeated hour), 02:00Z = 03:00 CET
    assert hour_positions(autumn, pd.Timestamp("2019-10-26"), "Europe/Paris", True).tolist() == [26, 26, 27]


def test_with_the_project_wind_model(ouessant, models, training):
    """The renewables engineer's WindModel (Ouessant speeds, national capacity-factor latent)."""
    site = ouessant
    wind = WindModel().fit(site, measurement_height_m=10)
    cf = models["wind"]._daily(training).stack()
    stamps = cf.index.get_level_values(0) + pd.to_timedelta(cf.index.get_level_values(1), unit="h")
    cf_utc = pd.Series(cf.to_numpy(), index=stamps).tz_localize(
        "Europe/Paris", ambiguous="NaT", nonexistent="NaT")
    cf_utc = cf_utc[cf_utc.index.notna()].tz_convert("UTC")
    latents = {"price": models["price"].latent_history(training),
               "wind": wind.latent_history(pd.DataFrame({"capacity_factor": cf_utc}))}
    both = {"price": models["price"], "wind": wind}
    joint = JointModel(both).fit_latents(latents)
    s = joint.sample(30, start="2019-01-01", days=365, random_state=4)
    assert s.metadata["timezone"] == "UTC" and s.start == pd.Timestamp("2019-01-01", tz="UTC")
    power = [v for v in s.variables if v.startswith("wind_kw_per_turbine")][0]
    generated = _generated_correlation(s, power, 365)
    independent = JointModel(both, shrinkage=1.0).fit_latents(latents)
    s0 = independent.sample(30, start="2019-01-01", days=365, random_state=4)
    print(f"price vs one turbine's output: generated {generated:.3f}, independent "
          f"{_generated_correlation(s0, power, 365):.3f}")
    # one turbine is noisier than the national fleet, so the link is weaker but clearly negative
    assert generated < -0.08
    assert abs(_generated_correlation(s0, power, 365)) < 0.05


def test_estimator_contract_clone_set_params_and_checks_in_fit():
    model = JointModel({"price": DayAheadPriceModel()}, shrinkage=0.5, timezone="Europe/Paris")
    copy = clone(model)
    assert copy is not model and copy.get_params(deep=True).keys() == model.get_params(deep=True).keys()
    assert list(copy.models) == ["price"] and copy.models["price"] is not model.models["price"]
    assert copy.set_params(shrinkage=0.2, persistence=False) is copy
    assert (copy.shrinkage, copy.persistence, model.shrinkage) == (0.2, False, 0.5)
    for bad, word in (({"shrinkage": 2.0}, "shrinkage"), ({"detrend": "year"}, "detrend"),
                      ({"models": {}}, "models")):
        unchecked = clone(model).set_params(**bad)  # accepted until fit
        with pytest.raises(ValueError, match=word):
            unchecked.fit(None)


def test_fit_errors(models):
    with pytest.raises(ValueError, match="non-empty dict"):
        JointModel({}).fit(None)
    with pytest.raises(ValueError, match="latent histories missing"):
        JointModel(models).fit_latents({"price": pd.DataFrame({"p0_level": [0.0]})})
    with pytest.raises(ValueError, match="shrinkage must be"):
        JointModel(models, shrinkage=2.0).fit(None)


def test_price_pv_wind_joint_set_on_one_clock(ouessant, models, training):
    """Price (local wall clock) + the project's PV and wind models (UTC) fitted on Ouessant 2016."""
    site = ouessant
    pv = PVModel().fit(site)
    wind = WindModel().fit(site, measurement_height_m=10)
    joint = JointModel({"price": models["price"], "pv": pv, "wind": wind}).fit(
        {"price": training, "pv": site, "wind": site})
    assert joint.n_days_ >= 360  # the days of 2016 common to both sources
    assert np.allclose(np.diag(joint.correlation_), 1.0)
    assert np.linalg.eigvalsh(joint.correlation_).min() > 0
    s = joint.sample(3, start="2025-06-01", days=3, random_state=1)
    assert s.values.shape == (3, 72, len(s.variables)) and s.variables[0] == P0
    pv_out = s["pv_kw_per_kwp"]
    utc_hours = pd.date_range("2025-06-01", periods=72, freq="h", tz="UTC").hour
    night = (utc_hours >= 22) | (utc_hours <= 2)  # Ouessant, June: dark from 22:00 to 03:00 UTC
    assert np.all(pv_out[:, night] == 0) and pv_out.max() > 0.3
    again = joint.sample(3, start="2025-06-01", days=3, random_state=1)
    assert np.array_equal(s.values, again.values)
