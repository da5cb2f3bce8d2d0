"""Sizing fixtures: small one-site cases and their typical days."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from planner.case import load_case
from planner.sizing.inputs import build_scenarios, representative_days
from planner.sizing.run import run_sizing


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


TINY_CASE = """
# one plating site with one line (6 t of M3 a day on a 400 kW bath), PV and a battery, cheap PV and
# batteries: a case small enough to schedule, size and plan in seconds
name = "tiny_plating"
period_minutes = 60
horizon_hours = 24

[contract]
subscribed_power_kw = 600.0
demand_charge_eur_per_kw_month = 10.95
energy_charge_eur_per_kwh = 0.0242
overrun_charge_eur_per_kw = 25.0
overrun_threshold = 1.10

[scenarios]
day = "2019-06-12"
n_scenarios = 2
parameters = "{parameters}"

[economics]
horizon_years = 1
pv_capex_eur_per_kwp = 450.0
battery_capex_eur_per_kwh = 150.0
battery_capex_eur_per_kw = 80.0

[[sites]]
name = "plating"
latitude = 45.672
longitude = 4.905
grid_connection_kw = 2500.0

[sites.base_load]
mean_kw = 350.0
profile = "electroplating"

[[sites.lines]]
name = "bath"
power_kw = {{ M3 = 400.0 }}
rate_t_per_h = {{ M3 = 1.0 }}
changeover_hours = 0
restart_hours = 1
startup_energy_kwh = 100.0
standby_power_kw = 40.0
initial_material = "M3"

[sites.storage]
M3 = {{ initial_t = 2.0, max_t = 15.0 }}

[sites.plan_t_per_day]
M3 = 6.0

[sites.microgrid.pv]
kwp = 250.0
tilt_deg = 10.0
azimuth_deg = 190.0

[sites.microgrid.battery]
energy_kwh = 400.0
power_kw = 200.0
chemistry = "lfp"

[sites.sizing]
max_pv_kwp = 800.0
max_battery_kwh = 2000.0
max_battery_kw = 1000.0
"""


@pytest.fixture(scope="session")
def tiny_case_file(tmp_path_factory, project_root):
    """The tiny case (``TINY_CASE``) as a TOML file."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.toml"
    path.write_text(TINY_CASE.format(parameters=(project_root / "data" / "calibrated").as_posix()))
    return path


@pytest.fixture(scope="session")
def tiny_sizing(tiny_case_file, shared_data, tmp_path_factory):
    """(case, result, output folder) of the tiny case sized by default (the lines scheduled, re-planned with
    the sized system until sizing and planning agree): one scenario year, two representative days (plus
    the extreme days), one year, no ageing. Session-wide: three test modules read it."""
    case = load_case(tiny_case_file)
    out = tmp_path_factory.mktemp("tiny_sizing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_sizing(case, years=1, days=2, n_scenarios=1, years_per_block=1, ageing=False, progress=False,
                            mip_rel_gap=1e-4, random_state=5, output_dir=out, include_lines=True)
    return case, result, out
