"""A sizing result applied to its case: the case with the sized PV, turbines, batteries, generators and
subscribed power (``sized_case``), one representative day planned by the day-ahead model with it
(``plan_typical_day``: does the sized subscribed power hold in operation?), sizing's prediction of the operating cost over given calendar days
(``predicted_operating_cost``), and the comparison with a replay of the sized system (``sizing_check``).

A sizing result is read back from the files ``SizingResult.save`` writes (``load_sizing``): the folder
``planner size`` writes (``<output>/sizing/``), the folder itself, or its ``sizing_summary.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo

from planner.case import Battery, Generator, PVArray, WindTurbines
from planner.dayahead.model import build_day_ahead_model, schedule_values, value
from planner.errors import BadInputError
from planner.results import relative_gap
from planner.sizing.lines import base_load_days, day_case, day_data, fix_schedule
from planner.sizing.model import DEFAULT_FUEL_EUR_PER_MWH
from planner.solvers.highs import appsi_highs, solve_with_bounds, track_variable_bounds_only

SUMMARY = "sizing_summary.json"
SIZE_TOLERANCE = 1e-6  # kW, kWh, kWp below which a new size counts as nothing


class SizingResultError(BadInputError):
    """A sizing result that cannot be read or does not fit the case."""


@dataclass(frozen=True)
class SizingOutput:
    """What ``planner size`` wrote: sizes per site (``sizing_sizes.csv``), the summary, and the
    prediction tables of the first block of years (``sizing_prediction_{days,months}.csv``)."""

    folder: Path
    sizes: pd.DataFrame
    summary: dict
    daily_prediction: pd.DataFrame | None
    monthly_prediction: pd.DataFrame | None

    @property
    def subscribed_power_kw(self) -> float:
        return float(self.summary["subscribed_power_kw"])


def sizing_folder(path) -> Path:
    """The folder holding ``sizing_summary.json``: ``path`` itself, its ``sizing/`` sub-folder, or the
    folder of ``path`` when it is that file."""
    path = Path(path)
    for folder in (path.parent if path.is_file() else None, path, path / "sizing"):
        if folder is not None and (folder / SUMMARY).is_file():
            return folder
    raise SizingResultError(f"--sizing {path}: no {SUMMARY} there nor in {path / 'sizing'}; give the --output "
                            "folder of `planner size` (or its sizing/ folder or sizing_summary.json)")


def load_sizing(path) -> SizingOutput:
    """Read a saved sizing result (see the module docstring)."""
    folder = sizing_folder(path)
    sizes_file = folder / "sizing_sizes.csv"
    if not sizes_file.is_file():
        raise SizingResultError(f"--sizing {path}: {sizes_file} is missing; run `planner size` again")
    sizes = pd.read_csv(sizes_file, index_col="site", keep_default_na=False)
    summary = json.loads((folder / SUMMARY).read_text())

    def optional(name):
        f = folder / f"sizing_prediction_{name}.csv"
        return pd.read_csv(f) if f.is_file() else None

    return SizingOutput(folder, sizes, summary, optional("days"), optional("months"))


def sized_site(site, row):
    """The site with the sizes of ``row`` (a row of ``sizing_sizes.csv``): totals for PV, battery and
    generator; the new turbines added to the existing ones (one turbine type per site)."""
    mg = site.microgrid
    pv = mg.pv
    if float(row["pv_total_kwp"]) > SIZE_TOLERANCE or pv is not None:
        pv = dataclasses.replace(pv, kwp=float(row["pv_total_kwp"])) if pv is not None \
            else PVArray(kwp=float(row["pv_total_kwp"]))
    wind = list(mg.wind)
    new_turbines = int(round(float(row["turbines_new"])))
    if new_turbines > 0:
        kind = str(row["turbine_type"])
        others = sorted({w.turbine_type for w in wind if w.turbine_type != kind and w.count > 0})
        if others:
            raise SizingResultError(
                f"sites[{site.name}]: sizing adds {new_turbines} x {kind} beside the existing {others}; the day-ahead "
                "model and the replay take one turbine type per site: limit sizing.candidate_turbines of this site "
                f"to {others}")
        hub = site.sizing.hub_height_m if site.sizing is not None else (wind[0].hub_height_m if wind else 80.0)
        same = [k for k, w in enumerate(wind) if w.turbine_type == kind]
        if same:
            wind[same[0]] = dataclasses.replace(wind[same[0]], count=wind[same[0]].count + new_turbines)
        else:
            wind.append(WindTurbines(turbine_type=kind, count=new_turbines, hub_height_m=hub))
    battery = mg.battery
    kwh, kw = float(row["battery_total_kwh"]), float(row["battery_total_kw"])
    if battery is not None:
        battery = dataclasses.replace(battery, energy_kwh=max(kwh, 0.0), power_kw=max(kw, 0.0))
    elif kwh > SIZE_TOLERANCE and kw > SIZE_TOLERANCE:
        battery = Battery(energy_kwh=kwh, power_kw=kw)
    generator = site.generator
    gen_kw = float(row["generator_total_kw"])
    if generator is not None:
        generator = dataclasses.replace(generator, capacity_kw=gen_kw, min_load_kw=min(generator.min_load_kw, gen_kw))
    elif gen_kw > SIZE_TOLERANCE:
        generator = Generator(capacity_kw=gen_kw, fuel_cost_eur_per_mwh=DEFAULT_FUEL_EUR_PER_MWH)
    return dataclasses.replace(site, microgrid=dataclasses.replace(mg, pv=pv, wind=wind, battery=battery),
                               generator=generator)


def sized_case(case, sizing: SizingOutput):
    """``case`` with the sized equipment and subscribed power, named ``<case>+sizing`` (validated)."""
    missing = [s.name for s in case.sites if s.name not in sizing.sizes.index]
    if missing:
        raise SizingResultError(f"--sizing {sizing.folder}: no sizes for site(s) {missing} of case {case.name!r}; "
                                "was it sized on another case?")
    sites = [sized_site(s, sizing.sizes.loc[s.name]) for s in case.sites]
    contract = dataclasses.replace(case.contract, subscribed_power_kw=sizing.subscribed_power_kw)
    return case.replace(name=f"{case.name}+sizing", sites=sites, contract=contract)


def predicted_operating_cost(sizing: SizingOutput, case, dates) -> dict:
    """Sizing's expected operating cost (EUR) over ``dates`` (first block of years), prorated by calendar:
    each date's energy cost is that of the typical day standing for its day of the year (29 February as
    28 February); each month's overrun charge and the demand charge f1 x P by the share of the month
    (of the billing period) the dates cover. Its yearly value is ``summary['info']['predicted_first_year_
    operating_eur']``."""
    if sizing.daily_prediction is None or sizing.monthly_prediction is None:
        raise SizingResultError(f"--sizing {sizing.folder}: no sizing_prediction_days.csv / _months.csv (written "
                                "by `planner size` since the replay check); run `planner size` again")
    dates = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize()
    c = case.contract
    no_leap = dates.where(~((dates.month == 2) & (dates.day == 29)), dates - pd.Timedelta(days=1))
    doy = (no_leap.dayofyear - 1 - ((no_leap.is_leap_year) & (no_leap.month > 2))).to_numpy()
    energy = float(sizing.daily_prediction.set_index("day_of_year")["energy_eur"].reindex(doy).sum())
    months = sizing.monthly_prediction.set_index("month")["overrun_eur"]
    overrun = 0.0
    for (year, month), n in pd.Series(1, index=dates).groupby([dates.year, dates.month]).sum().items():
        overrun += float(months.get(month, 0.0)) * n / pd.Timestamp(year=year, month=month, day=1).days_in_month
    demand = c.demand_charge_eur_per_kw_month * sizing.subscribed_power_kw * len(dates) / c.billing_period_days
    return {"energy_eur": energy, "overrun_eur": overrun, "demand_charge_eur": demand,
            "total_eur": energy + overrun + demand, "days": len(dates),
            "yearly_eur": float(sizing.summary.get("info", {}).get("predicted_first_year_operating_eur", float("nan")))}


def sizing_check(sizing: SizingOutput, case, monthly_bills: pd.DataFrame, dates) -> pd.DataFrame:
    """Per replayed policy: its operating cost over the replayed days (the replay's monthly bills: energy,
    operating, overrun on the month's peak and the prorated demand charge) beside sizing's prediction
    for the same calendar days (``predicted_operating_cost``), and their difference."""
    predicted = predicted_operating_cost(sizing, case, dates)
    rows = []
    for policy, g in monthly_bills.groupby("policy", sort=False):
        replayed = float(g["total_eur"].sum())
        rows.append({"policy": policy, "days": predicted["days"], "replayed_eur": replayed,
                     "replayed_overrun_eur": float(g["overrun_eur"].sum()),
                     "replayed_peak_kw": float(g["month_peak_kw"].max()),
                     "predicted_eur": predicted["total_eur"], "predicted_energy_eur": predicted["energy_eur"],
                     "predicted_overrun_eur": predicted["overrun_eur"],
                     "predicted_demand_charge_eur": predicted["demand_charge_eur"],
                     "difference_eur": replayed - predicted["total_eur"],
                     "difference_pct": 100.0 * (replayed / predicted["total_eur"] - 1.0),
                     "predicted_yearly_eur": predicted["yearly_eur"],
                     "replayed_yearly_eur": replayed * 365.0 / predicted["days"],
                     "subscribed_power_kw": sizing.subscribed_power_kw,
                     "overrun_threshold_kw": case.contract.overrun_threshold * sizing.subscribed_power_kw})
    return pd.DataFrame(rows)


def with_battery_start(case, soc_fraction: dict):
    """``case`` with each named site's battery starting (and asked to end) at ``soc_fraction[site]``."""
    sites = []
    for s in case.sites:
        if s.name in soc_fraction and s.microgrid.battery is not None:
            f = float(soc_fraction[s.name])
            bat = dataclasses.replace(s.microgrid.battery, initial_soc_fraction=f, final_soc_min_fraction=f)
            s = dataclasses.replace(s, microgrid=dataclasses.replace(s.microgrid, battery=bat))
        sites.append(s)
    return dataclasses.replace(case, sites=sites)


def plan_typical_day(case, table, d: int, *, soc_fraction: dict | None = None, schedule: dict | None = None,
                     start: dict | None = None, month_rate: bool = True, mip_gap: float = 1e-4,
                     time_limit: float | None = 60.0, peak_charge_eur_per_kw: float = 0.0) -> dict:
    """Typical day ``d`` of ``table`` (sizing's days) planned by the day-ahead model with ``case`` (e.g.
    ``sized_case``): the day's base load, p0, mean intraday and resale terms, renewables of ``case``'s
    equipment (``planner.sizing.lines.day_data``); batteries starting and ending at ``soc_fraction``
    (site -> fraction of kWh; default the case's); the lines' schedule fixed at ``schedule``
    (``schedule_values`` names, e.g. the one sizing used), or free, started from ``start`` when given
    (that schedule's plan is the first incumbent). ``month_rate``: the overrun above threshold x P
    charged f3 per kW as the month's bill charges a peak that sets the month's peak (what sizing predicts
    for the day that sets it and what the replay settles), not f3 x 1 / billing_period_days as the
    day-ahead model prorates it by default. ``peak_charge_eur_per_kw`` > 0 adds that charge per kW of the
    day's peak import to the plan's objective (the bounds include it): a price on the peak below the
    threshold, where the contract alone charges nothing. Returns the day's peak import, overrun above threshold x P
    (kW), the plan's bounds and gap (EUR), its import per period (kW), each site's line power per
    period (``lines_kw``, kW) and the lines' schedule (``schedule``, ``schedule_values`` names; both
    None when no plan was found in ``time_limit``)."""
    dc = day_case(case, {s.name: base_load_days(case, table)[s.name][d] for s in case.sites})
    if soc_fraction:
        dc = with_battery_start(dc, soc_fraction)
    if month_rate:  # the day is the whole billing period: no proration of the overrun charge
        dc = dataclasses.replace(dc, contract=dataclasses.replace(dc.contract, billing_period_days=1))
    m = build_day_ahead_model(dc, day_data(case, table, d), name=f"typical_day{d}")
    if peak_charge_eur_per_kw > 0:
        m.obj.deactivate()
        m.obj_with_peak = pyo.Objective(expr=m.obj.expr + float(peak_charge_eur_per_kw) * m.contract.peak_kw,
                                        sense=pyo.minimize)
    t0 = time.perf_counter()
    if schedule is not None:
        fix_schedule(m, schedule, True)
        bounds = solve_with_bounds(m, mip_gap=mip_gap, time_limit=time_limit)
        lower, upper, status = bounds.lower_bound, bounds.upper_bound, bounds.status
    else:
        opt = track_variable_bounds_only(appsi_highs(mip_gap=mip_gap, time_limit=time_limit))
        upper = math.inf
        if start is not None:
            fix_schedule(m, start, True)
            res = opt.solve(m)
            if res.best_feasible_objective is not None:
                res.solution_loader.load_vars()
                upper = float(res.best_feasible_objective)
            fix_schedule(m, start, False)
            opt.config.warmstart = math.isfinite(upper)
        res = opt.solve(m)
        if res.best_feasible_objective is not None and res.best_feasible_objective < upper - 1e-9:
            res.solution_loader.load_vars()
            upper = float(res.best_feasible_objective)
        lower = -math.inf if res.best_objective_bound is None else min(float(res.best_objective_bound), upper)
        status = str(res.termination_condition).split(".")[-1]
    c = m.contract
    imports = [value(c.net_import_kw[t]) for t in range(dc.n_periods)]
    planned = math.isfinite(upper)
    lines = {s.name: [value(m.site[s.name].lines_kw[t]) for t in range(dc.n_periods)] for s in dc.sites}
    return {"peak_kw": value(c.peak_kw), "overrun_kw": value(c.overrun_kw), "max_import_kw": max(imports),
            "import_kw": imports, "threshold_kw": dc.contract.overrun_threshold * dc.contract.subscribed_power_kw,
            "lower_bound_eur": lower, "upper_bound_eur": upper, "gap": relative_gap(lower, upper), "status": status,
            "seconds": time.perf_counter() - t0, "lines_kw": lines if planned else None,
            "schedule": schedule_values(m, dc) if planned else None}
