"""A site block: its lines, battery, generator and renewables, material storage and plan, and balance.

Ports: ``grid_kw[t]`` (net import from the grid, negative when exporting) and ``link_in_kw[t]``
(net power received over links, after losses). Balance per period:
grid + links + generator + renewables + battery = base load + lines.
"""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from planner.blocks.battery import build_battery_block
from planner.blocks.generator import build_generator_block
from planner.blocks.line import build_line_block, max_power_kw
from planner.blocks.renewables import build_renewables_block


def delivery_period(hour: float, dt: float) -> int:
    """Period at whose end a delivery at ``hour`` leaves storage (it must be in stock by then)."""
    return max(0, int(round(hour / dt)) - 1)


def site_max_demand_kw(site, base_load_kw) -> float:
    """Upper bound on what the site can draw in a period (for bounding purchases)."""
    demand = float(np.max(base_load_kw)) + sum(max_power_kw(l) + l.startup_energy_kwh for l in site.lines)
    if site.microgrid.battery is not None:
        demand += site.microgrid.battery.power_kw
    return demand


def physical_grid_bound_kw(site, base_load_kw, pv_available_kw, wind_available_kw) -> float:
    """The most a site could import or export: highest demand plus generator, PV and wind output."""
    big = site_max_demand_kw(site, base_load_kw) + (site.generator.capacity_kw if site.generator else 0.0)
    return big + float(np.max(pv_available_kw, initial=0.0)) + float(np.max(wind_available_kw, initial=0.0))


def grid_port_bound_kw(site, base_load_kw, pv_available_kw, wind_available_kw) -> float:
    """The bound of the site block's grid port: the grid connection, or the physical bound if smaller."""
    big = physical_grid_bound_kw(site, base_load_kw, pv_available_kw, wind_available_kw)
    conn = site.grid_connection_kw
    return big if math.isinf(conn) else min(float(conn), big)


def site_supply_kw(grid_kw, link_in_kw, generator_kw=0.0, renewables_kw=0.0, battery_net_kw=0.0):
    """Left side of a site's power balance in a period (kW): grid + links + generator + renewables +
    battery, to equal base load + lines (numbers, Pyomo or ``sddp`` expressions; also used by the
    SDDP stage model of ``planner.policy.model``)."""
    return grid_kw + link_in_kw + generator_kw + renewables_kw + battery_net_kw


def build_site_block(b: pyo.Block, site, case, base_load_kw, pv_available_kw, wind_available_kw,
                     elastic=frozenset(), fixed_schedule=None) -> pyo.Block:
    n, dt = case.n_periods, case.period_hours
    days = case.horizon_hours / 24.0
    b.T = pyo.Set(initialize=range(n), ordered=True)
    b.base_load_kw = pyo.Param(b.T, initialize=dict(enumerate(map(float, base_load_kw))))
    conn = site.grid_connection_kw
    bound = None if math.isinf(conn) else float(conn)
    big = physical_grid_bound_kw(site, base_load_kw, pv_available_kw, wind_available_kw)
    if "grid_connection" in elastic and bound is not None:
        b.grid_kw = pyo.Var(b.T, bounds=(-big - bound, big + bound))
        b.slack_grid_connection = pyo.Var(b.T, bounds=(0.0, None))
        b.grid_limit_up = pyo.Constraint(b.T, rule=lambda b, t: b.grid_kw[t] <= bound + b.slack_grid_connection[t])
        b.grid_limit_down = pyo.Constraint(b.T, rule=lambda b, t: -b.grid_kw[t] <= bound + b.slack_grid_connection[t])
    else:
        lim = big if bound is None else min(bound, big)
        b.grid_kw = pyo.Var(b.T, bounds=(-lim, lim))
    b.link_in_kw = pyo.Var(b.T)

    # components
    b.line = pyo.Block([l.name for l in site.lines])
    for line in site.lines:
        fs = None if fixed_schedule is None else fixed_schedule.get(line.name)
        build_line_block(b.line[line.name], line, n, dt, fs)
    mg = site.microgrid
    b.has_battery = mg.battery is not None and mg.battery.energy_kwh > 0
    if b.has_battery:
        b.battery = pyo.Block()
        build_battery_block(b.battery, mg.battery, n, dt, elastic)
    b.has_generator = site.generator is not None
    if b.has_generator:
        b.generator = pyo.Block()
        build_generator_block(b.generator, site.generator, n, dt)
    b.renewables = pyo.Block()
    build_renewables_block(b.renewables, pv_available_kw, wind_available_kw)

    def lines_kw(b, t):
        return sum(b.line[l.name].power_kw[t] for l in site.lines)

    b.lines_kw = pyo.Expression(b.T, rule=lines_kw)
    b.balance = pyo.Constraint(
        b.T,
        rule=lambda b, t: site_supply_kw(b.grid_kw[t], b.link_in_kw[t],
                                         b.generator.power_kw[t] if b.has_generator else 0.0,
                                         b.renewables.power_kw[t], b.battery.net_kw[t] if b.has_battery else 0.0)
        == b.base_load_kw[t] + b.lines_kw[t],
    )

    # materials: production, plan, storage, deliveries
    makers = {}
    for line in site.lines:
        for m in line.materials:
            makers.setdefault(m, []).append(line.name)
    mats = sorted(set(makers) | set(site.storage) | {m for m, q in site.plan_t_per_day.items() if q > 0})
    b.MAT = pyo.Set(initialize=mats, ordered=True)
    b.produced_t = pyo.Expression(
        b.MAT, b.T, rule=lambda b, m, t: sum(b.line[l].output_t[m, t] for l in makers.get(m, [])))
    plan = {m: float(q) * days for m, q in site.plan_t_per_day.items() if q > 0}
    b.PLAN = pyo.Set(initialize=sorted(plan), ordered=True)
    if "production_plan" in elastic:
        b.slack_production_plan = pyo.Var(b.PLAN, bounds=(0.0, None))
    b.plan_met = pyo.Constraint(
        b.PLAN,
        rule=lambda b, m: sum(b.produced_t[m, t] for t in b.T)
        + (b.slack_production_plan[m] if "production_plan" in elastic else 0.0) >= plan[m],
    )
    stored = sorted(site.storage)
    b.STORED = pyo.Set(initialize=stored, ordered=True)
    deliveries = {(m, t): 0.0 for m in stored for t in range(n)}
    for d in site.deliveries:
        deliveries[d.material, delivery_period(d.hour, dt)] += float(d.quantity_t)
    b.delivery_t = pyo.Param(b.STORED, b.T, initialize=deliveries)
    st = site.storage
    el = "storage_limits" in elastic
    if el:
        b.stock_t = pyo.Var(b.STORED, b.T)
        b.slack_storage_limits = pyo.Var(b.STORED, b.T, bounds=(0.0, None))
        b.stock_min = pyo.Constraint(
            b.STORED, b.T, rule=lambda b, m, t: b.stock_t[m, t] + b.slack_storage_limits[m, t] >= st[m].min_t)
        b.stock_max = pyo.Constraint(
            b.STORED, b.T,
            rule=lambda b, m, t: pyo.Constraint.Skip if math.isinf(st[m].max_t)
            else b.stock_t[m, t] - b.slack_storage_limits[m, t] <= st[m].max_t)
    else:
        b.stock_t = pyo.Var(
            b.STORED, b.T,
            bounds=lambda b, m, t: (st[m].min_t, None if math.isinf(st[m].max_t) else st[m].max_t))
    b.stock_balance = pyo.Constraint(
        b.STORED, b.T,
        rule=lambda b, m, t: b.stock_t[m, t]
        == (b.stock_t[m, t - 1] if t > 0 else st[m].initial_t) + b.produced_t[m, t] - b.delivery_t[m, t],
    )

    def final_rule(b, m):
        target = st[m].min_t if st[m].final_min_t is None else st[m].final_min_t
        if target <= st[m].min_t:
            return pyo.Constraint.Skip
        return b.stock_t[m, n - 1] + (b.slack_storage_limits[m, n - 1] if el else 0.0) >= target

    b.stock_final = pyo.Constraint(b.STORED, rule=final_rule)

    if site.no_m1_m2_together:
        pairs = [(a, c) for a in makers.get("M1", []) for c in makers.get("M2", [])]
        b.PAIRS = pyo.Set(initialize=[(a, c, t) for a, c in pairs for t in range(n)], dimen=3)
        b.no_m1_m2 = pyo.Constraint(
            b.PAIRS, rule=lambda b, a, c, t: b.line[a].on["M1", t] + b.line[c].on["M2", t] <= 1)

    b.cost_eur = pyo.Expression(expr=b.generator.cost_eur if b.has_generator else 0.0)
    return b
