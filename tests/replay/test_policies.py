"""The replay's extra policies: the point forecast (weighted median), the SDDP operation of a day started
from the month's running peak, the deterministic plan operated by the look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import build_policy_model, policy_inputs
from planner.replay.day import LOOKAHEAD, RULE, ReplayOptions, forecast, initial_state, replay_day
from planner.replay.policies import (DETERMINISTIC, SDDP_OPERATION, point_forecast, start_state,
                                     weighted_median)
from scenarios.scenario_set import ScenarioSet

DAY = pd.Timestamp("2022-01-05")


def test_weighted_median_by_hand():
    values = np.array([[[1.0]], [[5.0]], [[3.0]]])          # 3 scenarios, 1 period, 1 variable
    assert weighted_median(values, np.array([1, 1, 1]))[0, 0] == 3.0
    # the first scenario carries 60 % of the probability: it is the median
    assert weighted_median(values, np.array([0.6, 0.2, 0.2]))[0, 0] == 1.0
    assert weighted_median(values, np.array([0.1, 0.6, 0.3]))[0, 0] == 5.0


def test_point_forecast_is_one_scenario_at_the_median():
    v = np.arange(24.0).reshape(4, 3, 2)                     # 4 scenarios; per cell the values rise with s
    scen = ScenarioSet(v, np.full(4, 0.25), ("a", "b"), ("s0", "s1", "s2", "s3"), 1.0)
    point = point_forecast(scen)
    assert point.n_scenarios == 1 and point.variables == ("a", "b")
    np.testing.assert_allclose(point.values[0], v[1])        # cumulative 0.5 is reached at the 2nd of 4


def test_sddp_starts_from_the_month_peak(small_case, real_days):
    """The graph's initial state: the carried SoC, the month's peak and its overrun above the threshold."""
    opts = ReplayOptions(n_scenarios=4)
    state = initial_state(small_case)
    cd, scen = forecast(small_case, real_days.known_before(DAY, True), DAY, state, opts)
    model = build_policy_model(policy_inputs(cd, FixedSchedule.from_rule(cd, scen)), scen, n_states=1)
    thr = model.inputs.overrun_threshold_kw
    start_state(model, thr + 250.0)
    x0 = dict(zip(model.graph.state_names, model.graph.initial_state))
    assert x0["peak_kw"] == pytest.approx(thr + 250.0)
    assert x0["overrun_kw"] == pytest.approx(250.0)
    socs = [v for k, v in x0.items() if k.startswith("soc:")]
    np.testing.assert_allclose(socs, state.soc_kwh)


def test_sddp_and_deterministic_plan_replay_a_day(small_case, real_days):
    opts = ReplayOptions(n_scenarios=2, time_limit_s=20.0, lattice_paths=4, sddp_iterations=5,
                         policies=(RULE, SDDP_OPERATION, DETERMINISTIC))
    states = {p: initial_state(small_case) for p in opts.policies}
    rows, new = replay_day(small_case, real_days, DAY, states, opts)
    by = {r["policy"]: r for r in rows}
    sddp, det = by[SDDP_OPERATION], by[DETERMINISTIC]
    assert not sddp["fallback"] and sddp["operated_by"] == SDDP_OPERATION
    assert sddp["sddp_iterations"] == 5 and np.isfinite(sddp["sddp_bound_eur"])
    assert sddp["gap"] <= opts.rel_gap + 1e-9
    assert not det["fallback"] and det["operated_by"] == LOOKAHEAD and det["n_scenarios"] == 1
    assert det["gap"] <= opts.rel_gap + 1e-9
    # the deterministic plan buys for one (median) path: its day-ahead volume differs from the two-stage plan's
    assert det["day_ahead_mwh"] != pytest.approx(sddp["day_ahead_mwh"], rel=1e-6)
    for name in opts.policies:   # each carries its own state
        assert new[name].soc_kwh == pytest.approx([r for r in rows if r["policy"] == name][0]["soc_end_by_battery_kwh"])
        assert by[name]["cost_eur"] == pytest.approx(by[name]["day_ahead_energy_eur"] + by[name]["operating_eur"]
                                                     + by[name]["overrun_eur"])
