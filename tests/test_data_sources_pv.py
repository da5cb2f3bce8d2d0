"""A site's measured PV output as a case-file data source (``microgrid.pv.source``): the planned day's
readings become the PV of every scenario (energy conserved, divided by kWp), the plan uses them, the
report and the repair report say so, and bad sources are named with their field, unit and fix."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from planner.case import CaseError, load_case
from planner.cli import main
from planner.data_sources import metered_load_notes
from planner.scenario_inputs import case_scenarios

KWP = 500.0
DAY = "2019-06-12"


def pv_watts(local: pd.DatetimeIndex) -> np.ndarray:
    """The synthetic array: 400 kW * sin(pi (h - 6) / 15) by day, a 200 W night draw of the inverters."""
    hour = local.hour + local.minute / 60
    return np.where((hour >= 6) & (hour < 21), 400_000 * np.sin(np.pi * (hour - 6) / 15), -200.0)


@pytest.fixture
def pv_folder(tmp_path):
    """pv.csv: five days of 15-minute readings in W on the local wall clock, and a case file writer."""
    local = pd.date_range("2019-06-10", "2019-06-15", freq="15min", tz="Europe/Paris", inclusive="left")
    pd.DataFrame({"timestamp": local.tz_localize(None).strftime("%Y-%m-%d %H:%M"),
                  "pv_w": pv_watts(local)}).to_csv(tmp_path / "pv.csv", index=False)
    return tmp_path


def write_case(folder, day: str = DAY, kwp: float = KWP, unit: str = "W", period_minutes: int = 60):
    path = folder / "pv_site.toml"
    path.write_text(f"""
name = "pv site"
period_minutes = {period_minutes}
[scenarios]
day = "{day}"
[contract]
subscribed_power_kw = 3000.0
[[sites]]
name = "plant"
latitude = 45.76
longitude = 4.84
[sites.base_load]
mean_kw = 800.0
[sites.microgrid.pv]
kwp = {kwp}
[sites.microgrid.pv.source]
path = "pv.csv"
value_column = "pv_w"
unit = "{unit}"
""")
    return path


def hand_profile_kw_per_kwp(period_minutes: int) -> np.ndarray:
    """Each period's mean of its quarter-hour readings (W -> kW), negative draws taken as 0, per kWp."""
    local = pd.date_range(DAY, periods=96, freq="15min", tz="Europe/Paris")
    quarters = pv_watts(local).reshape(-1, period_minutes // 15) / 1000.0
    return np.maximum(quarters.mean(axis=1), 0.0) / KWP


@pytest.mark.parametrize("period_minutes", [15, 60])
def test_every_scenario_carries_the_days_measured_pv_per_kwp(pv_folder, period_minutes):
    case = load_case(write_case(pv_folder, period_minutes=period_minutes))
    scenarios = case_scenarios(case, 3, 0)
    pv = scenarios["pv_kw_per_kwp:plant"]
    assert pv.shape == (3, 24 * 60 // period_minutes)
    np.testing.assert_allclose(pv, np.tile(hand_profile_kw_per_kwp(period_minutes), (3, 1)), atol=1e-12)
    assert scenarios.metadata["measured_pv"] == ["pv_kw_per_kwp:plant"]


def test_the_plan_uses_the_measured_pv_and_reports_it(pv_folder):
    case_file = write_case(pv_folder)
    out = pv_folder / "plan"
    assert main(["plan", str(case_file), "--scenarios", "2", "--no-measures", "--time-limit", "60",
                 "--output", str(out)]) == 0
    with sqlite3.connect(out / "planner.sqlite") as db:
        rows = db.execute("SELECT scenario, period, value FROM dispatch WHERE quantity = 'plant:pv_kw' "
                          "ORDER BY scenario, period").fetchall()
    measured_kw = hand_profile_kw_per_kwp(60) * KWP
    assert len(rows) == 2 * 24
    used = np.array([r[2] for r in rows]).reshape(2, 24)
    # PV costs nothing and the load (800 kW) exceeds the array's 400 kW peak: every measured kWh is used
    np.testing.assert_allclose(used, np.tile(measured_kw, (2, 1)), atol=1e-4)
    assert (out / "repairs_plant_pv.csv").is_file()
    report = (out / "report.md").read_text()
    assert "PV output metered, read from pv.csv" in report
    # the night draw (-0.2 kW) in the 9 hours 21:00-06:00 is taken as 0 and said so
    assert "9 period(s) below 0 kW (inverters' night draw) taken as 0 kW" in report


def test_the_report_note_names_the_source_and_its_repairs(pv_folder):
    case = load_case(write_case(pv_folder))
    notes = metered_load_notes(case.sites, case.scenarios.day, case.horizon_hours, case.period_minutes)
    assert len(notes) == 1 and "kwp = 500 kWp" in notes[0] and "repairs: none" in notes[0]


@pytest.mark.parametrize("edit, expected", [
    (dict(unit="kWp"), "sites[0].microgrid.pv.source.unit = 'kWp': allowed units are W, kW, MW, Wh, kWh, MWh"),
    (dict(kwp=0.0), "sites[0].microgrid.pv.kwp = 0 kWp: with a measured source give the installed power"),
    (dict(unit="kW"), "above 110 % of kwp = 500 kWp; check the unit (given: kW; allowed: W, kW, MW, or Wh, kWh, MWh per interval)"),
    (dict(day="2019-07-01"), "choose a day inside the data"),
])
def test_a_bad_pv_source_is_named_with_its_field_unit_and_fix(pv_folder, capsys, edit, expected):
    case_file = write_case(pv_folder, **edit)
    with pytest.raises(CaseError) as caught:
        load_case(case_file)
    assert expected in str(caught.value)
    assert "sites[0].microgrid.pv" in str(caught.value)
    assert main(["validate", str(case_file)]) == 2  # `planner validate` stops on it too, no traceback
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
