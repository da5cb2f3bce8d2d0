"""The shared machinery of the decomposition methods (planner.decomposition.method): the Lagrangian lower bound."""

from __future__ import annotations

from planner.decomposition.parallel import SerialSiteMap
from planner.decomposition.price import PriceDecomposition
from planner.decomposition.subproblems import CoupledProblem


def test_lower_bound_is_a_lagrangian_value(small_day):
    """At any prices the dual value is below the optimum: check at two arbitrary price levels."""
    case, scen, ef = small_day
    problem = CoupledProblem.from_case(case, scen)
    algo = PriceDecomposition(problem, SerialSiteMap(problem, 1e-3, 5.0), progress=False)
    for shift in (-30.0, 60.0):
        bound, sols, *_ = algo.lagrangian(problem.initial_prices() + shift)
        assert bound <= ef.upper_bound + 1e-6 * abs(ef.upper_bound)
        assert len(sols) == problem.n_sub
