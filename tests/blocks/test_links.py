"""Links between sites: losses on arrival, capacity per direction."""

from __future__ import annotations

from types import SimpleNamespace

import pyomo.environ as pyo
import pytest

from planner.blocks.links import build_links_block

LINK = SimpleNamespace(site_a="a", site_b="b", capacity_kw=100.0, loss_fraction=0.05)


def test_flow_arrives_less_its_loss(solve):
    """Site b needs 95 then 190 kW from a over a 100 kW link losing 5 %: hour 0 sends 100 kW
    (95 arrive, a gives 100); hour 1 cannot be served (at most 95 arrive): infeasible."""
    m = pyo.ConcreteModel()
    m.links = pyo.Block()
    build_links_block(m.links, [LINK], ["a", "b"], periods=1)
    m.need = pyo.Constraint(expr=m.links.link_in_kw["b", 0] == 95.0)
    assert solve(m, m.links.flow_kw[0, "ab", 0]) == pytest.approx(100.0, abs=1e-6)
    assert pyo.value(m.links.link_in_kw["a", 0]) == pytest.approx(-100.0, abs=1e-6)
    m2 = pyo.ConcreteModel()
    m2.links = pyo.Block()
    build_links_block(m2.links, [LINK], ["a", "b"], periods=1)
    m2.need = pyo.Constraint(expr=m2.links.link_in_kw["b", 0] == 190.0)
    assert solve(m2, m2.links.flow_kw[0, "ab", 0]) == float("inf")
