"""History loaders and repairs: DST hours, duplicates, gaps and zero artefacts, on hand-made frames
and on the real ENTSO-E France file (published yearly mean prices)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scenarios.history import (
    History,
    french_public_holidays,
    load_entsoe_fr,
    load_epftoolbox,
    load_fr_hourly,
    load_tidy,
    repair_hourly,
    unit_of,
)

UNITS = {"load_kw": "kW", "price_eur_per_mwh": "EUR/MWh"}


def _frame(stamps, load, price=None):
    price = np.arange(len(stamps), dtype=float) if price is None else price
    return pd.DataFrame({"load_kw": load, "price_eur_per_mwh": price},
                        index=pd.DatetimeIndex(pd.to_datetime(stamps)))


def test_spring_forward_hour_is_inserted_and_interpolated():
    # 28 March 2021: Paris clocks jump from 02:00 to 03:00, a meter writes no 02:00 row
    stamps = ["2021-03-28 00:00", "2021-03-28 01:00", "2021-03-28 03:00", "2021-03-28 04:00"]
    h = repair_hourly(_frame(stamps, [10.0, 20.0, 40.0, 50.0], [1.0, 2.0, 6.0, 7.0]), UNITS)
    t = pd.Timestamp("2021-03-28 02:00")
    assert list(h.frame.index) == list(pd.date_range("2021-03-28 00:00", periods=5, freq="h"))
    assert h.frame.loc[t, "load_kw"] == 30.0  # (20 + 40) / 2
    assert h.frame.loc[t, "price_eur_per_mwh"] == 4.0  # (2 + 6) / 2
    assert h.report.timestamps("dst_spring_filled") == [t]
    assert h.report.count("interpolated_short_gap", "load_kw") == 1
    assert h.report.count() == 3  # the inserted row, then one interpolation per column


def test_autumn_repeated_hour_is_merged_by_mean():
    # 31 October 2021: 02:00 occurs twice in Paris
    stamps = ["2021-10-31 01:00", "2021-10-31 02:00", "2021-10-31 02:00", "2021-10-31 03:00"]
    h = repair_hourly(_frame(stamps, [10.0, 20.0, 30.0, 40.0]), UNITS)
    assert len(h.frame) == 3
    assert h.frame.loc[pd.Timestamp("2021-10-31 02:00"), "load_kw"] == 25.0
    assert h.report.timestamps("dst_autumn_merged") == [pd.Timestamp("2021-10-31 02:00")]
    assert h.report.count("duplicate_averaged") == 0


def test_other_duplicate_is_reported_as_such():
    stamps = ["2021-06-01 01:00", "2021-06-01 02:00", "2021-06-01 02:00", "2021-06-01 03:00"]
    h = repair_hourly(_frame(stamps, [10.0, 20.0, 24.0, 40.0]), UNITS)
    assert h.frame.loc[pd.Timestamp("2021-06-01 02:00"), "load_kw"] == 22.0
    assert h.report.count("duplicate_averaged") == 1 and h.report.count("dst_autumn_merged") == 0


def test_zero_artefact_interpolated_and_reported():
    stamps = pd.date_range("2021-06-01", periods=6, freq="h")
    load = [100.0, 110.0, 0.0, 0.0, 140.0, 150.0]
    price = [30.0, 0.0, 20.0, 25.0, 28.0, 31.0]  # a zero price is real: left alone
    h = repair_hourly(_frame(stamps, load, price), UNITS, nonzero_columns=["load_kw"])
    assert h.frame["load_kw"].tolist() == [100.0, 110.0, 120.0, 130.0, 140.0, 150.0]
    assert h.frame["price_eur_per_mwh"].tolist() == price
    assert h.report.timestamps("zero_artefact", "load_kw") == list(stamps[2:4])
    assert h.report.count(column="price_eur_per_mwh") == 0
    rows = h.report.to_frame()
    assert set(rows["kind"]) == {"zero_artefact", "interpolated_short_gap"}


def test_long_gap_reported_and_left_missing_unless_asked():
    stamps = pd.date_range("2021-06-01", periods=24, freq="h")
    load = np.arange(24, dtype=float) + 1
    frame = _frame(stamps, load).drop(stamps[5:15])  # 10 hours absent
    h = repair_hourly(frame, UNITS, max_interpolation_hours=6)
    assert h.frame["load_kw"].isna().sum() == 10
    assert h.report.count("long_gap", "load_kw") == 10
    assert h.report.count("missing_timestamp") == 10
    filled = repair_hourly(frame, UNITS, max_interpolation_hours=6, fill_long_gaps=True)
    assert np.allclose(filled.frame["load_kw"], load)  # linear data: exact


def test_utc_input_converted_to_local_wall_clock():
    utc = pd.date_range("2021-03-27 22:00", periods=6, freq="h", tz="UTC")
    frame = pd.DataFrame({"load_kw": np.arange(6.0)}, index=utc)
    h = repair_hourly(frame, {"load_kw": "kW"})
    # 22:00Z=23:00 CET, 23:00Z=00:00, 00:00Z=01:00, 01:00Z=03:00 CEST (02:00 skipped), 02:00Z=04:00
    assert h.frame.index[0] == pd.Timestamp("2021-03-27 23:00")
    assert h.frame.loc[pd.Timestamp("2021-03-28 02:00"), "load_kw"] == 2.5
    assert h.report.count("dst_spring_filled") == 1


def test_errors_name_the_column_and_the_file(tmp_path):
    path = tmp_path / "meter.csv"
    pd.DataFrame({"timestamp": pd.date_range("2021-01-01", periods=48, freq="h"),
                  "load_kw": 1.0, "power": 2.0}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"meter.csv lacks column\(s\) \['pv_kw'\]"):
        load_tidy(path, columns=["load_kw", "pv_kw"])
    with pytest.raises(ValueError, match="'power' has no unit"):
        load_tidy(path)
    with pytest.raises(ValueError, match="timestamp column 'time'"):
        load_tidy(path, timestamp_column="time")
    bad = tmp_path / "entsoe.csv"
    pd.DataFrame({"Price_DA": [1.0]}, index=["1/5/2015 0:00"]).to_csv(bad)
    with pytest.raises(ValueError, match=r"entsoe.csv lacks column\(s\) \['Load_DA'"):
        load_entsoe_fr(bad)
    with pytest.raises(KeyError, match="'wind_kw' not in history"):
        History(pd.DataFrame({"load_kw": [1.0]}), {"load_kw": "kW"})["wind_kw"]


def test_tidy_meter_file_round_trip(tmp_path):
    # a meter in local time: no 02:00 on 2021-03-28, two 02:00 rows on 2021-10-31, one zero
    spring = pd.date_range("2021-03-28 00:00", periods=5, freq="h").delete(2)
    autumn = pd.DatetimeIndex(["2021-10-31 01:00", "2021-10-31 02:00", "2021-10-31 02:00",
                               "2021-10-31 03:00"])
    frame = pd.DataFrame({"timestamp": spring.append(autumn).astype(str),
                          "load_kw": [5.0, 6.0, 8.0, 0.0, 1.0, 2.0, 4.0, 5.0]})
    path = tmp_path / "site.parquet"
    frame.to_parquet(path)
    h = load_tidy(path, nonzero_columns=["load_kw"])
    assert h.units == {"load_kw": "kW"}
    assert h.frame.loc[pd.Timestamp("2021-03-28 02:00"), "load_kw"] == 7.0
    # the zero at 04:00 starts the long gap up to 31 October 00:00: missing, and reported
    assert np.isnan(h.frame.loc[pd.Timestamp("2021-03-28 04:00"), "load_kw"])
    assert h.frame.loc[pd.Timestamp("2021-10-31 02:00"), "load_kw"] == 3.0
    assert h.report.count("dst_spring_filled") == 1
    assert h.report.count("dst_autumn_merged") == 1
    assert h.report.count("zero_artefact", "load_kw") == 1
    gap_hours = (pd.Timestamp("2021-10-31 01:00") - pd.Timestamp("2021-03-28 04:00")) // pd.Timedelta("1h")
    assert h.report.count("long_gap", "load_kw") == gap_hours


def test_unit_suffixes():
    assert unit_of("price_eur_per_mwh") == "EUR/MWh"
    assert unit_of("pv_kw_per_kwp") == "kW/kWp"
    assert unit_of("load_kw") == "kW"
    assert unit_of("wind_m_per_s") == "m/s"


def test_french_public_holidays_published_dates():
    h = french_public_holidays([2019, 2024])
    # Easter Monday, Ascension and Whit Monday 2019 and 2024 (service-public.fr calendars)
    for d in ["2019-04-22", "2019-05-30", "2019-06-10", "2024-04-01", "2024-05-09", "2024-05-20",
              "2019-07-14", "2019-11-11", "2024-12-25"]:
        assert dt.date.fromisoformat(d) in h
    assert len(h) == 22


PUBLISHED_MEANS = {2015: 38.48, 2016: 36.75, 2017: 44.97, 2018: 50.20, 2019: 39.45, 2020: 32.2,
                   2021: 109.2}


def test_entsoe_france_real_file(shared_data):
    h = load_entsoe_fr(shared_data / "prices" / "entsoe_FR_2015_2023.csv")
    price = h["price_eur_per_mwh"]
    assert h.units["price_eur_per_mwh"] == "EUR/MWh" and h.timezone == "Europe/Paris"
    assert h.frame.index.freq == "h" and not h.frame.index.duplicated().any()
    for year, published in PUBLISHED_MEANS.items():
        days = 361 if year == 2015 else (366 if year % 4 == 0 else 365)  # 2015 starts 5 January
        assert len(price.loc[str(year)]) == 24 * days
        assert abs(price.loc[str(year)].mean() - published) < 1.0, year
    assert price.isna().sum() == 0
    report = h.report
    # one spring copy and one merged autumn hour replaced per year and column (autumn 2015..2022)
    assert report.count("dst_autumn_artefact_replaced", "load_actual_mw") == 8
    assert report.count("dst_spring_copy_replaced", "price_eur_per_mwh") == 9
    assert report.count("zero_artefact", "wind_onshore_forecast_mw") > 500
    assert (h["load_actual_mw"].dropna() > 10_000).all()  # no zero or half value left
    # an autumn hour whose raw value was half a real one (mean with a gap-filling 0) is repaired
    t = pd.Timestamp("2016-10-30 02:00")
    assert h["load_actual_mw"].loc[t] > 35_000
    # every hole left is a reported long gap
    for column in h.frame.columns:
        assert h.frame[column].isna().sum() == report.count("long_gap", column)


def test_other_real_files(shared_data):
    fr = load_fr_hourly(shared_data / "prices" / "fr_hourly_2019_2022.csv")
    assert abs(fr["price_eur_per_mwh"].loc["2019"].mean() - 39.45) < 1.0
    assert fr.units["wind_onshore_capacity_factor"] == "1"
    assert (fr["load_actual_mw"] > 25_000).all()
    ep = load_epftoolbox(shared_data / "prices" / "epftoolbox_FR_2011_2016.csv", zone="FR")
    assert len(ep.frame) == 52_416 and ep.report.count() == 0
    de = load_epftoolbox(shared_data / "prices" / "epftoolbox_DE_2012_2017.csv", zone="DE")
    assert list(de.frame.columns) == ["price_eur_per_mwh", "load_forecast_mw", "pv_wind_forecast_mw"]


def test_tidy_file_with_utc_offsets(tmp_path):
    # ISO timestamps with offsets (+01:00 then +02:00 across the spring change) are instants
    stamps = pd.date_range("2021-03-28 00:00", periods=4, freq="h", tz="Europe/Paris")
    path = tmp_path / "offsets.csv"
    pd.DataFrame({"timestamp": [t.isoformat() for t in stamps],
                  "load_kw": [1.0, 2.0, 4.0, 5.0]}).to_csv(path, index=False)
    h = load_tidy(path)
    assert h.frame.index[0] == pd.Timestamp("2021-03-28 00:00")
    assert h.frame["load_kw"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]  # 02:00 inserted: (2 + 4) / 2
    assert h.report.timestamps("dst_spring_filled") == [pd.Timestamp("2021-03-28 02:00")]
