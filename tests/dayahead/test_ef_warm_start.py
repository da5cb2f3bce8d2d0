"""The extensive form warm-started from the schedule heuristic (one persistent HiGHS instance, the heuristic's
plan as MIP start) against the same extensive form solved from scratch: on two days, both certify the
target gap, each one's lower bound stays below the other's plan cost, and the plan costs agree within it."""

from __future__ import annotations

import dataclasses
import math

import pytest

from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.plan import plan
from planner.scenario_inputs import case_scenarios

REL_GAP = 0.01


def one_site_day(case, site: str, day: str):
    """The default case reduced to one site (no links) on calendar day ``day``."""
    return dataclasses.replace(case, sites=[case.site(site)], links=[], source=None,
                               scenarios=dataclasses.replace(case.scenarios, day=day))


@pytest.mark.parametrize("day", ["2022-01-10", "2022-06-15"])
def test_warm_started_ef_gives_the_cold_plan_cost_within_the_gap(default_case, day):
    case = one_site_day(default_case, "electroplating", day)
    scen = case_scenarios(case, 3, 7)
    warm = plan(case, 3, "ef", scenarios=scen, time_limit=60, rel_gap=REL_GAP, measures=False, progress=False)
    cold = plan(case, 3, ExtensiveForm(warm_start=False), scenarios=scen, time_limit=60, rel_gap=REL_GAP,
                measures=False, progress=False)
    for res in (warm, cold):
        assert math.isfinite(res.upper_bound) and res.gap <= REL_GAP + 1e-9
    # each lower bound is valid for the other path's plan, so the plan costs agree within the certified gaps
    assert warm.lower_bound <= cold.upper_bound + 1e-6
    assert cold.lower_bound <= warm.upper_bound + 1e-6
    assert abs(warm.upper_bound - cold.upper_bound) <= REL_GAP * max(warm.upper_bound, cold.upper_bound)
    # the warm path's upper bound is the cost of the plan it returns (the dispatch of every scenario)
    expected = sum(warm.probabilities[n] * warm.dispatch[n].attrs["total_cost_eur"] for n in warm.dispatch)
    assert expected == pytest.approx(warm.upper_bound, rel=1e-6)
