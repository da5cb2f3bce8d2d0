"""The re-plan / re-size loop (``planner.sizing.loop``, the default of ``run_sizing``): its stopping rule,
its rounds on the tiny case, and the issue's check that the sized subscribed power holds in operation."""

from __future__ import annotations

import warnings

import pytest

from planner.case import load_case
from planner.sizing.apply import plan_typical_day
from planner.sizing.loop import Tolerance, converged, largest_change, soc_at_start, sized_system
from planner.sizing.run import run_sizing

F3 = 25.0  # EUR/kW, the tiny case's overrun charge


def test_tolerance_is_the_larger_of_absolute_and_relative():
    tol = Tolerance(relative=0.01, absolute=10.0)
    assert tol.allowed(100.0, 105.0) == pytest.approx(10.0)        # 1 % of 105 = 1.05 < 10
    assert tol.allowed(5000.0, 5600.0) == pytest.approx(56.0)      # 1 % of the larger value
    before = {"subscribed_kw": 5000.0, "a:pv_total_kwp": 100.0}
    assert converged(before, {"subscribed_kw": 5050.0, "a:pv_total_kwp": 109.0}, tol)   # 50 <= 50.5, 9 <= 10
    assert not converged(before, {"subscribed_kw": 5060.0, "a:pv_total_kwp": 100.0}, tol)  # 60 > 50.6
    # the size that uses most of its tolerance is named: 11 / 10 beats 40 / 50.4
    name, change, allowed = largest_change(before, {"subscribed_kw": 5040.0, "a:pv_total_kwp": 111.0}, tol)
    assert (name, change, allowed) == ("a:pv_total_kwp", pytest.approx(11.0), pytest.approx(10.0))
    # a size that appears (a new site column) is compared with 0
    assert not converged(before, {**before, "b:battery_total_kwh": 11.0}, tol)


def test_the_loop_stops_when_two_rounds_agree(tiny_sizing):
    case, result, _ = tiny_sizing
    rounds = result.rounds
    assert result.info["rounds"] == len(rounds) >= 2
    assert list(rounds["round"]) == list(range(1, len(rounds) + 1))
    assert result.info["stop_reason"].startswith("converged")
    last, before = rounds.iloc[-1], rounds.iloc[-2]
    tol = Tolerance()
    assert abs(last.subscribed_kw - before.subscribed_kw) <= tol.allowed(last.subscribed_kw, before.subscribed_kw)
    # the rounds before the last did not agree (else the loop would have stopped there)
    for k in range(1, len(rounds) - 1):
        a, b = rounds.iloc[k - 1], rounds.iloc[k]
        assert any(abs(a[c] - b[c]) > tol.allowed(a[c], b[c])
                   for c in ("subscribed_kw", "pv_kwp", "wind_kw", "battery_kwh", "battery_kw", "generator_kw"))
    for _, row in rounds.iterrows():  # every round carries its bounds, gap and time
        assert row.lower_eur <= row.upper_eur + 1e-6 and 0.0 <= row.gap <= 1e-3 and row.seconds > 0
    assert rounds.subscribed_kw.iloc[-1] == pytest.approx(result.subscribed_power_kw)
    # round r >= 2 re-planned every typical day with round r - 1's system
    days = result.replanned_days
    n_days = result.dispatch["_day_tables"]["scen0"].n_days
    assert set(days["round"]) == set(range(2, len(rounds) + 1))
    assert (days.groupby("round").size() == n_days).all()
    assert days.threshold_kw[days["round"] == 2].iloc[0] == pytest.approx(1.1 * rounds.subscribed_kw.iloc[0])
    assert "re-planned with the sized system" in result.info["load"]


def test_one_round_asked_is_one_round(tiny_case_file, shared_data):
    case = load_case(tiny_case_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_sizing(case, years=1, days=2, n_scenarios=1, years_per_block=1, ageing=False, progress=False,
                       mip_rel_gap=1e-4, random_state=5, max_rounds=1, check_operation=False)
    assert len(r.rounds) == 1 and r.replanned_days is None and r.operation_check is None
    assert r.info["stop_reason"].startswith("one round asked")
    with pytest.raises(ValueError, match="max_rounds"):
        run_sizing(case, max_rounds=0)


def test_the_sized_system_holds_its_predicted_overrun_in_operation(tiny_sizing):
    """The issue's check: the representative day with the highest predicted peak planned by the day-ahead
    model with the final sized system (battery at sizing's state of charge; the overrun charged f3 per kW,
    as the bill charges the day setting a month's peak; no peak charge: operation as it will run).
    - With the lines at the schedule sizing's last round used, its overrun charge equals sizing's
      prediction for that day within the stated gaps: the plan's (upper - lower bound, EUR) plus
      f3 x threshold x the loop's last change of P (the schedule was re-planned with the round before's P).
    - With the lines free (started from that schedule), operation pays at most the predicted charge
      (within the same gaps): it may find a schedule the time-limited re-plan did not."""
    case, result, _ = tiny_sizing
    peaks = result.typical_day_peaks
    top = peaks.loc[peaks.peak_kw.idxmax()]
    d = int(top.typical_day)
    table = result.dispatch["_day_tables"][top.scenario]
    system = sized_system(case, result)
    soc = soc_at_start(result, top.scenario, d)
    schedule = result.dispatch["_lines_schedules"][(0, d)]
    fixed = plan_typical_day(system, table, d, soc_fraction=soc, schedule=schedule, mip_gap=1e-4, time_limit=30.0)
    free = plan_typical_day(system, table, d, soc_fraction=soc, start=schedule, mip_gap=1e-4, time_limit=30.0)
    assert fixed["threshold_kw"] == pytest.approx(1.1 * result.subscribed_power_kw)
    rounds = result.rounds
    drift = abs(rounds.subscribed_kw.iloc[-1] - rounds.subscribed_kw.iloc[-2])
    for plan in (fixed, free):
        assert plan["gap"] <= 1e-3
    allowed = (fixed["upper_bound_eur"] - fixed["lower_bound_eur"]) + F3 * 1.1 * drift + 0.5 * F3
    assert F3 * fixed["overrun_kw"] == pytest.approx(F3 * top.overrun_kw, abs=allowed)
    allowed_free = (free["upper_bound_eur"] - free["lower_bound_eur"]) + F3 * 1.1 * drift + 0.5 * F3
    assert F3 * free["overrun_kw"] <= F3 * top.overrun_kw + allowed_free
    # the loop's own operation check re-planned every day with the final system, lines free: no day pays
    # more overrun than sizing predicted for it, within the same gaps
    check = result.operation_check
    assert result.info["operation_check"]["days_replanned"] == len(peaks) == len(check)
    assert (check.overrun_charge_difference_eur <= check.plan_gap_eur + F3 * 1.1 * drift + 0.5 * F3).all()
