"""The engine reproduces the known optima of KNOWN_VALUES.md (H1, H2, H3),
risk-averse H1 values, and the deterministic equivalent reproduces them too."""

from __future__ import annotations

import pytest

import sddp
from sddp.examples import hydro_thermal, hydro_valley, stock

REL = 1e-4


def close(a, b, rel=REL):
    return abs(a - b) <= rel * abs(b)


def test_h1_hydro_thermal_bound():
    model = hydro_thermal()
    res = sddp.train(model, iteration_limit=30, print_level=0, random_state=1)
    assert close(res.bound, 25000 / 3)
    # the bound is a lower bound at every iteration and non-decreasing
    hist = res.bound_history
    assert all(b <= 25000 / 3 + 1e-6 for b in hist)
    assert all(b2 >= b1 - 1e-6 for b1, b2 in zip(hist, hist[1:]))


def test_h1_deterministic_equivalent():
    assert close(sddp.deterministic_equivalent(hydro_thermal()), 25000 / 3, 1e-9)


@pytest.mark.parametrize(
    "risk, expected",
    [
        (sddp.WorstCase(), 15000.0),
        (sddp.AVaR(0.5), 40000 / 3),
        (sddp.EAVaR(0.5, 0.25), 12500.0),
        (sddp.AVaR(1.0), 25000 / 3),
        (sddp.AVaR(0.0), 15000.0),
    ],
)
def test_h1_risk_averse(risk, expected):
    model = hydro_thermal()
    res = sddp.train(model, iteration_limit=30, risk_measure=risk, print_level=0, random_state=1)
    assert close(res.bound, expected)


@pytest.mark.parametrize(
    "inflows, markov, expected",
    [(False, False, 835.0), (True, False, 838.33333333), (False, True, 851.8),
     (True, True, 855.0)],
)
def test_h2_hydro_valley(inflows, markov, expected):
    model = hydro_valley(inflows, markov)
    res = sddp.train(model, iteration_limit=40, print_level=0, random_state=3)
    assert close(res.bound, expected)
    # maximisation: the bound is an upper bound on the optimum
    assert all(b >= expected - 1e-6 for b in res.bound_history)


def test_h2_deterministic_equivalent():
    assert close(sddp.deterministic_equivalent(hydro_valley(True, True)), 855.0, 1e-9)
    assert close(sddp.deterministic_equivalent(hydro_valley(False, False)), 835.0, 1e-9)


def test_h3_stock():
    model = stock()
    res = sddp.train(model, iteration_limit=150, print_level=0, random_state=0,
                     stopping_rules=[sddp.BoundStalling(30, 1e-9)])
    assert close(res.bound, -1.471075)
