"""A battery block: charge, discharge and state of charge with efficiencies, bounds and end target.

Port: ``net_kw[t]`` = discharge - charge (kW delivered to the site). Simultaneous charge and
discharge is not excluded by a binary (it only wastes energy, which the costs discourage).
"""

from __future__ import annotations

import pyomo.environ as pyo


def build_battery_block(b: pyo.Block, battery, periods: int, dt: float, elastic=frozenset()) -> pyo.Block:
    e = float(battery.energy_kwh)
    b.T = pyo.Set(initialize=range(periods), ordered=True)
    b.charge_kw = pyo.Var(b.T, bounds=(0.0, float(battery.power_kw)))
    b.discharge_kw = pyo.Var(b.T, bounds=(0.0, float(battery.power_kw)))
    b.soc_kwh = pyo.Var(b.T, bounds=(battery.soc_min_fraction * e, battery.soc_max_fraction * e))
    soc0 = battery.initial_soc_fraction * e
    eta_c, eta_d = float(battery.charge_efficiency), float(battery.discharge_efficiency)
    b.soc_balance = pyo.Constraint(
        b.T,
        rule=lambda b, t: b.soc_kwh[t]
        == (b.soc_kwh[t - 1] if t > 0 else soc0) + (eta_c * b.charge_kw[t] - b.discharge_kw[t] / eta_d) * dt,
    )
    final = battery.final_soc_min_fraction
    final_kwh = (battery.initial_soc_fraction if final is None else final) * e
    if "battery_target" in elastic:
        b.slack_battery_target = pyo.Var(bounds=(0.0, None))
        b.final_target = pyo.Constraint(expr=b.soc_kwh[periods - 1] + b.slack_battery_target >= final_kwh)
    else:
        b.final_target = pyo.Constraint(expr=b.soc_kwh[periods - 1] >= final_kwh)
    b.net_kw = pyo.Expression(b.T, rule=lambda b, t: b.discharge_kw[t] - b.charge_kw[t])
    return b
