"""``run_sizing``: scenarios -> representative days (the lines scheduled by the day-ahead model) ->
two-stage sizing MILP (a method of ``planner.sizing.methods.METHODS``) -> re-plan the days with the sized
system and size again until both agree (``planner.sizing.loop``) -> results, rounds, sensitivity table
and, optionally, files in ``output_dir``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
import warnings

import pandas as pd

from planner.progress import Progress
from planner.sizing.lines import describe_load, prepare_sizing_days
from planner.sizing.loop import (Tolerance, demand_charge_share, largest_change, operation_summary, replan_days,
                                 round_row, system_of)
from planner.sizing.methods import method as sizing_method
from planner.sizing.methods.ef import solve_ef
from planner.sizing.model import SizingOptions
from planner.sizing.results import SizingResult, extract_result


def sensitivity_cases(case):
    """(parameter, value label, modified case, price level factor) of the sensitivity table."""
    e = case.economics
    out = []
    for rate in (0.04, 0.08):
        out.append(("discount_rate", rate, case.replace(economics=dataclasses.replace(e, discount_rate=rate)), 1.0))
    for factor in (0.8, 1.2):
        scaled = dataclasses.replace(
            e, pv_capex_eur_per_kwp=e.pv_capex_eur_per_kwp * factor, wind_capex_eur_per_kw=e.wind_capex_eur_per_kw * factor,
            battery_capex_eur_per_kwh=e.battery_capex_eur_per_kwh * factor,
            battery_capex_eur_per_kw=e.battery_capex_eur_per_kw * factor,
            generator_capex_eur_per_kw=e.generator_capex_eur_per_kw * factor)
        out.append(("capital_costs_x", factor, case.replace(economics=scaled), 1.0))
    for factor in (0.7, 1.3):
        out.append(("price_level_x", factor, case, factor))
    return out


def subscription_note(contract) -> str | None:
    """A warning when overrunning is cheaper than subscribing: then the optimal subscribed power is 0.

    Subscribing one more kW costs f1 per month and saves at most threshold * f3 of overrun charge in
    a month, so with f1 >= threshold * f3 every kW of P costs more than it can save."""
    f1, f3, thr = (contract.demand_charge_eur_per_kw_month, contract.overrun_charge_eur_per_kw,
                   contract.overrun_threshold)
    if f1 >= thr * f3:
        return (f"contract: overrunning costs at most overrun_threshold * overrun_charge_eur_per_kw = {thr * f3:.2f} "
                f"EUR/kW/month, not more than demand_charge_eur_per_kw_month = {f1:.2f}, so the optimal subscribed "
                f"power is 0; for a meaningful P raise overrun_charge_eur_per_kw above {f1 / thr:.2f}")
    return None


def run_sizing(case, years=None, days=16, n_scenarios=10, method="ef", random_state=0, progress=True, output_dir=None,
               *, years_per_block=5, ageing=True, integer=True, include_lines=True, sensitivity=False,
               time_limit=None, mip_rel_gap=1e-3, ph_options=None, shared_data=None,
               lines_time_limit_per_day=5.0, max_rounds=4, tolerance: Tolerance | None = None,
               check_operation=True, replan_peak_charge=True) -> SizingResult:
    """Size the microgrids and the subscribed power of ``case`` under price and weather uncertainty.

    years : horizon (default ``case.economics.horizon_years``), grouped into blocks of
        ``years_per_block`` years operated on the same representative days (ageing is tracked per year).
    days : representative days per scenario year (tsam, plus extreme days); None = the full year.
    n_scenarios : price-year x weather-year scenarios (equiprobable), drawn with ``random_state``.
    method : 'ef' (extensive form, HiGHS; bounds = MIP incumbent and dual bound) or 'ph' (mpi-sppy
        progressive hedging; bounds = Lagrangian bound with the final W and the evaluated rounded xbar)
        or 'decomposed' (scenarios solved apart in ``ph_options['processes']`` processes, default 2: the
        wait-and-see relaxation bound and the rounded mean sizes evaluated on every scenario).
    include_lines : (the default) the production lines' power in each typical day's load is their
        schedule by the day-ahead model, re-planned with the sized system until sizing and planning
        agree (``planner.sizing.loop``): round 1 schedules the lines with the existing system
        (``planner.sizing.lines``), each later round re-plans every typical day with the system the
        round before sized and sizes again; at most ``max_rounds`` rounds, stopping when the sizes and
        the subscribed power change within ``tolerance`` (``Tolerance()``: 1 % or 10 kW). Each day-ahead
        solve takes at most ``lines_time_limit_per_day`` seconds. ``check_operation``: the final system
        re-planned once more on every typical day (its overrun in operation against sizing's
        prediction, ``result.operation_check``). False: the lines at their daily average power (flat),
        one solve. ``result.info['load']`` says which load was used, ``result.rounds`` the rounds.
    replan_peak_charge : (default) the re-plans (not the operation check) also charge each day's peak import
        at the demand charge's daily share (``planner.sizing.loop.demand_charge_share``), so that the lines
        move below the sized threshold when that saves more demand charge than it costs in energy; False:
        the contract's terms alone (the loop then keeps the first round's subscribed power, see
        docs/benchmarks.md).
    time_limit : wall-clock seconds for the whole call (rounds, re-plans and solves share it; the loop
        stops early when it is spent, and says so in ``result.info['stop_reason']``).
    sensitivity : also re-solve for discount rate 4/8 %, capital costs x0.8/x1.2, price level x0.7/x1.3
        (on the final round's days).
    """
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    tolerance = tolerance or Tolerance()
    if int(max_rounds) != max_rounds or max_rounds < 1:
        raise ValueError(f"max_rounds must be a positive integer (rounds of re-planning and re-sizing); got {max_rounds}")
    solve = sizing_method(method)
    log = Progress("sizing", enabled=progress, stream=sys.stderr)
    years = int(case.economics.horizon_years if years is None else years)
    if years < 1:
        raise ValueError(f"years must be >= 1; got {years}")
    options = SizingOptions(years=years, years_per_block=years_per_block, ageing=ageing, integer=integer,
                            include_lines=include_lines, mip_rel_gap=mip_rel_gap)
    note = subscription_note(case.contract)
    if note:
        warnings.warn(note, stacklevel=2)
        log.message(note)
    days_total = n_scenarios * (days if days is not None else 365)
    per_day = lines_time_limit_per_day
    if time_limit is not None:
        # a quarter of the time limit for the lines' schedules, two solves a day (fixed, then free)
        per_day = max(1.0, min(per_day or math.inf, 0.25 * time_limit / max(1, 2 * days_total)))

    def prepare(price_factor=1.0):
        return prepare_sizing_days(case, days, n_scenarios, random_state, price_factor, shared_data,
                                   include_lines=include_lines, time_limit_per_day=per_day, progress=log)

    def remaining():
        return None if deadline is None else max(1.0, deadline - time.perf_counter())

    tables, probs, names, scen, lines_record = prepare()
    scheduled = lines_record is not None
    loop = scheduled and max_rounds > 1
    load = describe_load(case, "schedule" if scheduled else "average")
    if loop:
        load += (f", re-planned with the sized system until sizing and planning agree (at most {int(max_rounds)} "
                 f"rounds; {tolerance.describe()}"
                 + ("; each day's peak charged the demand charge's daily share in the re-plans" if replan_peak_charge
                    else "") + ")")
    log.message(f"demand in sizing: {load}")

    def size_round(day_tables, last):
        # a round that may be followed by another gets half the time left (the re-plans and later rounds share
        # the other half)
        left = remaining()
        limit = None if left is None else (left if last else max(1.0, 0.5 * left))
        log.message(f"{len(day_tables)} scenarios x {day_tables[0].n_days} days, {years} years in "
                    f"{len(options.blocks())} blocks; solving ({method})")
        model, info = solve(case, day_tables, probs, options, names, time_limit=limit, mip_rel_gap=mip_rel_gap,
                            method_options=ph_options, progress=log)
        info.update({"days": days, "n_scenarios": n_scenarios, "random_state": random_state,
                     "years_per_block": years_per_block,
                     "n_typical_days": day_tables[0].n_days, "load": load,
                     "lines_load": "schedule" if scheduled else "average",
                     "lines_schedule_days": None if lines_record is None else lines_record["days"],
                     "price_levels_eur_per_mwh": list(map(float, scen.price_levels_eur_per_mwh)),
                     "end_of_life_soh": next((s.microgrid.battery.end_of_life_soh for s in case.sites
                                              if s.microgrid.battery is not None), 0.8)})
        r = extract_result(model, case, options, day_tables, info)
        log.message(f"NPV {r.upper_bound_eur / 1e6:.3f} MEUR, lower bound {r.lower_bound_eur / 1e6:.3f}, "
                    f"gap {100 * r.gap:.2f} %, subscribed power {r.subscribed_power_kw:,.0f} kW")
        return r

    schedules = None if lines_record is None else dict(lines_record["schedules"])
    t_round = time.perf_counter()
    result = size_round(tables, last=not loop)
    rounds = [round_row(1, result, time.perf_counter() - t_round, None)]
    stop = "one round (the lines at their average power)" if not scheduled else (
        "one round asked (max_rounds = 1)" if not loop else None)
    operation_days = []
    replan = dict(mip_gap=1e-3, time_limit_per_day=lines_time_limit_per_day, progress=log)
    peak_charge = demand_charge_share(case.contract) if replan_peak_charge else 0.0
    while stop is None:
        r = len(rounds) + 1
        if deadline is not None and deadline - time.perf_counter() < 0.15 * time_limit:
            stop = f"time limit: {time_limit:.0f} s spent before round {r}"
            break
        t_round = time.perf_counter()
        log.message(f"round {r}: re-planning every typical day with round {r - 1}'s system "
                    f"(subscribed {result.subscribed_power_kw:,.0f} kW)")
        per = per_day_limit(lines_time_limit_per_day, remaining(), days_total)
        new_tables, schedules, days_table = replan_days(case, result, tables, list(names), schedules,
                                                        deadline=deadline, peak_charge_eur_per_kw=peak_charge,
                                                        **dict(replan, time_limit_per_day=per))
        days_table.insert(0, "round", r)
        operation_days.append(days_table)
        previous_system = system_of(result)
        result = size_round(new_tables, last=r >= max_rounds)
        tables = new_tables
        rounds.append(round_row(r, result, time.perf_counter() - t_round, operation_summary(days_table)))
        name, change, allowed = largest_change(previous_system, system_of(result), tolerance)
        log.message(f"round {r}: largest change {name or 'none'} {change:,.1f} (tolerance {allowed:,.1f})")
        if change <= allowed:
            stop = f"converged: {tolerance.describe()} (largest change {name or 'none'} {change:,.1f})"
        elif r >= max_rounds:
            stop = f"max_rounds = {int(max_rounds)} reached (largest change {name} {change:,.1f} > {allowed:,.1f})"
    check = None
    if scheduled and check_operation:
        if deadline is not None and time.perf_counter() >= deadline:
            log.message("no time left to re-plan the final system (operation check skipped)")
        else:
            log.message("operation check: every typical day re-planned with the final system")
            per = per_day_limit(lines_time_limit_per_day, remaining(), days_total)
            _, _, check = replan_days(case, result, tables, list(names), schedules, deadline=deadline,
                                      **dict(replan, time_limit_per_day=per))
            result.info["operation_check"] = operation_summary(check)
    result.rounds = pd.DataFrame(rounds)
    result.operation_check = check
    result.replanned_days = pd.concat(operation_days, ignore_index=True) if operation_days else None
    result.info.update({"rounds": len(rounds), "stop_reason": stop, "tolerance": tolerance.describe(),
                        "max_rounds": int(max_rounds), "round_table": rounds})
    log.message(f"sizing: {len(rounds)} round(s), {stop}")
    result.info["day_tables"] = None
    result.dispatch["_day_tables"] = dict(zip(names, tables))
    result.dispatch["_lines_schedules"] = schedules
    if sensitivity:
        rows = [{"parameter": "base", "value": "", "npv_eur": result.upper_bound_eur, "npv_change_pct": 0.0,
                 "lcoe_eur_per_mwh": result.lcoe_eur_per_mwh, "battery_kwh": result.sizes.battery_total_kwh.sum(),
                 "pv_kwp": result.sizes.pv_total_kwp.sum(), "wind_kw": result.sizes.wind_total_kw.sum(),
                 "subscribed_kw": result.subscribed_power_kw}]
        for param, value, c2, price_factor in sensitivity_cases(case):
            t2, p2, n2 = (tables, probs, names) if price_factor == 1.0 else prepare(price_factor)[:3]
            m2, i2 = solve_ef(c2, t2, p2, options, n2, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
            r2 = extract_result(m2, c2, options, t2, i2)
            rows.append({"parameter": param, "value": value, "npv_eur": r2.upper_bound_eur,
                         "npv_change_pct": 100 * (r2.upper_bound_eur / result.upper_bound_eur - 1),
                         "lcoe_eur_per_mwh": r2.lcoe_eur_per_mwh, "battery_kwh": r2.sizes.battery_total_kwh.sum(),
                         "pv_kwp": r2.sizes.pv_total_kwp.sum(), "wind_kw": r2.sizes.wind_total_kw.sum(),
                         "subscribed_kw": r2.subscribed_power_kw})
            log.message(f"sensitivity {param} = {value}: NPV {r2.upper_bound_eur / 1e6:.3f} MEUR")
        result.sensitivity = pd.DataFrame(rows)
    result.info["total_seconds"] = time.perf_counter() - t0
    if output_dir is not None:
        result.save(output_dir)
    return result


def per_day_limit(per_day: float | None, left: float | None, days_total: int) -> float | None:
    """Seconds for each day-ahead solve of a re-plan: ``per_day``, and at most a quarter of the time
    left shared by the days' two solves (fixed start, then free)."""
    if left is None:
        return per_day
    return max(1.0, min(per_day or math.inf, 0.25 * left / max(1, 2 * days_total)))
