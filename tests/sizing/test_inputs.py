"""Sizing inputs: PV modules from pvlib, representative days against the full year, the average year."""

from __future__ import annotations

import numpy as np
import pytest

from planner.sizing.inputs import average_day_table, full_year, pv_module, representative_days
from planner.sizing.methods.ef import solve_ef
from planner.sizing.model import SizingOptions


def test_pv_module_from_pvlib_database():
    mod = pv_module("Jinko_Solar__Co___Ltd_JKM400M_72L")
    assert 0.39 < mod["kwp"] < 0.41 and 1.8 < mod["area_m2"] < 2.1
    with pytest.raises(ValueError, match="CEC module"):
        pv_module("no such module")


@pytest.mark.slow
def test_representative_days_against_full_year(one_site_year):
    """Total cost with 24 tsam days within 1 % of the 8760-hour model (LP relaxation, one year of
    operation standing for the whole 20-year horizon, so that investments pay)."""
    case, scen = one_site_year
    options = SizingOptions(years=20, years_per_block=20, integer=False)
    frame = scen.frames[0]
    m_full, full = solve_ef(case, [representative_days(frame, None)], [1.0], options)
    m_24, rep = solve_ef(case, [representative_days(frame, 24)], [1.0], options)
    assert full["optimal"] and rep["optimal"]
    assert abs(rep["upper_eur"] / full["upper_eur"] - 1) < 0.01
    # something is built, and the PV sizes agree within a quarter (the battery is the most sensitive)
    pv_full, pv_24 = m_full.pv_new_kwp["electroplating"](), m_24.pv_new_kwp["electroplating"]()
    assert pv_full > 10.0
    assert abs(pv_full - pv_24) <= 0.25 * pv_full


def test_average_year_is_the_probability_weighted_mean_of_the_years(one_site_year):
    """The expected-value year of two full years weighted 1/4, 3/4 is their hourly weighted mean (the
    full year as days: nothing is clustered)."""
    _, scen = one_site_year
    year = full_year(scen.frames[0])
    doubled = full_year(scen.frames[0].mul(2.0))
    mean = average_day_table([year, doubled], [0.25, 0.75], None)
    for column, values in year.values.items():
        assert np.allclose(mean.values[column], 1.75 * values)
    assert np.array_equal(mean.weights, year.weights) and np.array_equal(mean.month_days, year.month_days)
