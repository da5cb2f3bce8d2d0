"""The SDDP battery model: agreement with a deterministic LP, cut files, lattice nodes, the peak
state, input errors."""

from __future__ import annotations

import numpy as np
import pytest
import sddp

from planner.case import case_from_dict, case_to_dict
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import add_initial_cuts, build_policy_model, policy_inputs
from planner.policy.recourse import window_lp
from scenarios.scenario_set import ScenarioSet


def test_deterministic_sddp_equals_the_day_lp(default_case, default_inputs):
    """With one lattice state per stage the policy graph is deterministic: SDDP's bound must reach
    the optimum of the whole-day LP built independently over the 24 hours."""
    scenarios, schedule, _ = default_inputs
    one_path = scenarios.subset([7])
    inp = policy_inputs(default_case, schedule, one_path)
    model = build_policy_model(inp, one_path, n_states=1, random_state=0)
    sddp.train(model.graph, iteration_limit=40, print_level=0, random_state=0)
    bound = sddp.calculate_bound(model.graph)
    values = one_path.select_variables(list(inp.variables)).values[0]
    optimum, _ = window_lp(inp, 0, values, inp.initial_soc_kwh(), 0.0)
    assert bound == pytest.approx(optimum, rel=1e-6, abs=1e-3)
    sim = sddp.simulate(model.graph, 3, random_state=0)
    assert sim.mean == pytest.approx(optimum, rel=1e-6, abs=1e-3)


def test_cuts_are_saved_and_reused_without_retraining(default_case, default_inputs, tmp_path):
    scenarios, schedule, inp = default_inputs
    model = build_policy_model(inp, scenarios, n_states=3, random_state=0)
    add_initial_cuts(model, tmp_path / "init.json")
    sddp.train(model.graph, iteration_limit=15, print_level=0, random_state=0)
    sddp.write_cuts(model.graph, tmp_path / "cuts.json", only_active=False)
    bound = sddp.calculate_bound(model.graph)
    costs = sddp.simulate(model.graph, 10, random_state=5).costs

    fresh = build_policy_model(inp, lattice=model.lattice, scale=model.scale)
    before = sddp.calculate_bound(fresh.graph)
    sddp.read_cuts(fresh.graph, tmp_path / "cuts.json")
    assert sddp.calculate_bound(fresh.graph) == pytest.approx(bound, rel=1e-9)
    assert before < bound - 1.0
    # same cuts, same policy up to the cut selection's active set and ties between optimal LP bases
    np.testing.assert_allclose(sddp.simulate(fresh.graph, 10, random_state=5).costs, costs, rtol=1e-3)


def test_bad_inputs_name_the_field(default_case, default_inputs):
    scenarios, schedule, _ = default_inputs
    with pytest.raises(ValueError, match="value_of_lost_load_eur_per_mwh"):
        policy_inputs(default_case, schedule, value_of_lost_load_eur_per_mwh=-1.0)
    with pytest.raises(ValueError, match="site_weather"):
        policy_inputs(default_case, schedule, site_weather={"nowhere": "foundry"})
    short = FixedSchedule(schedule.day_ahead_kw[:12], schedule.line_load_kw[:12])
    with pytest.raises(ValueError, match="day_ahead_kw"):
        policy_inputs(default_case, short)
    with pytest.raises(ValueError, match="battery_net_kw"):
        FixedSchedule(schedule.day_ahead_kw, schedule.line_load_kw, np.zeros((24, 2)))
    inp = policy_inputs(default_case, schedule)
    no_wind = scenarios.select_variables([v for v in scenarios.variables if not v.startswith("wind")])
    with pytest.raises(ValueError, match="wind_kw_per_turbine:metal_processing"):
        build_policy_model(inp, no_wind)
    # a daily plan the storage cannot absorb before the delivery: the rule schedule names the field
    data = case_to_dict(default_case)
    data["sites"][2]["storage"]["M1"]["max_t"] = 3.0
    with pytest.raises(ValueError, match=r"sites\[2\]\.plan_t_per_day"):
        FixedSchedule.from_rule(case_from_dict(data), scenarios)


def test_nodes_of_observed_paths_follow_the_lattice(default_inputs):
    scenarios, _, inp = default_inputs
    model = build_policy_model(inp, scenarios, n_states=3, random_state=0)
    values = scenarios.select_variables(list(inp.variables)).values[:20]
    nodes = model.assign_nodes(values)
    for s in range(len(values)):
        prev = 0
        for t in range(values.shape[1]):
            assert model.lattice.transition_matrices[t][prev, nodes[s, t]] > 0
            prev = nodes[s, t]
    # the lattice's own node values map to themselves
    lat_states, lat_values = model.lattice.sample_paths(5, random_state=0)
    np.testing.assert_array_equal(model.assign_nodes(lat_values), lat_states)


def test_scenario_set_type_is_used(default_inputs):
    scenarios, _, _ = default_inputs
    assert isinstance(scenarios, ScenarioSet)


def test_peak_state_is_the_running_maximum_of_the_import(default_case, default_inputs):
    """peak' must equal max(peak, import) in every simulated stage, even early in training when the
    cuts are still flat in the peak (otherwise an overrun would be paid that no import caused)."""
    scenarios, _, inp = default_inputs
    model = build_policy_model(inp, scenarios, n_states=2, random_state=0)
    sddp.train(model.graph, iteration_limit=5, print_level=0, random_state=0)
    grid = [f"grid_kw:{n}" for n in inp.site_names]
    sim = sddp.simulate(model.graph, 10, random_state=1, variables=["peak_kw"] + grid)
    wide = sim.data.pivot_table(index=["replication", "stage"], columns="variable", values="value")
    imports = wide[grid].sum(axis=1).to_numpy().reshape(10, -1)
    running = np.maximum.accumulate(np.maximum(imports, 0.0), axis=1)
    np.testing.assert_allclose(wide["peak_kw"].to_numpy().reshape(10, -1), running, atol=1e-3)
