"""Perfect foresight per month: the replayed days of a month solved in hindsight as one LP, with the
month's real peak charge, then settled day by day like every other policy (the paired comparison).

The LP (``planner.policy.model.add_hour`` chained over every hour of the month, HiGHS): the batteries'
SoC and the running import peak are carried from hour to hour across the days; the overrun charge
f3 * max(0, peak - threshold * P) is paid once on the month's peak; each day's end-of-day SoC target
is the day's own start SoC (the case's ``final_soc_min_fraction`` when given), short SoC paying the
same penalty as in the daily settlement. Day-ahead purchases are free decisions: knowing the hour's
day-ahead price p0 and intraday price p1 (the same seeded draws as the daily settlement), energy is
bought at min(p0, p1), so the LP's purchases at hours with p0 <= p1 are its day-ahead volumes.
The production lines draw, each day, the schedule of that day's perfect-foresight plan when the
per-day hindsight policy was replayed (the two-stage model solved on the realised day, its schedule
optimal for that day alone), else the rule's schedule at the realised prices (``FixedSchedule.from_rule``).
For a case without production lines the LP's optimum is a lower bound on every replayed policy's month
cost. With production lines it is a bound only for the schedules it is given: with the per-day
hindsight plans' schedules it is at most the per-day hindsight policy's month cost (that policy's
decisions are feasible for the LP), but a policy that moves production differently may cost less; the
report compares against the cheaper of the two hindsight policies and says which.

Settlement: the LP's day-ahead volumes and battery powers are replayed by the fixed-schedule policy
from the month's start state with the hourly recourse; the settled costs add up to the LP optimum
(up to the 1e-7 EUR/kW peak tie-break), which the tests check.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from planner.case import Case
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.linear_program import LinearProgram
from planner.policy.model import add_hour, apply_values, policy_inputs
from planner.replay.data import PRICE, RealDays
from planner.replay.day import (FIXED, PolicyState, ReplayOptions, day_case, day_seed, initial_state,
                                make_operating_policy, operate, realised_values)
from planner.replay.policies import PERFECT_MONTH

INF = float("inf")


def month_inputs(case: Case, real: RealDays, days, options: ReplayOptions, state: PolicyState,
                 line_loads=None):
    """Per day: (policy inputs with no day-ahead purchase, realised values (T, V), hindsight values with
    p1 replaced by min(p0, p1)). ``line_loads``: per day, the production lines' load (T, N) kW to draw, or
    None for the rule's schedule at the realised prices."""
    out = []
    line_loads = list(line_loads) if line_loads is not None else [None] * len(days)
    if len(line_loads) != len(days):
        raise ValueError(f"line_loads: {len(line_loads)} days given for {len(days)} days replayed")
    for day, lines in zip(days, line_loads):
        realised = real.day(day)
        p0 = realised[PRICE].to_numpy(dtype=float)
        cd = day_case(case, day, state, p0)
        schedule = FixedSchedule.from_rule(cd, None, p0)
        schedule.day_ahead_kw = np.zeros_like(schedule.day_ahead_kw)
        if lines is not None:
            lines = np.asarray(lines, dtype=float)
            if lines.shape != schedule.line_load_kw.shape:
                raise ValueError(f"line_loads[{day.date()}]: shape {lines.shape}, the case's day is "
                                 f"{schedule.line_load_kw.shape} (periods, sites)")
            schedule.line_load_kw = lines
        inp = policy_inputs(cd, schedule)
        values = realised_values(cd, realised, inp.variables, day_seed(options.seed, day))[0]
        hind = values.copy()
        hind[:, 1] = np.minimum(values[:, 0], values[:, 1])
        out.append((inp, values, hind))
    return out


def solve_month(case: Case, inputs: list, state: PolicyState):
    """The month LP (module docstring); returns (optimum EUR, per day (day-ahead kW (T,), battery kW (T, N)))."""
    lp = LinearProgram()
    first = inputs[0][0]
    bs = first.battery_sites
    soc = {i: float(state.soc_kwh[j]) for j, i in enumerate(bs)}
    peak = float(state.month_peak_kw)
    own_target = {i: case.sites[i].microgrid.battery.final_soc_min_fraction is None for i in bs}
    handles = []
    for inp, _, hind in inputs:
        start = dict(soc)
        day = []
        for t in range(inp.n_periods):
            hh = add_hour(lp, inp, t, soc, peak, terminal=False, overrun=False)
            apply_values(lp, inp, t, hh, hind[t])
            soc, peak = hh.soc_out, hh.peak_out
            day.append(hh)
        for i in bs:
            short = lp.add_variable(0.0, INF, inp.terminal_penalty_eur_per_mwh / 1000.0, f"shortfall_kwh:{i}")
            target = start[i] if own_target[i] else inp.soc_target_kwh(i)
            lp.add_constraint(short + soc[i] - target, ">=", 0.0)
        handles.append(day)
    over = lp.add_variable(0.0, INF, first.overrun_charge_eur_per_kw, "month_overrun_kw")
    lp.add_constraint(over - peak, ">=", -first.overrun_threshold_kw)
    lp.constant = -first.overrun_charge_eur_per_kw * max(0.0, state.month_peak_kw - first.overrun_threshold_kw)
    objective, x = lp.solve()
    decisions = []
    for (inp, values, _), day in zip(inputs, handles):
        T = inp.n_periods
        bought = np.array([x[hh.buy.col] for hh in day])
        day_ahead = np.where(values[:, 0] <= values[:, 1], bought, 0.0)
        battery = np.zeros((T, inp.n_sites))
        for t, hh in enumerate(day):
            for i in bs:
                battery[t, i] = x[hh.discharge[i].col] - x[hh.charge[i].col]
        decisions.append((day_ahead, battery))
    return float(objective), decisions


def month_hindsight(case: Case, real: RealDays, days, options: ReplayOptions, line_loads=None) -> list:
    """Rows (one per day, policy ``perfect foresight (month)``) of the month's hindsight LP settled day by
    day from the month's start state (module docstring); ``line_loads`` as in :func:`month_inputs`."""
    days = [pd.Timestamp(d).normalize() for d in days]
    t0 = time.perf_counter()
    state = initial_state(case)
    given = line_loads is not None and any(x is not None for x in line_loads)
    inputs = month_inputs(case, real, days, options, state, line_loads)
    objective, decisions = solve_month(case, inputs, state)
    solve_s = time.perf_counter() - t0
    rows = []
    for day, (inp, values, _), (day_ahead, battery) in zip(days, inputs, decisions):
        td = time.perf_counter()
        cd = day_case(case, day, state, values[:, 0])
        schedule = FixedSchedule(day_ahead, inp.schedule.line_load_kw, battery, "hindsight month LP")
        policy = make_operating_policy(FIXED, cd, schedule, None, options)
        out = operate(policy, realised_values(cd, real.day(day), policy.model.inputs.variables,
                                              day_seed(options.seed, day)), state)
        state = out.pop("state")
        rows.append({"date": day.strftime("%Y-%m-%d"), "month": day.strftime("%Y-%m"), "policy": PERFECT_MONTH,
                     "operated_by": FIXED, **out, "soc_end_kwh": float(sum(state.soc_kwh)),
                     "soc_end_by_battery_kwh": list(state.soc_kwh), "month_peak_kw": state.month_peak_kw,
                     "line_load_kw": inp.schedule.line_load_kw.tolist(),
                     "line_schedule": "per-day hindsight plans" if given else "rule",
                     "lower_bound_eur": objective, "upper_bound_eur": objective, "gap": 0.0,
                     "plan_status": "month hindsight LP optimal", "plan_time_s": solve_s, "fallback": False,
                     "fallback_reason": "", "seed": day_seed(options.seed, day), "method": "month LP",
                     "n_scenarios": 1, "month_lp_days": len(days),
                     "realised_p0_mean_eur_per_mwh": float(values[:, 0].mean()),
                     "day_time_s": time.perf_counter() - td})
    return rows
