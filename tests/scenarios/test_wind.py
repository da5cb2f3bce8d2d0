"""Tests of scenarios.wind: power curves and height profile by hand, realism against France's onshore wind."""


import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from scenarios.wind import WindModel, power_curve, turbine_types

FOUR_DAYS_AT_7_M_PER_S = pd.Series(7.0, index=pd.date_range("2016-01-01", periods=96, freq="h", tz="UTC"),
                                   name="wind_speed_m_per_s")


@pytest.fixture(scope="module")
def wton(france_capacity_factors):
    return {y: france_capacity_factors[y]["WTON"] for y in (2015, 2016)}


@pytest.fixture(scope="module")
def france_model(windpowerlib_weather, wton):
    weather = windpowerlib_weather
    return WindModel(site_name="plant").fit(weather["wind_speed_80m_m_per_s"], measurement_height_m=80,
                                             capacity_factor=wton[2015])


def test_turbine_library_is_offline_and_unknown_names_fail_with_close_matches():
    assert len(turbine_types()) >= 60
    with pytest.raises(ValueError, match=r"E-82/2300"):
        WindModel(turbine_type="E82/2300").fit(FOUR_DAYS_AT_7_M_PER_S)
    speeds, power, nominal = power_curve("E-82/2300")
    assert nominal == pytest.approx(2300.0)
    assert 2300.0 <= power.max() <= 2300.0 * 1.05  # the E-82 E2 curve peaks at 2,350 kW
    assert power[speeds <= 2.0].max() < 10.0 and speeds.max() == 25.0


@pytest.mark.parametrize("kwargs, word", [({"hub_height_m": 5}, "hub_height_m"),
                                          ({"roughness_length_m": 0}, "roughness_length_m"),
                                          ({"height_correction": "cubic"}, "height_correction")])
def test_invalid_inputs_name_the_argument(kwargs, word):
    model = WindModel(**kwargs)  # hyper-parameters are stored unchanged, checked by fit
    with pytest.raises(ValueError, match=word):
        model.fit(FOUR_DAYS_AT_7_M_PER_S)


def test_estimator_contract_clone_set_params_and_checks_in_fit(france_model):
    copy = clone(france_model)
    assert copy.get_params(deep=True) == france_model.get_params(deep=True)
    assert copy.get_params()["site_name"] == "plant" and not hasattr(copy, "process_")  # unfitted
    assert copy.set_params(turbine_type="E-53/800", hub_height_m=73.0) is copy
    assert copy.nominal_power_kw == pytest.approx(800.0) and france_model.turbine_type == "E-82/2300"
    copy.set_params(max_wind_speed_m_per_s=5.0)  # accepted until fit
    with pytest.raises(ValueError, match="max_wind_speed_m_per_s"):
        copy.fit(FOUR_DAYS_AT_7_M_PER_S)


def test_height_profile_and_power_by_hand():
    model = WindModel(hub_height_m=98.0, roughness_length_m=0.1)
    v = model.to_hub_height([5.0], 10.0)[0]
    assert v == pytest.approx(5.0 * np.log(98 / 0.1) / np.log(10 / 0.1), rel=1e-9)
    speeds, power, _ = power_curve("E-82/2300")
    # on a curve point the output is the tabulated value; half-way it is the linear interpolation
    i = int(np.flatnonzero(speeds == 8.0)[0])
    assert model.power_kw(8.0) == pytest.approx(power[i])
    assert model.power_kw(8.5) == pytest.approx(0.5 * (power[i] + power[i + 1]))
    assert model.power_kw(40.0) == 0.0  # beyond cut-out


def test_france_capacity_factor_and_persistence(france_model, wton):
    sims = france_model.sample(6, start="2016-01-01", days=366, random_state=2)
    assert sims.variables == ("wind_kw_per_turbine:plant", "wind_speed_m_per_s:plant")
    cf = sims["wind_kw_per_turbine:plant"] / 2300.0
    assert abs(cf.mean() - wton[2015].mean()) < 0.02  # level fitted on 2015 (0.216)
    assert abs(cf.mean() - wton[2016].mean()) < 0.02  # held-out 2016 (0.224)
    assert 0.19 < cf.mean() < 0.28  # published 21-26 %, +-2 points
    lag1 = np.mean([np.corrcoef(r[:-1], r[1:])[0, 1] for r in cf])
    assert abs(lag1 - wton[2016].autocorr(1)) < 0.1
    # mainland re-levelling keeps multipliers plausible (no wild rescaling of the German series)
    assert np.all((france_model.level_multipliers_ > 0.6) & (france_model.level_multipliers_ < 1.5))


def test_seed_json_and_latent(france_model, wton, tmp_path):
    a = france_model.sample(3, start="2016-01-01", days=3, random_state=5)
    np.testing.assert_array_equal(a.values, france_model.sample(3, "2016-01-01", 3, random_state=5).values)
    path = tmp_path / "wind.json"
    france_model.to_json(path)
    b = WindModel.from_json(path).sample(3, start="2016-01-01", days=3, random_state=5)
    np.testing.assert_allclose(b.values, a.values, rtol=1e-5, atol=1e-4)
    taller = WindModel.from_json(path, hub_height_m=135.0)
    ratio = taller.weibull_scale_m_per_s_ / france_model.weibull_scale_m_per_s_
    np.testing.assert_allclose(ratio, np.log(135 / 0.1) / np.log(98 / 0.1))  # log law, z0 = 0.1 m
    z = france_model.latent_history(pd.DataFrame({"capacity_factor": wton[2015]}))
    assert list(z.columns) == ["wind_level"] and len(z) >= 360
    assert abs(z["wind_level"].std() - 1) < 0.1
    calm = france_model.sample(20, "2016-01-01", 5, random_state=0, latent=np.full((20, 5), -1.5))
    windy = france_model.sample(20, "2016-01-01", 5, random_state=0, latent=np.full((20, 5), 1.5))
    assert windy["wind_speed_m_per_s:plant"].mean() > calm["wind_speed_m_per_s:plant"].mean() + 1.0


def test_capacity_factors_are_not_taken_for_wind_speeds():
    idx = pd.date_range("2016-01-01", periods=96, freq="h", tz="UTC")
    with pytest.raises(ValueError, match="capacity_factor"):
        WindModel().fit(pd.Series(0.3, index=idx))
    with pytest.raises(ValueError, match="DatetimeIndex"):
        WindModel().fit(pd.Series(np.full(96, 7.0)))
