"""Risk measures adjust probabilities as computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

import sddp

P = np.array([0.2, 0.3, 0.5])
C = np.array([10.0, 30.0, 20.0])


def test_expectation_keeps_probabilities():
    assert np.allclose(sddp.Expectation().adjust_probabilities(P, C), P)


def test_worst_case_puts_all_mass_on_largest_cost():
    assert np.allclose(sddp.WorstCase().adjust_probabilities(P, C), [0, 1, 0])
    # outcomes with zero probability are ignored
    assert np.allclose(sddp.WorstCase().adjust_probabilities([0.5, 0.0, 0.5], C), [0, 0, 1])


def test_avar_fills_worst_tail():
    # beta = 0.5: capacity p / beta = (0.4, 0.6, 1.0); worst (30) gets 0.6, next (20) gets 0.4
    q = sddp.AVaR(0.5).adjust_probabilities(P, C)
    assert np.allclose(q, [0.0, 0.6, 0.4])
    assert sddp.AVaR(0.5).evaluate(P, C) == pytest.approx(0.6 * 30 + 0.4 * 20)
    assert np.allclose(sddp.AVaR(1.0).adjust_probabilities(P, C), P)
    assert np.allclose(sddp.AVaR(0.0).adjust_probabilities(P, C), [0, 1, 0])


def test_eavar_mixes():
    q = sddp.EAVaR(0.25, 0.5).adjust_probabilities(P, C)
    assert np.allclose(q, 0.25 * P + 0.75 * np.array([0.0, 0.6, 0.4]))
    assert q.sum() == pytest.approx(1.0)


def test_invalid_parameters():
    with pytest.raises(ValueError):
        sddp.AVaR(1.5)
    with pytest.raises(ValueError):
        sddp.EAVaR(-0.1, 0.5)
