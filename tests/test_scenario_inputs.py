"""A case's scenarios come from the committed calibrated models, deterministically, on its periods."""

from __future__ import annotations

import numpy as np
import pytest

from planner.scenario_inputs import case_scenarios, day_ahead_prices


@pytest.fixture(scope="module")
def scenarios(default_case):
    return case_scenarios(default_case, n_scenarios=40, seed=3)


def test_every_site_gets_its_renewable_variables(default_case, scenarios):
    expected = {"p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"}
    for site in default_case.sites:
        if site.microgrid.pv:
            expected.add(f"pv_kw_per_kwp:{site.name}")
        if site.microgrid.wind:
            expected.add(f"wind_kw_per_turbine:{site.name}")
    assert set(scenarios.variables) == expected
    assert scenarios.values.shape[:2] == (40, default_case.n_periods)
    assert all(name[-1].isdigit() for name in scenarios.names)


def test_same_seed_same_scenarios(default_case, scenarios):
    again = case_scenarios(default_case, n_scenarios=40, seed=3)
    assert np.array_equal(again.values, scenarios.values)
    other = case_scenarios(default_case, n_scenarios=40, seed=4)
    assert not np.array_equal(other.values, scenarios.values)


def test_procurement_mode_knows_the_day_ahead_price(default_case, scenarios):
    p0 = scenarios["p0_eur_per_mwh"]
    assert np.allclose(p0, p0[0])  # the same known curve in every scenario
    assert np.allclose(p0[0], day_ahead_prices(default_case))
    # resale never pays more than the day-ahead price, intraday never less
    assert np.all(scenarios["p2_eur_per_mwh"] <= p0) and np.all(scenarios["p1_eur_per_mwh"] >= p0)


def test_unconditional_mode_has_uncertain_day_ahead_prices(default_case):
    s = case_scenarios(default_case, n_scenarios=40, seed=3, mode="unconditional")
    assert s["p0_eur_per_mwh"].std(axis=0).min() > 1.0


def test_pv_is_zero_at_night_and_bounded_by_one_kw_per_kwp(scenarios):
    pv = scenarios["pv_kw_per_kwp:foundry"]
    assert np.all(pv[:, :4] == 0) and np.all(pv[:, 22:] == 0)  # June nights in Lyon, local time
    assert pv.max() <= 1.0 and pv[:, 11:15].mean() > 0.2


def test_wind_never_exceeds_the_turbine_rating(scenarios):
    wind = scenarios["wind_kw_per_turbine:metal_processing"]
    assert wind.min() >= 0 and wind.max() <= 800.0 + 1e-9  # E-53/800


def test_given_day_ahead_prices_are_used_unchanged(default_case):
    prices = list(np.linspace(10, 80, 24))
    case = default_case.replace(scenarios=default_case.scenarios.__class__(
        **{**default_case.scenarios.__dict__, "day_ahead_prices_eur_per_mwh": prices}))
    s = case_scenarios(case, n_scenarios=5, seed=0)
    assert np.allclose(s["p0_eur_per_mwh"][2], prices)


def test_quarter_hour_periods_repeat_hourly_values(default_case):
    lines = [line.__class__(**{**line.__dict__, "changeover_hours": 1.0, "restart_hours": 1.0})
             for line in default_case.sites[0].lines]
    case = default_case.replace(period_minutes=15.0,
                                sites=[default_case.sites[0].__class__(**{**default_case.sites[0].__dict__, "lines": lines}),
                                       *default_case.sites[1:]])
    s = case_scenarios(case, n_scenarios=4, seed=1)
    assert s.n_periods == 96 and s.period_hours == 0.25
    hourly = case_scenarios(default_case, n_scenarios=4, seed=1)
    assert np.allclose(s["p0_eur_per_mwh"].reshape(4, 24, 4).mean(axis=2), hourly["p0_eur_per_mwh"])
