"""A production line block: at most one material per period, latencies, standby and start-up energy.

Variables (per material m and period t): ``on[m,t]`` binary (line set up for m), ``run[m,t]`` in
[0, 1] (fraction of the period producing m). Latencies: after switching directly from another
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
    b.start_m = pyo.Var(b.M, b.T, bounds=(0.0, 1.0))
    init = {m: (1.0 if line.initial_material == m else 0.0) for m in mats}
    init_any = sum(init.values())

    def on_prev(m, t):
        return b.on[m, t - 1] if t > 0 else init[m]

    def any_on(t):
        return sum(b.on[m, t] for m in mats) if t >= 0 else init_any

    b.one_material = pyo.Constraint(b.T, rule=lambda b, t: sum(b.on[m, t] for m in mats) <= 1)
    # Entering material m at t (on[m,t] - on[m,t-1] > 0) is either a start from stopped (start_m) or a
    # direct switch from another material (switch); this split is tight in the LP relaxation.
    b.switch = pyo.Var(b.M, b.T, bounds=(0.0, 1.0))
    b.enter = pyo.Constraint(
        b.M, b.T, rule=lambda b, m, t: b.start_m[m, t] + b.switch[m, t] >= b.on[m, t] - on_prev(m, t))
    b.start_from_off = pyo.Constraint(b.M, b.T, rule=lambda b, m, t: b.start_m[m, t] <= 1 - any_on(t - 1))
    b.switch_from_other = pyo.Constraint(
        b.M, b.T, rule=lambda b, m, t: b.switch[m, t] <= any_on(t - 1) - on_prev(m, t))
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
