"""Fixed sizes: the replacement search against the replacement MIP; averaged sizes rounded with one
turbine type per site."""

from __future__ import annotations

import warnings

import pyomo.environ as pyo
import pytest

from planner.sizing.inputs import build_scenarios, representative_days
from planner.sizing.model import SizingOptions, build_scenario_model, first_stage_vars
from planner.sizing.solve import round_first_stage, search_replacements, solve_model


def test_replacement_search_against_the_replacement_mip(default_case):
    """With the sizes fixed, the replacement search (schedules evaluated as LPs) returns a feasible
    schedule: its cost is at least the replacement MIP's optimum and, on this case, within 0.5 % of it;
    the integral lives reproduce the replacement year."""
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


def test_ph_xhat_rounding_keeps_one_turbine_type_per_site(default_case, shared_data):
    """PH's averaged first stage is rounded like relax-and-fix: per site one turbine type (the largest
    averaged count) carries the rounded count, every other type none; PV modules rounded."""
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
    rounded = dict(zip((v.name for v in variables), round_first_stage(m, averaged)))
    last = types[-1]
    for (i, t) in types:
        chosen = (i, t) == last
        assert rounded[m.turbine_choice[i, t].name] == (1.0 if chosen else 0.0)
        assert rounded[m.n_turbines[i, t].name] == (float(round(1.4 + types.index(last))) if chosen else 0.0)
    for i in m.SITES:
        assert rounded[m.n_pv_modules[i].name] == 11.0
