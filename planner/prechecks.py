"""Every check that ``plan``, ``size``, ``policy`` and ``decompose`` run before solving, in one place.

``presolve_problems(case)`` returns what makes a well-formed case unusable: component names unknown to
pvlib, the production plan's necessary conditions (``planner.dayahead.feasibility.check_plan``), and
energy bounds showing that the grid connections or ``contract.peak_cap_kw`` cannot carry what the
sites need. ``presolve_warnings(case)`` returns what is allowed but probably not meant.
``require_presolve_checks(case)`` raises the matching error family (``planner.errors``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.case import CaseError
from planner.data_sources import measured_pv_kw
from planner.dayahead.feasibility import check_plan
from planner.errors import InfeasibleCaseError
from planner.load_profiles import base_load_kw
from planner.scenario_inputs import calibrated_models
from planner.sizing.inputs import pv_module
from scenarios.wind import power_curve


@dataclass(frozen=True)
class EnergyBudget:
    """Energy a site needs over the horizon and the most it can get locally (kWh)."""

    base_load_kwh: float
    production_kwh: float
    local_max_kwh: float

    @property
    def grid_need_kwh(self) -> float:
        return self.base_load_kwh + self.production_kwh - self.local_max_kwh


def input_problems(case) -> list[str]:
    """Names in the case that the solvers' libraries do not know, and the calibrated parameters every
    subcommand samples from (bad input, exit code 2)."""
    problems = []
    try:
        calibrated_models(case)
    except FileNotFoundError as exc:
        looked = ("" if case.source is None else f"the case file's folder {Path(case.source).resolve().parent}, ")
        problems.append(f"{exc} (a relative folder is looked for in {looked}the current directory {Path.cwd()} "
                        "and the repository root)")
    for i, site in enumerate(case.sites):
        pv = site.microgrid.pv
        if pv is not None and pv.module:
            try:
                pv_module(pv.module)
            except ValueError as exc:
                problems.append(f"sites[{i}].microgrid.pv.module = {str(exc).split(' = ', 1)[-1]}; "
                                "use a name of pvlib's CEC module database or remove the field")
        if site.sizing is not None and site.sizing.pv_module:
            try:
                pv_module(site.sizing.pv_module)
            except ValueError as exc:
                problems.append(f"sites[{i}].sizing.pv_module = {str(exc).split(' = ', 1)[-1]}; "
                                "use a name of pvlib's CEC module database or remove the field")
    return problems


def production_need_t(site, case) -> dict[str, float]:
    """Tonnes of each material the site must make over the horizon (plan, or deliveries net of stock)."""
    days = case.horizon_hours / 24.0
    need = {m: q * days for m, q in site.plan_t_per_day.items() if q > 0}
    for m, stock in site.storage.items():
        delivered = sum(d.quantity_t for d in site.deliveries if d.material == m)
        final = stock.min_t if stock.final_min_t is None else stock.final_min_t
        need[m] = max(need.get(m, 0.0), delivered + final - stock.initial_t)
    return need


def wind_nominal_kw(site) -> float:
    return sum(w.count * power_curve(w.turbine_type)[2] for w in site.microgrid.wind if w.count > 0)


def energy_budget(site, case) -> EnergyBudget:
    """Lower bound on the site's energy need and upper bound on its local supply over the horizon.

    Need: base load plus each material's tonnes at the cheapest capable line's kWh per tonne.
    Local supply: generator at capacity, PV at its peak power (its measured output of the day when
    ``microgrid.pv.source`` is given) and wind at nominal power every hour (loose on purpose: a valid
    bound whatever the weather), battery emptied from its initial state.
    """
    hours = case.horizon_hours
    load = base_load_kw(site.base_load, case.scenarios.day, case.period_minutes, case.n_periods)
    production = 0.0
    for m, qty in production_need_t(site, case).items():
        rates = [line.power_kw[m] / line.rate_t_per_h[m] for line in site.lines if m in line.rate_t_per_h]
        if qty > 0 and rates:
            production += qty * min(rates)
    mg = site.microgrid
    local = (site.generator.capacity_kw if site.generator else 0.0) * hours
    if mg.pv is not None and mg.pv.source is not None:
        pv_kw, _ = measured_pv_kw(mg.pv.source, mg.pv.kwp, case.scenarios.day, case.period_minutes, case.n_periods)
        local += float(np.sum(pv_kw)) * case.period_hours
    else:
        local += (mg.pv.kwp if mg.pv else 0.0) * hours
    local += wind_nominal_kw(site) * hours
    if mg.battery is not None:
        b = mg.battery
        local += max(0.0, b.initial_soc_fraction - b.soc_min_fraction) * b.energy_kwh * b.discharge_efficiency
    return EnergyBudget(float(np.sum(load)) * case.period_hours, production, local)


def supply_problems(case) -> list[str]:
    """Grid connections and the peak cap against the energy the sites need (pre-solve bounds)."""
    problems = []
    hours = case.horizon_hours
    budgets = {s.name: energy_budget(s, case) for s in case.sites}
    for i, site in enumerate(case.sites):
        b = budgets[site.name]
        link_kw = sum(link.capacity_kw for link in case.links if site.name in (link.site_a, link.site_b))
        conn = site.grid_connection_kw
        if math.isfinite(conn) and b.grid_need_kwh > (conn + link_kw) * hours + 1e-6:
            need_kw = b.grid_need_kwh / hours - link_kw
            problems.append(
                f"sites[{i}].grid_connection_kw = {conn:g} kW (grid connection family): site {site.name!r} needs at "
                f"least {b.grid_need_kwh:,.0f} kWh over {hours:g} h from the grid and links (base load "
                f"{b.base_load_kwh:,.0f} kWh + production plan {b.production_kwh:,.0f} kWh - at most "
                f"{b.local_max_kwh:,.0f} kWh from its generator, PV, wind and battery), but the connection and "
                f"its links ({link_kw:g} kW) carry at most {(conn + link_kw) * hours:,.0f} kWh; raise "
                f"grid_connection_kw to at least {need_kw:,.0f} kW or lower the plan")
    need = sum(b.grid_need_kwh for b in budgets.values())
    total_conn = sum(s.grid_connection_kw for s in case.sites)
    if math.isfinite(total_conn) and need > total_conn * hours + 1e-6:
        problems.append(
            f"sites[].grid_connection_kw (grid connection family): the sites' connections total {total_conn:,.0f} kW, "
            f"but together they need at least {need:,.0f} kWh from the grid over {hours:g} h (an average of "
            f"{need / hours:,.0f} kW after every generator, PV, wind and battery at full output); raise the "
            "connections or lower the plan")
    cap = case.contract.peak_cap_kw
    if cap is not None and need > cap * hours + 1e-6:
        problems.append(
            f"contract.peak_cap_kw = {cap:g} kW (peak cap family): the sites need at least {need:,.0f} kWh from the "
            f"grid over {hours:g} h (base load {sum(b.base_load_kwh for b in budgets.values()):,.0f} kWh + "
            f"production plan {sum(b.production_kwh for b in budgets.values()):,.0f} kWh - at most "
            f"{sum(b.local_max_kwh for b in budgets.values()):,.0f} kWh from generators, PV, wind and batteries), "
            f"an average import of {need / hours:,.0f} kW; raise peak_cap_kw to at least {need / hours:,.0f} kW, "
            "remove it, or lower the plan")
    return problems


def plan_problems(case) -> list[str]:
    """The production plan's necessary conditions, as messages with the constraint family."""
    out = []
    for p in check_plan(case):
        if "storage overflow" in p.reason:
            fix = (f"raise sites.storage.{p.material}.max_t, lower plan_t_per_day.{p.material} or add a delivery "
                   "(the plan is per day: a longer horizon_hours multiplies it)")
        elif "delivery" in p.reason:
            fix = f"move the delivery later, lower it, or raise storage.{p.material}.initial_t"
        else:
            fix = f"lower plan_t_per_day.{p.material}, or add line capacity or shorter latencies"
        out.append(f"production plan family: {p}; {fix}")
    return out


def presolve_problems(case) -> list[str]:
    """Every reason, known before any solve, why the case cannot be operated."""
    return plan_problems(case) + supply_problems(case)


def presolve_warnings(case) -> list[str]:
    """Allowed, but probably not what the author meant."""
    c = case.contract
    warnings = list(getattr(case, "notes", ()))  # how relative paths were resolved, when not beside the case
    if c.overrun_threshold * c.overrun_charge_eur_per_kw <= c.demand_charge_eur_per_kw_month:
        warnings.append(
            f"contract.overrun_charge_eur_per_kw = {c.overrun_charge_eur_per_kw:g} EUR/kW: overrun_threshold * f3 = "
            f"{c.overrun_threshold * c.overrun_charge_eur_per_kw:g} EUR/kW is not above "
            f"demand_charge_eur_per_kw_month = {c.demand_charge_eur_per_kw_month:g} EUR/kW/month, so overrunning is "
            f"always cheaper than subscribing and sizing chooses subscribed power 0; raise f3 above "
            f"{c.demand_charge_eur_per_kw_month / c.overrun_threshold:.4g} EUR/kW")
    return warnings


def require_presolve_checks(case) -> None:
    """Raise CaseError (bad names, exit 2) or InfeasibleCaseError (exit 3) listing every problem."""
    bad = input_problems(case)
    if bad:
        raise CaseError(bad, case.source)
    infeasible = presolve_problems(case)
    if infeasible:
        raise InfeasibleCaseError(infeasible, case.source)
