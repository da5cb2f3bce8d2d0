"""Look-ahead policies of the battery: each hour, the deterministic LP over the remaining hours
(``planner.policy.recourse.window_lp``) is solved and its first hour's battery power applied.

* look-ahead (expected values): the observed values for the current hour and, for later hours, the
  expected values conditional on the current lattice node.
* perfect foresight: the path's own future values (not implementable; a lower reference).

Also the open-loop battery schedule optimal on the expected path, which the comparison's default
fixed schedule replays (:func:`expected_value_schedule`).
"""

from __future__ import annotations

import numpy as np

from planner.case import Case
from planner.policy.base import HourlyPolicy
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import policy_inputs
from planner.policy.recourse import HourState, Observation, window_lp


class LookaheadPolicy(HourlyPolicy):
    """Rolling look-ahead on expected values conditional on the current lattice node."""

    name = "look-ahead (expected values)"

    def prepare(self, values: np.ndarray) -> None:
        self.nodes = self.model.assign_nodes(values)   # node of period t from the values up to t
        self.conditional_means = self.model.conditional_means()

    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        s, t = observation.path, observation.period
        window = self.conditional_means[t][self.nodes[s, t], t:].copy()
        window[0] = observation.values
        return window_lp(self.model.inputs, t, window, state.soc_kwh, state.peak_kw)[1][0]


class PerfectForesight(HourlyPolicy):
    """Rolling look-ahead on the path's own future values (knows the whole day in advance)."""

    name = "perfect foresight"

    def prepare(self, values: np.ndarray) -> None:
        self.values = values

    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        s, t = observation.path, observation.period
        return window_lp(self.model.inputs, t, self.values[s, t:], state.soc_kwh, state.peak_kw)[1][0]


def expected_value_battery_schedule(case: Case, schedule: FixedSchedule, scenarios) -> np.ndarray:
    """Open-loop battery power (T, N) optimal on the scenarios' expected path."""
    inp = policy_inputs(case, schedule, scenarios)
    mean = scenarios.select_variables(list(inp.variables)).mean()
    return window_lp(inp, 0, mean, inp.initial_soc_kwh(), 0.0)[1]


def expected_value_schedule(case: Case, scenarios) -> FixedSchedule:
    """The rule schedule (``FixedSchedule.from_rule``) with the battery power of the open-loop
    optimum on the scenarios' expected path: the stand-in for the two-stage plan."""
    schedule = FixedSchedule.from_rule(case, scenarios)
    schedule.battery_net_kw = expected_value_battery_schedule(case, schedule, scenarios)
    schedule.notes.append("battery = open-loop optimum on the expected path")
    return schedule
