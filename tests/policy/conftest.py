"""Fixtures of the policy tests: seeded day paths of the default case, its rule schedule and policy inputs."""

from __future__ import annotations

import pytest

from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import policy_inputs


@pytest.fixture(scope="module")
def default_inputs(default_case):
    """(200 seeded day paths, the rule schedule, the policy inputs) of the default case."""
    scenarios = synthetic_scenarios(default_case, 200, random_state=1)
    schedule = FixedSchedule.from_rule(default_case, scenarios)
    return scenarios, schedule, policy_inputs(default_case, schedule, scenarios)
