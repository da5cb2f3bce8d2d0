"""The sizing MILP: the subscribed power against a hand-computed tariff, ageing making the NPV worse and
replacing the battery when its state of health crosses the threshold."""

from __future__ import annotations

import numpy as np
import pytest
from pyomo.repn import generate_standard_repn

from planner.sizing.inputs import representative_days
from planner.sizing.methods.ef import solve_ef
from planner.sizing.model import SizingOptions
from planner.sizing.results import extract_result
from planner.sizing.run import subscription_note


@pytest.mark.slow
def test_subscribed_power_minimises_demand_plus_overrun_charges(one_site_year):
    """With the sized dispatch's monthly peaks held, the chosen P minimises f1-charge(P) + sum of
    f3-charges max(0, peak - threshold * P), evaluated by hand on a grid of P (the two charges are
    the only terms in P); with the default tariff (threshold * f3 > f1) P is interior, not 0."""
    case, scen = one_site_year
    c = case.contract
    assert c.overrun_threshold * c.overrun_charge_eur_per_kw > c.demand_charge_eur_per_kw_month
    assert subscription_note(c) is None
    options = SizingOptions(years=2, years_per_block=1, integer=False)
    m, info = solve_ef(case, [representative_days(scen.frames[0], 12)], [1.0], options)
    assert info["optimal"]
    p_star = float(m.subscribed_kw.value)
    repn = generate_standard_repn(m.npv_eur.expr, compute_values=True)
    coef = {id(v): a for v, a in zip(repn.linear_vars, repn.linear_coefs)}
    a_p = coef[id(m.subscribed_kw)]
    terms = []  # (coefficient of the overrun, the month's peak)
    for s in m.SCEN:
        b = m.scen[s]
        for k, mo in b.overrun_kw:
            terms.append((coef.get(id(b.overrun_kw[k, mo]), 0.0), float(b.peak_kw[k, mo].value)))
    thr = c.overrun_threshold
    assert a_p > 0 and all(w > 0 for w, _ in terms)

    def cost(p):
        return a_p * p + sum(w * max(0.0, peak - thr * p) for w, peak in terms)

    peaks = np.array([pk for _, pk in terms])
    grid = np.linspace(0.0, peaks.max() / thr * 1.05, 2001)
    best = min(cost(p) for p in grid)
    assert cost(p_star) <= best + 1e-6 * abs(best) + 1e-6
    assert 0.0 < p_star <= peaks.max() / thr + 1e-6
    # hand rule: P* sits at a monthly peak / threshold (a kink) where the count of months above it
    # changes the sign of the slope a_p - thr * sum(w of months above)
    assert np.min(np.abs(peaks / thr - p_star)) < 1e-3 * max(1.0, p_star)


def test_ageing_makes_npv_worse(default_case, small_days, one_site):
    case = one_site(default_case, 0.03)
    on = solve_ef(case, small_days, [1.0], SizingOptions(years=6, years_per_block=3, ageing=True))[1]
    off = solve_ef(case, small_days, [1.0], SizingOptions(years=6, years_per_block=3, ageing=False))[1]
    assert on["lower_eur"] > off["upper_eur"]


def test_replacement_when_soh_crosses_threshold(default_case, small_days, one_site):
    case = one_site(default_case, 0.07)  # ~3 years to 80 %
    options = SizingOptions(years=7, years_per_block=7, ageing=True)
    m, info = solve_ef(case, small_days, [1.0], options)
    res = extract_result(m, case, options, small_days, info)
    soh = res.soh.sort_values("year")
    years = res.replacement_years["electroplating"]["scen0"]
    assert years, "a battery fading 7 %/year over 7 years must be replaced"
    for y in years:
        # crossed the threshold during the year before (the model may not run below it for longer)
        assert soh.soh_end.iloc[y - 1] < 0.8 + 1e-6 or soh.soh_end.iloc[y - 1] - 0.07 < 0.8
        assert soh.soh_start.iloc[y] == pytest.approx(1.0, abs=1e-6)
    # without a replacement the SoH never ends a year below the threshold
    for y in range(len(soh)):
        if y + 1 not in years:
            assert soh.soh_end.iloc[y] >= 0.8 - 1e-6
    # the linear fade recursion by hand: end = start - calendar - cycle x cycles
    row = soh.iloc[0]
    bat = case.sites[0].microgrid.battery
    assert row.soh_end == pytest.approx(row.soh_start - 0.07 - bat.cycle_fade_per_cycle * row.full_cycles, abs=1e-6)
