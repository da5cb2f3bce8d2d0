"""`planner ingest`: a meter export into the default SQLite store with its repair report."""

from __future__ import annotations

import sqlite3

import pandas as pd

from planner.cli import main
from planner.store import Store


def test_ingest_writes_readings_and_repair_report(meter_csv, tmp_path, capsys):
    out = tmp_path / "ingest"
    code = main(["ingest", str(meter_csv), "--value-column", "energy_kwh", "--unit", "kWh", "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "every 15 min; dst_fold_resolved 8" in printed and "35040 readings, 8 repairs" in printed
    repairs = pd.read_csv(out / "repairs.csv")
    assert list(repairs["kind"]) == ["dst_fold_resolved"] * 8
    store = Store.in_folder(out)
    assert store.count("meter_readings") == 35040 and store.count("meter_repairs") == 8
    assert list(store.read("runs")["command"]) == ["ingest"]


def test_plan_of_the_25_hour_day_has_25_periods_and_is_written_to_the_default_store(meter_csv, tmp_path, meter_power_kw):
    case_file = tmp_path / "plant.toml"
    case_file.write_text(f"""
name = "metered site"
[scenarios]
day = "2019-10-27"
[contract]
subscribed_power_kw = 5000.0
[[sites]]
name = "plant"
latitude = 45.76
longitude = 4.84
[sites.base_load.source]
path = "{meter_csv}"
value_column = "energy_kwh"
unit = "kWh"
""")
    out = tmp_path / "plan"
    assert main(["plan", str(case_file), "--scenarios", "2", "--no-measures", "--output", str(out)]) == 0
    with sqlite3.connect(out / "planner.sqlite") as db:
        rows = db.execute("SELECT period, start_local, start_utc, power_kw FROM day_ahead_nominations "
                          "ORDER BY period").fetchall()
        runs = db.execute("SELECT command, case_name, length(case_hash), status FROM runs").fetchall()
    assert [r[1] for r in rows[1:4]] == ["2019-10-27T01:00:00+02:00", "2019-10-27T02:00:00+02:00",
                                         "2019-10-27T02:00:00+01:00"]
    assert rows[0][2].startswith("2019-10-26 22:00:00") and len(rows) == 25
    assert runs == [("plan", "metered site", 64, "done")]
    assert list(pd.read_csv(out / "repairs_plant.csv")["kind"]) == ["dst_fold_resolved"] * 8
    nominations = pd.read_csv(out / "day_ahead_nominations.csv")
    assert list(nominations.columns) == ["zone", "period", "start_local", "start_utc", "end_utc", "power_kw",
                                         "energy_kwh"]
    assert len(nominations) == 25 and nominations["start_local"].iloc[-1] == "2019-10-27T23:00:00+01:00"
    assert nominations["start_utc"].iloc[0] == "2019-10-26 22:00:00+00:00"
    # day-ahead purchases are never negative nor above the highest metered load of the day
    load = meter_power_kw(pd.date_range("2019-10-26 22:00", periods=100, freq="15min", tz="UTC"))
    assert all(0.0 <= r[3] <= load.max() + 1e-6 for r in rows)
