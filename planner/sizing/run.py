"""``run_sizing``: scenarios -> representative days -> two-stage sizing MILP (a method of
``planner.sizing.methods.METHODS``) -> results, sensitivity table and, optionally, files in ``output_dir``.
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
               *, years_per_block=5, ageing=True, integer=True, include_lines=False, sensitivity=False,
               time_limit=None, mip_rel_gap=1e-3, ph_options=None, shared_data=None,
               lines_time_limit_per_day=5.0) -> SizingResult:
    """Size the microgrids and the subscribed power of ``case`` under price and weather uncertainty.

    years : horizon (default ``case.economics.horizon_years``), grouped into blocks of
        ``years_per_block`` years operated on the same representative days (ageing is tracked per year).
    days : representative days per scenario year (tsam, plus extreme days); None = the full year.
    n_scenarios : price-year x weather-year scenarios (equiprobable), drawn with ``random_state``.
    method : 'ef' (extensive form, HiGHS; bounds = MIP incumbent and dual bound) or 'ph' (mpi-sppy
        progressive hedging; bounds = Lagrangian bound with the final W and the evaluated rounded xbar)
        or 'decomposed' (scenarios solved apart in ``ph_options['processes']`` processes, default 2: the
        wait-and-see relaxation bound and the rounded mean sizes evaluated on every scenario).
    include_lines : the production lines' power in each typical day's load is their schedule by the
        day-ahead model on that day with the existing system (``planner.sizing.lines``; each of a day's
        two solves within ``lines_time_limit_per_day`` seconds, at most a quarter of ``time_limit`` for all),
        else (the default) their daily average power (flat). ``result.info['load']`` says which load was
        used. Not the default: today's schedule is made for today's subscribed power, and fixing it makes
        sizing conservative (docs/benchmarks.md, "Production lines in sizing").
    sensitivity : also re-solve for discount rate 4/8 %, capital costs x0.8/x1.2, price level x0.7/x1.3.
    """
    t0 = time.perf_counter()
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

    tables, probs, names, scen, lines_record = prepare()
    load = describe_load(case, "schedule" if lines_record is not None else "average")
    log.message(f"demand in sizing: {load}")
    log.message(f"{len(tables)} scenarios x {tables[0].n_days} days, {years} years in "
                f"{len(options.blocks())} blocks; solving ({method})")
    model, info = solve(case, tables, probs, options, names, time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                        method_options=ph_options, progress=log)
    info.update({"days": days, "n_scenarios": n_scenarios, "random_state": random_state,
                 "years_per_block": years_per_block,
                 "n_typical_days": tables[0].n_days, "load": load,
                 "lines_load": "schedule" if lines_record is not None else "average",
                 "lines_schedule_days": None if lines_record is None else lines_record["days"],
                 "price_levels_eur_per_mwh": list(map(float, scen.price_levels_eur_per_mwh)),
                 "end_of_life_soh": next((s.microgrid.battery.end_of_life_soh for s in case.sites
                                          if s.microgrid.battery is not None), 0.8)})
    result = extract_result(model, case, options, tables, info)
    result.info["day_tables"] = None
    result.dispatch["_day_tables"] = dict(zip(names, tables))
    result.dispatch["_lines_schedules"] = None if lines_record is None else lines_record["schedules"]
    log.message(f"NPV {result.upper_bound_eur / 1e6:.3f} MEUR, lower bound {result.lower_bound_eur / 1e6:.3f}, "
                f"gap {100 * result.gap:.2f} %")
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
