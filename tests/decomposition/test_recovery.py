"""Primal recovery and the LP relaxation's prices (planner.decomposition.recovery)."""

from __future__ import annotations

import pytest

from planner.decomposition.coordinator import Coordinator
from planner.decomposition.recovery import lp_prices
from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem
from planner.solvers.highs import relax_binaries


@pytest.mark.parametrize("two_stage", [False, True])
def test_lp_prices_close_the_relaxed_duality_gap(small_day, small_two_stage, two_stage):
    """The LP relaxation's balance duals are optimal prices of the relaxed Lagrangian dual: at those
    prices the relaxed sites plus the coordinator add up to the LP optimum (strong LP duality), the
    integer sites to at least that, and the LP optimum lies below the monolithic MIP optimum."""
    case, scen, ef = small_two_stage if two_stage else small_day
    problem = CoupledProblem.from_case(case, scen)
    lp_bound, lam, supply, _ = lp_prices(problem)
    assert lp_bound <= ef.upper_bound + 1e-6 * abs(ef.upper_bound)
    coord, *_ = Coordinator(problem).solve_prices(lam)
    relaxed = integer = 0.0
    for j in range(problem.n_sub):
        integer += SiteSubproblem(problem, j, mip_gap=1e-6).solve_price(lam[j]).bound
        sub = SiteSubproblem(problem, j)
        relax_binaries(sub.price_model)
        relaxed += sub.solve_price(lam[j]).value
    assert relaxed + coord == pytest.approx(lp_bound, rel=1e-6)
    assert integer + coord >= lp_bound - 1e-6 * abs(lp_bound)
