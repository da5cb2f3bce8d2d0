"""Battery lives and replacement schedules by hand, and the lives in the sizing MILP paying for whole
batteries."""

from __future__ import annotations

import dataclasses

import pyomo.environ as pyo
import pytest

from planner.ageing.lives import battery_lives, replacement_schedules
from planner.sizing.inputs import build_scenarios, representative_days
from planner.sizing.model import SizingOptions, build_extensive_form
from planner.sizing.solve import solve_model


def test_forced_replacement_pays_for_the_whole_battery(default_case):
    """The ageing block's battery lives: on a 1-site, 3-year case whose existing battery crosses its
    end of life after two years of calendar fade, the MILP replaces it and pays for the whole
    installed capacity each time."""
    site = default_case.site("electroplating")
    bat = dataclasses.replace(site.microgrid.battery, calendar_fade_per_year=0.15, end_of_life_soh=0.8)
    site = dataclasses.replace(site, microgrid=dataclasses.replace(site.microgrid, battery=bat))
    case = default_case.replace(sites=[site], links=[])
    frame = build_scenarios(case, 1, random_state=0).frames[0]
    table = representative_days(frame, 2)
    m = build_extensive_form(case, [table], [1.0], SizingOptions(years=3, years_per_block=1, integer=True))
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
    lives = battery_lives(0.015, 0.8, 20)
    assert (0, 20) not in lives and (7, 20) in lives and (6, 20) not in lives
    assert (0, 14) in lives and (0, 15) not in lives
    assert replacement_schedules(lives, 20) == [(y,) for y in range(7, 15)] + [(7, 13)]
    # no calendar fade: the battery may serve the whole horizon, no replacement needed
    assert replacement_schedules(battery_lives(0.0, 0.8, 5), 5)[0] == ()
    # 10 %/year with end of life 80 %: lives of at most 3 years before a replacement, 2 to the end
    # (two replacements at a <= 3 and b in {4, 5} with b - a <= 3; spread: years 1.5, 3, 4.5 rounded)
    assert replacement_schedules(battery_lives(0.10, 0.8, 6), 6) == [(1, 4), (2, 4), (2, 5), (3, 4), (3, 5), (2, 3, 4)]
