"""Site decompositions (price, quantity, prediction): feasible plans whose bounds bracket the monolithic optimum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner import twostage
from planner.decomposition.base import DecompositionResult, deterministic_day, run_decomposition
from planner.decomposition.generator import generate_case
from planner.decomposition.recovery import verify_plan
from planner.decomposition.subproblems import CoupledProblem
from planner.solve_ef import solve_ef
from twostage_fixtures import simple_test_scenarios

FAST = dict(max_iterations=2, site_time_limit=5.0, site_mip_gap=1e-3, progress=False, recovery_time_limit=20.0)


def monolithic(case, scenarios, time_limit=25.0):
    names = twostage.scenario_names_creator(scenarios.n_scenarios)
    result, _ = solve_ef(twostage, names, {"case": case, "scenarios": scenarios}, mip_gap=1e-3, time_limit=time_limit)
    return result


def check_bracket_and_plan(case, scenarios, result: DecompositionResult, ef):
    tol = 1e-6 * max(1.0, abs(ef.upper_bound))
    assert math.isfinite(result.lower_bound) and math.isfinite(result.upper_bound)
    assert result.lower_bound <= result.upper_bound + tol
    # the decomposition's bounds bracket the monolithic optimum (whose own bounds are [ef.lb, ef.ub])
    assert result.lower_bound <= ef.upper_bound + tol
    assert result.upper_bound >= ef.lower_bound - tol
    # the plan is feasible on the project's full model, at a cost no higher than the reported UB
    feasible, cost = verify_plan(CoupledProblem.from_case(case, scenarios), result.plan)
    assert feasible
    assert cost <= result.upper_bound + tol
    assert cost >= ef.lower_bound - tol
    lbs = [r.lower_bound for r in result.history]
    ubs = [r.upper_bound for r in result.history]
    assert all(b >= a - 1e-9 for a, b in zip(lbs, lbs[1:]))
    assert all(b <= a + 1e-9 for a, b in zip(ubs, ubs[1:]))


@pytest.fixture(scope="module")
def small_day():
    case = generate_case(2, 1, max_lines_per_site=1)
    scen = deterministic_day(simple_test_scenarios(case, 5, 0))
    return case, scen, monolithic(case, scen)


@pytest.mark.parametrize("method", ["price", "quantity", "prediction"])
def test_deterministic_day_bounds_bracket_monolithic(small_day, method):
    case, scen, ef = small_day
    result = run_decomposition(case, method, scen, **FAST)
    assert result.method == method and result.n_sites == 2 and result.n_scenarios == 1
    check_bracket_and_plan(case, scen, result, ef)


@pytest.fixture(scope="module")
def small_two_stage():
    case = generate_case(2, 1, max_lines_per_site=1)
    scen = simple_test_scenarios(case, 2, 1)
    return case, scen, monolithic(case, scen)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["price", "prediction", "quantity"])
def test_two_stage_bounds_bracket_monolithic(small_two_stage, method):
    case, scen, ef = small_two_stage
    result = run_decomposition(case, method, scen, **dict(FAST, max_iterations=1))
    assert result.n_scenarios == 2
    check_bracket_and_plan(case, scen, result, ef)
    # one day-ahead profile shared by both scenarios
    assert result.plan.day_ahead_kw.shape == (1, case.n_periods)


@pytest.mark.slow
def test_default_case_price_bounds_bracket_monolithic(default_case):
    scen = deterministic_day(simple_test_scenarios(default_case, 5, 0))
    ef = monolithic(default_case, scen, time_limit=30.0)
    result = run_decomposition(default_case, "price", scen, **dict(FAST, max_iterations=1, site_mip_gap=1e-2))
    check_bracket_and_plan(default_case, scen, result, ef)


def test_lower_bound_is_a_lagrangian_value(small_day):
    """At any prices the dual value is below the optimum: check at two arbitrary price levels."""
    from planner.decomposition.parallel import SerialSiteMap
    from planner.decomposition.price import PriceDecomposition

    case, scen, ef = small_day
    problem = CoupledProblem.from_case(case, scen)
    algo = PriceDecomposition(problem, SerialSiteMap(problem, 1e-3, 5.0), progress=False)
    for shift in (-30.0, 60.0):
        bound, sols, *_ = algo.lagrangian(problem.initial_prices() + shift)
        assert bound <= ef.upper_bound + 1e-6 * abs(ef.upper_bound)
        assert len(sols) == problem.n_sub


def test_bad_method_and_ranks_are_reported(small_day):
    case, scen, _ = small_day
    with pytest.raises(ValueError, match="method"):
        run_decomposition(case, "dual", scen)
    with pytest.raises(ValueError, match="np"):
        run_decomposition(case, "price", scen, np=0)


@pytest.mark.mpi
@pytest.mark.slow
def test_two_ranks_give_a_valid_result(small_day):
    case, scen, ef = small_day
    result = run_decomposition(case, "price", scen, np=2, **dict(FAST, max_iterations=1))
    assert result.ranks == 2
    check_bracket_and_plan(case, scen, result, ef)


def test_plot_bounds(small_day, tmp_path):
    from planner.decomposition.base import IterationRecord, plot_bounds

    res = DecompositionResult("price", 1.0, 2.0, 0.1, 2, None,
                              [IterationRecord(0, 0.5, math.inf, 0.0), IterationRecord(1, 1.0, 2.0, 0.1)],
                              np.zeros((1, 24)), 2, 1)
    plot_bounds(res, tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1000


@pytest.mark.parametrize("two_stage", [False, True])
def test_lp_prices_close_the_relaxed_duality_gap(small_day, small_two_stage, two_stage):
    """The LP relaxation's balance duals are optimal prices of the relaxed Lagrangian dual: at those
    prices the relaxed sites plus the coordinator add up to the LP optimum (strong LP duality), the
    integer sites to at least that, and the LP optimum lies below the monolithic MIP optimum."""
    from planner.decomposition.recovery import lp_prices
    from planner.decomposition.subproblems import Coordinator, SiteSubproblem, relax_binaries

    case, scen, ef = small_two_stage if two_stage else small_day
    problem = CoupledProblem.from_case(case, scen)
    lp_bound, lam, supply, _ = lp_prices(problem)
    assert lp_bound <= ef.upper_bound + 1e-6 * abs(ef.upper_bound)
    coord, *_ = Coordinator(problem).solve_prices(lam)
    relaxed = integer = 0.0
    for j in range(problem.n_sub):
        integer += SiteSubproblem(problem, j, mip_gap=1e-6).solve_price(lam[j]).bound
        sub = SiteSubproblem(problem, j)
        relax_binaries(sub._price())
        relaxed += sub.solve_price(lam[j]).value
    assert relaxed + coord == pytest.approx(lp_bound, rel=1e-6)
    assert integer + coord >= lp_bound - 1e-6 * abs(lp_bound)
