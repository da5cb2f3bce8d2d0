"""Decomposition of the multi-site day-ahead problem across sites: by prices, quantities and prediction.

``run_decomposition(case, method, scenarios, n_ranks=1, ...)`` returns a DecompositionResult (bounds
per iteration, gap, time, feasible plan); ``plot_bounds(result, path)`` draws the bounds.
"""

from planner.decomposition.method import DecompositionResult, IterationRecord
from planner.decomposition.plots import plot_bounds
from planner.decomposition.run import METHODS, deterministic_day, run_decomposition

__all__ = ["METHODS", "DecompositionResult", "IterationRecord", "deterministic_day", "plot_bounds",
           "run_decomposition"]
