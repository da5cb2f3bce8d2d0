"""planner.store: round trips through SQLite and PostgreSQL, a day re-run replaces its rows, an interrupted
write leaves the previous state, names and values never execute SQL, plans carry timestamps and units."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from planner.data_sources import DataSource, DataSourceError, load_meter_data
from planner.store import Store, TableNames, case_hash


def test_meter_data_round_trip(backend, make_store, meter_csv):
    store = make_store(backend)
    data = load_meter_data(DataSource(path=str(meter_csv), value_column="energy_kwh", unit="kWh"))
    run_id = store.start_run("ingest")
    assert store.write_meter_data(data, run_id) == 35040
    store.finish_run(run_id)
    back = store.read("meter_readings").sort_values("time_utc", ignore_index=True)
    np.testing.assert_array_equal(back["power_kw"].to_numpy(), data.frame["power_kw"].to_numpy())
    assert back["time_utc"].equals(data.frame["time_utc"])
    assert set(back["interval_minutes"]) == {15} and set(back["run_id"]) == {run_id}
    repairs = store.read("meter_repairs")
    assert list(repairs["kind"]) == ["dst_fold_resolved"] * 8
    runs = store.read("runs")
    assert list(runs["status"]) == ["done"] and runs["code_version"][0].startswith("0.1.0")
    # the store read back through the SQL data source gives the same readings
    url = store.engine.url.render_as_string(hide_password=False)
    source = DataSource(url=url, table="meter_readings", db_schema=store.metadata.schema, timestamp_column="time_utc",
                        value_column="power_kw", unit="kW", meter_column="meter_id", meter="meter",
                        naive_timestamps="utc")
    again = load_meter_data(source)
    np.testing.assert_array_equal(again.frame["power_kw"].to_numpy(), data.frame["power_kw"].to_numpy())
    assert again.reports["meter"].count() == 0


def test_reingest_replaces_the_meter_rows(backend, make_store, meter_csv):
    store = make_store(backend)
    data = load_meter_data(DataSource(path=str(meter_csv), value_column="energy_kwh", unit="kWh"))
    for _ in range(2):
        store.write_meter_data(data, store.start_run("ingest"))
    assert store.count("meter_readings") == 35040 and store.count("meter_repairs") == 8
    assert store.count("runs") == 2


def test_plan_rows_carry_timestamps_with_offsets_and_units(backend, make_store, dst_plans, meter_power_kw):
    store = make_store(backend)
    for day, (case, result) in dst_plans.items():
        counts = store.write_plan(case, result, store.start_run("plan", case))
        assert counts["day_ahead_nominations"] == case.n_periods
    rows = store.read("day_ahead_nominations").sort_values(["day_local", "period"], ignore_index=True)
    spring = rows[rows["day_local"].astype(str) == "2019-03-31"]
    autumn = rows[rows["day_local"].astype(str) == "2019-10-27"]
    assert len(spring) == 23 and len(autumn) == 25
    assert list(spring["start_local"][:4]) == ["2019-03-31T00:00:00+01:00", "2019-03-31T01:00:00+01:00",
                                               "2019-03-31T03:00:00+02:00", "2019-03-31T04:00:00+02:00"]
    assert list(autumn["start_local"][2:4]) == ["2019-10-27T02:00:00+02:00", "2019-10-27T02:00:00+01:00"]
    assert spring["start_utc"].iloc[0] == pd.Timestamp("2019-03-30 23:00", tz="UTC")
    assert autumn["end_utc"].iloc[-1] == pd.Timestamp("2019-10-27 23:00", tz="UTC")  # the next local midnight
    # p0 < p1 in every scenario and p2 < p0: the whole metered load is bought day-ahead, the hourly mean
    # of its four quarters (energy conserved), and energy_kwh = power_kw x 1 h
    quarters = meter_power_kw(pd.date_range("2019-10-26 22:00", periods=100, freq="15min", tz="UTC"))
    np.testing.assert_allclose(autumn["power_kw"].to_numpy(), quarters.reshape(25, 4).mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(autumn["energy_kwh"].to_numpy(), autumn["power_kw"].to_numpy())
    days = store.read("plan_days")
    assert set(days["n_periods"]) == {23, 25} and set(days["timezone"]) == {"Europe/Paris"}
    assert (days["upper_bound_eur"] >= days["lower_bound_eur"] - 1e-6).all()
    dispatch = store.read("dispatch", quantity="plant:soc_kwh")
    assert dispatch.empty  # no battery on this site: no such quantity
    units = store.read("dispatch").groupby("quantity")["unit"].first()
    assert units["plant:grid_kw"] == "kW" and units["p0_eur_per_mwh"] == "EUR/MWh"
    # per scenario, period and site: the site's rows carry its name, the contract's none
    grid = store.read("dispatch", quantity="plant:grid_kw")
    assert set(grid["site"]) == {"plant"} and len(grid) == 2 * (23 + 25)  # two scenarios
    assert store.read("dispatch", quantity="p0_eur_per_mwh")["site"].isna().all()


def test_rerunning_a_day_replaces_its_rows(backend, make_store, dst_plans, meter_csv):
    store = make_store(backend)
    case, result = dst_plans["2019-03-31"]
    counts = store.write_plan(case, result, store.start_run("plan", case))
    before = {role: store.count(role) for role in counts}
    assert before == {"plan_days": 1, "day_ahead_nominations": 23, "dispatch": counts["dispatch"]}
    doubled = dataclasses.replace(result, day_ahead=result.day_ahead * 2)
    second = store.start_run("plan", case)
    store.write_plan(case, doubled, second)
    assert {role: store.count(role) for role in counts} == before
    rows = store.read("day_ahead_nominations")
    assert set(rows["run_id"]) == {second}
    np.testing.assert_allclose(np.sort(rows["power_kw"].to_numpy()), np.sort(2 * result.day_ahead["grid"].to_numpy()))
    other_case, other = dst_plans["2019-10-27"]
    store.write_plan(other_case, other, store.start_run("plan", other_case))
    assert store.count("day_ahead_nominations") == 23 + 25 and store.count("plan_days") == 2


def test_an_error_inside_the_transaction_leaves_the_previous_state(backend, make_store, dst_plans):
    store = make_store(backend)
    case, result = dst_plans["2019-03-31"]
    store.write_plan(case, result, store.start_run("plan", case))
    previous = store.read("day_ahead_nominations").sort_values("period", ignore_index=True)
    previous_run = store.read("plan_days")["run_id"].tolist()
    table = store.tables["day_ahead_nominations"]  # inserted after the deletes and the plan_days row

    def fail_on_nominations(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT") and table.name in statement:
            raise RuntimeError("disk full (simulated by the test)")

    sa.event.listen(store.engine, "before_cursor_execute", fail_on_nominations)
    with pytest.raises(RuntimeError, match="disk full"):
        store.write_plan(case, dataclasses.replace(result, day_ahead=result.day_ahead * 3), "interrupted")
    sa.event.remove(store.engine, "before_cursor_execute", fail_on_nominations)
    after = store.read("day_ahead_nominations").sort_values("period", ignore_index=True)
    pd.testing.assert_frame_equal(after, previous)
    assert store.read("plan_days")["run_id"].tolist() == previous_run


KILLED_WRITER = """
import os, sys, dataclasses, pickle
import sqlalchemy as sa
from planner.store import Store
url, schema, path = sys.argv[1], sys.argv[2] or None, sys.argv[3]
with open(path, "rb") as f:
    case, result = pickle.load(f)
store = Store(url, db_schema=schema)
table = store.tables["day_ahead_nominations"].name

def die(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("INSERT") and table in statement:
        os._exit(9)  # the process dies after deleting the old rows and inserting the new plan_days row

sa.event.listen(store.engine, "before_cursor_execute", die)
store.write_plan(case, dataclasses.replace(result, day_ahead=result.day_ahead * 3), "killed")
"""


def test_a_writer_killed_mid_transaction_leaves_the_previous_state(backend, make_store, dst_plans, tmp_path):
    store = make_store(backend)
    case, result = dst_plans["2019-03-31"]
    store.write_plan(case, result, store.start_run("plan", case))
    previous = store.read("day_ahead_nominations").sort_values("period", ignore_index=True)
    n_dispatch = store.count("dispatch")
    previous_run = store.read("plan_days")["run_id"].tolist()
    path = tmp_path / "plan.pickle"
    path.write_bytes(pickle.dumps((case, result)))
    url = store.engine.url.render_as_string(hide_password=False)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_WRITER), url,
                           store.metadata.schema or "", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    after = store.read("day_ahead_nominations").sort_values("period", ignore_index=True)
    pd.testing.assert_frame_equal(after, previous)
    assert store.count("dispatch") == n_dispatch and "killed" not in set(after["run_id"])
    assert store.read("plan_days")["run_id"].tolist() == previous_run


def test_malicious_table_names_and_values_do_not_execute_sql(backend, make_store, dst_plans, meter_csv):
    evil = TableNames(day_ahead_nominations='nominations"; DROP TABLE runs; --',
                      meter_readings="readings'); DELETE FROM runs; --")
    store = make_store(backend, evil)
    case, result = dst_plans["2019-03-31"]
    evil_case = dataclasses.replace(case, name="x'); DROP TABLE plan_days; --")
    store.write_plan(evil_case, result, store.start_run("plan", evil_case))
    data = load_meter_data(DataSource(path=str(meter_csv), value_column="energy_kwh", unit="kWh"))
    data.frame["meter_id"] = "m'); DROP TABLE runs; --"
    data.reports = {"m'); DROP TABLE runs; --": data.reports["meter"]}
    data.interval_minutes = {"m'); DROP TABLE runs; --": 15}
    store.write_meter_data(data, store.start_run("ingest"))
    names = set(sa.inspect(store.engine).get_table_names(schema=store.metadata.schema))
    assert names == {"runs", "plan_days", "dispatch", "meter_repairs", 'nominations"; DROP TABLE runs; --',
                     "readings'); DELETE FROM runs; --", "sizing_results", "sizing_sizes", "sizing_npv",
                     "replay_days"}
    assert store.count("runs") == 2
    assert set(store.read("day_ahead_nominations")["case_name"]) == {"x'); DROP TABLE plan_days; --"}
    assert set(store.read("meter_readings")["meter_id"]) == {"m'); DROP TABLE runs; --"}
    if backend == "postgresql":  # the COPY read binds the meter id as a quoted literal
        url = store.engine.url.render_as_string(hide_password=False)
        source = DataSource(url=url, table="readings'); DELETE FROM runs; --", db_schema=store.metadata.schema,
                            timestamp_column="time_utc", value_column="power_kw", unit="kW",
                            meter_column="meter_id", meter="m'); DROP TABLE runs; --")
        assert len(load_meter_data(source).frame) == 35040
        with pytest.raises(DataSourceError, match="no rows for meter"):
            load_meter_data(dataclasses.replace(source, meter="x'; DROP TABLE runs; --"))
        assert store.count("runs") == 2


def test_case_hash_changes_with_the_case(dst_plans):
    (a, _), (b, _) = dst_plans["2019-03-31"], dst_plans["2019-10-27"]
    assert case_hash(a) == case_hash(dataclasses.replace(a)) and case_hash(a) != case_hash(b)
    assert len(case_hash(a)) == 64


def test_default_store_is_a_sqlite_file_in_the_output_folder(tmp_path):
    store = Store.in_folder(tmp_path / "run")
    assert store.engine.dialect.name == "sqlite" and (tmp_path / "run" / "planner.sqlite").is_file()


def test_a_plant_table_on_the_local_clock_reads_like_the_csv_export(backend, make_store, meter_csv):
    """A user's own table (naive local timestamps, a unit column, a meter column) read through the SQL source."""
    store = make_store(backend)
    export = pd.read_csv(meter_csv)
    meta = sa.MetaData(schema=store.metadata.schema)
    table = sa.Table("Plant Meters", meta, sa.Column("read at", sa.DateTime(timezone=False)),
                     sa.Column("reading", sa.Float), sa.Column("unit", sa.Text), sa.Column("meter", sa.Text))
    meta.create_all(store.engine)
    stamps = [t.to_pydatetime() for t in pd.to_datetime(export["timestamp"])]
    rows = [{"read at": t, "reading": v * 1000.0, "unit": "Wh", "meter": "main"}
            for t, v in zip(stamps, export["energy_kwh"])]
    with store.engine.begin() as conn:
        conn.execute(table.insert(), rows)
    url = store.engine.url.render_as_string(hide_password=False)
    from_db = load_meter_data(DataSource(url=url, table="Plant Meters", db_schema=store.metadata.schema,
                                         timestamp_column="read at", value_column="reading", unit_column="unit",
                                         meter_column="meter"))
    from_csv = load_meter_data(DataSource(path=str(meter_csv), value_column="energy_kwh", unit="kWh"))
    np.testing.assert_allclose(from_db.frame["power_kw"].to_numpy(), from_csv.frame["power_kw"].to_numpy(),
                               rtol=1e-12)
    assert from_db.frame["time_utc"].equals(from_csv.frame["time_utc"])
    assert from_db.reports["main"].timestamps("dst_fold_resolved") == \
        from_csv.reports["meter"].timestamps("dst_fold_resolved")
