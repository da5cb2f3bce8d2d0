"""One replayed day: no look-ahead leak, realised values from the real data, the month's peak carried."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.methods.lshaped import LShaped
from planner.dayahead.plan import plan
from planner.replay.data import PRICE, SOLAR, WIND, RealDays
from planner.replay.day import (FIXED, PERFECT, RULE, ReplayOptions, forecast_scores, initial_state,
                                forecast, realised_values, replay_day, solve_plan)
from planner.replay.policies import DETERMINISTIC, SDDP_OPERATION
from scenarios.scenario_set import ScenarioSet

OPTIONS = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED))
DAY = pd.Timestamp("2022-01-05")


def decisions(rows):
    """What is decided before the day: day-ahead purchases of every policy, the plans' bounds, the SDDP
    policy's trained bound."""
    return [(r["policy"], r["day_ahead_mwh"], r.get("lower_bound_eur"), r.get("upper_bound_eur"),
             r.get("sddp_bound_eur")) for r in rows]


#: the rolling recalibration refits the price model every 3 days on the year before R <= D
RECALIBRATED = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED, SDDP_OPERATION, DETERMINISTIC),
                             recalibrate_every=3, lattice_paths=0, sddp_iterations=3)


@pytest.mark.parametrize("options", [OPTIONS, pytest.param(RECALIBRATED, marks=pytest.mark.slow)],
                         ids=["calibrated", "recalibrated"])
def test_no_look_ahead_leak(small_case, real_days, options):
    OPTIONS = options
    states = {p: initial_state(small_case) for p in OPTIONS.policies}
    base, _ = replay_day(small_case, real_days, DAY, states, OPTIONS)
    if OPTIONS.recalibrate_every:
        assert base[0]["recalibrated_on"] == "2022-01-04"    # ordinal 738160 = 3 * 246053 + 1: R = D - 1 day
    # perturb everything from D on except the day-ahead prices of D (cleared at D-1): PV and wind of D,
    # and every value of the following days
    frame = real_days.frame.copy()
    rng = np.random.default_rng(1)
    later = frame.index >= DAY
    frame.loc[later, [SOLAR, WIND]] = rng.uniform(0, 1, size=(int(later.sum()), 2))
    after = frame.index >= DAY + pd.Timedelta(days=1)
    frame.loc[after, PRICE] = frame.loc[after, PRICE] * 3 + 100
    perturbed, _ = replay_day(small_case, RealDays(frame, "perturbed"), DAY, states, OPTIONS)
    assert decisions(perturbed) == decisions(base)
    assert [r["cost_eur"] for r in perturbed] != [r["cost_eur"] for r in base]  # the realised day did change
    # the known day-ahead prices of D do move the decisions: the check above can fail
    frame.loc[later & ~after, PRICE] = frame.loc[later & ~after, PRICE] + 500.0
    moved, _ = replay_day(small_case, RealDays(frame, "p0 moved"), DAY, states, OPTIONS)
    assert decisions(moved) != decisions(base)


def test_realised_values_are_the_real_day(small_case, real_days):
    variables = ("p0_eur_per_mwh", "pv_kw_per_kwp:foundry", "wind_kw_per_turbine:metal_processing")
    values = realised_values(small_case, real_days.day(DAY), variables, seed=3)
    day = real_days.day(DAY)
    np.testing.assert_allclose(values[0, :, 0], day[PRICE].to_numpy())
    np.testing.assert_allclose(values[0, :, 1], day[SOLAR].to_numpy())
    # E-53/800: nominal power 800 kW (Enercon data sheet) times the national onshore capacity factor
    np.testing.assert_allclose(values[0, :, 2], 800.0 * day[WIND].to_numpy(), rtol=1e-9)


def test_month_peak_and_state_carried(overrun_case, real_days):
    """Day 2 starts from day 1's SoC and month peak; the overrun charged over both days is f3 times the
    month's peak above 110 % of P, computed from the peak alone (a second way). The rule caps the
    import at P and sheds load instead."""
    opts = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED))
    states = {p: initial_state(overrun_case) for p in opts.policies}
    rows1, states1 = replay_day(overrun_case, real_days, DAY, states, opts)
    rows2, states2 = replay_day(overrun_case, real_days, DAY + pd.Timedelta(days=1), states1, opts)
    c = overrun_case.contract
    thr = c.overrun_threshold * c.subscribed_power_kw
    r1, r2 = rows1[1], rows2[1]
    assert r1["policy"] == FIXED and not r1["fallback"]
    assert states1[FIXED].month_peak_kw == pytest.approx(r1["day_peak_kw"])
    assert r2["day_peak_kw"] >= r1["day_peak_kw"] - 1e-9          # the running peak of the month
    assert r1["day_peak_kw"] > thr
    expected = c.overrun_charge_eur_per_kw * (max(r1["day_peak_kw"], r2["day_peak_kw"]) - thr)
    assert r1["overrun_eur"] + r2["overrun_eur"] == pytest.approx(expected, rel=1e-6)
    assert r2["cost_eur"] == pytest.approx(r2["day_ahead_energy_eur"] + r2["operating_eur"] + r2["overrun_eur"])
    assert r2["soc_end_kwh"] == pytest.approx(sum(states2[FIXED].soc_kwh))
    rule = rows1[0]
    assert rule["day_peak_kw"] <= c.subscribed_power_kw + 1e-6 and rule["overrun_eur"] == 0.0
    assert rule["unserved_kwh"] > 0.0


@pytest.mark.slow
def test_failed_plan_is_recorded_and_operated_by_the_rule(default_case, real_days):
    """The default case's plan (a MIP with production lines) cannot close a 0.1 % gap in 1 s (it stops above
    it, or finds no plan at all on a loaded machine): the day is recorded as failed with its reason and
    operated by the rule."""
    opts = ReplayOptions(n_scenarios=2, time_limit_s=1.0, max_plan_gap=1e-3, policies=(RULE, FIXED))
    states = {p: initial_state(default_case) for p in opts.policies}
    rows, _ = replay_day(default_case, real_days, DAY, states, opts)
    fixed = [r for r in rows if r["policy"] == FIXED][0]
    rule = [r for r in rows if r["policy"] == RULE][0]
    assert fixed["fallback"]
    if np.isfinite(fixed["gap"]):
        assert "max_plan_gap" in fixed["fallback_reason"] and fixed["gap"] > 1e-3
    else:
        assert "no feasible plan" in fixed["fallback_reason"] and fixed["plan_status"] == "failed"
    assert fixed["operated_by"] == RULE
    assert fixed["cost_eur"] == pytest.approx(rule["cost_eur"])   # same state, same rule, same realised day


def test_bad_options_name_the_field():
    with pytest.raises(ValueError, match="n_scenarios"):
        ReplayOptions(n_scenarios=1).check()
    with pytest.raises(ValueError, match="method"):
        ReplayOptions(method="ph").check()
    with pytest.raises(ValueError, match="policies"):
        ReplayOptions(policies=(FIXED,)).check()


def test_perfect_foresight_is_the_cheapest_on_the_realised_day(small_case, real_days):
    """Planned on the realised day itself and operated knowing it, perfect foresight costs no more than
    the rule or the plan on forecasts (same start state, same realised day)."""
    opts = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED, PERFECT))
    states = {p: initial_state(small_case) for p in opts.policies}
    rows, _ = replay_day(small_case, real_days, DAY, states, opts)
    cost = {r["policy"]: r["cost_eur"] for r in rows}
    assert not rows[2]["fallback"] and rows[2]["operated_by"] == PERFECT
    assert cost[PERFECT] <= cost[FIXED] + 1e-6 * abs(cost[FIXED])
    assert cost[PERFECT] <= cost[RULE]


def test_day_ahead_prices_unknown_are_not_read(small_case, real_days):
    """When the contract does not buy at the auction, even the day-ahead prices of D stay unknown."""
    opts = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED), day_ahead_known=False)
    states = {p: initial_state(small_case) for p in opts.policies}
    base, _ = replay_day(small_case, real_days, DAY, states, opts)
    frame = real_days.frame.copy()
    frame.loc[frame.index >= DAY, PRICE] += 500.0
    moved, _ = replay_day(small_case, RealDays(frame, "p0 moved"), DAY, states, opts)
    assert decisions(moved) == decisions(base)
    assert moved[0]["realised_p0_mean_eur_per_mwh"] == pytest.approx(base[0]["realised_p0_mean_eur_per_mwh"] + 500)


def test_forecast_scores_by_hand():
    p0 = np.array([[10.0, 20.0], [30.0, 40.0]])          # 2 scenarios x 2 hours; mean path 20, 30
    scen = ScenarioSet(p0[:, :, None], np.full(2, 0.5), ("p0_eur_per_mwh",), ("s0", "s1"), 1.0)
    realised = pd.DataFrame({PRICE: [25.0, 50.0], SOLAR: [0.0, 0.0], WIND: [0.0, 0.0]})
    out = forecast_scores(scen, realised)
    assert out["forecast_p0_mae"] == pytest.approx((5.0 + 20.0) / 2)
    assert out["forecast_p0_range_coverage"] == pytest.approx(0.5)   # 25 in [10, 30]; 50 above [20, 40]


def test_an_lshaped_plan_above_its_target_is_followed_by_the_extensive_form(one_line_site_case, real_days):
    """A target the L-shaped method cannot meet (its bound is the LP relaxation's): the extensive form runs
    after it on the same scenarios; the plan kept has the higher lower bound and the lower upper bound of the
    two (both valid for the same problem), checked against each method run on its own."""
    day = pd.Timestamp("2022-01-23")
    opts = ReplayOptions(n_scenarios=2, time_limit_s=60.0, rel_gap=1e-4, policies=(RULE, FIXED))
    cd, scen = forecast(one_line_site_case, real_days.known_before(day, True), day,
                        initial_state(one_line_site_case), opts)
    result, info = solve_plan(cd, scen, opts, 0)
    alone = {name: plan(cd, scen.n_scenarios, method, scenarios=scen, time_limit=60.0, rel_gap=1e-4,
                        measures=False, progress=False, random_state=0)
             for name, method in (("lshaped", LShaped(workers=1)), ("ef", ExtensiveForm()))}
    assert alone["lshaped"].gap > 1e-4          # the L-shaped alone misses this target
    assert info["plan_method"] == "L-shaped+EF"
    assert info["lower_bound_eur"] >= alone["lshaped"].lower_bound - 1e-6
    assert info["upper_bound_eur"] <= alone["lshaped"].upper_bound + 1e-6
    assert info["gap"] < alone["lshaped"].gap
    assert info["lower_bound_eur"] <= min(r.upper_bound for r in alone.values()) + 1e-6
    assert "then extensive form" in info["plan_status"]
