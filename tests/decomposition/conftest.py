"""Fixtures of the decomposition tests: a small generated case (2 sites, one line each) as a
deterministic day and as a two-scenario problem, each with its monolithic extensive-form bounds."""

from __future__ import annotations

import pytest

from planner.dayahead import module
from planner.dayahead.data import synthetic_scenarios
from planner.decomposition.generator import generate_case
from planner.decomposition.run import deterministic_day
from planner.stochastic.ef import solve_ef


def solve_monolithic(case, scenarios, time_limit=25.0):
    """The extensive form of the day-ahead problem (HiGHS, 0.1 % gap): the reference bounds."""
    names = module.scenario_names_creator(scenarios.n_scenarios)
    result, _ = solve_ef(module, names, {"case": case, "scenarios": scenarios}, mip_gap=1e-3, time_limit=time_limit)
    return result


@pytest.fixture(scope="session")
def monolithic():
    """``monolithic(case, scenarios, time_limit=25.0)``: the extensive form's SolveResult."""
    return solve_monolithic


@pytest.fixture(scope="package")
def small_day():
    case = generate_case(2, 1, max_lines_per_site=1)
    scen = deterministic_day(synthetic_scenarios(case, 5, random_state=0))
    return case, scen, solve_monolithic(case, scen)


@pytest.fixture(scope="package")
def small_two_stage():
    case = generate_case(2, 1, max_lines_per_site=1)
    scen = synthetic_scenarios(case, 2, random_state=1)
    return case, scen, solve_monolithic(case, scen)
