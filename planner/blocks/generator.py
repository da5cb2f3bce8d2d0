"""A gas generator block: on/off binary, minimum load, fuel cost and start-up cost.

Port: ``power_kw[t]``; cost: ``cost_eur`` (fuel per MWh of electricity plus start-ups).
"""

from __future__ import annotations

import pyomo.environ as pyo


def build_generator_block(b: pyo.Block, gen, periods: int, dt: float) -> pyo.Block:
    b.T = pyo.Set(initialize=range(periods), ordered=True)
    cap, pmin = float(gen.capacity_kw), float(gen.min_load_kw)
    b.on = pyo.Var(b.T, within=pyo.Binary)
    b.power_kw = pyo.Var(b.T, bounds=(0.0, cap))
    b.startup = pyo.Var(b.T, bounds=(0.0, 1.0))
    u0 = 1.0 if gen.initially_on else 0.0
    b.max_load = pyo.Constraint(b.T, rule=lambda b, t: b.power_kw[t] <= cap * b.on[t])
    b.min_load = pyo.Constraint(b.T, rule=lambda b, t: b.power_kw[t] >= pmin * b.on[t])
    b.startup_def = pyo.Constraint(
        b.T, rule=lambda b, t: b.startup[t] >= b.on[t] - (b.on[t - 1] if t > 0 else u0))
    fuel = float(gen.fuel_cost_eur_per_mwh) * dt / 1000.0
    b.cost_eur = pyo.Expression(
        expr=sum(fuel * b.power_kw[t] + float(gen.startup_cost_eur) * b.startup[t] for t in b.T))
    return b
