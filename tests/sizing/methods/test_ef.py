"""The extensive form's relax-and-fix certificate against the full MIP."""

from __future__ import annotations

from planner.sizing.methods.ef import solve_ef
from planner.sizing.model import SizingOptions, first_stage_vars


def test_relax_and_fix_bounds_bracket_the_mip_optimum(default_case, small_days, one_site):
    """The relax-and-fix certificate (LP bound, rounded sizes evaluated) brackets the optimum that
    the full MIP finds on its own with a tight gap, and its upper bound is a cost of integer sizes."""
    case = one_site(default_case, 0.07)
    options = SizingOptions(years=7, years_per_block=7, ageing=True)
    m_mip, mip = solve_ef(case, small_days, [1.0], options, mip_rel_gap=1e-6, relax_and_fix=False)
    m_rf, rf = solve_ef(case, small_days, [1.0], options, mip_rel_gap=0.5)  # accept the certificate as is
    assert rf.get("relax_and_fix") and rf["status"] == "relax_and_fix"
    assert rf["lower_eur"] <= mip["upper_eur"] * (1 + 1e-6)
    assert rf["upper_eur"] >= mip["lower_eur"] * (1 - 1e-6)
    for v in first_stage_vars(m_rf):
        if v.is_integer() or v.is_binary():
            assert abs(v.value - round(v.value)) < 1e-9
