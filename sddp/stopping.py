"""Stopping rules for training: iteration limit, time limit, bound stalling and
a statistical test on simulated costs."""

from __future__ import annotations

import math

from .simulate import simulate

__all__ = ["StoppingRule", "IterationLimit", "TimeLimit", "BoundStalling", "Statistical"]


class StoppingRule:
    """Base class: ``stop(log, problem) -> bool``; ``log`` is the list of
    :class:`~sddp.algorithm.IterationRecord` so far."""

    name = "stopping rule"

    def stop(self, log, problem):  # pragma: no cover
        raise NotImplementedError


class IterationLimit(StoppingRule):
    name = "iteration limit"

    def __init__(self, limit):
        self.limit = int(limit)

    def stop(self, log, problem):
        return len(log) >= self.limit


class TimeLimit(StoppingRule):
    name = "time limit"

    def __init__(self, seconds):
        self.seconds = float(seconds)

    def stop(self, log, problem):
        return bool(log) and log[-1].time >= self.seconds


class BoundStalling(StoppingRule):
    """Stop when the bound moved by at most ``tolerance`` (absolute) over the
    last ``num_previous_iterations`` iterations."""

    name = "bound stalling"

    def __init__(self, num_previous_iterations=10, tolerance=1e-6):
        self.n = int(num_previous_iterations)
        self.tolerance = float(tolerance)

    def stop(self, log, problem):
        if len(log) <= self.n:
            return False
        b = [r.bound for r in log[-self.n - 1:]]
        if not all(math.isfinite(x) for x in b):
            return False
        return max(b) - min(b) <= self.tolerance


class Statistical(StoppingRule):
    """Every ``period`` iterations simulate ``num_replications`` and stop if the
    bound lies inside the ``z_score`` confidence interval of the simulated mean."""

    name = "statistical"

    def __init__(self, num_replications=100, period=10, z_score=1.96, random_state=None):
        self.num_replications = int(num_replications)
        self.period = int(period)
        self.z_score = float(z_score)
        self.random_state = random_state
        self.last = None

    def stop(self, log, problem):
        if not log or len(log) % self.period:
            return False
        res = simulate(problem, self.num_replications, random_state=self.random_state,
                       z_score=self.z_score)
        self.last = res
        lo, hi = res.ci
        return lo <= log[-1].bound <= hi
