"""The hour-by-hour battery policy: an SDDP policy on a Markov lattice of prices and renewables,
compared on common paths with a replayed fixed schedule, a rolling look-ahead and simple rules.

Entry point for the CLI and the report: :func:`run_policy` (``planner.policy.compare``).
"""

from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import (
    PolicyInputs,
    PolicyModel,
    build_policy_model,
    policy_inputs,
    policy_scenarios,
)

__all__ = [
    "FixedSchedule", "PolicyInputs", "PolicyModel", "build_policy_model", "policy_inputs",
    "policy_scenarios", "run_policy", "PolicyResult",
]


def __getattr__(name):  # lazy: compare imports matplotlib-free parts only when asked
    if name in ("run_policy", "PolicyResult"):
        from planner.policy import compare

        return getattr(compare, name)
    raise AttributeError(name)
