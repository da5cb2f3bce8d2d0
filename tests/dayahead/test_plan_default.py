"""The default case through the day-ahead plan: bounds, energy balances, EF vs serial PH agreement (PH under
MPI against EF and L-shaped: test_plan_ph.py).

Scenario sets come from the calibrated models (``planner.scenario_inputs.case_scenarios``) or from the
seeded synthetic scenarios (``planner.dayahead.data.synthetic_scenarios``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.dayahead.data import check_scenarios, synthetic_scenarios
from planner.dayahead.plan import plan
from planner.scenario_inputs import case_scenarios

def _check_balances(case, frame):
    """Per site: grid + links + generator + PV + wind + battery = base load + lines (kW)."""
    for s in case.sites:
        supply = sum(frame.get(f"{s.name}:{k}", 0.0) for k in ("grid_kw", "link_in_kw", "generator_kw", "pv_kw",
                                                                "wind_kw", "battery_kw"))
        demand = frame[f"{s.name}:base_load_kw"] + frame[f"{s.name}:lines_kw"]
        np.testing.assert_allclose(supply, demand, atol=1e-5)
    net = frame["day_ahead_kw"] + frame["intraday_kw"] - frame["resale_kw"]
    np.testing.assert_allclose(net, sum(frame[f"{s.name}:grid_kw"] for s in case.sites), atol=1e-5)


@pytest.mark.slow
def test_default_case_ef_bounds_and_balances(default_case):
    """One scenario of the full default case (production lines as recourse), 60 s limit:
    a feasible plan whose bounds are ordered, whose gap is computed from them, and whose dispatch
    balances every site; the plan meets every site's daily production."""
    scen = case_scenarios(default_case, 1, 1)
    res = plan(default_case, 1, scenarios=scen, time_limit=60, rel_gap=0.01, measures=False, progress=False)
    assert math.isfinite(res.upper_bound) and res.lower_bound <= res.upper_bound
    assert res.gap == pytest.approx((res.upper_bound - res.lower_bound) / abs(res.upper_bound))
    assert (res.day_ahead.to_numpy() >= -1e-9).all()
    for name, frame in res.dispatch.items():
        _check_balances(default_case, frame)
    sched = res.schedule[res.schedule.scenario == "scen0"]
    for s in default_case.sites:
        for m, qty in s.plan_t_per_day.items():
            made = sum(row.run * s.line(row.line).rate_t_per_h[m] * default_case.period_hours
                       for row in sched[(sched.site == s.name) & (sched.material == m)].itertuples())
            assert made >= qty - 1e-6, (s.name, m, made, qty)


def test_energy_system_ef_vs_serial_ph_agree(energy_system_case):
    """EF and serial PH bracket the same optimum: their [lower, upper] intervals intersect."""
    case = energy_system_case
    scen = synthetic_scenarios(case, 4, random_state=3)
    ef = plan(case, 4, scenarios=scen, method="ef", rel_gap=1e-6, measures=False, progress=False)
    ph = plan(case, 4, scenarios=scen, method="ph", n_ranks=1, rel_gap=0.005, max_iterations=15,
                 measures=False, progress=False)
    for r in (ef, ph):
        assert r.lower_bound <= r.upper_bound
    assert ph.lower_bound <= ef.upper_bound + 1e-6
    assert ef.lower_bound <= ph.upper_bound + 1e-6
    assert ph.lower_bound <= ef.upper_bound <= ph.upper_bound + 1e-6


def test_stochastic_measures_on_energy_system(energy_system_case):
    """VSS >= 0 and EVPI >= 0 (up to solver tolerance), and EEV >= RP >= WS by construction."""
    case = energy_system_case
    scen = synthetic_scenarios(case, 4, random_state=5)
    res = plan(case, 4, scenarios=scen, rel_gap=1e-6, measures=True, progress=False)
    m = res.measures
    assert m["EEV"] >= m["RP"] - 1e-6 and m["RP"] >= m["WS"] - 1e-6
    assert m["VSS"] == pytest.approx(m["EEV"] - m["RP"]) and m["EVPI"] == pytest.approx(m["RP"] - m["WS"])


def test_missing_scenario_variable_named(default_case):
    scen = synthetic_scenarios(default_case, 2).select_variables(["p0_eur_per_mwh", "p1_eur_per_mwh",
                                                                    "p2_eur_per_mwh"])
    with pytest.raises(ValueError, match="pv_kw_per_kwp:foundry"):
        check_scenarios(default_case, scen)


def test_ph_rank_count_not_a_multiple_of_the_cylinders_is_refused(energy_system_case):
    """Hub and spokes need 3k ranks: 2 ranks is an error naming the rule, before any solve."""
    scen = synthetic_scenarios(energy_system_case, 3, random_state=0)
    with pytest.raises(ValueError, match="multiple of 3"):
        plan(energy_system_case, 3, scenarios=scen, method="ph", n_ranks=2, measures=False, progress=False)


def test_unknown_method_lists_the_registered_ones(energy_system_case):
    scen = synthetic_scenarios(energy_system_case, 2, random_state=0)
    with pytest.raises(ValueError, match="'ef'.*'ph'.*'lshaped'"):
        plan(energy_system_case, 2, scenarios=scen, method="benders", progress=False)
