"""The fixed-schedule policy: the plan's battery power replayed hour by hour (idle without one),
clipped to what the state of charge allows, with the hourly recourse."""

from __future__ import annotations

import numpy as np

from planner.policy.base import HourlyPolicy
from planner.policy.recourse import HourState, Observation


class FixedSchedulePolicy(HourlyPolicy):
    """Replay ``FixedSchedule.battery_net_kw`` of the model's inputs (zero without one)."""

    name = "fixed schedule"

    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        inp = self.model.inputs
        plan = inp.schedule.battery_net_kw
        return np.zeros(inp.n_sites) if plan is None else plan[observation.period]
