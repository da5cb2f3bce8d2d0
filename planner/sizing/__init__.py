"""Microgrid sizing with component ageing under price and renewable uncertainty (two-stage MILP).

``run_sizing(case, ...) -> SizingResult``; plots for the report: ``plot_soh``, ``plot_npv_breakdown``,
``plot_sizes``, ``plot_sensitivity``. See ``planner/sizing/model.py`` for the formulation.
"""

from planner.sizing.results import SizingResult, plot_npv_breakdown, plot_sensitivity, plot_sizes, plot_soh
from planner.sizing.run import run_sizing

__all__ = ["run_sizing", "SizingResult", "plot_soh", "plot_npv_breakdown", "plot_sizes", "plot_sensitivity"]
