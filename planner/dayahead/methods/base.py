"""What every day-ahead method receives (the prepared problem) and returns (bounds and incumbents)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import ModuleType

from planner.progress import seconds_left
from planner.results import SolveResult


@dataclass
class DayAheadProblem:
    """A validated day-ahead problem: the case, its scenarios, the mpi-sppy module and the solve options."""

    case: object
    scenarios: object
    module: ModuleType
    names: list
    schedule_first_stage: bool = False
    rel_gap: float = 0.005
    time_limit: float | None = 120.0
    progress: bool = True
    n_ranks: int = 1
    max_iterations: int = 50
    default_rho: float | None = None
    output_dir: object = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def kwargs(self) -> dict:
        """The module's scenario-creator keyword arguments."""
        return {"case": self.case, "scenarios": self.scenarios, "schedule_first_stage": self.schedule_first_stage}

    def time_left(self, minimum: float = 1.0) -> float | None:
        """Seconds left of the time limit (at least ``minimum``), never beyond what is left of the running
        command's wall-clock limit (``planner.progress.seconds_left``; then at least 0.1 s, so that a
        solve stopped there still returns its incumbent); None without either limit."""
        own = None if self.time_limit is None else max(minimum, self.time_limit - (time.perf_counter() - self.started))
        wall = seconds_left()
        if wall is None:
            return own
        return max(0.1, wall) if own is None else min(own, max(0.1, wall))


@dataclass
class Incumbent:
    """A feasible plan: its expected cost (an upper bound), first stage by variable name, variables fixed
    alike in every scenario (e.g. a common schedule), and the solved scenario models when at hand."""

    upper_bound: float
    first_stage: dict
    label: str
    fixed: dict | None = None
    models: dict | None = None
    schedule: dict | None = None   # {site: {line: {"on": ..., "run": ...}}} of a heuristic's fixed schedule
    frames: dict | None = None     # {scenario name: (dispatch frame, schedule frame)} when the method has them


@dataclass
class MethodOutcome:
    """The method's bounds and every feasible plan it found."""

    result: SolveResult
    incumbents: list = field(default_factory=list)


class Method(ABC):
    """A day-ahead solution method: ``solve(problem) -> MethodOutcome``."""

    name = ""
    description = ""
    schedule_first_stage = True  # whether it handles the schedule as first stage

    @abstractmethod
    def solve(self, problem: DayAheadProblem) -> MethodOutcome:
        """Bounds and every feasible plan found for ``problem``."""
