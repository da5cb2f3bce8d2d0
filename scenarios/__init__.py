"""Uncertainty models and the structures built from them: scenario sets, price, PV and wind models
calibrated on real data (scikit-learn style ``fit`` / ``sample``), reduction, trees, Markov lattices,
representative days, scores. Knows nothing of solvers."""

from .scenario_set import ScenarioSet

__all__ = ["ScenarioSet"]
