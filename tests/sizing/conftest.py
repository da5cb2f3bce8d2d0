"""Sizing fixtures: small one-site cases and their typical days."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from planner.sizing.inputs import build_scenarios, representative_days


def _one_site(case, calendar, site="electroplating"):
    s = case.site(site)
    bat = dataclasses.replace(s.microgrid.battery, calendar_fade_per_year=calendar, end_of_life_soh=0.8)
    s = dataclasses.replace(s, microgrid=dataclasses.replace(s.microgrid, battery=bat))
    return case.replace(sites=[s], links=[])


@pytest.fixture(scope="session")
def one_site():
    """``one_site(case, calendar)``: the electroplating site alone, its battery fading ``calendar`` per
    year with end of life at 80 %."""
    return _one_site


@pytest.fixture(scope="module")
def small_days(default_case, shared_data):
    """Two typical days of one scenario year of the electroplating site."""
    case = _one_site(default_case, 0.015)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scen = build_scenarios(case, 1, random_state=5)
    return [representative_days(scen.frames[0], 2)]


@pytest.fixture(scope="module")
def one_site_year(default_case, shared_data):
    """The electroplating site alone, one deterministic scenario year."""
    # cheaper PV and batteries than the default so that the optimum builds something worth comparing
    economics = dataclasses.replace(default_case.economics, pv_capex_eur_per_kwp=450.0,
                                    battery_capex_eur_per_kwh=150.0, battery_capex_eur_per_kw=80.0)
    case = default_case.replace(sites=[default_case.site("electroplating")], links=[], economics=economics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scen = build_scenarios(case, 1, random_state=3)
    return case, scen
