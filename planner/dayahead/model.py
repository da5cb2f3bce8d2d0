"""The deterministic day-ahead model of one scenario, composed from the blocks (sites, links, contract),
and the tables read off a solved model (dispatch, production schedule, day-ahead volumes).

First stage: day-ahead volumes per period (global contract, or per site), optionally the production
schedule (``schedule_first_stage=True``). Second stage: intraday purchases, resale, link exchanges,
batteries, generators, renewables with curtailment and (by default) the production schedule.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd
import pyomo.environ as pyo

from planner.blocks.contract import build_contract_block
from planner.blocks.links import build_links_block
from planner.blocks.site import build_site_block
from planner.dayahead.data import zone_bounds_kw, zones_of
from planner.load_profiles import base_load_kw
from planner.solvers.highs import solve_with_bounds

ELASTIC_PENALTY_EUR = 1e6  # per unit of slack when constraint families are made elastic (diagnosis)


def build_day_ahead_model(case, data: dict, *, schedule_first_stage: bool = False, elastic=frozenset(),
                          fixed_schedule=None, name: str = "day_ahead") -> pyo.ConcreteModel:
    """The deterministic model of one scenario (prices and renewables in ``data``).

    ``elastic``: constraint families given penalised slacks (see planner.blocks.ELASTIC_FAMILIES);
    ``fixed_schedule``: {site: {line: {"on": {(m,t): 0/1}, "run": {(m,t): x}}}} fixes production.
    The first-stage components are listed in ``model.nonant_components`` (for mpi-sppy's root node).
    """
    n = case.n_periods
    m = pyo.ConcreteModel(name)
    m.T = pyo.Set(initialize=range(n), ordered=True)
    m.S = pyo.Set(initialize=list(case.site_names), ordered=True)
    m.site = pyo.Block(m.S)
    loads = {}
    for s in case.sites:
        loads[s.name] = base_load_kw(s.base_load, case.scenarios.day, case.period_minutes, n)
        build_site_block(m.site[s.name], s, case, loads[s.name], data["pv_kw"][s.name], data["wind_kw"][s.name],
                         elastic=elastic,
                         fixed_schedule=None if fixed_schedule is None else fixed_schedule.get(s.name))
    m.links = pyo.Block()
    build_links_block(m.links, case.links, case.site_names, n, elastic)
    m.link_port = pyo.Constraint(m.S, m.T, rule=lambda m, s, t: m.site[s].link_in_kw[t] == m.links.link_in_kw[s, t])
    zones = zones_of(case)
    bound = zone_bounds_kw(case, loads)
    m.contract = pyo.Block()
    build_contract_block(m.contract, case, zones, bound, {"p0": data["p0"], "p1": data["p1"], "p2": data["p2"]},
                         lambda s, t: m.site[s].grid_kw[t], elastic)
    m.total_cost_eur = pyo.Expression(expr=m.contract.cost_eur + sum(m.site[s].cost_eur for s in m.S))
    slacks = [v for v in m.component_objects(pyo.Var, descend_into=True) if v.local_name.startswith("slack_")]
    m.elastic_penalty = pyo.Expression(
        expr=ELASTIC_PENALTY_EUR * sum(sum(v.values()) for v in slacks) if slacks else 0.0)
    m.obj = pyo.Objective(expr=m.total_cost_eur + m.elastic_penalty, sense=pyo.minimize)
    m.first_stage_cost_eur = pyo.Expression(expr=m.contract.day_ahead_cost_eur)
    nonants = [m.contract.day_ahead_kw]
    if schedule_first_stage:
        for s in case.sites:
            for line in s.lines:
                nonants += [m.site[s.name].line[line.name].on, m.site[s.name].line[line.name].run]
    m.nonant_components = nonants
    return m


def line_blocks(model, case):
    """(site name, line name, line block) of every production line of a model."""
    for s in case.sites:
        for line in s.lines:
            yield s.name, line.name, model.site[s.name].line[line.name]


# --------------------------------------------------------------------------------------------
# Tables read off a solved scenario model
# --------------------------------------------------------------------------------------------
def value(x) -> float:
    """A Pyomo value, NaN when the variable has none."""
    val = pyo.value(x, exception=False)
    return float("nan") if val is None else float(val)


def dispatch_frame(case, model) -> pd.DataFrame:
    """Per-period dispatch of one solved scenario model (kW, kWh, EUR/MWh)."""
    T = range(case.n_periods)
    c = model.contract
    cols = {
        "day_ahead_kw": [sum(value(c.day_ahead_kw[z, t]) for z in c.Z) for t in T],
        "intraday_kw": [sum(value(c.intraday_kw[z, t]) for z in c.Z) for t in T],
        "resale_kw": [sum(value(c.resale_kw[z, t]) for z in c.Z) for t in T],
        "net_import_kw": [value(c.net_import_kw[t]) for t in T],
        "p0_eur_per_mwh": [value(c.p0_eur_per_mwh[t]) for t in T],
        "p1_eur_per_mwh": [value(c.p1_eur_per_mwh[t]) for t in T],
        "p2_eur_per_mwh": [value(c.p2_eur_per_mwh[t]) for t in T],
    }
    for s in case.sites:
        b = model.site[s.name]
        cols[f"{s.name}:grid_kw"] = [value(b.grid_kw[t]) for t in T]
        cols[f"{s.name}:base_load_kw"] = [value(b.base_load_kw[t]) for t in T]
        cols[f"{s.name}:lines_kw"] = [value(b.lines_kw[t]) for t in T]
        cols[f"{s.name}:link_in_kw"] = [value(b.link_in_kw[t]) for t in T]
        cols[f"{s.name}:pv_kw"] = [value(b.renewables.pv_kw[t]) for t in T]
        cols[f"{s.name}:wind_kw"] = [value(b.renewables.wind_kw[t]) for t in T]
        cols[f"{s.name}:curtailed_kw"] = [value(b.renewables.curtailed_kw[t]) for t in T]
        if b.has_generator:
            cols[f"{s.name}:generator_kw"] = [value(b.generator.power_kw[t]) for t in T]
        if b.has_battery:
            cols[f"{s.name}:battery_kw"] = [value(b.battery.net_kw[t]) for t in T]
            cols[f"{s.name}:soc_kwh"] = [value(b.battery.soc_kwh[t]) for t in T]
        for m in b.STORED:
            cols[f"{s.name}:stock_t:{m}"] = [value(b.stock_t[m, t]) for t in T]
    for k, link in enumerate(case.links):
        cols[f"link:{link.site_a}->{link.site_b}_kw"] = [value(model.links.flow_kw[k, "ab", t]) for t in T]
        cols[f"link:{link.site_b}->{link.site_a}_kw"] = [value(model.links.flow_kw[k, "ba", t]) for t in T]
    frame = pd.DataFrame(cols)
    frame.index.name = "period"
    frame.attrs["total_cost_eur"] = value(model.total_cost_eur)
    return frame


def schedule_frame(case, model, scenario: str = "") -> pd.DataFrame:
    """Rows (scenario, site, line, period, material, run) of periods where a line is on."""
    rows = []
    for site, line, b in line_blocks(model, case):
        for t in range(case.n_periods):
            for m in b.M:
                if value(b.on[m, t]) > 0.5:
                    rows.append((scenario, site, line, t, m, round(value(b.run[m, t]), 6)))
    return pd.DataFrame(rows, columns=["scenario", "site", "line", "period", "material", "run"])


_DAY_AHEAD = re.compile(r"day_ahead_kw\[(.+),(\d+)\]$")


def day_ahead_frame(case, first_stage: dict) -> pd.DataFrame:
    """Period x zone frame of day-ahead volumes (kW) from first-stage values keyed by variable name."""
    data = {}
    for name, val in first_stage.items():
        m = _DAY_AHEAD.search(name)
        if m:
            data.setdefault(m.group(1), {})[int(m.group(2))] = val
    frame = pd.DataFrame(data).reindex(range(case.n_periods)).fillna(0.0)
    frame.index.name = "period"
    return frame


def schedule_values(model, case) -> dict:
    """{component name: value} of every line's on/run variables (to fix the schedule elsewhere)."""
    out = {}
    for _, _, b in line_blocks(model, case):
        for var in (b.on, b.run):
            for v in var.values():
                out[v.getname(fully_qualified=True, relative_to=model)] = (
                    round(v.value) if v.is_binary() else max(0.0, min(1.0, v.value)))
    return out


def site_schedule_heuristic(case, data: dict, time_limit_per_site: float = 10.0, mip_gap: float = 0.01):
    """A feasible production schedule, site by site (links ignored) on one scenario's data.

    Production constraints are internal to a site and energy can always be bought, so a schedule
    that is feasible for each site alone is feasible for the whole case (unless a peak cap or a
    grid connection binds). Returns {site: {line: {"on": {(m,t): v}, "run": {(m,t): v}}}} or None.
    """
    if case.contract.peak_cap_kw is not None:
        return None
    schedule = {}
    for site in case.sites:
        if not site.lines:
            continue
        sub = dataclasses.replace(case, sites=[site], links=[])
        sub_data = {"p0": data["p0"], "p1": data["p1"], "p2": data["p2"],
                    "pv_kw": {site.name: data["pv_kw"][site.name]}, "wind_kw": {site.name: data["wind_kw"][site.name]}}
        m = build_day_ahead_model(sub, sub_data)
        if not math.isfinite(solve_with_bounds(m, mip_gap=mip_gap, time_limit=time_limit_per_site).upper_bound):
            return None
        schedule[site.name] = {}
        for line in site.lines:
            b = m.site[site.name].line[line.name]
            schedule[site.name][line.name] = {
                "on": {k: round(v.value) for k, v in b.on.items()},
                "run": {k: max(0.0, min(1.0, v.value)) for k, v in b.run.items()},
            }
    return schedule
