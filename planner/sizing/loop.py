"""Sizing with the production lines' schedule as a fixed point of planning and sizing (the default of
``run_sizing``).

Round 1 sizes on typical days whose load is the base load plus the lines' power scheduled by the
day-ahead model with the existing system (``planner.sizing.lines``). Each later round r re-plans every
typical day with the system round r - 1 sized (``planner.sizing.apply.plan_typical_day``: its PV,
turbines, batteries, generators and subscribed power fixed, the lines free and started from the
previous schedule, batteries starting at sizing's state of charge, the overrun charged f3 per kW as the
bill charges the day that sets a month's peak, and by default each day's peak import charged the demand
charge's daily share, ``demand_charge_share``), puts the re-planned line power in the days' load and
sizes again. The loop stops when no size and not the subscribed power changed by more than the
tolerance (``Tolerance``) between two rounds, after ``max_rounds`` rounds, or when the time is up.

Each round records its sizes, subscribed power, objective bounds and gap, seconds, and how the system
of the round before did in re-planned operation (its largest overrun above threshold x P against the
one sizing predicted). ``check_operation`` re-plans once more with the final system: the overrun the
final subscribed power meets in operation on sizing's own days.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.progress import Progress
from planner.sizing.apply import SizingOutput, plan_typical_day, sized_case
from planner.sizing.lines import base_load_days
from planner.sizing.results import SizingResult

SIZE_COLUMNS = ("pv_total_kwp", "wind_total_kw", "battery_total_kwh", "battery_total_kw", "generator_total_kw")


@dataclass(frozen=True)
class Tolerance:
    """Two rounds agree when every size (kWp, kW, kWh) and the subscribed power (kW) differ by at most
    ``max(absolute, relative x the larger of the two)``: by default 1 % or 10 kW(h)(p), the scale of
    one PV module row or a few battery modules, well above what a 0.1 % MIP gap lets sizes wander."""

    relative: float = 0.01
    absolute: float = 10.0

    def allowed(self, a: float, b: float) -> float:
        return max(self.absolute, self.relative * max(abs(a), abs(b)))

    def describe(self) -> str:
        return (f"every size and the subscribed power within max({self.absolute:g} kW/kWh/kWp, "
                f"{100 * self.relative:g} %) of the round before")


def system_of(result: SizingResult) -> dict:
    """The sizes that the loop compares: the subscribed power and each site's totals."""
    out = {"subscribed_kw": float(result.subscribed_power_kw)}
    for site, row in result.sizes.iterrows():
        for col in SIZE_COLUMNS:
            out[f"{site}:{col}"] = float(row[col])
    return out


def largest_change(previous: dict, current: dict, tolerance: Tolerance) -> tuple[str, float, float]:
    """(name, change, allowed change) of the size whose change uses most of its tolerance."""
    worst = ("", 0.0, tolerance.absolute)
    for name in current:
        a, b = previous.get(name, 0.0), current[name]
        change, allowed = abs(b - a), tolerance.allowed(a, b)
        if change / allowed > worst[1] / worst[2]:
            worst = (name, change, allowed)
    return worst


def converged(previous: dict, current: dict, tolerance: Tolerance) -> bool:
    """Every size of ``current`` within the tolerance of ``previous`` (``system_of`` dictionaries)."""
    name, change, allowed = largest_change(previous, current, tolerance)
    return change <= allowed


def sized_system(case, result: SizingResult):
    """``case`` with ``result``'s sizes and subscribed power (``planner.sizing.apply.sized_case``)."""
    return sized_case(case, SizingOutput(folder=None, sizes=result.sizes,
                                         summary={"subscribed_power_kw": result.subscribed_power_kw},
                                         daily_prediction=None, monthly_prediction=None))


def soc_at_start(result: SizingResult, scenario: str, d: int) -> dict:
    """Each battery's state of charge (fraction of its kWh) at the start of typical day ``d`` in sizing
    (cyclic days: the end of its hour 23), first block of years."""
    out = {}
    for site, row in result.sizes.iterrows():
        e = float(row["battery_total_kwh"])
        state = result.dispatch.get((scenario, site))
        if state is None or e <= 1e-6:
            continue
        out[site] = min(1.0, (state["soc_min_fraction"] * e + float(state["soc_kwh"][0, d, 23])) / e)
    return out


def replan_days(case, result: SizingResult, tables: list, names: list, schedules: dict, *, mip_gap: float = 0.01,
                time_limit_per_day: float | None = 5.0, deadline: float | None = None,
                progress: Progress | None = None, peak_charge_eur_per_kw: float = 0.0) -> tuple[list, dict, pd.DataFrame]:
    """Every typical day planned with ``result``'s system (lines free, started from ``schedules[(k, d)]``,
    overrun at the month's rate f3). Returns the days with the re-planned line power in their load
    (copies), the new schedules, and one row per day: planned peak and overrun against sizing's
    prediction, the plan's bounds and where the schedule comes from. A day without a plan in time (or
    past ``deadline``) keeps its line power and schedule. ``peak_charge_eur_per_kw``: a charge on each day's
    peak import in the plans (``demand_charge_share``), 0 = the contract's terms alone."""
    log = progress or Progress("sizing", enabled=False)
    system = sized_system(case, result)
    f3 = case.contract.overrun_charge_eur_per_kw
    predicted = result.typical_day_peaks.set_index(["scenario", "typical_day"])
    out, rows, new_schedules = [], [], {}
    total, done = sum(t.n_days for t in tables), 0
    for k, (name, table) in enumerate(zip(names, tables)):
        base = base_load_days(case, table)
        values = {c: np.array(v, dtype=float) for c, v in table.values.items()}
        for d in range(table.n_days):
            start = schedules.get((k, d))
            late = deadline is not None and time.perf_counter() > deadline
            limit = time_limit_per_day
            if deadline is not None and not late:
                limit = max(1.0, min(limit or math.inf, deadline - time.perf_counter()))
            plan = None if late else plan_typical_day(system, table, d, soc_fraction=soc_at_start(result, name, d),
                                                      start=start, month_rate=True, mip_gap=mip_gap, time_limit=limit,
                                                      peak_charge_eur_per_kw=peak_charge_eur_per_kw)
            pred_peak, pred_over = predicted.loc[(name, d), "peak_kw"], predicted.loc[(name, d), "overrun_kw"]
            row = {"scenario": name, "typical_day": d, "predicted_peak_kw": float(pred_peak),
                   "predicted_overrun_kw": float(pred_over)}
            if plan is None or plan["lines_kw"] is None:
                new_schedules[(k, d)] = start
                row.update(source="kept (no plan in time)" if plan is not None else "kept (time limit)",
                           planned_peak_kw=math.nan, planned_overrun_kw=math.nan, plan_gap=math.nan,
                           plan_gap_eur=math.nan, seconds=0.0 if plan is None else plan["seconds"])
            else:
                for s in case.sites:
                    lines = np.asarray(plan["lines_kw"][s.name], dtype=float)
                    values[f"lines_kw:{s.name}"][d] = lines
                    values[f"load_kw:{s.name}"][d] = base[s.name][d] + lines
                new_schedules[(k, d)] = plan["schedule"]
                row.update(source="re-planned", planned_peak_kw=plan["max_import_kw"],
                           planned_overrun_kw=plan["overrun_kw"], plan_gap=plan["gap"],
                           plan_gap_eur=plan["upper_bound_eur"] - plan["lower_bound_eur"], seconds=plan["seconds"])
            row["threshold_kw"] = case.contract.overrun_threshold * result.subscribed_power_kw
            row["overrun_charge_difference_eur"] = f3 * (row["planned_overrun_kw"] - row["predicted_overrun_kw"])
            rows.append(row)
            done += 1
            if done % 5 == 0 or done == total:
                log.message(f"re-planned {done}/{total} representative days with the sized system")
        out.append(dataclasses.replace(table, values=values))
    return out, new_schedules, pd.DataFrame(rows)


def demand_charge_share(contract) -> float:
    """EUR per kW of a day's peak import: the demand charge a kW of subscribed power costs, per day of the
    billing period, per kW of peak it allows (f1 / (overrun_threshold x billing_period_days)). Charged on
    every day's peak, a month's days together pay f1 x (peak / threshold): what sizing pays for the
    subscribed power that month's peak needs. With it the re-plan lowers a day's peak when that costs less
    energy than the demand charge it saves; without it the plan has no reason to go below the threshold
    of the sized subscribed power, and the loop stays at the first round's subscribed power."""
    return contract.demand_charge_eur_per_kw_month / (contract.overrun_threshold * contract.billing_period_days)


def operation_summary(days: pd.DataFrame) -> dict:
    """The largest planned and predicted overrun (kW) over the re-planned days, and the days planned."""
    planned = days.dropna(subset=["planned_overrun_kw"])
    return {"days_replanned": int(len(planned)), "days_kept": int(len(days) - len(planned)),
            "planned_overrun_kw_max": float(planned.planned_overrun_kw.max()) if len(planned) else math.nan,
            "predicted_overrun_kw_max": float(days.predicted_overrun_kw.max()) if len(days) else math.nan,
            "planned_peak_kw_max": float(planned.planned_peak_kw.max()) if len(planned) else math.nan,
            "predicted_peak_kw_max": float(days.predicted_peak_kw.max()) if len(days) else math.nan,
            "plan_gap_max": float(planned.plan_gap.max()) if len(planned) else math.nan}


def round_row(r: int, result: SizingResult, seconds: float, operation: dict | None) -> dict:
    """One row of the rounds table: the round's sizes, subscribed power, bounds, gap and seconds, and how
    the round before's system did in re-planned operation (``operation_summary``, round 2 on)."""
    row = {"round": r, "subscribed_kw": result.subscribed_power_kw, "lower_eur": result.lower_bound_eur,
           "upper_eur": result.upper_bound_eur, "gap": result.gap, "seconds": seconds,
           "pv_kwp": float(result.sizes.pv_total_kwp.sum()), "wind_kw": float(result.sizes.wind_total_kw.sum()),
           "battery_kwh": float(result.sizes.battery_total_kwh.sum()),
           "battery_kw": float(result.sizes.battery_total_kw.sum()),
           "generator_kw": float(result.sizes.generator_total_kw.sum())}
    for key, v in (operation or {}).items():
        row[f"previous_system_{key}"] = v
    return row
