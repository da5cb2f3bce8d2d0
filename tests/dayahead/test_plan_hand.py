"""Hand-solved day-ahead cases: (a) buy day-ahead when p0 is below the expected intraday price,
(b) a changeover latency that forces a known schedule; plan pre-checks and infeasibility diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.case import case_from_dict
from planner.dayahead import module
from planner.dayahead.data import scenario_data
from planner.dayahead.feasibility import InfeasiblePlanError, check_plan, diagnose_infeasible
from planner.dayahead.model import day_ahead_frame
from planner.dayahead.plan import plan
from planner.stochastic.ef import ef_scenarios, solve_ef



def _case_a(**contract):
    return case_from_dict({
        "name": "hand_a", "horizon_hours": 4, "period_minutes": 60,
        "contract": {"subscribed_power_kw": 5000.0, "demand_charge_eur_per_kw_month": 10.95,
                     "energy_charge_eur_per_kwh": 0.0242, "overrun_charge_eur_per_kw": 6.37, **contract},
        "sites": [{"name": "s", "latitude": 45.0, "longitude": 5.0,
                   "base_load": {"mean_kw": 1000.0, "values_kw": [1000.0] * 4}}],
    })


P0_A = [[50, 60, 45, 52]] * 2
P1_A = [[40, 40, 32, 48], [70, 70, 68, 54]]          # expected 55, 55, 50, 51
P2_A = [[35, 35, 27, 43]] * 2                         # below p0 and every p1: no arbitrage


def test_day_ahead_bought_exactly_when_p0_below_expected_intraday(price_set):
    """One site, constant load L = 1000 kW, no lines, two equiprobable scenarios, hourly periods.

    Day-ahead volume x_t (kW) in hour t costs p0_t x_t; the shortfall L - x_t is bought intraday at
    p1_t, a surplus x_t - L resold at p2_t < p0_t. The expected cost of hour t is piecewise linear in
    x_t with slope p0_t - E[p1_t] below L and p0_t - E[p2_t] > 0 above L, so x_t = L when
    p0_t < E[p1_t] and x_t = 0 otherwise:
      hour 0: p0 50 < E[p1] 55 -> x = 1000;  hour 1: 60 > 55 -> x = 0;
      hour 2: 45 < 50 -> x = 1000;           hour 3: 52 > 51 -> x = 0.
    Energy cost (1 MWh per hour): 50 + 55 + 45 + 51 = 201 EUR.
    Energy charge f2 E = 0.0242 EUR/kWh x 4000 kWh = 96.80 EUR.
    Demand charge f1 P prorated = 10.95 x 5000 x (4/24)/30 = 304.1667 EUR; no overrun (peak 1000 < 5500).
    Optimum: 601.9667 EUR.
    """
    case = _case_a()
    scen = price_set(P0_A, P1_A, P2_A)
    res, ef = solve_ef(module, module.scenario_names_creator(2), {"case": case, "scenarios": scen}, mip_gap=1e-9)
    expected = 201.0 + 96.8 + 10.95 * 5000 * (4 / 24) / 30
    assert res.upper_bound == pytest.approx(expected, abs=1e-6)
    assert res.lower_bound <= res.upper_bound + 1e-9
    assert res.gap == pytest.approx((res.upper_bound - res.lower_bound) / abs(res.upper_bound))
    da = day_ahead_frame(case, res.first_stage)["grid"].to_numpy()
    np.testing.assert_allclose(da, [1000.0, 0.0, 1000.0, 0.0], atol=1e-6)



def test_changeover_latency_forces_known_schedule(price_set, hand_line_case):
    """One line, initially producing M1, 1 t/h of either material; plan over the 6-hour horizon:
    2 t of M1 and 2 t of M2 (8 t/day x 6/24). A changeover takes 2 h, a restart 2 h after a stop.
    Producing M1 first needs 2 h, switching 2 h (standby), M2 2 h: exactly 6 h, so the only schedule
    is M1 in hours 0-1, changeover in hours 2-3 (line set to M2, standby 100 kW), M2 in hours 4-5.
    (M2 first would need a second changeover back to M1: 2+2+2+2 = 8 h > 6; stopping instead of
    switching costs an idle hour plus the 2 h restart: 2+1+2+2 = 7 h > 6.) Flat prices p0 = 50 < p1 = 55, p2 = 40 in both scenarios: the day-ahead
    volume equals the load. Energy 4 x 1000 + 2 x 100 = 4200 kWh: 4.2 MWh x 50 = 210 EUR, energy
    charge 0.0242 x 4200 = 101.64 EUR; no demand charge (f1 = 0). Optimum 311.64 EUR.
    """
    case = hand_line_case()
    flat = np.full((2, 6), 50.0)
    scen = price_set(flat, flat + 5, flat - 10)
    res, ef = solve_ef(module, module.scenario_names_creator(2), {"case": case, "scenarios": scen}, mip_gap=1e-9)
    assert res.upper_bound == pytest.approx(210.0 + 0.0242 * 4200, abs=1e-6)
    assert res.lower_bound <= res.upper_bound + 1e-9

    _, model = ef_scenarios(ef)[0]
    line = model.site["plant"].line["press"]
    run = {m: [round(line.run[m, t].value, 6) for t in range(6)] for m in ("M1", "M2")}
    on_m2 = [round(line.on["M2", t].value) for t in range(6)]
    assert run["M1"] == [1, 1, 0, 0, 0, 0]
    assert run["M2"] == [0, 0, 0, 0, 1, 1]
    assert on_m2 == [0, 0, 1, 1, 1, 1]
    np.testing.assert_allclose(day_ahead_frame(case, res.first_stage)["grid"], [1000, 1000, 100, 100, 1000, 1000],
                               atol=1e-6)


def test_shorter_changeover_is_cheaper(price_set, hand_line_case):
    """With a 1 h changeover the same plan leaves an idle hour: one standby hour less (100 kWh)."""
    flat = np.full((1, 6), 50.0)
    scen = price_set(flat, flat, flat - 10)
    res, _ = solve_ef(module, ["scen0"], {"case": hand_line_case(changeover=1.0), "scenarios": scen}, mip_gap=1e-9)
    assert res.upper_bound == pytest.approx((4000 + 100) / 1000 * 50 + 0.0242 * 4100, abs=1e-6)


def test_impossible_plan_named_before_any_solve(price_set, hand_line_case):
    """2 t M1 + 3 t M2 in 6 h with a 2 h changeover needs 7 h of line time: 1 t short."""
    case = hand_line_case(plan_m2=12.0)
    problems = check_plan(case)
    assert problems, "the pre-check must flag the plan"
    assert all(p.site == "plant" for p in problems)
    assert sum(p.shortfall_t for p in problems) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(InfeasiblePlanError, match="plant"):
        plan(case, scenarios=price_set(np.full((1, 6), 50.0), np.full((1, 6), 55.0), np.full((1, 6), 40.0)),
                progress=False, measures=False)


def test_storage_overflow_named_before_any_solve(hand_line_case):
    case = hand_line_case(storage={"M1": {"initial_t": 9.0, "max_t": 10.0}})
    problems = check_plan(case)
    assert [(p.site, p.material) for p in problems] == [("plant", "M1")]
    assert problems[0].shortfall_t == pytest.approx(1.0)
    assert "storage" in problems[0].reason


def test_infeasible_peak_cap_diagnosed_as_peak_cap(price_set):
    """A hard cap of 800 kW under a 1000 kW load: only relaxing the peak cap restores feasibility,
    by 200 kW in each of the 4 hours."""
    case = _case_a(peak_cap_kw=800.0)
    scen = price_set(P0_A, P1_A, P2_A)
    diag = diagnose_infeasible(case, scenario_data(case, scen, 0))
    assert not diag.feasible
    assert list(diag.families) == ["peak_cap"]
    amounts = [a for _, a in diag.families["peak_cap"]]
    np.testing.assert_allclose(amounts, [200.0] * 4, atol=1e-6)
    assert "peak cap" in str(diag)
