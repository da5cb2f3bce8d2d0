"""The production lines' load in sizing: on each representative day, the lines' power scheduled by the
day-ahead model (``planner.dayahead.model``) with the existing system, added to the day's base load.

Each typical day becomes a one-day case: the day's base load (``values_kw``), its day-ahead prices p0,
the contract's mean intraday and resale terms (p1 = p0 + max(min premium, premium ratio x |p0|),
p2 = p0 - discount ratio x |p0| - fee, as sizing's resale), and the existing PV and turbines times the
day's capacity factors. With one scenario the two-stage day-ahead model is its expected-value problem:
the schedule it returns is the expected line power per period of that day. Solved once per typical day
with the existing equipment and subscribed power (what the plant runs today): sizing's first round keeps
each day's line profile fixed and sizes around it; ``planner.sizing.loop`` then re-plans the days with
the sized system and sizes again until both agree.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from planner.case import BaseLoad
from planner.dayahead.model import build_day_ahead_model, schedule_values, site_schedule_heuristic, value
from planner.load_profiles import describe_base_load
from planner.policy.fixed_schedule import rule_line_load_kw
from planner.progress import Progress
from planner.sizing.inputs import DayTable, lines_average_power_kw, prepare_days
from planner.solvers.highs import appsi_highs, is_optimal, track_variable_bounds_only

HOURS_PER_DAY = 24
FIRST_DAY_S = 20.0  # seconds per site at least for the first typical day's site-by-site schedule
#: the ways the lines' load enters sizing (``run_sizing(lines_load=...)``)
LINES_LOADS = {
    "schedule": "the lines' power scheduled by the day-ahead model on each representative day (existing system)",
    "average": "the lines' daily average power (flat over the day)",
}


def check_lines_load(lines_load: str) -> None:
    if lines_load not in LINES_LOADS:
        raise ValueError(f"lines_load = {lines_load!r}: use one of {sorted(LINES_LOADS)}")


def day_prices(case, p0) -> dict:
    """p0 (the typical day's), p1 and p2 from the contract's mean terms (EUR/MWh)."""
    c = case.contract
    p0 = np.asarray(p0, dtype=float)
    p1 = p0 + np.maximum(c.intraday.min_premium_eur_per_mwh, c.intraday.premium_ratio_mean * np.abs(p0))
    p2 = p0 - c.resale.discount_ratio_mean * np.abs(p0) - c.resale.fee_eur_per_mwh
    return {"p0": p0, "p1": p1, "p2": p2}


def existing_wind_kw(site, wind_per_turbine: dict) -> np.ndarray:
    """Output of the site's existing turbines (kW), ``wind_per_turbine[type]`` = one turbine's output."""
    total = np.zeros(HOURS_PER_DAY)
    for w in site.microgrid.wind:
        total = total + w.count * np.asarray(wind_per_turbine[w.turbine_type], dtype=float)
    return total


def day_case(case, base_load_kw: dict):
    """The one-day hourly case of a typical day: each site's base load given as ``values_kw``."""
    sites = [dataclasses.replace(s, base_load=BaseLoad(values_kw=[float(x) for x in base_load_kw[s.name]]))
             for s in case.sites]
    return dataclasses.replace(case, sites=sites, period_minutes=60.0, horizon_hours=float(HOURS_PER_DAY))


def day_data(case, table: DayTable, d: int) -> dict:
    """Prices and available renewables (kW, existing equipment) of typical day ``d``."""
    data = day_prices(case, table.values["p0_eur_per_mwh"][d])
    data["pv_kw"], data["wind_kw"] = {}, {}
    for s in case.sites:
        pv = s.microgrid.pv
        cf = table.values[f"pv_kw_per_kwp:{s.name}"][d]
        data["pv_kw"][s.name] = (pv.kwp * cf) if pv is not None else np.zeros(HOURS_PER_DAY)
        per = {w.turbine_type: table.values[f"wind_kw_per_turbine:{s.name}:{w.turbine_type}"][d]
               for w in s.microgrid.wind}
        data["wind_kw"][s.name] = existing_wind_kw(s, per)
    return data


def fix_schedule(model, schedule: dict, fixed: bool) -> None:
    """Fix (or free) every line's on/run variable at the values of ``schedule`` (``schedule_values``)."""
    for name, x in schedule.items():
        var = model.find_component(name)
        if fixed:
            var.fix(x)
        else:
            var.unfix()


def solve_day_model(m, opt, schedule: dict | None) -> tuple[float, str]:
    """Solve a typical day's model; with ``schedule`` (another day's), first with that schedule fixed
    (always feasible: production does not depend on prices) and then free from that start. Returns
    (best cost EUR, where the schedule comes from); the best solution is loaded in ``m``."""
    start = math.inf
    if schedule is not None:
        fix_schedule(m, schedule, True)
        res = opt.solve(m)
        if res.best_feasible_objective is not None:
            res.solution_loader.load_vars()
            start = float(res.best_feasible_objective)
        fix_schedule(m, schedule, False)
        opt.config.warmstart = math.isfinite(start)
    res = opt.solve(m)
    best = math.inf if res.best_feasible_objective is None else float(res.best_feasible_objective)
    if best < start - 1e-6:
        res.solution_loader.load_vars()
        return best, "optimal" if is_optimal(res) else "day-ahead incumbent"
    if math.isfinite(start):  # the free solve did not improve: the fixed schedule's solution is still loaded
        return start, "previous day's schedule re-dispatched"
    return math.inf, str(res.termination_condition)


def heuristic_schedule(model, by_site: dict) -> dict:
    """``site_schedule_heuristic``'s {site: {line: {"on"/"run": {(m, t): x}}}} as ``schedule_values`` names."""
    out = {}
    for site, lines in by_site.items():
        for line, parts in lines.items():
            block = model.site[site].line[line]
            for part, values in parts.items():
                var = getattr(block, part)
                for key, x in values.items():
                    out[var[key].getname(fully_qualified=True, relative_to=model)] = x
    return out


def scheduled_day(case, table: DayTable, d: int, base: dict, mip_gap: float, time_limit: float | None,
                  previous: dict | None = None):
    """(lines kW per site (24,), record, schedule) of typical day ``d`` by the day-ahead model, started
    from ``previous`` (another typical day's schedule) when given, else from the site-by-site heuristic
    (``planner.dayahead.model.site_schedule_heuristic``); the free model then improves on it within
    ``time_limit`` (its schedule is kept when it does not). A day without any schedule in time gets the
    line power of the rule schedule (``planner.policy.fixed_schedule.rule_line_load_kw``, continuous run
    fractions in the cheapest hours), recorded as such, and the next day starts afresh."""
    dc = day_case(case, {s.name: base[s.name][d] for s in case.sites})
    data = day_data(case, table, d)
    m = build_day_ahead_model(dc, data, name=f"lines_day{d}")
    opt = track_variable_bounds_only(appsi_highs(mip_gap=mip_gap, time_limit=time_limit))  # fix/free: bounds only
    t0 = time.perf_counter()
    heuristic = False
    if previous is None:  # the first day: start from a site-by-site schedule (sites alone are small MIPs)
        by_site = site_schedule_heuristic(dc, data, time_limit_per_site=max(time_limit or 0.0, FIRST_DAY_S),
                                          mip_gap=mip_gap)
        if by_site is not None:
            previous = heuristic_schedule(m, by_site)
            heuristic = True
        else:
            opt.config.time_limit = max(time_limit or 0.0, 6 * FIRST_DAY_S)
    cost, source = solve_day_model(m, opt, previous)
    if heuristic and source.startswith("previous"):
        source = "site-by-site heuristic re-dispatched"
    if not math.isfinite(cost):  # no schedule in time (a loaded machine): the rule's line power this day
        lines = {s.name: rule_line_load_kw(dc, k, data["p0"]) for k, s in enumerate(dc.sites)}
        record = {"cost_eur": math.nan, "schedule_source": f"rule schedule (no day-ahead schedule: {source})",
                  "seconds": time.perf_counter() - t0}
        return lines, record, None
    lines = {s.name: np.array([value(m.site[s.name].lines_kw[t]) for t in range(HOURS_PER_DAY)])
             for s in case.sites}
    record = {"cost_eur": cost, "schedule_source": source, "seconds": time.perf_counter() - t0}
    return lines, record, schedule_values(m, dc)


def base_load_days(case, table: DayTable) -> dict:
    """Each site's base load on the typical days (days, 24): the ``base_load_kw`` column when the lines
    were scheduled, else the load column minus the lines' average power that ``build_scenarios`` added."""
    out = {}
    for s in case.sites:
        if f"base_load_kw:{s.name}" in table.values:
            out[s.name] = np.asarray(table.values[f"base_load_kw:{s.name}"], dtype=float)
        else:
            out[s.name] = np.asarray(table.values[f"load_kw:{s.name}"], dtype=float) - lines_average_power_kw(s)
    return out


def with_scheduled_lines(case, tables: list, mip_gap: float = 0.01, time_limit_per_day: float | None = 10.0,
                         progress: Progress | None = None) -> tuple[list, dict]:
    """The typical days with each site's load = base load + the lines' scheduled power (copies of
    ``tables``; the parts kept as ``base_load_kw:<site>`` and ``lines_kw:<site>``), and a record: per
    scenario and day the solve (cost, where the schedule comes from, seconds, each site's peak line
    power) in ``days``, and the schedule itself (``schedule_values`` names) in ``schedules[(k, d)]``."""
    log = progress or Progress("sizing", enabled=False)
    out, rows = [], []
    total = sum(t.n_days for t in tables)
    done, previous, schedules = 0, None, {}
    for k, table in enumerate(tables):
        base = base_load_days(case, table)
        values = dict(table.values)
        for s in case.sites:
            values[f"load_kw:{s.name}"] = np.array(base[s.name], dtype=float)
            values[f"base_load_kw:{s.name}"] = np.array(base[s.name], dtype=float)
            values[f"lines_kw:{s.name}"] = np.zeros_like(base[s.name])
        for d in range(table.n_days):
            lines, record, previous = scheduled_day(case, table, d, base, mip_gap, time_limit_per_day, previous)
            for s in case.sites:
                values[f"load_kw:{s.name}"][d] = base[s.name][d] + lines[s.name]
                values[f"lines_kw:{s.name}"][d] = lines[s.name]
            schedules[(k, d)] = previous
            rows.append({"scenario": k, "day": d, **record,
                         **{f"lines_peak_kw:{s.name}": float(lines[s.name].max()) for s in case.sites}})
            done += 1
            if done % 5 == 0 or done == total:
                log.message(f"lines scheduled on {done}/{total} representative days")
        out.append(dataclasses.replace(table, values=values))
    return out, {"days": rows, "schedules": schedules}


def prepare_sizing_days(case, days, n_scenarios, random_state=0, price_level_factor=1.0, shared_data=None, *,
                        include_lines: bool = True, time_limit_per_day: float | None = 5.0, mip_gap: float = 0.01,
                        progress: Progress | None = None):
    """``planner.sizing.inputs.prepare_days`` with, when ``include_lines``, the lines' scheduled power
    in the typical days' load (``with_scheduled_lines``); returns (tables, probabilities, names,
    scenarios, record of the lines' schedules or None)."""
    tables, probs, names, scen = prepare_days(case, days, n_scenarios, random_state, price_level_factor, shared_data)
    if not include_lines or not any(s.lines for s in case.sites):
        return tables, probs, names, scen, None
    tables, record = with_scheduled_lines(case, tables, mip_gap=mip_gap, time_limit_per_day=time_limit_per_day,
                                          progress=progress)
    return tables, probs, names, scen, record


def describe_load(case, lines_load: str) -> str:
    """What sizing's demand is made of, for the result and the report."""
    base = "; ".join(f"{s.name}: {describe_base_load(s.base_load)}" for s in case.sites)
    return f"base load ({base}) + {LINES_LOADS[lines_load]}"
