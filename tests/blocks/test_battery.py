"""Battery: state of charge through the efficiencies, its bounds and the end-of-day target, by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pyomo.environ as pyo
import pytest

from planner.blocks.battery import build_battery_block

BATTERY = SimpleNamespace(power_kw=100.0, energy_kwh=200.0, charge_efficiency=0.9, discharge_efficiency=0.9,
                          soc_min_fraction=0.1, soc_max_fraction=0.9, initial_soc_fraction=0.5,
                          final_soc_min_fraction=None)


def _model():
    m = pyo.ConcreteModel()
    m.bat = pyo.Block()
    build_battery_block(m.bat, BATTERY, periods=2, dt=1.0)
    return m


def test_arbitrage_limited_by_the_soc_ceiling_and_the_end_of_day_target(solve):
    """Energy costs 10 EUR/MWh in hour 0 and earns 100 EUR/MWh in hour 1 (net_kw > 0 delivers).
    Start 100 kWh, ceiling 180 kWh: hour 0 charges 80 / 0.9 = 88.89 kW (soc 180); the target keeps the
    soc >= 100 kWh at the end, so hour 1 discharges (180 - 100) x 0.9 = 72 kW.
    Value: -88.89 x 0.010 + 72 x 0.100 = 6.3111 EUR, i.e. a cost of -6.3111 EUR."""
    m = _model()
    price = (0.010, 0.100)  # EUR/kWh
    cost = solve(m, sum(-price[t] * m.bat.net_kw[t] for t in m.bat.T))
    assert cost == pytest.approx(-(72.0 * 0.100 - 80.0 / 0.9 * 0.010), abs=1e-6)
    assert pyo.value(m.bat.soc_kwh[0]) == pytest.approx(180.0, abs=1e-6)
    assert pyo.value(m.bat.soc_kwh[1]) == pytest.approx(100.0, abs=1e-6)


def test_discharging_below_the_target_is_infeasible(solve):
    """Charging 50 kW then discharging 45 kW ends at 100 + 45 - 50 = 95 kWh < the 100 kWh target."""
    m = _model()
    m.bat.charge_kw[0].fix(50.0)
    m.bat.discharge_kw[0].fix(0.0)
    m.bat.charge_kw[1].fix(0.0)
    m.bat.discharge_kw[1].fix(45.0)
    assert solve(m, 0 * m.bat.net_kw[0]) == float("inf")
