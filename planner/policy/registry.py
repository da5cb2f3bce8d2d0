"""The battery operating policies by name (``POLICIES``) and the ones the comparison runs by default."""

from __future__ import annotations

from planner.policy.base import Policy
from planner.policy.lookahead import LookaheadPolicy, PerfectForesight
from planner.policy.model import PolicyModel
from planner.policy.rules import LoadSheddingRule, MedianPriceRule
from planner.policy.schedule_replay import FixedSchedulePolicy
from planner.policy.sddp_policy import SDDPPolicy

#: name -> policy class; every class implements :class:`planner.policy.base.Policy`
POLICIES: dict[str, type[Policy]] = {cls.name: cls for cls in (
    SDDPPolicy, FixedSchedulePolicy, LookaheadPolicy, MedianPriceRule, LoadSheddingRule, PerfectForesight)}

#: the policies ``planner.policy.compare.run_policy`` compares unless told otherwise
COMPARED = ("SDDP", "fixed schedule", "look-ahead (expected values)", "median-price rule", "load-shedding rule")


def make_policy(name: str, model: PolicyModel) -> Policy:
    """The policy registered as ``name``, bound to ``model``."""
    if name not in POLICIES:
        raise ValueError(f"policies: unknown policy {name!r}; known: {list(POLICIES)}")
    return POLICIES[name](model)
