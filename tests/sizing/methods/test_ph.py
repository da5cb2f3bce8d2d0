"""Progressive hedging against the extensive form: each within the other's certified bounds."""

from __future__ import annotations

import math
import warnings

import pytest

from planner.sizing.run import run_sizing


@pytest.mark.slow
def test_ef_and_ph_agree_within_the_certified_gap(default_case, shared_data):
    """On the default case (tiny sizes), each method's optimum lies within the other's bounds."""
    kw = dict(years=1, days=1, n_scenarios=2, years_per_block=1, progress=False, random_state=1,
              include_lines=False)  # the methods compared on the same days (the lines at their average)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ef = run_sizing(default_case, method="ef", **kw)
        ph = run_sizing(default_case, method="ph", ph_options={"max_iterations": 4}, **kw)
    assert ef.lower_bound_eur <= ef.upper_bound_eur + 1e-6
    assert ph.lower_bound_eur <= ph.upper_bound_eur + 1e-6
    tol = 1e-6 * abs(ef.upper_bound_eur)
    # the EF optimum is inside PH's certified interval, and PH's xhat is no better than EF's bound
    assert ph.lower_bound_eur <= ef.upper_bound_eur + tol
    assert ph.upper_bound_eur >= ef.lower_bound_eur - tol
    assert ph.gap < 0.05
    assert math.isfinite(ef.lcoe_eur_per_mwh) and ef.lcoe_eur_per_mwh > 0
    # NPV breakdown sums to the NPV
    assert ef.npv_breakdown.sum() == pytest.approx(ef.upper_bound_eur, rel=1e-6)
