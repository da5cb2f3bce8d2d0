"""Material stocks carried into D+1: the plan's expected end-of-day stock, clipped to the storage limits,
and the next day's storage starting from it with the stated end-of-day target."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.replay.day import initial_state
from planner.replay.stocks import end_of_day_stocks, initial_stocks, site_with_stocks
from planner.results import PlanResult


def plan_with_stocks(site: str, material: str, ends: dict, probabilities: dict) -> PlanResult:
    """A plan result whose scenarios end the day with the given stock of one material (t)."""
    dispatch = {s: pd.DataFrame({f"{site}:stock_t:{material}": [1.0, 2.0, end]}) for s, end in ends.items()}
    return PlanResult(0.0, 0.0, "optimal", 0.0, dispatch=dispatch, probabilities=probabilities)


def test_expected_end_stock_by_hand(default_case):
    foundry = default_case.sites[0]              # M1: min 0 t, max 60 t, initial 10 t
    before = initial_stocks(default_case)
    plan = plan_with_stocks(foundry.name, "M1", {"scen0": 20.0, "scen1": 40.0}, {"scen0": 0.25, "scen1": 0.75})
    after = end_of_day_stocks(plan, default_case, before)
    assert after[f"{foundry.name}:M1"] == pytest.approx(0.25 * 20 + 0.75 * 40)     # 35 t
    assert after[f"{foundry.name}:M2"] == before[f"{foundry.name}:M2"]            # not reported: kept
    over = plan_with_stocks(foundry.name, "M1", {"scen0": 90.0}, {"scen0": 1.0})
    assert end_of_day_stocks(over, default_case, before)[f"{foundry.name}:M1"] == 60.0   # clipped to max_t


def test_next_day_starts_from_the_carried_stock(default_case):
    foundry = default_case.sites[0]
    site = site_with_stocks(foundry, {f"{foundry.name}:M1": 35.0})
    assert site.storage["M1"].initial_t == 35.0
    assert site.storage["M1"].final_min_t == foundry.storage["M1"].initial_t   # the stated level, 10 t
    assert site.storage["M2"] == foundry.storage["M2"]                            # not carried: unchanged


def test_stocks_are_carried_only_when_asked(default_case):
    assert initial_state(default_case).stock_t == {}
    carried = initial_state(default_case, carry_stocks=True).stock_t
    assert carried[f"{default_case.sites[0].name}:M1"] == 10.0 and len(carried) == 9
