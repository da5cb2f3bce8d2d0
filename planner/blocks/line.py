"""A production line block: at most one material per period, latencies, standby and start-up energy.

Variables (per material m and period t): ``on[m,t]`` binary (line set up for m), ``run[m,t]`` in
[0, 1] (fraction of the period producing m), ``flow[a,c,t]`` the transition from state a (off or a
material) at t-1 to state c at t. Latencies: after switching directly from another
material the line produces nothing for ``changeover_hours``; after a start from stopped, nothing
for ``restart_hours`` (a stopped line forgets its material: the restart latency applies whatever
the material). The latency windows are written in aggregated (tight) form, which also excludes
switching into a material and leaving it again before its latency has elapsed (never useful). Ports: ``power_kw[t]`` (Expression), ``output_t[m,t]`` (tonnes per period).
"""

from __future__ import annotations

import pyomo.environ as pyo


def build_line_block(b: pyo.Block, line, periods: int, dt: float, fixed_schedule=None) -> pyo.Block:
    """Fill ``b`` with the model of ``line`` over ``periods`` periods of ``dt`` hours.

    ``fixed_schedule`` (optional dict with ``on`` and ``run`` arrays keyed by (m, t)) fixes the
    schedule, e.g. to evaluate a given plan.
    """
    mats = list(line.materials)
    kc = int(round(line.changeover_hours / dt))
    kr = int(round(line.restart_hours / dt))
    T = range(periods)
    b.M = pyo.Set(initialize=mats, ordered=True)
    b.T = pyo.Set(initialize=T, ordered=True)
    b.on = pyo.Var(b.M, b.T, within=pyo.Binary)
    b.run = pyo.Var(b.M, b.T, bounds=(0.0, 1.0))
    init = {m: (1.0 if line.initial_material == m else 0.0) for m in mats}
    init_any = sum(init.values())

    b.one_material = pyo.Constraint(b.T, rule=lambda b, t: sum(b.on[m, t] for m in mats) <= 1)
    # Transitions as a flow between consecutive periods over the states {off} + materials:
    # flow[a, c, t] is the share of the line going from state a at t-1 to state c at t. Per line this
    # is a network flow on the time-expanded state graph, so its LP relaxation is the convex hull of
    # the line's schedules: a fractional line cannot pretend that the part of it continuing one
    # material is the part switching into another (the aggregated form allowed that).
    states = ["off"] + mats
    b.S = pyo.Set(initialize=states, ordered=True)
    b.flow = pyo.Var(b.S, b.S, b.T, bounds=(0.0, 1.0))

    def state(a, t):
        if t < 0:
            return (1.0 - init_any) if a == "off" else init[a]
        return (1 - sum(b.on[m, t] for m in mats)) if a == "off" else b.on[a, t]

    b.flow_out = pyo.Constraint(b.S, b.T, rule=lambda b, a, t: sum(b.flow[a, c, t] for c in states) == state(a, t - 1))
    b.flow_in = pyo.Constraint(b.S, b.T, rule=lambda b, c, t: sum(b.flow[a, c, t] for a in states) == state(c, t))
    # start_m: a start of m from stopped; switch: a direct changeover into m from another material.
    b.start_m = pyo.Expression(b.M, b.T, rule=lambda b, m, t: b.flow["off", m, t])
    b.switch = pyo.Expression(b.M, b.T, rule=lambda b, m, t: sum(b.flow[a, m, t] for a in mats if a != m))
    b.start = pyo.Expression(b.T, rule=lambda b, t: sum(b.start_m[m, t] for m in mats))
    use_switch = kc > 0

    def run_rule(b, m, t):
        lost = 0
        if use_switch:
            lost = lost + sum(b.switch[m, tau] for tau in range(max(0, t - kc + 1), t + 1))
        if kr > 0:
            lost = lost + sum(b.start_m[m, tau] for tau in range(max(0, t - kr + 1), t + 1))
        return b.run[m, t] <= b.on[m, t] - lost

    b.run_limit = pyo.Constraint(b.M, b.T, rule=run_rule)

    power = {m: float(line.power_kw[m]) for m in mats}
    rate = {m: float(line.rate_t_per_h[m]) for m in mats}
    standby = float(line.standby_power_kw)
    startup_kw = float(line.startup_energy_kwh) / dt
    b.power_kw = pyo.Expression(
        b.T,
        rule=lambda b, t: sum((power[m] - standby) * b.run[m, t] + standby * b.on[m, t] for m in mats)
        + startup_kw * b.start[t],
    )
    b.output_t = pyo.Expression(b.M, b.T, rule=lambda b, m, t: rate[m] * dt * b.run[m, t])
    if fixed_schedule is not None:
        for (m, t), v in fixed_schedule.get("on", {}).items():
            b.on[m, t].fix(round(v))
        for (m, t), v in fixed_schedule.get("run", {}).items():
            b.run[m, t].fix(v)
    return b


def max_power_kw(line) -> float:
    """Highest power the line can draw in a period (production or standby plus start-up)."""
    return max(list(line.power_kw.values()) + [line.standby_power_kw])
