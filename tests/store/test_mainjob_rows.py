"""The main job's rows in its embedded SQLite store (planner.sqlite in the output folder): the plan's day with
its dispatch and the sizing under one run row, read back with SQL; a re-run replaces them; a job that stops
leaves its run row marked failed."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from planner.mainjob import run_main_job, store_results
from planner.sizing import run_sizing
from planner.store import Store


@pytest.fixture(scope="module")
def sized(dst_plans):
    """A real sizing of the metered site (one year, two representative days, one scenario) under the default
    demand and overrun charges."""
    case, _ = dst_plans["2019-10-27"]
    defaults = {f.name: f.default for f in dataclasses.fields(case.contract)}
    contract = dataclasses.replace(case.contract, **{k: defaults[k] for k in ("demand_charge_eur_per_kw_month",
                                                                              "overrun_charge_eur_per_kw")})
    case = dataclasses.replace(case, contract=contract)
    return run_sizing(case, years=1, days=2, n_scenarios=1, years_per_block=1, time_limit=30, progress=False)


def test_the_main_jobs_plan_dispatch_and_sizing_rows_read_back_with_sql(dst_plans, sized, tmp_path):
    case, planned = dst_plans["2019-10-27"]
    store = Store.in_folder(tmp_path)
    run_id = store.start_run("run", case)
    counts = store_results(store, run_id, case, plan_result=planned)
    counts.update(store_results(store, run_id, case, sizing_result=sized))
    store.finish_run(run_id, detail="test")
    n_dispatch = sum(frame.size for frame in planned.dispatch.values())
    assert counts == {"plan_days": 1, "day_ahead_nominations": 25, "dispatch": n_dispatch, "sizing_results": 1,
                      "sizing_sizes": 1, "sizing_npv": len(sized.npv_breakdown)}
    with sqlite3.connect(tmp_path / "planner.sqlite") as db:
        day = db.execute("SELECT day_local, n_periods, lower_bound_eur, upper_bound_eur, gap, run_id FROM plan_days"
                         ).fetchall()
        energy = db.execute("SELECT SUM(energy_kwh), COUNT(*) FROM day_ahead_nominations").fetchone()
        grid = db.execute("SELECT COUNT(*) FROM dispatch WHERE site = 'plant' AND unit = 'kW'").fetchone()[0]
        sizing = db.execute("SELECT subscribed_power_kw, lower_bound_eur, upper_bound_eur, gap, base_load, run_id "
                            "FROM sizing_results").fetchall()
        npv = db.execute("SELECT SUM(npv_eur) FROM sizing_npv").fetchone()[0]
        sites = db.execute("SELECT site, battery_total_kwh FROM sizing_sizes").fetchall()
        runs = db.execute("SELECT run_id, command, length(case_hash), status, detail FROM runs").fetchall()
    assert day == [("2019-10-27", 25, planned.lower_bound, planned.upper_bound, planned.gap, run_id)]
    # the day-ahead energy bought is the plan's (kW x 1 h periods), over the 25 real hours of the day
    assert energy == (pytest.approx(float(planned.day_ahead.to_numpy().sum())), 25)
    assert grid > 0
    assert sizing == [(sized.subscribed_power_kw, sized.lower_bound_eur, sized.upper_bound_eur, sized.gap,
                       "plant: metered, from plant.csv", run_id)]
    assert npv == pytest.approx(float(sized.npv_breakdown.sum()))
    assert sites == [("plant", float(sized.sizes.loc["plant", "battery_total_kwh"]))]
    assert runs == [(run_id, "run", 64, "done", "test")]


def test_a_second_run_replaces_the_rows_of_the_first(dst_plans, sized, tmp_path):
    case, planned = dst_plans["2019-10-27"]
    store = Store.in_folder(tmp_path)
    for _ in range(2):
        run_id = store.start_run("run", case)
        first = store_results(store, run_id, case, plan_result=planned, sizing_result=sized)
    assert {role: store.count(role) for role in first} == first
    assert set(store.read("sizing_results")["run_id"]) == {run_id} == set(store.read("dispatch")["run_id"])
    assert store.count("runs") == 2


def test_a_main_job_that_stops_leaves_its_run_row_failed(dst_plans, tmp_path):
    case, _ = dst_plans["2019-10-27"]
    missing = dataclasses.replace(case, scenarios=dataclasses.replace(case.scenarios,
                                                                       parameters=str(tmp_path / "no_such_folder")))
    with pytest.raises(FileNotFoundError):
        run_main_job(missing, tmp_path / "out", quick=True)
    with sqlite3.connect(tmp_path / "out" / "planner.sqlite") as db:
        assert db.execute("SELECT command, status, detail FROM runs").fetchall() == [("run", "failed", "no rows")]
