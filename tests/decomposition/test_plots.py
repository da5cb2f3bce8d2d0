"""Figures of the decompositions (planner.decomposition.plots)."""

from __future__ import annotations

import math

import numpy as np

from planner.decomposition.method import DecompositionResult, IterationRecord
from planner.decomposition.plots import plot_bounds


def test_plot_bounds(tmp_path):
    res = DecompositionResult("price", 1.0, 2.0, 0.1, 2, None,
                              [IterationRecord(0, 0.5, math.inf, 0.0), IterationRecord(1, 1.0, 2.0, 0.1)],
                              np.zeros((1, 24)), 2, 1)
    plot_bounds(res, tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1000
