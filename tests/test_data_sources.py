"""planner.data_sources: meter exports read, converted to kW, repaired with an exact report, resampled
with the energy conserved, local days of 23 and 25 hours, and the case-file hook for a site's load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from planner.case import CaseError, case_from_dict
from planner.data_sources import (
    DataSource,
    DataSourceError,
    load_kw_for_periods,
    load_meter_data,
    local_day_hours,
    metered_load_notes,
    period_starts_utc,
    resample_energy,
    to_power_kw,
)
from planner.load_profiles import base_load_kw
from planner.sizing.inputs import year_base_load_kw

UTC_YEAR = pd.date_range("2018-12-31 23:00", "2019-12-31 22:45", freq="15min", tz="UTC")  # local 2019


def power_kw(utc) -> np.ndarray:
    """The synthetic meter's true power: 1000 + 200 sin(2 pi k / 96) kW at quarter k of the UTC year."""
    utc = pd.DatetimeIndex(utc)
    k = ((utc if utc.tz is not None else utc.tz_localize("UTC")) - UTC_YEAR[0]) / pd.Timedelta(minutes=15)
    return 1000.0 + 200.0 * np.sin(2 * np.pi * np.asarray(k, dtype=float) / 96)


def wall(utc_text: str) -> str:
    return pd.Timestamp(utc_text, tz="UTC").tz_convert("Europe/Paris").strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def meter_export(tmp_path_factory):
    """A 15-minute meter year as a meter writes it: local wall clock (spring hour absent, autumn hour twice),
    kWh per quarter, with two readings lost, one row written twice and one spike."""
    stamps = UTC_YEAR.tz_convert("Europe/Paris").tz_localize(None).strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame({"timestamp": stamps, "energy": power_kw(UTC_YEAR) / 4.0})
    lost = [wall("2019-02-10 07:00"), wall("2019-02-10 07:15")]
    frame = frame[~frame["timestamp"].isin(lost)]
    twice = frame[frame["timestamp"] == wall("2019-05-01 10:00")]
    frame = pd.concat([frame, twice]).sort_index(kind="stable")
    frame.loc[frame["timestamp"] == wall("2019-07-14 13:00"), "energy"] = 50_000.0 / 4
    path = tmp_path_factory.mktemp("meters") / "export.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def meter_year(meter_export):
    return load_meter_data(DataSource(path=str(meter_export), value_column="energy", unit="kWh"))


def test_meter_year_repair_report_is_exact(meter_year):
    report = meter_year.reports["meter"]
    utc = lambda *texts: [pd.Timestamp(t, tz="UTC") for t in texts]  # noqa: E731
    fold = pd.date_range("2019-10-27 00:00", "2019-10-27 01:45", freq="15min", tz="UTC")
    assert report.timestamps("dst_fold_resolved") == list(fold)  # wall 02:00-02:45 read twice: CEST then CET
    assert report.timestamps("duplicate_averaged") == utc("2019-05-01 10:00")
    assert report.timestamps("missing_timestamp") == utc("2019-02-10 07:00", "2019-02-10 07:15")
    assert report.timestamps("spike_replaced") == utc("2019-07-14 13:00")
    assert report.timestamps("interpolated_short_gap") == utc("2019-02-10 07:00", "2019-02-10 07:15",
                                                              "2019-07-14 13:00")
    assert report.count() == 8 + 1 + 2 + 1 + 3
    assert {r.kind for r in report.repairs} == {"dst_fold_resolved", "duplicate_averaged", "missing_timestamp",
                                                "spike_replaced", "interpolated_short_gap"}


def test_meter_year_values_after_repair(meter_year):
    series = meter_year.series("meter")
    assert len(series) == 35040 and series.index.equals(UTC_YEAR)  # the spring hour is not a gap in UTC
    untouched = series.drop(pd.DatetimeIndex(["2019-02-10 07:00", "2019-02-10 07:15", "2019-07-14 13:00"], tz="UTC"))
    np.testing.assert_allclose(untouched.to_numpy(), power_kw(untouched.index), rtol=1e-12)
    # the lost readings: linear between 06:45 and 07:30; the spike: mean of its neighbours
    a, b = power_kw(["2019-02-10 06:45"])[0], power_kw(["2019-02-10 07:30"])[0]
    assert series["2019-02-10 07:00+00:00"] == pytest.approx(a + (b - a) / 3)
    assert series["2019-02-10 07:15+00:00"] == pytest.approx(a + 2 * (b - a) / 3)
    before, after = power_kw(["2019-07-14 12:45", "2019-07-14 13:15"])
    assert series["2019-07-14 13:00+00:00"] == pytest.approx((before + after) / 2)


def test_local_days_have_23_and_25_hours():
    assert local_day_hours("2019-03-31", "Europe/Paris") == 23
    assert local_day_hours("2019-10-27", "Europe/Paris") == 25
    assert local_day_hours("2019-06-12", "Europe/Paris") == 24
    starts = period_starts_utc("2019-03-31", "Europe/Paris", 60, 23)
    assert starts[0] == pd.Timestamp("2019-03-30 23:00", tz="UTC")
    assert [t.hour for t in starts.tz_convert("Europe/Paris")][:4] == [0, 1, 3, 4]  # 02:00 does not exist
    starts = period_starts_utc("2019-10-27", "Europe/Paris", 60, 25)
    assert [t.hour for t in starts.tz_convert("Europe/Paris")][:5] == [0, 1, 2, 2, 3]  # 02:00 twice
    assert starts[-1] + pd.Timedelta(hours=1) == pd.Timestamp("2019-10-27 23:00", tz="UTC")  # next local midnight


def test_metered_day_load_is_the_hourly_mean_of_its_quarters(meter_year, meter_export):
    source = DataSource(path=str(meter_export), value_column="energy", unit="kWh")
    load = load_kw_for_periods(source, "2019-10-27", 60, 25)
    quarters = power_kw(pd.date_range("2019-10-26 22:00", periods=100, freq="15min", tz="UTC"))
    np.testing.assert_allclose(load, quarters.reshape(25, 4).mean(axis=1), rtol=1e-12)
    assert load.sum() * 1.0 == pytest.approx(quarters.sum() * 0.25)  # kWh of the 25-hour day


def test_units_are_converted_to_kw():
    assert to_power_kw(np.array([1500.0]), "W", 15)[0] == pytest.approx(1.5)
    assert to_power_kw(np.array([2.0]), "MW", 15)[0] == pytest.approx(2000.0)
    assert to_power_kw(np.array([250.0]), "kWh", 15)[0] == pytest.approx(1000.0)  # 250 kWh in 1/4 h
    assert to_power_kw(np.array([500.0]), "Wh", 5)[0] == pytest.approx(6.0)  # 0.5 kWh in 1/12 h
    assert to_power_kw(np.array([0.5]), "MWh", 30)[0] == pytest.approx(1000.0)
    mixed = to_power_kw(np.array([1000.0, 1.0, 250.0]), np.array(["kW", "MW", "kWh"]), 15)
    np.testing.assert_allclose(mixed, [1000.0, 1000.0, 1000.0])
    with pytest.raises(DataSourceError, match=r"unknown unit\(s\) \['kVA'\]; allowed units are W, kW"):
        to_power_kw(np.array([1.0]), "kVA", 15)


def test_resampling_conserves_energy():
    ten = pd.Series([60.0, 120.0, 180.0, 240.0, 300.0, 360.0],
                    index=pd.date_range("2019-01-01", periods=6, freq="10min", tz="UTC"))
    starts = pd.date_range("2019-01-01", periods=4, freq="15min", tz="UTC")
    out = resample_energy(ten, 10, starts, 15)
    # by hand: (60*10 + 120*5)/15 = 80, (120*5 + 180*10)/15 = 160, (240*10 + 300*5)/15 = 260, (300*5+360*10)/15 = 340
    np.testing.assert_allclose(out, [80.0, 160.0, 260.0, 340.0])
    assert (out * 15).sum() == pytest.approx((ten * 10).sum())
    hourly = pd.Series([100.0, 200.0], index=pd.date_range("2019-01-01", periods=2, freq="60min", tz="UTC"))
    np.testing.assert_allclose(resample_energy(hourly, 60, pd.date_range("2019-01-01", periods=8, freq="15min",
                                                                         tz="UTC"), 15), [100.0] * 4 + [200.0] * 4)
    five = pd.Series(np.arange(12.0), index=pd.date_range("2019-01-01", periods=12, freq="5min", tz="UTC"))
    assert resample_energy(five, 5, pd.DatetimeIndex([five.index[0]]), 60)[0] == pytest.approx(5.5)
    with pytest.raises(DataSourceError, match="choose a day inside the data"):
        resample_energy(hourly, 60, pd.date_range("2019-01-01 01:00", periods=2, freq="60min", tz="UTC"), 60)


def test_parquet_and_sqlite_sources_read_the_same_readings(meter_export, meter_year, tmp_path):
    raw = pd.read_csv(meter_export)
    raw.to_parquet(tmp_path / "export.parquet")
    parquet = load_meter_data(DataSource(path=str(tmp_path / "export.parquet"), value_column="energy", unit="kWh"))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'meters.db'}")
    raw.assign(site="plant A").to_sql("raw readings", engine, index=False)
    sql = load_meter_data(DataSource(url=str(engine.url), table="raw readings", value_column="energy",
                                     unit="kWh", meter_column="site", meter="plant A"))
    for data in (parquet, sql):
        np.testing.assert_array_equal(data.frame["power_kw"].to_numpy(), meter_year.frame["power_kw"].to_numpy())
    assert sql.meters == ["plant A"]
    assert [(r.kind, r.count) for r in sql.reports["plant A"].repairs] == \
        [(r.kind, r.count) for r in meter_year.reports["meter"].repairs]


def test_malicious_column_mapping_does_not_execute_sql(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'meters.db'}")
    pd.DataFrame({"timestamp": ["2019-01-01 00:00", "2019-01-01 00:15"], "value": [1.0, 2.0]}).to_sql(
        "readings", engine, index=False)
    evil = 'value" FROM readings; DROP TABLE readings; --'
    with pytest.raises(DataSourceError, match="the database refused the read"):
        load_meter_data(DataSource(url=str(engine.url), table="readings", value_column=evil, unit="kW"))
    with pytest.raises(DataSourceError, match="no rows for meter"):
        load_meter_data(DataSource(url=str(engine.url), table="readings", unit="kW", meter_column="value",
                                   meter="1'); DROP TABLE readings; --"))
    assert sa.inspect(engine).get_table_names() == ["readings"]
    assert pd.read_sql(sa.text("SELECT COUNT(*) AS n FROM readings"), engine)["n"][0] == 2


def metered_case(path, **extra):
    site = {"name": "plant", "latitude": 45.0, "longitude": 5.0,
            "base_load": {"source": {"path": str(path), "value_column": "energy", "unit": "kWh", **extra}}}
    return case_from_dict({"name": "metered", "horizon_hours": 23, "scenarios": {"day": "2019-03-31"},
                           "contract": {"subscribed_power_kw": 5000.0}, "sites": [site]})


def test_case_reads_the_site_load_from_its_source(meter_export):
    case = metered_case(meter_export)
    quarters = power_kw(pd.date_range("2019-03-30 23:00", periods=92, freq="15min", tz="UTC"))
    load = base_load_kw(case.sites[0].base_load, case.scenarios.day, case.period_minutes, case.n_periods)
    np.testing.assert_allclose(load, quarters.reshape(23, 4).mean(axis=1), rtol=1e-12)
    # mean_kw defaults to the mean of the readings (35040 quarters of the sine: exactly 1000 kW, but the spike
    # and the interpolated readings shift it slightly)
    assert case.sites[0].base_load.mean_kw == pytest.approx(1000.0, abs=0.5)


def test_bad_sources_are_named_in_the_case_error(tmp_path, meter_export):
    with pytest.raises(CaseError) as err:
        metered_case(tmp_path / "absent.csv")
    assert "sites[0].base_load.source.path" in str(err.value) and "no such file" in str(err.value)
    with pytest.raises(CaseError, match=r"sites\[0\].base_load.source.unit = 'kVA': allowed units are W, kW"):
        metered_case(meter_export, unit="kVA")
    with pytest.raises(CaseError, match="give exactly one of path .* or url"):
        metered_case(meter_export, url="sqlite:///x.db")
    with pytest.raises(CaseError, match=r"timezone = 'Mars/Olympus': not an IANA time zone"):
        metered_case(meter_export, timezone="Mars/Olympus")
    case = metered_case(meter_export)
    with pytest.raises(DataSourceError, match="choose a day inside the data"):
        base_load_kw(case.sites[0].base_load, "2021-01-01", 60, 24)


def test_notes_name_the_source_its_repairs_and_a_dst_day_the_horizon_misses(meter_export):
    case = metered_case(meter_export)  # 2019-03-31 with horizon_hours = 23
    notes = metered_load_notes(case.sites, case.scenarios.day, case.horizon_hours)
    assert notes == ["Site plant: base load metered, read from export.csv (Europe/Paris); meter meter every 15 min, "
                     "repairs: dst_fold_resolved x8, duplicate_averaged x1, missing_timestamp x2, "
                     "interpolated_short_gap x3, spike_replaced x1."]
    notes = metered_load_notes(case.sites, "2019-03-31", 24)
    assert notes[1] == ("The local day 2019-03-31 has 23 hours in Europe/Paris; the plan covers 24 hours of real "
                        "time from local midnight, to 2019-04-01T01:00:00+02:00; set horizon_hours = 23 to plan "
                        "exactly the local day.")


def test_sizing_year_is_the_metered_year_on_the_local_clock_with_weekdays_aligned(meter_export):
    case = metered_case(meter_export)
    year = year_base_load_kw(case.sites[0], 2025)
    assert year.shape == (8760,)
    days = year.reshape(365, 24)

    def local_hours(day: str, n_hours: int) -> np.ndarray:  # hourly means of the true power from local midnight
        start = pd.Timestamp(day).tz_localize("Europe/Paris").tz_convert("UTC")
        return power_kw(pd.date_range(start, periods=4 * n_hours, freq="15min")).reshape(n_hours, 4).mean(axis=1)

    # 2025-01-01 is a Wednesday, 2019-01-01 a Tuesday: the calendar starts on Wednesday 2019-01-02
    np.testing.assert_allclose(days[0], local_hours("2019-01-02", 24), rtol=1e-12)
    np.testing.assert_allclose(days[364], local_hours("2019-01-01", 24), rtol=1e-12)  # moved to the end
    spring = local_hours("2019-03-31", 23)  # 88 = day of year of 31 March (89, from 0) minus the shift
    np.testing.assert_allclose(days[88], np.r_[spring[:2], (spring[1] + spring[2]) / 2, spring[2:]], rtol=1e-12)
    autumn = local_hours("2019-10-27", 25)  # local 02:00 twice: their mean
    np.testing.assert_allclose(days[298], np.r_[autumn[:2], (autumn[2] + autumn[3]) / 2, autumn[4:]], rtol=1e-12)


@pytest.mark.shared_data
@pytest.mark.parametrize("name, column", [("metal_processing_2018_15min.csv", "electrical load [W]"),
                                          ("electroplating_2017_15min.csv", "LP_G_G [W/MWh]")])
def test_real_meter_exports_load_without_repairs_and_keep_their_published_energy(shared_data, name, column):
    """Tjaden 2021 (Zenodo 4683455 / 4683479): 15-minute loads normalised to 1 MWh per year, offsets given."""
    data = load_meter_data(DataSource(path=str(shared_data / "loads" / name), timestamp_column="datetime",
                                      value_column=column, unit="W"))
    assert data.reports["meter"].count() == 0 and len(data.frame) == 35040
    assert data.frame["power_kw"].sum() * 0.25 == pytest.approx(1000.0, rel=1e-6)  # kWh in the year
    year = int(name.split("_")[-2])
    assert data.frame["time_utc"].iloc[0] == pd.Timestamp(f"{year - 1}-12-31 23:00", tz="UTC")  # local midnight


@pytest.mark.parametrize("day, timezone, hours", [("2019-03-31", None, 23), ("2019-10-27", None, 25),
                                                  ("2019-06-12", None, 24), ("2019-03-10", "America/New_York", 23),
                                                  ("2019-03-31", "America/New_York", 24)])
def test_a_case_without_horizon_hours_plans_the_local_day(meter_export, day, timezone, hours):
    """The local day of scenarios.day in the sites' time zone (the metered site's, else Europe/Paris)."""
    site = {"name": "plant", "latitude": 45.0, "longitude": 5.0, "base_load": {"mean_kw": 800.0}}
    if timezone is not None:
        site["base_load"] = {"source": {"path": str(meter_export), "value_column": "energy", "unit": "kWh",
                                        "timezone": timezone}}
    case = case_from_dict({"name": "local day", "period_minutes": 15, "scenarios": {"day": day},
                           "contract": {"subscribed_power_kw": 5000.0}, "sites": [site]})
    assert case.horizon_hours == hours and case.n_periods == 4 * hours
    # a horizon given in the case file is kept as given
    given = case_from_dict({"name": "given", "horizon_hours": 24, "scenarios": {"day": day},
                            "contract": {"subscribed_power_kw": 5000.0}, "sites": [site]})
    assert given.horizon_hours == 24


@pytest.fixture(scope="module")
def price_export(tmp_path_factory):
    """Hourly day-ahead prices (EUR/MWh) on the local wall clock around both 2019 clock changes, as an exchange
    exports them (spring 02:00 absent, autumn 02:00 twice); each price is 1000 + the UTC hour's index, and
    one real spike (3000 EUR/MWh) on 27 October 19:00."""
    utc = pd.concat([pd.Series(pd.date_range(f"{d} 22:00", periods=72, freq="h", tz="UTC"))
                     for d in ("2019-03-29", "2019-10-25")]).reset_index(drop=True)
    local = pd.DatetimeIndex(utc).tz_convert("Europe/Paris").tz_localize(None).strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame({"delivery": local, "eur_per_mwh": 1000.0 + np.arange(len(utc))})
    frame.loc[frame["delivery"] == "2019-10-27 19:00", "eur_per_mwh"] = 3000.0
    path = tmp_path_factory.mktemp("prices") / "day_ahead.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.mark.parametrize("day, hours", [("2019-03-31", 23), ("2019-10-27", 25)])
def test_the_planned_day_prices_come_from_the_price_source(price_export, day, hours):
    path, frame = price_export
    case = case_from_dict({"name": "priced", "scenarios": {"day": day, "price_source": {
        "path": str(path), "timestamp_column": "delivery", "value_column": "eur_per_mwh", "unit": "EUR/MWh"}},
        "contract": {"subscribed_power_kw": 5000.0},
        "sites": [{"name": "plant", "latitude": 45.0, "longitude": 5.0, "base_load": {"mean_kw": 800.0}}]})
    # the export's rows of the local day, in file order (the autumn 02:00 twice), the spike kept
    expected = frame.loc[frame["delivery"].str.startswith(day), "eur_per_mwh"].to_numpy()
    assert case.n_periods == hours == len(expected)
    np.testing.assert_array_equal(case.scenarios.day_ahead_prices_eur_per_mwh, expected)
    with pytest.raises(CaseError, match=r"scenarios.price_source: .*no price for 2019-06-12T00:00:00\+02:00"):
        case_from_dict({"name": "outside", "scenarios": {"day": "2019-06-12", "price_source": {
            "path": str(path), "timestamp_column": "delivery", "value_column": "eur_per_mwh", "unit": "EUR/MWh"}},
            "contract": {"subscribed_power_kw": 5000.0},
            "sites": [{"name": "plant", "latitude": 45.0, "longitude": 5.0, "base_load": {"mean_kw": 800.0}}]})
