"""Scenario decomposition against the extensive form and its LP relaxation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from planner.sizing.inputs import prepare_days
from planner.sizing.model import SizingOptions, build_extensive_form
from planner.sizing.run import run_sizing
from planner.sizing.solve import solve_model


@pytest.mark.slow
def test_scenario_decomposition_brackets_the_extensive_form(default_case):
    """The decomposed method's Lagrangian bound is below the EF optimum and its LP relaxation, its
    evaluated sizes above the EF's bound, and its scenario bounds add up to its lower bound."""
    kw = dict(years=2, days=1, n_scenarios=3, years_per_block=1, progress=False, random_state=2, mip_rel_gap=1e-3,
              include_lines=False)  # the methods compared on the same days (the lines at their average)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ef = run_sizing(default_case, method="ef", **kw)
        dec = run_sizing(default_case, method="decomposed", ph_options={"processes": 2}, **kw)
    tol = 1e-6 * abs(ef.upper_bound_eur)
    assert dec.lower_bound_eur <= ef.upper_bound_eur + tol
    assert dec.upper_bound_eur >= ef.lower_bound_eur - tol
    assert dec.lower_bound_eur <= dec.upper_bound_eur + tol
    assert dec.info["scenario_bounds_eur"] and len(dec.info["scenario_bounds_eur"]) == 3
    assert np.mean(dec.info["scenario_bounds_eur"]) == pytest.approx(dec.lower_bound_eur, rel=1e-9)
    assert dec.gap < 0.05
    assert dec.npv_breakdown.sum() == pytest.approx(dec.upper_bound_eur, rel=1e-6)
    # the Lagrangian bound: at least the wait-and-see bound (W = 0) it starts from, and at most the
    # extensive form's LP optimum (by LP duality the Lagrangian dual of the relaxation equals it)
    tables, probs, names, _ = prepare_days(default_case, 1, 3, 2)
    lp = build_extensive_form(default_case, tables, probs, SizingOptions(years=2, years_per_block=1, integer=False), names)
    ef_lp = solve_model(lp, None, 1e-9)["upper_eur"]
    history = dec.info["bound_history"]
    assert history[0][0] == 0 and dec.lower_bound_eur >= history[0][1] - tol
    assert dec.lower_bound_eur == pytest.approx(max(h[1] for h in history), rel=1e-12)
    assert dec.lower_bound_eur <= ef_lp + tol
