"""Solving a block alone: a tiny model holding one block, an objective, and HiGHS."""

from __future__ import annotations

import math

import pyomo.environ as pyo
import pytest

from planner.solvers.highs import solve_with_bounds


def solve_min(model, objective) -> float:
    """Minimise ``objective`` on ``model`` to optimality; its optimum (inf when infeasible)."""
    model.obj = pyo.Objective(expr=objective, sense=pyo.minimize)
    bounds = solve_with_bounds(model, mip_gap=1e-9)
    if math.isfinite(bounds.upper_bound):
        assert bounds.lower_bound == pytest.approx(bounds.upper_bound, abs=1e-6)
    return bounds.upper_bound


@pytest.fixture
def solve():
    """``solve(model, objective)``: the optimum of a block's tiny model."""
    return solve_min
