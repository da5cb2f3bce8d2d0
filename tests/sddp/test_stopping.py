"""Stopping rules: bound stalling, time limit and the statistical test on simulated costs."""

from __future__ import annotations

import pytest

import sddp
from sddp.examples import hydro_thermal

H1 = 25000 / 3  # SDDP.jl's hydro-thermal optimum


def test_stopping_rules():
    model = hydro_thermal()
    res = sddp.train(model, stopping_rules=[sddp.BoundStalling(5, 1e-8)], print_level=0,
                     random_state=0)
    assert res.status == "bound stalling"
    hist = res.bound_history
    assert max(hist[-6:]) - min(hist[-6:]) <= 1e-8
    assert res.bound == pytest.approx(H1, rel=1e-6)
    res = sddp.train(hydro_thermal(), time_limit=0.0, print_level=0)
    assert res.status == "time limit" and res.iterations == 1
    rule = sddp.Statistical(num_replications=200, period=10, random_state=1)
    res = sddp.train(hydro_thermal(), stopping_rules=[rule], iteration_limit=50, print_level=0,
                     random_state=0)
    assert res.status == "statistical" and res.iterations == 10
    lo, hi = rule.last.ci
    assert lo <= res.bound <= hi
