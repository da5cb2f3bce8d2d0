"""Site decompositions (price, quantity, prediction) run by ``run_decomposition``: feasible plans whose
bounds bracket the monolithic optimum."""

from __future__ import annotations

import math

import pytest

from planner.dayahead.data import synthetic_scenarios
from planner.decomposition.method import DecompositionResult
from planner.decomposition.recovery import verify_plan
from planner.decomposition.run import METHODS, deterministic_day, run_decomposition
from planner.decomposition.subproblems import CoupledProblem

FAST = dict(max_iterations=2, site_time_limit=5.0, site_mip_gap=1e-3, progress=False, recovery_time_limit=20.0)


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


def test_methods_are_registered_by_name():
    assert set(METHODS) == {"price", "quantity", "prediction"}
    assert all(cls.name == name for name, cls in METHODS.items())


@pytest.mark.parametrize("method", ["price", "quantity", "prediction"])
def test_deterministic_day_bounds_bracket_monolithic(small_day, method):
    case, scen, ef = small_day
    result = run_decomposition(case, method, scen, **FAST)
    assert result.method == method and result.n_sites == 2 and result.n_scenarios == 1
    check_bracket_and_plan(case, scen, result, ef)


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
def test_default_case_price_bounds_bracket_monolithic(default_case, monolithic):
    scen = deterministic_day(synthetic_scenarios(default_case, 5, random_state=0))
    ef = monolithic(default_case, scen, time_limit=30.0)
    result = run_decomposition(default_case, "price", scen, **dict(FAST, max_iterations=1, site_mip_gap=1e-2))
    check_bracket_and_plan(default_case, scen, result, ef)


def test_bad_method_and_ranks_are_reported(small_day):
    case, scen, _ = small_day
    with pytest.raises(ValueError, match="method"):
        run_decomposition(case, "dual", scen)
    with pytest.raises(ValueError, match="n_ranks"):
        run_decomposition(case, "price", scen, n_ranks=0)


@pytest.mark.mpi
@pytest.mark.slow
def test_two_ranks_give_a_valid_result(small_day):
    case, scen, ef = small_day
    result = run_decomposition(case, "price", scen, n_ranks=2, **dict(FAST, max_iterations=1))
    assert result.ranks == 2
    check_bracket_and_plan(case, scen, result, ef)
