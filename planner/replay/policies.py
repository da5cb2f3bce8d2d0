"""The replay's extra policies: the point forecast the deterministic plan is solved on, and the SDDP
operation of a realised day (the one-day SDDP battery policy trained on the day's forecast scenarios
with the plan's day-ahead volumes fixed, deciding each hour's battery power).

SDDP operation: the policy graph of ``planner.policy.model`` is built from the day's inputs (the plan's
day-ahead volumes and line loads fixed, the day's forecast scenarios as a Markov lattice) and trained
for ``iterations`` SDDP iterations (with the flat initial cuts of ``add_initial_cuts``). The graph's
initial state is the carried state: the batteries' SoC (through the day's case), the month's running
peak and its overrun above the threshold, so the cuts price the peak the month has already reached.
Each hour the stage subproblem of the lattice node nearest to the observed hour (from the hours up to
it only) decides the battery power; the rest of the hour is the shared least-cost recourse.

Why per day and not once per month: the stage subproblems contain the day's day-ahead volumes, line
loads and price lattice, so cuts trained for one day are not valid cuts of another day's graph; a
month-trained policy would need those volumes as states (the month-policy issue).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import sddp
from planner.policy.base import HourlyPolicy
from planner.policy.model import PolicyModel, add_initial_cuts
from planner.policy.recourse import HourState, Observation
from scenarios.scenario_set import ScenarioSet

#: the planner: the two-stage plan's day-ahead volumes, operated by the one-day SDDP policy
SDDP_OPERATION = "two-stage plan + SDDP"
#: the plan on the point forecast (the weighted median path, one scenario), operated by the look-ahead
DETERMINISTIC = "deterministic plan + look-ahead"
#: each month solved in hindsight as one LP over its realised days, with the month's real peak charge
PERFECT_MONTH = "perfect foresight (month)"


def weighted_median(values: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-(period, variable) weighted median over the scenario axis of ``values`` (S, T, V): the
    smallest value whose cumulative probability reaches one half."""
    values = np.asarray(values, dtype=float)
    p = np.asarray(probabilities, dtype=float) / float(np.sum(probabilities))
    order = np.argsort(values, axis=0, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=0)
    cum = np.cumsum(p[order], axis=0)
    first = np.argmax(cum >= 0.5 - 1e-12, axis=0)
    return np.take_along_axis(sorted_values, first[None], axis=0)[0]


def point_forecast(scenarios: ScenarioSet) -> ScenarioSet:
    """The point forecast of a day: one scenario, every variable at its weighted median per period."""
    med = weighted_median(scenarios.values, scenarios.probabilities)
    return ScenarioSet(med[None], np.ones(1), tuple(scenarios.variables), ("median0",), scenarios.period_hours)


@dataclass
class SDDPTraining:
    """What the day's SDDP training recorded: lower bound of the expected operating cost on the
    lattice (EUR, excluding day-ahead energy and f1 * P), iterations and seconds."""

    bound_eur: float
    iterations: int
    time_s: float


def start_state(model: PolicyModel, month_peak_kw: float) -> None:
    """Set the graph's initial peak and overrun to the month's running peak (the SoC comes from the case)."""
    names = list(model.graph.state_names)
    x0 = np.array(model.graph.initial_state, dtype=float)
    thr = model.inputs.overrun_threshold_kw
    x0[names.index("peak_kw")] = float(month_peak_kw)
    x0[names.index("overrun_kw")] = max(0.0, float(month_peak_kw) - thr)
    model.graph.initial_state = x0


def train_day_policy(model: PolicyModel, month_peak_kw: float, iterations: int, time_limit_s: float,
                     random_state: int) -> SDDPTraining:
    """Train the day's policy graph in this process from the carried month peak (module docstring)."""
    start_state(model, month_peak_kw)
    with tempfile.TemporaryDirectory() as tmp:
        add_initial_cuts(model, Path(tmp) / "initial_cuts.json")
    res = sddp.train(model.graph, iteration_limit=int(iterations), time_limit=float(time_limit_s),
                     print_level=0, random_state=int(random_state))
    return SDDPTraining(float(sddp.calculate_bound(model.graph)), int(res.iterations), float(res.time))


class SDDPOperation(HourlyPolicy):
    """The trained one-day SDDP policy deciding each hour's battery power on the realised day."""

    name = SDDP_OPERATION

    def prepare(self, values: np.ndarray) -> None:
        model = self.model
        inp = model.inputs
        names = [f"{kind}:{inp.site_names[i]}" for i in inp.battery_sites for kind in ("charge_kw", "discharge_kw")]
        res = sddp.simulate_historical(model.graph, model.paths(values), variables=names)
        S, T = values.shape[0], values.shape[1]
        self.net_kw = np.zeros((S, T, inp.n_sites))
        if not names:
            return
        wide = res.data.pivot_table(index=["replication", "stage"], columns="variable", values="value")
        for i in inp.battery_sites:
            n = inp.site_names[i]
            self.net_kw[:, :, i] = (wide[f"discharge_kw:{n}"].to_numpy() - wide[f"charge_kw:{n}"].to_numpy()).reshape(S, T)

    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        return self.net_kw[observation.path, observation.period]
