"""Production line: restart latency, standby power and output, on a two-hour case solved by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pyomo.environ as pyo
import pytest

from planner.blocks.line import build_line_block


def _line(initial_material=None):
    return SimpleNamespace(materials=["M1"], power_kw={"M1": 1000.0}, rate_t_per_h={"M1": 1.0},
                           standby_power_kw=100.0, startup_energy_kwh=0.0, changeover_hours=0.0,
                           restart_hours=1.0, initial_material=initial_material)


def _energy_for_one_tonne(solve, line) -> tuple[float, pyo.ConcreteModel]:
    m = pyo.ConcreteModel()
    m.line = pyo.Block()
    build_line_block(m.line, line, periods=2, dt=1.0)
    m.plan = pyo.Constraint(expr=sum(m.line.output_t["M1", t] for t in m.line.T) >= 1.0)
    return solve(m, sum(m.line.power_kw[t] for t in m.line.T)), m


def test_a_stopped_line_loses_its_first_hour_to_the_restart(solve):
    """From stopped, the 1 h restart makes hour 0 idle on standby (100 kWh) and hour 1 produce 1 t
    (1000 kWh): 1100 kWh; starting in hour 1 would produce nothing."""
    energy, m = _energy_for_one_tonne(solve, _line())
    assert energy == pytest.approx(1100.0, abs=1e-6)
    assert [round(pyo.value(m.line.on["M1", t])) for t in (0, 1)] == [1, 1]
    assert [pyo.value(m.line.run["M1", t]) for t in (0, 1)] == pytest.approx([0.0, 1.0], abs=1e-6)


def test_a_line_running_at_the_start_produces_at_once(solve):
    """Already set up for M1: produce in hour 0 (1000 kWh) and stop: 1000 kWh."""
    energy, _ = _energy_for_one_tonne(solve, _line("M1"))
    assert energy == pytest.approx(1000.0, abs=1e-6)
