"""The policy registry: every registered policy runs through the one interface on a tiny case."""

from __future__ import annotations

import numpy as np
import pytest
import sddp

from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.base import Policy
from planner.policy.dp_check import one_site_case
from planner.policy.lookahead import expected_value_schedule
from planner.policy.model import build_policy_model, policy_inputs
from planner.policy.registry import COMPARED, POLICIES, make_policy


@pytest.fixture(scope="module")
def tiny():
    """One site with PV and a battery, a 2-state lattice, a briefly trained SDDP policy, 3 paths."""
    case = one_site_case(base_load_kw=300.0, pv_kwp=400.0)
    scenarios = synthetic_scenarios(case, 60, random_state=0)  # 2 states x 30 paths per node
    inp = policy_inputs(case, expected_value_schedule(case, scenarios), scenarios)
    model = build_policy_model(inp, scenarios, n_states=2, random_state=0)
    sddp.train(model.graph, iteration_limit=5, print_level=0, random_state=0)
    values = scenarios.select_variables(list(inp.variables)).values[:3]
    return model, values


def test_every_registered_policy_runs_through_the_interface(tiny):
    model, values = tiny
    inp = model.inputs
    b = inp.battery[0]
    S, T, _ = values.shape
    assert set(COMPARED) <= set(POLICIES) and "perfect foresight" in POLICIES
    for name in POLICIES:
        policy = make_policy(name, model)
        assert isinstance(policy, Policy) and policy.name == name
        out = policy.simulate(values)
        assert out.policy == name
        assert out.cost_eur.shape == (S,) and np.all(np.isfinite(out.cost_eur))
        assert out.soc_kwh.shape == (S, T + 1, 1)
        np.testing.assert_allclose(out.soc_kwh[:, 0, 0], b.initial_soc_kwh)
        assert np.all(out.soc_kwh >= b.soc_min_kwh - 1e-6) and np.all(out.soc_kwh <= b.soc_max_kwh + 1e-6)


def test_perfect_foresight_is_a_lower_reference_on_every_path(tiny):
    """Knowing the whole day, no policy evaluated with the same hour model can do better on a path."""
    model, values = tiny
    best = make_policy("perfect foresight", model).simulate(values).cost_eur
    for name in COMPARED:
        cost = make_policy(name, model).simulate(values).cost_eur
        assert np.all(best <= cost + 1e-6 * np.abs(cost) + 1e-3), name


def test_unknown_policy_names_the_argument(tiny):
    model, _ = tiny
    with pytest.raises(ValueError, match="policies: unknown policy 'oracle'"):
        make_policy("oracle", model)
