"""Result types: bounds ordered, the one gap formula."""

from __future__ import annotations

import math

import pytest

from planner.results import SolveResult, relative_gap


def test_results_reject_crossed_bounds():
    with pytest.raises(ValueError, match="exceeds"):
        SolveResult(lower_bound=10.0, upper_bound=5.0, status="x", time_s=0.0)
    r = SolveResult(lower_bound=9.0, upper_bound=10.0, status="x", time_s=0.0)
    assert r.gap == pytest.approx(0.1)


def test_gap_is_relative_to_the_upper_bound_and_infinite_without_a_bound():
    assert relative_gap(90.0, 100.0) == pytest.approx(0.1)
    assert relative_gap(-110.0, -100.0) == pytest.approx(0.1)
    assert relative_gap(None, 100.0) == math.inf and relative_gap(1.0, math.inf) == math.inf
