"""The fixed schedule of the battery policy: the rule schedule meets the plan, the adapter from a
two-stage plan result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.policy.fixed_schedule import FixedSchedule
from planner.results import PlanResult


def test_rule_schedule_meets_the_daily_plan(default_case, default_inputs):
    """Line energy of the rule schedule equals the energy of the plan made at the chosen lines'
    power-per-tonne, bounded by the cheapest and dearest line per tonne (hand check)."""
    _, schedule, _ = default_inputs
    for i, site in enumerate(default_case.sites):
        energy = schedule.line_load_kw[:, i].sum() * default_case.period_hours
        lo = sum(q * min(l.power_kw[m] / l.rate_t_per_h[m] for l in site.lines if m in l.power_kw)
                 for m, q in site.plan_t_per_day.items())
        hi = sum(q * max(l.power_kw[m] / l.rate_t_per_h[m] for l in site.lines if m in l.power_kw)
                 for m, q in site.plan_t_per_day.items())
        assert lo - 1e-6 <= energy <= hi + 1e-6
        assert schedule.line_load_kw[:, i].max() <= sum(max(l.power_kw.values()) for l in site.lines) + 1e-6
    assert np.all(schedule.day_ahead_kw >= 0)


def test_fixed_schedule_from_a_plan_result(default_case):
    """The adapter sums the zones' day-ahead purchases and takes the probability-weighted mean of the
    scenarios' line power and battery power (the columns the two-stage dispatch frames carry)."""
    T = default_case.n_periods
    day_ahead = pd.DataFrame({"zone_a": np.full(T, 1000.0), "zone_b": np.arange(T, dtype=float)})

    def frame(lines_foundry, battery_foundry):
        cols = {}
        for n in default_case.site_names:
            cols[f"{n}:lines_kw"] = np.full(T, 10.0)
            cols[f"{n}:battery_kw"] = np.zeros(T)
        cols["foundry:lines_kw"] = np.full(T, lines_foundry)
        cols["foundry:battery_kw"] = np.full(T, battery_foundry)
        return pd.DataFrame(cols)

    plan = PlanResult(lower_bound=0.0, upper_bound=1.0, status="ok", time_s=0.0, method="EF",
                      day_ahead=day_ahead, dispatch={"scen0": frame(2000.0, 100.0), "scen1": frame(1000.0, -50.0)},
                      probabilities={"scen0": 0.25, "scen1": 0.75})
    fs = FixedSchedule.from_plan(plan, default_case)
    np.testing.assert_allclose(fs.day_ahead_kw, 1000.0 + np.arange(T))
    np.testing.assert_allclose(fs.line_load_kw[:, 0], 0.25 * 2000.0 + 0.75 * 1000.0)
    np.testing.assert_allclose(fs.line_load_kw[:, 1:], 10.0)
    np.testing.assert_allclose(fs.battery_net_kw[:, 0], 0.25 * 100.0 - 0.75 * 50.0)
    np.testing.assert_allclose(fs.battery_net_kw[:, 1:], 0.0)
    with pytest.raises(ValueError, match="plan.day_ahead"):
        FixedSchedule.from_plan(PlanResult(0.0, 1.0, "ok", 0.0), default_case)
    with pytest.raises(ValueError, match="lines_kw"):
        FixedSchedule.from_plan(PlanResult(0.0, 1.0, "ok", 0.0, day_ahead=day_ahead,
                                           dispatch={"scen0": pd.DataFrame({"x": np.zeros(T)})}), default_case)
