"""The production lines in sizing: each typical day's load is its base load plus the lines' power
scheduled by the day-ahead model (or their average power when ``include_lines=False``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from planner.case import load_case
from planner.sizing.inputs import lines_average_power_kw
from planner.sizing.lines import prepare_sizing_days

# the tiny case's plan by hand: 6 t of M3 at 1 t/h on a 400 kW bath = 6 h at 400 kW = 2,400 kWh a day
PLAN_KWH = 6.0 * 400.0 / 1.0


def test_lines_average_power_is_the_plan_energy_over_the_day(tiny_case_file):
    case = load_case(tiny_case_file)
    assert lines_average_power_kw(case.site("plating")) == pytest.approx(PLAN_KWH / 24.0)


def test_scheduled_lines_are_the_days_load_above_the_base_load(tiny_sizing):
    case, result, _ = tiny_sizing
    table = result.dispatch["_day_tables"]["scen0"]
    base, lines = table.values["base_load_kw:plating"], table.values["lines_kw:plating"]
    assert np.allclose(table.values["load_kw:plating"], base + lines, atol=1e-9)
    energy = lines.sum(axis=1)  # kWh a day (hourly periods)
    # at least the production energy; at most that plus standby all day and a start-up
    assert np.all(energy >= PLAN_KWH - 1e-6)
    assert np.all(energy <= PLAN_KWH + 24 * 40.0 + 100.0 + 1e-6)
    # a schedule, not the flat average (100 kW): the bath runs (most of) some hours at 400 kW and stands
    # still in others (the re-planned days may run an hour in part: run fractions are continuous)
    assert np.all(lines.max(axis=1) >= 300.0) and np.all(lines.min(axis=1) <= 40.0 + 1e-6)
    assert result.info["lines_load"] == "schedule"
    assert "scheduled by the day-ahead model" in result.info["load"]
    assert len(result.info["lines_schedule_days"]) == table.n_days


def test_without_lines_the_days_carry_the_average_power(tiny_case_file, shared_data):
    case = load_case(tiny_case_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables, _, _, _, record = prepare_sizing_days(case, 2, 1, 5, include_lines=False)
        scheduled, _, _, _, _ = prepare_sizing_days(case, 2, 1, 5, time_limit_per_day=5.0)
    assert record is None
    # the same base load under both: the flat load is the scheduled days' base load + 100 kW
    assert np.allclose(tables[0].values["load_kw:plating"],
                       scheduled[0].values["base_load_kw:plating"] + PLAN_KWH / 24.0, atol=1e-9)
