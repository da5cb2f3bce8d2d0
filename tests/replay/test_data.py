"""The realised days come from one source for every period (the ENTSO-E extract to 2023-06-30): its
capacity factors reproduce the shared fr_hourly_2019_2022.csv derivation over 2019-2022, and a 2023 period
runs (only its rows and columns are checked: 2023-H1 is reserved, its costs are never looked at)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.replay.data import PRICE, SOLAR, WIND, installed_mw, load_real_days
from planner.replay.day import FIXED, RULE, ReplayOptions
from planner.replay.run import run_replay

#: autumn DST days whose onshore-wind forecast is missing for most of the day in the source: the
#: fr_hourly derivation filled the gap from the half-valued 02:00 artefact, the repaired extract from 01:00
AUTUMN_GAP_DAYS = {"2019-10-27", "2020-10-25", "2021-10-31"}


def test_the_default_source_reproduces_the_fr_hourly_derivation(real_days, shared_data):
    old = load_real_days(shared_data / "prices" / "fr_hourly_2019_2022.csv").frame
    new = real_days.frame.loc[old.index]
    assert real_days.first_day == pd.Timestamp("2015-01-05") and real_days.last_day == pd.Timestamp("2023-06-30")
    assert "entsoe_FR_2015_2023.csv" in real_days.description and "Sol_DA" in real_days.description
    np.testing.assert_array_equal(new[PRICE].to_numpy(), old[PRICE].to_numpy())
    # fr_hourly rounds its capacity factors to 4 decimals
    np.testing.assert_allclose(new[SOLAR].to_numpy(), old[SOLAR].to_numpy(), atol=5.1e-5, rtol=0)
    keep = ~pd.Index(old.index.strftime("%Y-%m-%d")).isin(AUTUMN_GAP_DAYS)
    np.testing.assert_allclose(new[WIND].to_numpy()[keep], old[WIND].to_numpy()[keep], atol=5.1e-5, rtol=0)


def test_installed_capacity_is_linear_between_year_ends_and_extended_by_the_last_growth():
    at = pd.to_datetime(["2021-12-31 23:00", "2022-07-02 11:00", "2022-12-31 23:00", "2023-07-02 11:00"])
    pv = installed_mw("pv", at)
    assert pv[0] == pytest.approx(13067.0) and pv[2] == pytest.approx(15756.0)
    assert pv[1] == pytest.approx((13067.0 + 15756.0) / 2)                   # mid-year: the mean of the year ends
    assert pv[3] == pytest.approx(15756.0 + (15756.0 - 13067.0) / 2)          # half a year of 2022's growth


@pytest.mark.slow
def test_two_days_of_january_2023_run(small_case, tmp_path, shared_data):
    # the default source, as `planner replay CASE --start 2023-01-01 --end 2023-06-30` reads it
    options = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED))
    result = run_replay(small_case, "2023-01-02", "2023-01-03", options, tmp_path, progress=False, figures=False)
    daily = result.daily
    assert len(daily) == 4
    assert sorted(daily["date"].unique()) == ["2023-01-02", "2023-01-03"]
    assert sorted(daily["policy"].unique()) == sorted([RULE, FIXED])
    for column in ("cost_eur", "day_ahead_energy_eur", "operating_eur", "overrun_eur", "soc_end_kwh",
                   "month_peak_kw", "lower_bound_eur", "upper_bound_eur", "gap", "fallback", "seed"):
        assert column in daily.columns
    assert "entsoe_FR_2015_2023.csv" in result.realised_data
    assert (tmp_path / "daily.parquet").exists() and (tmp_path / "savings.csv").exists()
