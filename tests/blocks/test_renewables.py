"""PV and wind: output up to the available power, the rest curtailed; negative availability read as zero."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from planner.blocks.renewables import build_renewables_block


def test_surplus_is_curtailed_and_shortfall_is_bought(solve):
    """Available PV (100, -5 -> 0) and wind (50, 80) kW against a demand of 120 and 200 kW, grid at
    0.1 EUR/kWh: hour 0 uses 120 of 150 (30 curtailed), hour 1 uses all 80 and buys 120 kWh (12 EUR)."""
    m = pyo.ConcreteModel()
    m.ren = pyo.Block()
    build_renewables_block(m.ren, [100.0, -5.0], [50.0, 80.0])
    demand = (120.0, 200.0)
    m.grid_kw = pyo.Var(m.ren.T, bounds=(0.0, None))
    m.balance = pyo.Constraint(m.ren.T, rule=lambda m, t: m.ren.power_kw[t] + m.grid_kw[t] == demand[t])
    assert solve(m, sum(0.1 * m.grid_kw[t] for t in m.ren.T)) == pytest.approx(12.0, abs=1e-6)
    assert pyo.value(m.ren.curtailed_kw[0]) == pytest.approx(30.0, abs=1e-6)
    assert pyo.value(m.ren.curtailed_kw[1]) == pytest.approx(0.0, abs=1e-6)
    assert pyo.value(m.ren.pv_available_kw[1]) == 0.0
