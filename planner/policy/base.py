"""The one interface of the battery operating policies: a :class:`Policy` is bound to a policy model
and simulated on observed paths; an :class:`HourlyPolicy` only decides each hour's battery power,
the rest of the hour being the least-cost recourse (``planner.policy.recourse``).

Every policy has a ``name`` under which ``planner.policy.registry.POLICIES`` lists it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from planner.policy.model import PolicyModel
from planner.policy.recourse import HourState, Observation, PathOutcome, run_decisions


class Policy(ABC):
    """An operating policy of the batteries for the policy model ``model``."""

    name: ClassVar[str]

    def __init__(self, model: PolicyModel):
        self.model = model

    @abstractmethod
    def simulate(self, values) -> PathOutcome:
        """Costs, peaks, penalties and SoC of the policy on paths ``values`` (S, T, V in the
        model's variable order); operating cost excludes day-ahead energy and f1 * P."""


class HourlyPolicy(Policy):
    """A policy that decides the battery power of each hour from the state and the observation."""

    #: the recourse of the hour sheds every site's load in the same proportion (load-shedding rule)
    proportional_shedding: ClassVar[bool] = False

    def import_cap_kw(self) -> float | None:
        """A cap on the contract's net import imposed by the policy in the recourse (kW) or None."""
        return None

    def prepare(self, values: np.ndarray) -> None:
        """Called once with all the paths (S, T, V) before the first decision: what the policy may
        compute ahead (the day's day-ahead prices, the lattice nodes of the observed values)."""

    @abstractmethod
    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        """Battery power of every site (N,), discharge positive (kW); clipped to the limits after."""

    def simulate(self, values) -> PathOutcome:
        values = np.asarray(values, dtype=float)
        self.prepare(values)
        return run_decisions(self.model.inputs, values, self.decide, self.name, self.import_cap_kw(),
                             self.proportional_shedding)
