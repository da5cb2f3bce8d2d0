"""The one-day battery policy charges the overrun f3 in the stage where it is incurred: exact against
the whole-day LP that charges it at the end, the overrun state is the running overrun, and a briefly
trained policy no longer buys above the threshold when a low subscribed power makes that possible."""

from __future__ import annotations

import numpy as np
import pytest
import sddp

from planner.case import case_from_dict, case_to_dict
from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.compare import simulate_policies
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import build_policy_model, policy_inputs
from planner.policy.recourse import window_lp


def with_subscribed_power(case, power_kw):
    data = case_to_dict(case)
    data["contract"]["subscribed_power_kw"] = power_kw
    return case_from_dict(data)


@pytest.fixture(scope="module")
def low_power(default_case):
    """The default case with P = 4000 kW: the first hour's import already exceeds 1.1 P."""
    case = with_subscribed_power(default_case, 4000.0)
    scenarios = synthetic_scenarios(case, 200, random_state=1)
    return case, scenarios, FixedSchedule.from_rule(case, scenarios)


def test_overrun_charged_when_incurred_equals_the_end_of_day_charge(low_power):
    """One lattice state per stage: SDDP's bound reaches the optimum of the whole-day LP built
    independently with the overrun charged once at the end (planner.policy.recourse.window_lp), on a
    path where the optimum overruns."""
    case, scenarios, schedule = low_power
    one_path = scenarios.subset([7])
    inp = policy_inputs(case, schedule, one_path)
    model = build_policy_model(inp, one_path, n_states=1, random_state=0)
    res = sddp.train(model.graph, iteration_limit=40, print_level=0, random_state=0)
    values = one_path.select_variables(list(inp.variables)).values[0]
    optimum, _ = window_lp(inp, 0, values, inp.initial_soc_kwh(), 0.0)
    assert res.bound == pytest.approx(optimum, rel=1e-6, abs=1e-3)
    sim = sddp.simulate(model.graph, 1, variables=["overrun_kw", "peak_kw", "stage_objective"],
                        random_state=0)
    wide = sim.data.pivot_table(index="stage", columns="variable", values="value")
    assert wide["overrun_kw"].iloc[-1] > 100.0  # the optimum does overrun on this path
    assert sim.mean == pytest.approx(optimum, rel=1e-6, abs=1e-3)


def test_overrun_state_is_the_running_overrun_and_is_paid_when_it_grows(low_power):
    """In every simulated stage overrun' = max(0, peak' - threshold), it never decreases, and the
    stage costs add up to the simulated cost."""
    case, scenarios, schedule = low_power
    inp = policy_inputs(case, schedule, scenarios)
    model = build_policy_model(inp, scenarios, n_states=2, random_state=0)
    sddp.train(model.graph, iteration_limit=5, print_level=0, random_state=0)
    sim = sddp.simulate(model.graph, 8, random_state=1,
                        variables=["overrun_kw", "overrun_kw_in", "peak_kw", "stage_objective"])
    wide = sim.data.pivot_table(index=["replication", "stage"], columns="variable", values="value")
    thr = inp.overrun_threshold_kw
    np.testing.assert_allclose(wide["overrun_kw"], np.maximum(wide["peak_kw"] - thr, 0.0), atol=1e-3)
    growth = (wide["overrun_kw"] - wide["overrun_kw_in"]).to_numpy()
    assert np.all(growth >= -1e-6)
    assert growth.max() > 100.0  # some stage pays an overrun on these paths
    total = wide["stage_objective"].groupby(level="replication").sum().to_numpy()
    np.testing.assert_allclose(total, sim.costs, rtol=1e-9)


def test_briefly_trained_policy_does_not_buy_above_the_threshold(default_case):
    """P = 5500 kW: the threshold (6050 kW) is reachable but never needed (the look-ahead never
    overruns on these paths). With the charge paid only at the last stage the same training left an
    SDDP policy that overran on 5 of these 40 paths (8 of 40 after 100 iterations); paid when
    incurred, none overruns."""
    case = with_subscribed_power(default_case, 5500.0)
    scenarios = synthetic_scenarios(case, 240, random_state=1)
    train_paths, test_paths = scenarios.subset(list(range(200))), scenarios.subset(list(range(200, 240)))
    schedule = FixedSchedule.from_rule(case, train_paths)
    inp = policy_inputs(case, schedule, train_paths)
    model = build_policy_model(inp, train_paths, n_states=5, random_state=0)
    sddp.train(model.graph, iteration_limit=20, print_level=0, random_state=0)
    values = test_paths.select_variables(list(inp.variables)).values
    out = simulate_policies(model, values, ["SDDP", "look-ahead (expected values)"])
    assert np.count_nonzero(out["look-ahead (expected values)"].overrun_eur > 1e-6) == 0
    assert np.count_nonzero(out["SDDP"].overrun_eur > 1e-6) == 0
