"""Fixtures shared by the scenario tests: the real data files of ../shared/data, read once per session."""

from __future__ import annotations

import pytest

from scenarios.calibration import read_france_capacity_factors, read_ouessant, read_windpowerlib_example
from scenarios.history import load_entsoe_fr


@pytest.fixture(scope="session")
def entsoe_history(shared_data):
    """ENTSO-E France hourly history 2015-2023 (prices, load and renewable forecasts), repaired."""
    return load_entsoe_fr(shared_data / "prices" / "entsoe_FR_2015_2023.csv")


@pytest.fixture(scope="session")
def france_capacity_factors(shared_data):
    """Dispa-SET national hourly capacity factors (PHOT, WTON...) of 2015 and 2016, by year."""
    return {year: read_france_capacity_factors(shared_data, year) for year in (2015, 2016)}


@pytest.fixture(scope="session")
def ouessant(shared_data):
    """Ouessant 2016 PVGIS weather: PV output per kWp, temperature and wind speed at 10 m."""
    return read_ouessant(shared_data)


@pytest.fixture(scope="session")
def windpowerlib_weather(shared_data):
    """windpowerlib's 2010 example weather (wind speed at 10 m and 80 m)."""
    return read_windpowerlib_example(shared_data)
