"""Tests of scenarios.pv: physics against hand calculations, realism against France's PV statistics."""


import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from scenarios.calibration import OUESSANT_SITE
from scenarios.pv import FRANCE_PV_SITE, PVModel

TWO_DAYS_DARK = pd.Series(0.0, index=pd.date_range("2016-06-01", periods=48, freq="h", tz="UTC"),
                          name="pv_kw_per_kwp")


@pytest.fixture(scope="module")
def national_2015(france_capacity_factors):
    return france_capacity_factors[2015]["PHOT"]


@pytest.fixture(scope="module")
def france_model(national_2015):
    return PVModel(**FRANCE_PV_SITE).fit(national_2015)


@pytest.mark.parametrize("kwargs, word", [
    ({"tilt_deg": 95}, "tilt_deg"), ({"azimuth_deg": 360}, "azimuth_deg"), ({"latitude": 91}, "latitude"),
    ({"transposition": "hay"}, "transposition"), ({"site_name": "a:b"}, "site_name"),
])
def test_invalid_inputs_name_the_argument(kwargs, word):
    model = PVModel(**kwargs)  # hyper-parameters are stored unchanged, checked by fit
    with pytest.raises(ValueError, match=word):
        model.fit(TWO_DAYS_DARK)


def test_estimator_contract_clone_set_params_and_checks_in_fit(france_model):
    copy = clone(france_model)
    assert copy.get_params(deep=True) == france_model.get_params(deep=True)
    assert {k: copy.get_params()[k] for k in FRANCE_PV_SITE} == FRANCE_PV_SITE
    assert not hasattr(copy, "process_")  # a clone is unfitted
    assert copy.set_params(tilt_deg=35.0, site_name="roof") is copy
    assert copy.variable == "pv_kw_per_kwp:roof" and france_model.tilt_deg == 30.0
    copy.set_params(dc_ac_ratio=5.0)  # accepted until fit
    with pytest.raises(ValueError, match="dc_ac_ratio"):
        copy.fit(TWO_DAYS_DARK)


def test_clear_sky_output_by_hand():
    # lat 45, south, tilt 45, 21 June ~11:00-12:00 UTC at lon 0: POA ~ 950-1050 W/m2;
    # PVWatts: 1 kWp x POA/1000 x (1 - 0.14) x 0.96 x (1 - 0.004 (Tcell - 25)), Tcell ~ 15 + 26 -> ~0.78
    model = PVModel(45.0, 0.0, 45.0, 180.0, 0.0)
    t = pd.date_range("2016-06-21", periods=24, freq="h", tz="UTC")
    out = model.clear_sky_output(t)
    assert 0.65 < out.iloc[11] < 0.85
    assert out.iloc[0] == 0.0 and out.iloc[23] == 0.0
    assert out.max() <= 1 / 1.1 + 1e-12  # inverter clipping at 1 / dc_ac_ratio
    # a north-facing vertical panel at noon gets only diffuse light
    north = PVModel(45.0, 0.0, 90.0, 0.0, 0.0).clear_sky_output(t)
    assert north.iloc[11] < 0.3 * out.iloc[11]


def test_france_capacity_factor_and_persistence(france_model, national_2015, france_capacity_factors):
    sims = france_model.sample(8, start="2016-01-01", days=365, random_state=3)["pv_kw_per_kwp"]
    cf = sims.mean()
    assert abs(cf - national_2015.mean()) < 0.01  # fitted year 2015: 0.154
    assert 0.13 < cf < 0.16  # published France 14-15 %, +-1 point
    lag1 = np.mean([np.corrcoef(r[:-1], r[1:])[0, 1] for r in sims])
    assert abs(lag1 - national_2015.autocorr(1)) < 0.1
    held_out = france_capacity_factors[2016]["PHOT"].mean()
    assert abs(cf - held_out) < 0.02  # 2016 was a duller year (0.138)


def test_ouessant_site_capacity_factor(ouessant):
    data = ouessant
    model = PVModel(**OUESSANT_SITE, site_name="ouessant").fit(data)
    sims = model.sample(5, start="2016-01-01", days=366, random_state=1)
    assert sims.variables == ("pv_kw_per_kwp:ouessant",)
    assert abs(sims.values.mean() - data["pv_kw_per_kwp"].mean()) < 0.01


def test_same_seed_same_output_and_json_round_trip(france_model, tmp_path):
    a = france_model.sample(3, start="2016-03-01", days=4, random_state=7)
    b = france_model.sample(3, start="2016-03-01", days=4, random_state=7)
    np.testing.assert_array_equal(a.values, b.values)
    path = tmp_path / "pv.json"
    france_model.to_json(path)
    assert path.stat().st_size < 50_000
    c = PVModel.from_json(path).sample(3, start="2016-03-01", days=4, random_state=7)
    np.testing.assert_allclose(c.values, a.values, atol=1e-6)


def test_latent_drives_daily_level(france_model, national_2015):
    z = france_model.latent_history(national_2015)
    assert len(z) >= 360 and list(z.columns) == ["pv_level"]
    assert abs(z["pv_level"].mean()) < 0.2 and 0.8 < z["pv_level"].std() < 1.2
    # the scores order the days by energy
    daily = national_2015.groupby(national_2015.index.floor("D")).sum()
    daily.index = pd.DatetimeIndex(daily.index.date)
    month = daily.index.month == 6
    assert np.corrcoef(z["pv_level"].reindex(daily.index)[month], daily[month])[0, 1] > 0.8
    bright = france_model.sample(4, "2016-06-01", 3, random_state=0, latent=np.full((4, 3), 1.5)).values
    dull = france_model.sample(4, "2016-06-01", 3, random_state=0, latent=np.full((4, 3), -1.5)).values
    assert bright.mean() > 1.3 * dull.mean()
    with pytest.raises(ValueError, match="latent"):
        france_model.sample(4, "2016-06-01", 3, latent=np.zeros((4, 2)))


def test_fit_on_a_few_months(national_2015):
    spring = national_2015.loc["2015-04-01":"2015-06-30"]
    model = PVModel(**FRANCE_PV_SITE).fit(spring)
    assert model.months_fitted_ == [4, 5, 6]
    june = model.sample(6, start="2016-06-01", days=30, random_state=0).values.mean()
    assert june == pytest.approx(national_2015.loc["2015-06"].mean(), abs=0.025)


@pytest.mark.parametrize("kwargs", [{"clear_sky_model": "haurwitz", "transposition": "isotropic"},
                                    {"latitude": -33.9, "longitude": 18.4, "azimuth_deg": 0.0}])
def test_inversion_round_trip_on_a_scaled_clear_sky(kwargs):
    # a history that is 70 % of the clear-sky output inverts to a near-constant clear-sky index,
    # so the scenarios' mean must be about 70 % of the clear-sky mean (independent of the process fit)
    model = PVModel(**kwargs)
    t = pd.date_range("2016-01-01", periods=24 * 30, freq="h", tz="UTC")
    clear = model.clear_sky_output(t)
    model.fit((0.7 * clear).rename("pv_kw_per_kwp"))
    mean = model.sample(3, start="2016-01-01", days=30, random_state=0).values.mean()
    assert mean == pytest.approx(0.7 * clear.mean(), rel=0.03)
