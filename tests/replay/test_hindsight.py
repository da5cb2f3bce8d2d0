"""Perfect foresight per month: the month LP settled day by day adds up to the LP optimum, and no replayed
policy (same realised days, same intraday draws) costs less over the month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.replay.day import FIXED, PERFECT, RULE, ReplayOptions, initial_state, replay_day
from planner.replay.run import run_replay
from planner.replay.hindsight import month_hindsight
from planner.replay.policies import PERFECT_MONTH

DAYS = list(pd.date_range("2022-01-04", "2022-01-06"))


@pytest.fixture(scope="module")
def month_rows(overrun_case, real_days):
    opts = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED, PERFECT), lattice_paths=0)
    return month_hindsight(overrun_case, real_days, DAYS, opts), opts


def test_settled_days_add_up_to_the_month_optimum(month_rows, overrun_case):
    rows, _ = month_rows
    assert [r["policy"] for r in rows] == [PERFECT_MONTH] * 3
    settled = sum(r["cost_eur"] for r in rows)
    assert settled == pytest.approx(rows[0]["lower_bound_eur"], rel=1e-6, abs=0.05)
    assert rows[0]["gap"] == 0.0
    # the overrun charged over the days is f3 times the month's peak above the threshold (a second way)
    c = overrun_case.contract
    peak = max(r["day_peak_kw"] for r in rows)
    assert rows[-1]["month_peak_kw"] == pytest.approx(peak)
    expected = c.overrun_charge_eur_per_kw * max(0.0, peak - c.overrun_threshold * c.subscribed_power_kw)
    assert sum(r["overrun_eur"] for r in rows) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_no_policy_beats_the_month_in_hindsight(month_rows, overrun_case, real_days):
    """The case has no production lines: the month LP is a lower bound of every policy's month cost,
    the per-day hindsight included (its decisions are feasible for the month LP)."""
    rows, opts = month_rows
    bound = sum(r["cost_eur"] for r in rows)
    states = {p: initial_state(overrun_case) for p in opts.policies}
    totals = dict.fromkeys(opts.policies, 0.0)
    for day in DAYS:
        day_rows, states = replay_day(overrun_case, real_days, day, states, opts)
        for r in day_rows:
            totals[r["policy"]] += r["cost_eur"]
    for name, total in totals.items():
        assert bound <= total + 1e-6 * abs(total), name
    assert bound < totals[RULE]


def test_with_lines_the_month_draws_the_per_day_hindsight_schedules(one_line_site_case, real_days, tmp_path):
    """With production lines the month LP draws each day's hindsight plan's line load (recorded in the daily
    table), so it costs at most what the per-day hindsight policy costs over the month (its decisions are
    feasible for the LP); with the rule's schedule instead (before this) it cost more on this case."""
    opts = ReplayOptions(n_scenarios=2, time_limit_s=30.0, policies=(RULE, PERFECT, PERFECT_MONTH))
    daily = run_replay(one_line_site_case, "2022-01-10", "2022-01-11", opts, tmp_path, real=real_days,
                       progress=False, figures=False).daily
    month = daily[daily["policy"] == PERFECT_MONTH].sort_values("date")
    day = daily[daily["policy"] == PERFECT].sort_values("date")
    assert (month["line_schedule"] == "per-day hindsight plans").all()
    assert (day["operated_by"] == PERFECT).all()
    for a, b in zip(month["line_load_kw"], day["line_load_kw"]):
        assert np.allclose(np.stack(list(a)), np.stack(list(b)))
    assert month["cost_eur"].sum() <= day["cost_eur"].sum() + 1e-6 * abs(day["cost_eur"].sum())
    # the rule's schedule draws other loads: the month LP with it costs more here (20,295 against 20,090 EUR)
    rule = daily[daily["policy"] == RULE].sort_values("date")
    assert not all(np.allclose(np.stack(list(a)), np.stack(list(b)))
                   for a, b in zip(month["line_load_kw"], rule["line_load_kw"]))
    with_rule = month_hindsight(one_line_site_case, real_days, list(pd.date_range("2022-01-10", "2022-01-11")), opts)
    assert all(r["line_schedule"] == "rule" for r in with_rule)
    assert sum(r["cost_eur"] for r in with_rule) > month["cost_eur"].sum()