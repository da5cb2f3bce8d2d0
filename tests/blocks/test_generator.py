"""Gas generator: minimum load, fuel and start-up costs on a two-hour case solved by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pyomo.environ as pyo
import pytest

from planner.blocks.generator import build_generator_block

GEN = SimpleNamespace(capacity_kw=1000.0, min_load_kw=300.0, fuel_cost_eur_per_mwh=100.0, startup_cost_eur=50.0,
                      initially_on=False)


def test_generator_starts_only_when_load_exceeds_its_minimum(solve):
    """Demand 200 then 500 kW; grid at 250 EUR/MWh. Hour 0: 200 < 300 kW minimum load, so the grid serves
    it (200 kWh x 0.25 = 50 EUR). Hour 1: the generator (start-up 50 + 500 kWh x 0.10 = 100 EUR) beats the
    grid (125 EUR). Optimum 150 EUR, one start-up."""
    m = pyo.ConcreteModel()
    m.gen = pyo.Block()
    build_generator_block(m.gen, GEN, periods=2, dt=1.0)
    demand = (200.0, 500.0)
    m.grid_kw = pyo.Var(m.gen.T, bounds=(0.0, None))
    m.balance = pyo.Constraint(m.gen.T, rule=lambda m, t: m.gen.power_kw[t] + m.grid_kw[t] == demand[t])
    cost = solve(m, m.gen.cost_eur + sum(0.25 * m.grid_kw[t] for t in m.gen.T))
    assert cost == pytest.approx(150.0, abs=1e-6)
    assert [round(pyo.value(m.gen.on[t])) for t in (0, 1)] == [0, 1]
    assert pyo.value(m.gen.startup[1]) == pytest.approx(1.0)


def test_generator_running_at_the_start_pays_no_start_up(solve):
    m = pyo.ConcreteModel()
    m.gen = pyo.Block()
    build_generator_block(m.gen, SimpleNamespace(**{**vars(GEN), "initially_on": True}), periods=2, dt=1.0)
    m.serve = pyo.Constraint(m.gen.T, rule=lambda m, t: m.gen.power_kw[t] == 400.0)
    assert solve(m, m.gen.cost_eur) == pytest.approx(2 * 400.0 * 0.10, abs=1e-6)  # fuel only: 80 EUR
