"""The node kernel on a tiny stage LP whose solutions are derived by hand, and the HiGHS factory.

Stage (both stages alike): a reservoir ``x`` in [0, 8] (3 at the start) meets a demand of 5 by releasing
``u`` or by thermal ``g`` at 2 per unit; inflow ``w`` in {0, 4}: ``x' = x + w - u``, ``u + g = 5``,
min ``2 g``. Water has no value after the stage, so ``u = min(5, x + w)`` and the stage cost is
``2 * max(0, 5 - x - w)``; its derivative in the incoming ``x`` is -2 while ``x + w < 5``, else 0."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import sddp
from sddp.solver import NodeSolver, new_highs


def build(sp, t):
    x_in, x_out = sp.add_state("x", lower=0.0, upper=8.0, initial=3.0)
    u = sp.add_variable(name="release")
    g = sp.add_variable(cost=2.0, name="thermal")
    balance = sp.add_constraint(x_out - x_in + u, "==", 0.0)
    sp.add_constraint(u + g, "==", 5.0)
    sp.parameterize([0.0, 4.0], None, lambda sp, w: sp.set_rhs(balance, w))


def two_stages(lower_bound=0.0):
    return sddp.LinearPolicyGraph(build, 2, lower_bound=lower_bound)


def node(graph, stage):
    return graph.nodes[graph.index[stage]]


def test_new_highs_is_quiet_with_tight_tolerances_and_takes_options():
    h = new_highs({"presolve": "off"})
    assert h.getOptionValue("output_flag")[-1] is False
    assert h.getOptionValue("primal_feasibility_tolerance")[-1] == 1e-9
    assert h.getOptionValue("dual_feasibility_tolerance")[-1] == 1e-9
    assert h.getOptionValue("presolve")[-1] == "off"


def test_creating_a_solver_adds_single_cut_cost_to_go_columns():
    graph = two_stages()
    assert graph.cut_type is None
    NodeSolver(graph)
    assert graph.cut_type == "single"
    assert node(graph, 1).theta >= 0  # a cost-to-go column where there are children
    assert node(graph, 2).theta == -1  # none at the last stage


def test_solve_stage_fixes_the_incoming_state():
    graph = two_stages()
    solver = NodeSolver(graph)
    nd = node(graph, 2)
    # x = 6, w = 0: release 5, keep 1, no thermal
    x_out, stage, cv = solver.solve_stage(nd, np.array([6.0]), 0, 0.0)
    assert cv[nd.sp.names["x_in"].col] == 6.0
    assert x_out.tolist() == pytest.approx([1.0])
    assert stage == pytest.approx(0.0)


@pytest.mark.parametrize("k, inflow, expected_x_out, expected_cost", [
    (0, 0.0, 0.0, 4.0),  # x + w = 3: release 3, thermal 2
    (1, 4.0, 2.0, 0.0),  # x + w = 7: release 5, keep 2
])
def test_solve_stage_applies_the_noise_of_the_support(k, inflow, expected_x_out, expected_cost):
    graph = two_stages()
    solver = NodeSolver(graph)
    x_out, stage, _ = solver.solve_stage(node(graph, 2), np.array([3.0]), k, inflow)
    assert x_out.tolist() == pytest.approx([expected_x_out])
    assert stage == pytest.approx(expected_cost)


def test_solve_stage_applies_noise_outside_the_support_through_the_parameterisation():
    graph = two_stages()
    solver = NodeSolver(graph)
    # w = 1 is not a support point: x + w = 4, release 4, thermal 1
    x_out, stage, _ = solver.solve_stage(node(graph, 2), np.array([3.0]), None, 1.0)
    assert x_out.tolist() == pytest.approx([0.0])
    assert stage == pytest.approx(2.0)


class ShiftedOutgoingState:
    """A HiGHS model whose reported outgoing state is off by ``shift`` (as round-off would leave it)."""

    def __init__(self, h, col, shift):
        self._h, self._col, self._shift = h, col, shift

    def getSolution(self):
        solution = self._h.getSolution()
        values = list(solution.col_value)
        values[self._col] += self._shift
        return SimpleNamespace(col_value=values, col_dual=solution.col_dual)

    def __getattr__(self, name):
        return getattr(self._h, name)


@pytest.mark.parametrize("shift, expected", [(100.0, 8.0), (-100.0, 0.0)])
def test_solve_stage_projects_the_outgoing_state_onto_its_bounds(shift, expected):
    def no_noise(sp, t):
        x_in, x_out = sp.add_state("x", lower=0.0, upper=8.0, initial=5.0)
        u = sp.add_variable()
        g = sp.add_variable(cost=2.0)
        sp.add_constraint(x_out - x_in + u, "==", 0.0)
        sp.add_constraint(u + g, "==", 5.0)

    graph = sddp.LinearPolicyGraph(no_noise, 1, lower_bound=0.0)
    sp = graph.node(1)
    sp.highs = ShiftedOutgoingState(sp.highs, sp.states["x"].outgoing.col, shift)
    solver = NodeSolver(graph)
    # x = 5: release 5, x' = 0, reported as 0 + shift, then projected onto [0, 8]
    x_out, _, _ = solver.solve_stage(node(graph, 1), np.array([5.0]), 0, None)
    assert x_out.tolist() == [expected]


def test_solve_stage_cost_excludes_the_cost_to_go():
    graph = two_stages(lower_bound=7.0)  # the cost-to-go column sits at its bound 7
    solver = NodeSolver(graph)
    _, stage, _ = solver.solve_stage(node(graph, 1), np.array([3.0]), 0, 0.0)
    assert stage == pytest.approx(4.0)


def test_solve_returns_the_stage_cost_plus_the_cost_to_go():
    graph = two_stages(lower_bound=7.0)
    solver = NodeSolver(graph)
    assert solver.solve(node(graph, 1), np.array([3.0]), 0, 0.0) == pytest.approx(4.0 + 7.0)


def test_child_values_gives_each_realisation_value_and_incoming_state_dual():
    graph = two_stages()
    solver = NodeSolver(graph)
    values, duals = solver.child_values(node(graph, 1), np.array([3.0]))
    # stage 2 at x = 3: w = 0 costs 2 * (5 - 3) = 4, slope -2; w = 4 costs 0, slope 0
    assert values.tolist() == pytest.approx([4.0, 0.0])
    assert duals.shape == (2, 1)
    assert duals[:, 0].tolist() == pytest.approx([-2.0, 0.0])


def test_solver_counts_its_solves():
    graph = two_stages()
    solver = NodeSolver(graph)
    solver.solve_stage(node(graph, 1), np.array([3.0]), 0, 0.0)
    solver.solve(node(graph, 1), np.array([3.0]), 1, 4.0)
    solver.child_values(node(graph, 1), np.array([3.0]))  # two realisations
    assert solver.solves == 4
    assert solver.solve_time > 0.0
