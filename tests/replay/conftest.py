"""Fixtures of the replay tests: the default case's energy system without production lines (fast plans),
the real French days (skipped when ../shared/data is absent)."""

from __future__ import annotations

import dataclasses

import pytest

from planner.replay.data import load_real_days


def energy_system(case, **contract):
    """The case's sites, microgrids, generator, links and contract without production lines."""
    sites = [dataclasses.replace(s, lines=[], plan_t_per_day={}, storage={}, deliveries=[]) for s in case.sites]
    return dataclasses.replace(case, sites=sites, source=None,
                               contract=dataclasses.replace(case.contract, **contract))


@pytest.fixture(scope="session")
def small_case(default_case):
    return energy_system(default_case)


@pytest.fixture(scope="session")
def overrun_case(default_case):
    """Subscribed power 300 kW and a cheap overrun (1 EUR/kW): the plan lets the import overrun 110 % of P."""
    return energy_system(default_case, subscribed_power_kw=300.0, overrun_charge_eur_per_kw=1.0,
                         demand_charge_eur_per_kw_month=0.5)


@pytest.fixture(scope="session")
def real_days(shared_data):
    return load_real_days(shared_data / "prices" / "entsoe_FR_2015_2023.csv")


@pytest.fixture(scope="session")
def one_line_site_case(default_case):
    """The default case with production lines at metal_processing only (the other sites' loads are their
    base loads): plans with a production schedule that solve fast."""
    sites = [s if s.name == "metal_processing" else
             dataclasses.replace(s, lines=[], plan_t_per_day={}, storage={}, deliveries=[])
             for s in default_case.sites]
    return dataclasses.replace(default_case, sites=sites, source=None)
