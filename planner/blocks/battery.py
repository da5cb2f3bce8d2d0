"""A battery block: charge, discharge and state of charge with efficiencies, bounds and end target.

Port: ``net_kw[t]`` = discharge - charge (kW delivered to the site). Simultaneous charge and
discharge is not excluded by a binary (it only wastes energy, which the costs discourage).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo


@dataclass(frozen=True)
class BatteryParameters:
    """A battery's physics in numbers (kW, kWh) and its state-of-charge change, shared by this block
    and the SDDP stage model of ``planner.policy.model``."""

    power_kw: float
    energy_kwh: float
    charge_efficiency: float
    discharge_efficiency: float
    soc_min_kwh: float
    soc_max_kwh: float
    initial_soc_kwh: float
    final_soc_min_kwh: float        # end-of-day target (the initial SoC unless given)

    def soc_change_kwh(self, charge_kw, discharge_kw, dt: float):
        """soc' - soc over a period of ``dt`` hours: (eta_c * charge - discharge / eta_d) * dt
        (numbers, Pyomo or ``sddp`` expressions)."""
        return (self.charge_efficiency * charge_kw - discharge_kw / self.discharge_efficiency) * dt


def battery_parameters(battery) -> BatteryParameters:
    """The numbers of a case's battery (``planner.case`` battery: fractions of the energy capacity)."""
    e = float(battery.energy_kwh)
    final = battery.final_soc_min_fraction
    return BatteryParameters(
        power_kw=float(battery.power_kw), energy_kwh=e, charge_efficiency=float(battery.charge_efficiency),
        discharge_efficiency=float(battery.discharge_efficiency), soc_min_kwh=battery.soc_min_fraction * e,
        soc_max_kwh=battery.soc_max_fraction * e, initial_soc_kwh=battery.initial_soc_fraction * e,
        final_soc_min_kwh=(battery.initial_soc_fraction if final is None else final) * e)


def build_battery_block(b: pyo.Block, battery, periods: int, dt: float, elastic=frozenset()) -> pyo.Block:
    p = battery_parameters(battery)
    b.T = pyo.Set(initialize=range(periods), ordered=True)
    b.charge_kw = pyo.Var(b.T, bounds=(0.0, p.power_kw))
    b.discharge_kw = pyo.Var(b.T, bounds=(0.0, p.power_kw))
    b.soc_kwh = pyo.Var(b.T, bounds=(p.soc_min_kwh, p.soc_max_kwh))
    soc0 = p.initial_soc_kwh
    b.soc_balance = pyo.Constraint(
        b.T,
        rule=lambda b, t: b.soc_kwh[t]
        == (b.soc_kwh[t - 1] if t > 0 else soc0) + p.soc_change_kwh(b.charge_kw[t], b.discharge_kw[t], dt),
    )
    final_kwh = p.final_soc_min_kwh
    if "battery_target" in elastic:
        b.slack_battery_target = pyo.Var(bounds=(0.0, None))
        b.final_target = pyo.Constraint(expr=b.soc_kwh[periods - 1] + b.slack_battery_target >= final_kwh)
    else:
        b.final_target = pyo.Constraint(expr=b.soc_kwh[periods - 1] >= final_kwh)
    b.net_kw = pyo.Expression(b.T, rule=lambda b, t: b.discharge_kw[t] - b.charge_kw[t])
    return b
