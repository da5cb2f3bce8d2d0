"""Fixtures of the day-ahead tests: hand-checkable cases, price-only scenario sets, the default case's
energy system without production lines."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.case import case_from_dict
from scenarios.scenario_set import ScenarioSet


def prices_only(p0, p1, p2) -> ScenarioSet:
    """ScenarioSet (S, T, 3) of prices; p0/p1/p2 given as (S, T) arrays; equal probabilities."""
    values = np.stack([np.asarray(p0, float), np.asarray(p1, float), np.asarray(p2, float)], axis=2)
    s = values.shape[0]
    return ScenarioSet(values, np.full(s, 1.0 / s), ("p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"))


def line_case(plan_m2=8.0, changeover=2.0, storage=None):
    """One site, one press making M1 and M2 over 6 hours (test_plan_hand derives its optimum by hand)."""
    site = {"name": "plant", "latitude": 45.0, "longitude": 5.0,
            "base_load": {"mean_kw": 0.0, "values_kw": [0.0] * 6},
            "lines": [{"name": "press", "power_kw": {"M1": 1000.0, "M2": 1000.0},
                       "rate_t_per_h": {"M1": 1.0, "M2": 1.0}, "changeover_hours": changeover,
                       "restart_hours": 2.0, "standby_power_kw": 100.0, "initial_material": "M1"}],
            "plan_t_per_day": {"M1": 8.0, "M2": plan_m2}}
    if storage:
        site["storage"] = storage
    return case_from_dict({
        "name": "hand_b", "horizon_hours": 6, "period_minutes": 60,
        "contract": {"subscribed_power_kw": 5000.0, "demand_charge_eur_per_kw_month": 0.0,
                     "energy_charge_eur_per_kwh": 0.0242, "overrun_charge_eur_per_kw": 0.0},
        "sites": [site],
    })


@pytest.fixture
def price_set():
    """``price_set(p0, p1, p2)``: a price-only ScenarioSet."""
    return prices_only


@pytest.fixture
def hand_line_case():
    """``hand_line_case(plan_m2=8, changeover=2, storage=None)``: the one-line hand case."""
    return line_case


@pytest.fixture(scope="module")
def energy_system_case(default_case):
    """The default case's sites, microgrids, generator, links and contract without production lines."""
    sites = [dataclasses.replace(s, lines=[], plan_t_per_day={}, storage={}, deliveries=[])
             for s in default_case.sites]
    return dataclasses.replace(default_case, sites=sites, source=None)
