"""`planner calibrate` reproduces the committed parameters from the real data; `planner calibrate --source`
fits the same models on a user's own price and PV history (CSV, Parquet or SQL) with its repair report."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from planner.case import load_case
from planner.cli import main
from planner.data_sources import DataSource, load_price_history
from planner.scenario_inputs import case_scenarios
from scenarios.price import DayAheadPriceModel, day_types
from scenarios.pv import PVModel


def test_calibration_reproduces_the_committed_parameters(shared_data, project_root, tmp_path):
    assert main(["calibrate", "--data", str(shared_data), "--out", str(tmp_path), "--quiet"]) == 0
    committed = project_root / "data" / "calibrated"
    for name in ("pv_france.json", "wind_france.json", "joint_france.json", "price_france.json"):
        fresh = json.loads((tmp_path / name).read_text())
        kept = json.loads((committed / name).read_text())
        assert fresh.keys() == kept.keys(), name
    fresh = json.loads((tmp_path / "intraday_france.json").read_text())
    kept = json.loads((committed / "intraday_france.json").read_text())
    assert fresh.keys() == kept.keys()
    for key in ("premium_ratio_mean", "premium_ratio_std", "hourly_correlation"):
        assert fresh[key] == pytest.approx(kept[key], rel=1e-9), key
    joint = json.loads((tmp_path / "joint_france.json").read_text())["fitted"]
    kept = json.loads((committed / "joint_france.json").read_text())["fitted"]
    assert np.allclose(joint["correlation"], kept["correlation"], atol=1e-9)
    # windy days are cheap in France: the fitted daily price-wind correlation is clearly negative
    columns = joint["columns"]
    rho = np.asarray(joint["correlation"])[columns.index("price:p0_level"), columns.index("wind:wind_level")]
    assert rho < -0.2


def test_intraday_law_is_the_load_error_proxy_of_2015_2021(shared_data, tmp_path):
    """The committed spread law is IntradayResaleModel.from_load_errors on 2015-02..2021-12 (its quantiles give
    back the lognormal), and a frame reaching into 2022 is refused (fit up to 2021 only)."""
    from planner.calibrate import write_intraday_law
    from scenarios.history import load_entsoe_fr
    from scenarios.intraday import load_error_premium_ratios

    history = load_entsoe_fr(shared_data / "prices" / "entsoe_FR_2015_2023.csv")
    law = json.loads(write_intraday_law(history.between("2015-01-05", "2021-12-31").frame, tmp_path).read_text())
    ratios = load_error_premium_ratios(history.between("2015-01-05", "2021-12-31").frame, "2015-02-01", "2021-12-31")
    q05, q50, q95 = np.quantile(ratios, [0.05, 0.5, 0.95])
    sigma = np.log(q95 / q05) / (2 * 1.6448536269514722)
    assert law["premium_ratio_mean"] == pytest.approx(q50 * np.exp(sigma ** 2 / 2), rel=1e-9)
    assert law["resale_discount_ratio_mean"] == law["premium_ratio_mean"]
    assert 0 <= law["hourly_correlation"] < 1
    with pytest.raises(ValueError, match="2021-12-31"):
        write_intraday_law(history.between("2015-01-05", "2022-01-31").frame, tmp_path)


def test_calibration_without_data_names_the_missing_folder(tmp_path, capsys):
    assert main(["calibrate", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "nowhere" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# `planner calibrate --source SPEC`: the user's own price and PV history
# ------------------------------------------------------------------------------------------------
PRICE_SPEC = """
[price]
path = "{path}"
timestamp_column = "time"
value_column = "price"
unit = "{unit}"
"""
PV_SPEC = """
[pv]
path = "{path}"
timestamp_column = "time"
value_column = "pv_w"
unit = "W"
kwp = 1.0
latitude = 48.46
longitude = -5.09
tilt_deg = 40.0
azimuth_deg = 180.0
altitude_m = 30.0
"""


def true_price(local_hours: pd.DatetimeIndex) -> np.ndarray:
    """The synthetic market: 40 + 10 sin(2 pi (h - 6) / 24) + (month - 6.5) EUR/MWh, the same every day type."""
    return 40.0 + 10.0 * np.sin(2 * np.pi * (local_hours.hour - 6) / 24) + (local_hours.month - 6.5)


@pytest.fixture(scope="module")
def synthetic_prices(tmp_path_factory):
    """Two years of hourly prices as an exchange export on the local wall clock (spring hour absent, autumn
    hour twice), in EUR/kWh, with seeded noise (sd 2 EUR/MWh), one row written twice and one hour lost."""
    utc = pd.date_range("2018-12-31 23:00", "2020-12-31 22:00", freq="h", tz="UTC")
    local = utc.tz_convert("Europe/Paris")
    noise = np.random.default_rng(7).normal(0.0, 2.0, len(utc))
    frame = pd.DataFrame({"time": local.tz_localize(None).strftime("%Y-%m-%d %H:%M"),
                          "price": (true_price(local) + noise) / 1000.0})
    frame = frame[frame["time"] != "2019-02-05 13:00"]
    frame = pd.concat([frame, frame[frame["time"] == "2020-05-06 07:00"]]).sort_index(kind="stable")
    folder = tmp_path_factory.mktemp("prices")
    frame.to_csv(folder / "prices.csv", index=False)
    spec = folder / "spec.toml"
    spec.write_text(PRICE_SPEC.format(path="prices.csv", unit="EUR/kWh"))
    return spec, frame


def test_own_price_history_is_fitted_with_an_exact_repair_report(synthetic_prices, tmp_path, capsys):
    spec, frame = synthetic_prices
    out = tmp_path / "calibrated"
    assert main(["calibrate", "--source", str(spec), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert all(f"wrote {out / n}" in printed for n in ("price_france.json", "repairs_price.csv", "sources.json"))
    repairs = pd.read_csv(out / "repairs_price.csv")
    assert repairs["kind"].value_counts().to_dict() == {
        "dst_fold_resolved": 4,        # the autumn 02:00 twice, 2019 and 2020: summer time, then winter time
        "interpolated_short_gap": 3,   # the lost hour and the two spring hours
        "dst_autumn_merged": 2, "dst_spring_filled": 2, "duplicate_averaged": 1, "missing_timestamp": 1}
    sources = json.loads((out / "sources.json").read_text())
    assert sources["price"]["fitted_on"] == "prices.csv" and "copied_from" in sources["pv"]
    model = DayAheadPriceModel.from_json(out / "price_france.json")
    # the fitted calendar profile is the synthetic market's (noise sd 2 over ~60 days per month and hour)
    hours = pd.date_range("2019-01-01", periods=24, freq="h")
    for month in (1, 7, 12):
        expected = true_price(hours + pd.DateOffset(months=month - 1))
        for day_type in range(3):
            np.testing.assert_allclose(model.profile_[month - 1, day_type], expected, atol=1.5)
    assert model.fit_days_ == ("2019-01-01", "2020-12-31")


def test_price_history_from_sql_and_parquet_reads_as_from_the_csv(synthetic_prices, tmp_path):
    spec, frame = synthetic_prices
    url = f"sqlite:///{tmp_path / 'market.db'}"
    engine = sa.create_engine(url)
    frame.rename(columns={"time": "delivery start", "price": "eur per kwh"}).to_sql("day-ahead", engine, index=False)
    engine.dispose()
    from_csv = load_price_history(DataSource(path=str(spec.parent / "prices.csv"), timestamp_column="time",
                                             value_column="price", unit="EUR/kWh", spike_sigmas=None))
    from_sql = load_price_history(DataSource(url=url, table="day-ahead", timestamp_column="delivery start",
                                             value_column="eur per kwh", unit="EUR/kWh", spike_sigmas=None))
    pd.testing.assert_frame_equal(from_sql.frame, from_csv.frame)
    frame.to_parquet(tmp_path / "prices.parquet", index=False)
    from_parquet = load_price_history(DataSource(path=str(tmp_path / "prices.parquet"), timestamp_column="time",
                                                 value_column="price", unit="EUR/kWh", spike_sigmas=None))
    pd.testing.assert_frame_equal(from_parquet.frame, from_csv.frame)
    assert len(from_csv.frame) == 731 * 24 and from_csv.units == {"price_eur_per_mwh": "EUR/MWh"}
    # the lost hour is the mean of its neighbours; the doubled row is kept once
    lost = from_csv.frame.loc["2019-02-05 12:00":"2019-02-05 14:00", "price_eur_per_mwh"].to_numpy()
    assert lost[1] == pytest.approx((lost[0] + lost[2]) / 2, abs=1e-9)


def test_price_spec_errors_name_the_field(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(PRICE_SPEC.format(path="absent.csv", unit="kW"))
    assert main(["calibrate", "--source", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "[price].unit = 'kW': allowed units are EUR/MWh, EUR/kWh" in err and "[price].path" in err
    spec.write_text(PV_SPEC.format(path=str(spec)).replace("kwp = 1.0\n", ""))
    assert main(["calibrate", "--source", str(spec), "--out", str(tmp_path / "o")]) == 2
    assert "[pv]: give kwp" in capsys.readouterr().err


def test_own_history_from_a_slice_of_the_real_data(shared_data, project_root, tmp_path):
    """France day-ahead prices 2019-2020 as an exchange export (the file's wall clock) and the Ouessant PV
    output of 2016 (W for one kWp, UTC): fitted, and the parameters folder drives the case's scenarios."""
    raw = pd.read_csv(shared_data / "prices" / "entsoe_FR_2015_2023.csv", index_col=0)
    raw.index = pd.to_datetime(raw.index, format="%m/%d/%Y %H:%M")
    prices = raw.loc["2019-01-01":"2020-12-31 23:00", "Price_DA"]
    pd.DataFrame({"time": prices.index.strftime("%Y-%m-%d %H:%M"), "price": prices.to_numpy()}).to_csv(
        tmp_path / "prices.csv", index=False)
    weather = pd.read_csv(shared_data / "weather" / "ouessant_2016.csv", index_col=0, parse_dates=True)
    pd.DataFrame({"time": weather.index.strftime("%Y-%m-%dT%H:%MZ"), "pv_w": weather["Ppv1k"].to_numpy()}).to_csv(
        tmp_path / "pv.csv", index=False)
    spec = tmp_path / "spec.toml"
    spec.write_text(PRICE_SPEC.format(path="prices.csv", unit="EUR/MWh") + PV_SPEC.format(path="pv.csv"))
    out = tmp_path / "calibrated"
    assert main(["calibrate", "--source", str(spec), "--out", str(out), "--quiet"]) == 0
    model = DayAheadPriceModel.from_json(out / "price_france.json")
    days = pd.date_range("2019-01-01", "2020-12-31", freq="D")
    fitted_mean = model.profile_[days.month - 1, day_types(days)].mean()
    # RTE / CRE published yearly means: 39.45 (2019), 32.2 (2020) EUR/MWh
    assert fitted_mean == pytest.approx((39.45 * 365 + 32.2 * 366) / 731, abs=0.1)
    pv = PVModel.from_json(out / "pv_france.json")
    assert pv.history_mean_kw_per_kwp_ == pytest.approx(weather["Ppv1k"].mean() / 1000.0, abs=1e-8)  # JSON: 8 digits
    assert pd.read_csv(out / "repairs_pv.csv").empty  # a clean UTC series: nothing repaired
    case = load_case(project_root / "data" / "cases" / "default.toml")
    case = case.replace(scenarios=dataclasses.replace(case.scenarios, parameters=str(out)))
    scen = case_scenarios(case, 4, 0)
    assert scen.values.shape == (4, case.n_periods, len(scen.variables)) and np.isfinite(scen.values).all()
