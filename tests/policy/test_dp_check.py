"""The SDDP battery policy against an independent discretised stochastic dynamic programme."""

from __future__ import annotations

import numpy as np
import pytest

from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.dp_check import dp_check, grid_refinement, hour_cost, one_site_case, solve_sdp
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import build_policy_model, policy_inputs


@pytest.fixture(scope="module")
def setup():
    case = one_site_case(base_load_kw=300.0, pv_kwp=400.0)
    scenarios = synthetic_scenarios(case, 300, random_state=3)
    inp = policy_inputs(case, FixedSchedule.from_rule(case, scenarios), scenarios)
    return case, scenarios, inp


def test_grid_refinement_converges_below_0_1_percent(setup):
    case, scenarios, inp = setup
    model = build_policy_model(inp, scenarios, n_states=4, random_state=0)
    table = grid_refinement(inp, model.lattice, intervals=(85, 170, 340))
    values = table["value_eur"].to_numpy()
    # a coarser grid restricts the policy: values can only go down as the grid is refined
    assert np.all(np.diff(values) <= 1e-9)
    assert table["relative_change"].iloc[-1] < 1e-3


def test_sddp_lower_bound_within_half_percent_of_dp(setup):
    case, scenarios, inp = setup
    check = dp_check(scenarios, case, n_states=4, iterations=150, random_state=0, intervals=(85, 170, 340))
    assert check.grid_error_below < 1e-3
    # SDDP's bound is a lower bound of the continuous optimum, the grid DP an upper bound
    assert check.sddp_lower_bound_eur <= check.dp_value_eur * (1 + 1e-9) + 1e-6
    assert check.relative_difference < 5e-3
    # the check can fail: the battery changes the optimum by far more than the tolerance
    model = build_policy_model(inp, scenarios, n_states=4, random_state=0)
    lat = model.lattice
    idle = 0.0
    for t, probs in enumerate(lat.marginal_probabilities()):
        idle += sum(p * float(hour_cost(inp, t, v, np.zeros(1))[0])
                    for p, v in zip(probs, lat.node_values[t]))
    assert idle - check.dp_value_eur > 0.02 * abs(check.dp_value_eur)


def test_dp_rejects_cases_it_cannot_solve(default_case):
    scenarios = synthetic_scenarios(default_case, 20, random_state=0)
    inp = policy_inputs(default_case, FixedSchedule.from_rule(default_case, scenarios), scenarios)
    with pytest.raises(ValueError, match="one site"):
        solve_sdp(inp, None, 10)
