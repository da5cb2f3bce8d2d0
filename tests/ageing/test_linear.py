"""Ageing in sizing: NPV worse with ageing, replacement when the SoH crosses the threshold, BLAST-Lite
replay agreeing with the recalibrated linear fade."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from planner.ageing import LinearBatteryAgeing


def test_linear_path_by_hand():
    lin = LinearBatteryAgeing(0.05, 1e-4, 0.8)
    p = lin.path([100, 100, 100, 100, 100])
    # 0.06 per year: 1 -> 0.94 -> 0.88 -> 0.82 -> 0.76 (< 0.8: replaced at the start of year 4)
    assert p.soh_end.iloc[:4].tolist() == pytest.approx([0.94, 0.88, 0.82, 0.76])
    assert lin.replacement_years([100] * 5) == [4]
    assert p.soh_start.iloc[4] == 1.0


def _one_site(case, calendar, site="electroplating"):
    s = case.site(site)
    bat = dataclasses.replace(s.microgrid.battery, calendar_fade_per_year=calendar, end_of_life_soh=0.8)
    s = dataclasses.replace(s, microgrid=dataclasses.replace(s.microgrid, battery=bat))
    return case.replace(sites=[s], links=[])


@pytest.fixture(scope="module")
def small_days(default_case, shared_data):
    from planner.sizing.inputs import build_scenarios, representative_days

    case = _one_site(default_case, 0.015)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scen = build_scenarios(case, 1, random_state=5)
    return [representative_days(scen.frames[0], 2)]


def test_ageing_makes_npv_worse(default_case, small_days):
    from planner.sizing.model import SizingOptions
    from planner.sizing.solve import solve_ef

    case = _one_site(default_case, 0.03)
    on = solve_ef(case, small_days, [1.0], SizingOptions(years=6, years_per_block=3, ageing=True))[1]
    off = solve_ef(case, small_days, [1.0], SizingOptions(years=6, years_per_block=3, ageing=False))[1]
    assert on["lower_eur"] > off["upper_eur"]


def test_replacement_when_soh_crosses_threshold(default_case, small_days):
    from planner.sizing.model import SizingOptions
    from planner.sizing.results import extract_result
    from planner.sizing.solve import solve_ef

    case = _one_site(default_case, 0.07)  # ~3 years to 80 %
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


@pytest.mark.slow
def test_blast_replay_agrees_with_recalibrated_linear_fade(default_case, shared_data):
    from planner.ageing.calibrate import recalibrate_sizing

    case = default_case.replace(sites=[default_case.site("foundry")], links=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, rounds = recalibrate_sizing(case, "foundry", rounds=3, years=10, days=2, n_scenarios=1,
                                          years_per_block=10, progress=False, seed=2)
    last = rounds.iloc[-1]
    assert abs(last["soh_linear_10y"] - last["soh_blast_10y"]) < 0.02
    assert 0.5 < last["soh_blast_10y"] < 1.0


def test_relax_and_fix_bounds_bracket_the_mip_optimum(default_case, small_days):
    """The relax-and-fix certificate (LP bound, rounded sizes evaluated) brackets the optimum that
    the full MIP finds on its own with a tight gap, and its upper bound is a cost of integer sizes."""
    from planner.sizing.model import SizingOptions, first_stage_vars
    from planner.sizing.solve import solve_ef

    case = _one_site(default_case, 0.07)
    options = SizingOptions(years=7, years_per_block=7, ageing=True)
    m_mip, mip = solve_ef(case, small_days, [1.0], options, mip_rel_gap=1e-6, relax_and_fix=False)
    m_rf, rf = solve_ef(case, small_days, [1.0], options, mip_rel_gap=0.5)  # accept the certificate as is
    assert rf.get("relax_and_fix") and rf["status"] == "relax_and_fix"
    assert rf["lower_eur"] <= mip["upper_eur"] * (1 + 1e-6)
    assert rf["upper_eur"] >= mip["lower_eur"] * (1 - 1e-6)
    for v in first_stage_vars(m_rf):
        if v.is_integer() or v.is_binary():
            assert abs(v.value - round(v.value)) < 1e-9


def test_ph_xhat_rounding_keeps_one_turbine_type_per_site(default_case, shared_data):
    """PH's averaged first stage is rounded like relax-and-fix: per site one turbine type (the largest
    averaged count) carries the rounded count, every other type none; PV modules rounded."""
    from planner.sizing.inputs import build_scenarios, representative_days
    from planner.sizing.model import SizingOptions, build_scenario_model, first_stage_vars
    from planner.sizing.solve import _round_first_stage

    case = default_case.replace(sites=[default_case.site("foundry")], links=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        days = representative_days(build_scenarios(case, 1, random_state=5).frames[0], 1)
    m = build_scenario_model(case, days, SizingOptions(years=2, years_per_block=2), "scen0")
    variables = first_stage_vars(m)
    types = [(i, t) for (i, t) in m.WT]
    assert len(types) >= 2, "the default case's foundry has candidate turbine types"
    averaged = []
    for var in variables:
        name = var.parent_component().local_name
        if name == "n_turbines":
            averaged.append(1.4 + types.index(var.index()))  # the last type has the largest count
        elif name == "turbine_choice":
            averaged.append(0.5)
        elif name == "n_pv_modules":
            averaged.append(10.6)
        else:
            averaged.append(max(var.lb or 0.0, 12.3))
    rounded = dict(zip((v.name for v in variables), _round_first_stage(m, averaged)))
    last = types[-1]
    for (i, t) in types:
        chosen = (i, t) == last
        assert rounded[m.turbine_choice[i, t].name] == (1.0 if chosen else 0.0)
        assert rounded[m.n_turbines[i, t].name] == (float(round(1.4 + types.index(last))) if chosen else 0.0)
    for i in m.SITES:
        assert rounded[m.n_pv_modules[i].name] == 11.0
