"""Tests of scenarios.forecast_error: conditional scenarios of France's PV and wind output given the
day-ahead forecast, fitted on 2015 and judged on 2016 (energy score, rank histograms)."""


import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from scenarios.calibration import france_forecast_capacity_factors, read_entsoe_forecasts, rolling_bias_corrected
from scenarios.forecast_error import ForecastErrorModel, evaluate_by_day
from scenarios.metrics import chi_square_flatness
from scenarios.pv import FRANCE_PV_SITE, PVModel
from scenarios.wind import WindModel

UTC_2016 = pd.date_range("2016-01-01", periods=366 * 24, freq="h", tz="UTC")
A_WEEK = pd.date_range("2016-06-01", periods=7 * 24, freq="h", tz="UTC")


@pytest.fixture(scope="module")
def france(shared_data, france_capacity_factors):
    actual = france_capacity_factors
    raw = read_entsoe_forecasts(shared_data)
    forecast = {y: france_forecast_capacity_factors(shared_data, y, raw) for y in (2015, 2016)}
    out = {"actual": actual, "forecast_raw": forecast, "forecast": {}}
    for key, col in (("pv", "PHOT"), ("wind", "WTON")):
        act = pd.concat([actual[2015][col], actual[2016][col]])
        act = act[~act.index.duplicated()]
        fc = pd.concat([forecast[2015][key], forecast[2016][key]])
        fc = fc[~fc.index.duplicated()]
        corrected = rolling_bias_corrected(fc, act.reindex(fc.index))  # past actuals only
        out["forecast"][key] = {y: corrected.loc[str(y)] for y in (2015, 2016)}
    return out


def test_invalid_inputs_and_unfitted_model():
    forecast, actual = pd.Series(0.2, index=A_WEEK), pd.Series(0.3, index=A_WEEK)
    with pytest.raises(ValueError, match="epsilon"):
        ForecastErrorModel(epsilon=0).fit(forecast, actual)
    with pytest.raises(ValueError, match="n_level_bins"):
        ForecastErrorModel(n_level_bins=0).fit(forecast, actual)
    with pytest.raises(RuntimeError, match="not fitted"):
        ForecastErrorModel().sample(2, np.zeros(24), start="2016-01-01")


def test_estimator_contract_clone_set_params_and_checks_in_fit():
    model = ForecastErrorModel("wind_kw_per_turbine", 2300.0, epsilon=0.01, inactive_threshold=0.0)
    copy = clone(model)
    assert copy is not model and copy.get_params(deep=True) == model.get_params(deep=True)
    assert copy.set_params(n_level_bins=4, by_hour=False) is copy
    assert (copy.n_level_bins, copy.by_hour, model.n_level_bins) == (4, False, 8)
    copy.set_params(capacity_kw=-1.0)  # accepted until fit
    with pytest.raises(ValueError, match="capacity_kw"):
        copy.fit(pd.Series(0.2, index=A_WEEK), pd.Series(0.3, index=A_WEEK))


def test_scenarios_follow_the_forecast(france):
    model = ForecastErrorModel(epsilon=0.01, inactive_threshold=0.03).fit(
        france["forecast"]["pv"][2015], france["actual"][2015]["PHOT"])
    day = france["forecast"]["pv"][2016].loc["2016-06-15"]
    sc = model.sample(200, day, random_state=0)
    x = sc["pv_kw_per_kwp"]
    assert x.shape == (200, 24) and x.min() >= 0 and x.max() <= 1
    assert np.all(x[:, day.to_numpy() <= 0.03] == 0)  # night
    # the scenario mean tracks the forecast's shape
    assert np.corrcoef(x.mean(axis=0), day.to_numpy())[0, 1] > 0.95
    np.testing.assert_array_equal(sc.values, model.sample(200, day, random_state=0).values)
    wide = model.sample(200, day, random_state=0, spread_scale=2.0)["pv_kw_per_kwp"]
    assert wide[:, 10:14].std(axis=0).mean() > 1.5 * x[:, 10:14].std(axis=0).mean()
    with pytest.raises(ValueError, match="spread_scale"):
        model.sample(2, day, spread_scale=0)
    again = ForecastErrorModel.from_json(model.to_json()).sample(200, day, random_state=0)
    np.testing.assert_allclose(again.values, sc.values, atol=1e-6)


@pytest.mark.parametrize("key, col", [("pv", "PHOT"), ("wind", "WTON")])
def test_conditional_beats_unconditional_on_2016(france, windpowerlib_weather, key, col):
    actual, forecast = france["actual"], france["forecast"][key]
    if key == "pv":
        model = ForecastErrorModel(epsilon=0.01, inactive_threshold=0.03)
        uncond = PVModel(**FRANCE_PV_SITE).fit(actual[2015]["PHOT"]).sample(
            40, start="2016-01-01", days=366, random_state=0)["pv_kw_per_kwp"]
        outer_bound = 2.0  # achieved: about 1.2
    else:
        model = ForecastErrorModel("wind_cf", epsilon=0.01, inactive_threshold=0.0)
        weather = windpowerlib_weather
        wind = WindModel().fit(weather["wind_speed_80m_m_per_s"], 80, capacity_factor=actual[2015]["WTON"])
        uncond = wind.sample(40, start="2016-01-01", days=366, random_state=0)["wind_kw_per_turbine"]
        uncond = uncond / wind.nominal_power_kw
        outer_bound = 2.0  # achieved: about 1.2 (2.7 without the adaptive spread: 2016 errors were wider)
    model.fit(forecast[2015], actual[2015][col])
    scores, counts = evaluate_by_day(model, forecast[2016], actual[2016][col], uncond, UTC_2016,
                                     n_scenarios=40, random_state=1, adaptive_spread_days=28)
    assert len(scores) >= 360
    assert scores["spread_scale"].between(0.5, 3.0).all()
    ratio = scores["energy_score_conditional"].mean() / scores["energy_score_unconditional"].mean()
    assert ratio < 0.8
    stat, p = chi_square_flatness(counts)
    assert np.isfinite(stat) and 0 <= p <= 1  # reported by the benchmark
    assert counts.size == 41 and counts.sum() > 3000
    assert max(counts[0], counts[-1]) <= outer_bound * counts.mean()
