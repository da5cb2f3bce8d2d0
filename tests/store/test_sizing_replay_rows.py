"""Sizing results and replay days in the store: round trips through SQLite and PostgreSQL, a re-run replaces
its rows, `planner size` writes what the sizing itself reports, each finished replay day is written by the
process that finished it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from planner.cli import main
from planner.replay.data import load_real_days
from planner.replay.day import FIXED, RULE, ReplayOptions
from planner.replay.run import run_replay
from planner.sizing.results import SizingResult
from planner.store import Store, StoreError, record_output_store

SIZES = pd.DataFrame({"site": ["foundry", "plating"], "pv_module": ["M400", "M400"], "pv_modules_new": [2500, 0],
                      "pv_new_kwp": [1000.0, 0.0], "pv_total_kwp": [1300.0, 0.0], "pv_area_m2": [4796.16, 0.0],
                      "turbine_type": ["", "E-82/2300"], "turbines_new": [0, 1], "wind_new_kw": [0.0, 2300.0],
                      "wind_total_kw": [0.0, 2300.0], "battery_new_kwh": [500.0, 0.0],
                      "battery_new_kw": [250.0, 0.0], "battery_total_kwh": [500.0, 0.0],
                      "battery_total_kw": [250.0, 0.0], "generator_new_kw": [0.0, 0.0],
                      "generator_total_kw": [800.0, 0.0]}).set_index("site")


def sizing_result(scale: float = 1.0) -> SizingResult:
    return SizingResult(lower_bound_eur=990_000.0 * scale, upper_bound_eur=1_000_000.0 * scale, sizes=SIZES * 1,
                        subscribed_power_kw=3915.0, npv_breakdown=pd.Series({"energy": 800_000.0 * scale,
                                                                             "pv_capex": 200_000.0}),
                        lcoe_eur_per_mwh=69.3, annualised_cost_eur_per_year=87_000.0, soh=pd.DataFrame(),
                        replacement_years={}, info={"method": "ef", "n_scenarios": 3, "n_typical_days": 8,
                                                    "years": 20})


def test_sizing_rows_round_trip_and_a_rerun_replaces_them(backend, make_store, dst_plans):
    store = make_store(backend)
    case, _ = dst_plans["2019-03-31"]
    first = store.start_run("size", case)
    counts = store.write_sizing(case, sizing_result(), first, base_load="plant: metered")
    assert counts == {"sizing_results": 1, "sizing_sizes": 2, "sizing_npv": 2}
    second = store.start_run("size", case)
    store.write_sizing(case, sizing_result(scale=2.0), second, base_load="plant: metered")
    assert {role: store.count(role) for role in counts} == counts
    summary = store.read("sizing_results").iloc[0]
    assert summary["run_id"] == second and summary["upper_bound_eur"] == 2_000_000.0
    assert summary["gap"] == pytest.approx(0.01) and summary["base_load"] == "plant: metered"
    assert (summary["n_scenarios"], summary["n_typical_days"], summary["horizon_years"]) == (3, 8, 20)
    sizes = store.read("sizing_sizes").set_index("site").loc[SIZES.index]
    for column in SIZES.columns:
        assert list(sizes[column]) == list(SIZES[column]), column
    npv = store.read("sizing_npv").set_index("component")["npv_eur"]
    assert npv.to_dict() == {"energy": 1_600_000.0, "pv_capex": 200_000.0}


@pytest.mark.slow
def test_size_command_writes_what_the_sizing_reports(shared_data, project_root, tmp_path):
    out = tmp_path / "size"
    assert main(["size", str(project_root / "tests" / "cases" / "base.toml"), "--years", "1", "--days", "2",
                 "--scenarios", "1", "--years-per-block", "1", "--output", str(out)]) == 0
    store = Store.in_folder(out)
    reported = json.loads((out / "sizing" / "sizing_summary.json").read_text())
    summary = store.read("sizing_results").iloc[0]
    for key in ("lower_bound_eur", "upper_bound_eur", "lcoe_eur_per_mwh", "subscribed_power_kw"):
        assert summary[key] == pytest.approx(reported[key], rel=1e-12), key
    assert summary["horizon_years"] == 1 and summary["base_load"].startswith("foundry: mean_kw 500 kW")
    sizes = pd.read_csv(out / "sizing" / "sizing_sizes.csv", index_col="site")
    stored = store.read("sizing_sizes").set_index("site").loc[sizes.index]
    np.testing.assert_allclose(stored["battery_total_kwh"], sizes["battery_total_kwh"], rtol=1e-12)
    np.testing.assert_allclose(stored["pv_total_kwp"], sizes["pv_total_kwp"], rtol=1e-12)
    assert list(store.read("runs")["command"]) == ["size"]


def energy_system(case):
    """The case's sites without production lines (fast daily plans)."""
    sites = [dataclasses.replace(s, lines=[], plan_t_per_day={}, storage={}, deliveries=[]) for s in case.sites]
    return dataclasses.replace(case, sites=sites, source=None)


@pytest.fixture(scope="module")
def replayed(default_case, shared_data, tmp_path_factory):
    """Two days over two months replayed in two processes, each finished day written to a SQLite store."""
    out = tmp_path_factory.mktemp("replay")
    case = energy_system(default_case)
    store = Store.in_folder(out)
    run_id = store.start_run("replay", case)
    record_output_store(out, store.url, run_id)
    result = run_replay(case, "2022-01-31", "2022-02-01", ReplayOptions(n_scenarios=2, time_limit_s=20.0,
                                                                        policies=(RULE, FIXED)),
                        out, n_workers=2, real=load_real_days(shared_data / "prices" / "fr_hourly_2019_2022.csv"),
                        progress=False)
    return case, result, store, run_id


@pytest.mark.slow
def test_each_finished_replay_day_is_in_the_store(replayed):
    case, result, store, run_id = replayed
    rows = store.read("replay_days").sort_values(["day_local", "policy"], ignore_index=True)
    daily = result.daily.sort_values(["date", "policy"], ignore_index=True)
    assert len(rows) == len(daily) == 4 and set(rows["run_id"]) == {run_id}
    assert list(rows["day_local"].astype(str)) == list(daily["date"])
    np.testing.assert_array_equal(rows["cost_eur"], daily["cost_eur"])
    np.testing.assert_array_equal(rows["month_peak_kw"], daily["month_peak_kw"])
    detail = [json.loads(text) for text in rows["detail_json"]]
    assert [d["soc_end_by_battery_kwh"] for d in detail] == list(daily["soc_end_by_battery_kwh"].map(list))


@pytest.mark.slow
def test_replay_days_round_trip_and_a_rerun_replaces_them(replayed, backend, make_store):
    case, result, _, _ = replayed
    store = make_store(backend)
    assert store.write_replay_days(case, result.daily, store.start_run("replay", case)) == 4
    second = store.start_run("replay", case)
    changed = result.daily.assign(cost_eur=result.daily["cost_eur"] + 1.0)
    store.write_replay_days(case, changed[changed["date"] == "2022-02-01"], second)
    rows = store.read("replay_days").sort_values(["day_local", "policy"], ignore_index=True)
    assert len(rows) == 4
    expected = changed.sort_values(["date", "policy"], ignore_index=True)
    expected["cost_eur"] -= np.where(expected["date"] == "2022-02-01", 0.0, 1.0)
    np.testing.assert_allclose(rows["cost_eur"], expected["cost_eur"], rtol=0, atol=1e-9)
    assert list(rows["run_id"] == second) == list(expected["date"] == "2022-02-01")
    assert rows["fallback"].map(bool).tolist() == expected["fallback"].map(bool).tolist()


def test_a_store_url_with_a_password_is_not_recorded_in_the_output_folder(tmp_path):
    with pytest.raises(StoreError, match="PGPASSWORD or ~/.pgpass") as err:
        record_output_store(tmp_path, "postgresql+psycopg://planner:secret@db.example/plant", "run")
    assert "secret" not in str(err.value) and not (tmp_path / "store.json").exists()


def test_replay_refuses_a_store_url_with_a_password_before_any_work(project_root, tmp_path, capsys):
    code = main(["replay", str(project_root / "data" / "cases" / "default.toml"), "--start", "2022-01-03",
                 "--end", "2022-01-03", "--store", "postgresql+psycopg://planner:secret@db.invalid/plant",
                 "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "PGPASSWORD or ~/.pgpass" in err and "secret" not in err
    assert not (tmp_path / "r").exists()


def test_size_with_an_unreachable_store_stops_before_sizing(project_root, tmp_path, capsys):
    url = f"postgresql+psycopg://planner@/plant?host={tmp_path / 'no-server'}"
    code = main(["size", str(project_root / "tests" / "cases" / "base.toml"), "--store", url,
                 "--output", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot create or open the tables" in err and "check the URL" in err
    assert not (tmp_path / "s").exists()
