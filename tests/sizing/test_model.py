"""Sizing: representative days against the full year, economics by hand, EF against PH (certified gap)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from planner.sizing import economics as eco


def test_discounting_by_hand():
    assert eco.annuity_factor(2, 0.1) == pytest.approx(1 / 1.1 + 1 / 1.21)
    assert eco.capital_recovery_factor(20, 0.06) == pytest.approx(0.06 / (1 - 1.06 ** -20))
    assert eco.linear_salvage_fraction(30, 20) == pytest.approx(1 / 3)
    assert eco.year_blocks(7, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert eco.derate_by_block([[0, 1]], 0.005)[0] == pytest.approx((1 + 0.995) / 2)


def test_pv_module_from_pvlib_database():
    from planner.sizing.inputs import pv_module

    mod = pv_module("Jinko_Solar__Co___Ltd_JKM400M_72L")
    assert 0.39 < mod["kwp"] < 0.41 and 1.8 < mod["area_m2"] < 2.1
    with pytest.raises(ValueError, match="CEC module"):
        pv_module("no such module")


@pytest.fixture(scope="module")
def one_site_year(default_case, shared_data):
    """The electroplating site alone, one deterministic scenario year."""
    from planner.sizing.inputs import build_scenarios

    import dataclasses

    # cheaper PV and batteries than the default so that the optimum builds something worth comparing
    economics = dataclasses.replace(default_case.economics, pv_capex_eur_per_kwp=450.0,
                                    battery_capex_eur_per_kwh=150.0, battery_capex_eur_per_kw=80.0)
    case = default_case.replace(sites=[default_case.site("electroplating")], links=[], economics=economics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scen = build_scenarios(case, 1, random_state=3)
    return case, scen


@pytest.mark.slow
def test_representative_days_against_full_year(one_site_year):
    """Total cost with 24 tsam days within 1 % of the 8760-hour model (LP relaxation, one year of
    operation standing for the whole 20-year horizon, so that investments pay)."""
    from planner.sizing.inputs import representative_days
    from planner.sizing.model import SizingOptions
    from planner.sizing.solve import solve_ef

    case, scen = one_site_year
    options = SizingOptions(years=20, years_per_block=20, integer=False)
    frame = scen.frames[0]
    m_full, full = solve_ef(case, [representative_days(frame, None)], [1.0], options)
    m_24, rep = solve_ef(case, [representative_days(frame, 24)], [1.0], options)
    assert full["optimal"] and rep["optimal"]
    assert abs(rep["upper_eur"] / full["upper_eur"] - 1) < 0.01
    # something is built, and the PV sizes agree within a quarter (the battery is the most sensitive)
    pv_full, pv_24 = m_full.pv_new_kwp["electroplating"](), m_24.pv_new_kwp["electroplating"]()
    assert pv_full > 10.0
    assert abs(pv_full - pv_24) <= 0.25 * pv_full


@pytest.mark.slow
def test_ef_and_ph_agree_within_the_certified_gap(default_case, shared_data):
    """On the default case (tiny sizes), each method's optimum lies within the other's bounds."""
    from planner.sizing import run_sizing

    kw = dict(years=1, days=1, n_scenarios=2, years_per_block=1, progress=False, seed=1)
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


@pytest.mark.slow
def test_subscribed_power_minimises_demand_plus_overrun_charges(one_site_year):
    """With the sized dispatch's monthly peaks held, the chosen P minimises f1-charge(P) + sum of
    f3-charges max(0, peak - threshold * P), evaluated by hand on a grid of P (the two charges are
    the only terms in P); with the default tariff (threshold * f3 > f1) P is interior, not 0."""
    import numpy as np
    import pyomo.environ as pyo
    from pyomo.repn import generate_standard_repn

    from planner.sizing.inputs import representative_days
    from planner.sizing.model import SizingOptions
    from planner.sizing.run import subscription_note
    from planner.sizing.solve import solve_ef

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


def test_subscription_note_when_overrunning_is_cheaper(default_case):
    from planner.sizing.run import subscription_note

    import dataclasses

    cheap = dataclasses.replace(default_case.contract, overrun_charge_eur_per_kw=6.37)
    note = subscription_note(cheap)
    assert note is not None and "overrun_charge_eur_per_kw above 9.95" in note


@pytest.mark.slow
def test_scenario_decomposition_brackets_the_extensive_form(default_case):
    """The decomposed method's Lagrangian bound is below the EF optimum and its LP relaxation, its
    evaluated sizes above the EF's bound, and its scenario bounds add up to its lower bound."""
    from planner.sizing import run_sizing

    kw = dict(years=2, days=1, n_scenarios=3, years_per_block=1, progress=False, seed=2, mip_rel_gap=1e-3)
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
    from planner.sizing.model import SizingOptions, build_extensive_form
    from planner.sizing.run import prepare_days
    from planner.sizing.solve import solve_model

    tables, probs, names, _ = prepare_days(default_case, 1, 3, 2)
    lp = build_extensive_form(default_case, tables, probs, SizingOptions(years=2, years_per_block=1, integer=False), names)
    ef_lp = solve_model(lp, None, 1e-9)["upper_eur"]
    history = dec.info["bound_history"]
    assert history[0][0] == 0 and dec.lower_bound_eur >= history[0][1] - tol
    assert dec.lower_bound_eur == pytest.approx(max(h[1] for h in history), rel=1e-12)
    assert dec.lower_bound_eur <= ef_lp + tol


def test_forced_replacement_pays_for_the_whole_battery(default_case):
    """The ageing block's battery lives: on a 1-site, 3-year case whose existing battery crosses its
    end of life after two years of calendar fade, the MILP replaces it and pays for the whole
    installed capacity each time."""
    import dataclasses

    import pyomo.environ as pyo

    from planner.sizing.inputs import build_scenarios, representative_days
    from planner.sizing.model import SizingOptions, build_extensive_form

    site = default_case.site("electroplating")
    bat = dataclasses.replace(site.microgrid.battery, calendar_fade_per_year=0.15, end_of_life_soh=0.8)
    site = dataclasses.replace(site, microgrid=dataclasses.replace(site.microgrid, battery=bat))
    case = default_case.replace(sites=[site], links=[])
    frame = build_scenarios(case, 1, random_state=0).frames[0]
    table = representative_days(frame, 2)
    m = build_extensive_form(case, [table], [1.0], SizingOptions(years=3, years_per_block=1, integer=True))
    from planner.sizing.solve import solve_model

    info = solve_model(m, 120, 1e-9)
    b = m.scen["scen0"]
    r = {y: round(b.replace["electroplating", y].value) for y in b.Y1}
    # calendar fade 15 %/year crosses 80 % after 2 years: exactly one replacement, paid for in full
    E = pyo.value(m.battery_kwh["electroplating"])
    assert E >= site.microgrid.battery.energy_kwh > 0  # the existing battery is kept
    assert sum(r.values()) >= 1
    for y, ry in r.items():
        assert b.replaced_kwh["electroplating", y].value == pytest.approx(ry * E, abs=1e-4 * max(1.0, E))
    assert info["lower_eur"] <= info["upper_eur"] + 1e-6


def test_battery_lives_and_fewest_replacement_schedules_by_hand():
    """Calendar fade 1.5 %/year, end of life 80 %, 20 years: a battery lasting to the horizon may serve
    at most floor(0.2 / 0.015) = 13 years (so the last replacement is in year 7 or later); one that is
    replaced at z serves z - a years with (z - a - 1) x 1.5 % <= 20 % (at most 14 years). So exactly one
    replacement, in year 7..14, is the fewest; the evenly spread two-replacement schedule is (7, 13)."""
    from planner.sizing.model import replacement_schedules, stretches

    lives = stretches(0.015, 0.8, 20)
    assert (0, 20) not in lives and (7, 20) in lives and (6, 20) not in lives
    assert (0, 14) in lives and (0, 15) not in lives
    assert replacement_schedules(lives, 20) == [(y,) for y in range(7, 15)] + [(7, 13)]
    # no calendar fade: the battery may serve the whole horizon, no replacement needed
    assert replacement_schedules(stretches(0.0, 0.8, 5), 5)[0] == ()
    # 10 %/year with end of life 80 %: lives of at most 3 years before a replacement, 2 to the end
    # (two replacements at a <= 3 and b in {4, 5} with b - a <= 3; spread: years 1.5, 3, 4.5 rounded)
    assert replacement_schedules(stretches(0.10, 0.8, 6), 6) == [(1, 4), (2, 4), (2, 5), (3, 4), (3, 5), (2, 3, 4)]


def test_replacement_search_against_the_replacement_mip(default_case):
    """With the sizes fixed, the replacement search (schedules evaluated as LPs) returns a feasible
    schedule: its cost is at least the replacement MIP's optimum and, on this case, within 0.5 % of it;
    the integral lives reproduce the replacement year."""
    import dataclasses

    import pyomo.environ as pyo

    from planner.sizing.inputs import build_scenarios, representative_days
    from planner.sizing.model import SizingOptions, build_scenario_model, first_stage_vars
    from planner.sizing.solve import search_replacements, solve_model

    site = default_case.site("electroplating")
    case = default_case.replace(sites=[site], links=[])
    frame = build_scenarios(case, 1, random_state=1).frames[0]
    table = representative_days(frame, 2)
    options = SizingOptions(years=16, years_per_block=4, integer=True)
    sm = build_scenario_model(case, table, options, "scen0")
    for v in first_stage_vars(sm):
        v.fix(0.0 if v.name != "subscribed_kw" else 800.0)
    mip = solve_model(sm, 300, mip_rel_gap=1e-7)
    b = sm.scen["scen0"]
    found = search_replacements(sm, b)
    assert found is not None
    assert found >= mip["lower_eur"] - 1e-6 * abs(mip["lower_eur"])
    assert found <= mip["upper_eur"] * (1 + 5e-3)
    years = [y for y in b.Y1 if b.replace["electroplating", y].value > 0.5]
    assert len(years) >= 1
    for (i, a, z) in b.LIFE:
        assert b.life[i, a, z].value == pytest.approx(round(b.life[i, a, z].value), abs=1e-6)
    # the lives chosen start at 0 and at the replacement years
    starts = sorted(a for (i, a, z) in b.LIFE if b.life[i, a, z].value > 0.5)
    assert starts == [0] + years
    assert pyo.value(b.replaced_kwh["electroplating", years[0]]) == pytest.approx(site.microgrid.battery.energy_kwh, rel=1e-6)
