"""The hour-by-hour battery policy: an SDDP policy on a Markov lattice of prices and renewables,
compared on common paths with the other operating policies registered by name (fixed schedule,
look-ahead, perfect foresight, rules) behind one interface (``planner.policy.base.Policy``).

Entry point for the CLI and the report: :func:`run_policy` (``planner.policy.compare``).
Every submodule imports its siblings directly; this file only re-exports.
"""

from planner.policy.base import HourlyPolicy, Policy
from planner.policy.compare import PolicyResult, run_policy, simulate_policies
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.lookahead import expected_value_schedule
from planner.policy.model import (
    PolicyInputs,
    PolicyModel,
    build_policy_model,
    policy_inputs,
    policy_scenarios,
)
from planner.policy.recourse import HourState, Observation, PathOutcome
from planner.policy.registry import COMPARED, POLICIES, make_policy

__all__ = [
    "COMPARED", "FixedSchedule", "HourState", "HourlyPolicy", "Observation", "POLICIES", "PathOutcome",
    "Policy", "PolicyInputs", "PolicyModel", "PolicyResult", "build_policy_model", "expected_value_schedule",
    "make_policy", "policy_inputs", "policy_scenarios", "run_policy", "simulate_policies",
]
