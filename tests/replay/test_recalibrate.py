"""Rolling recalibration: the window ends before the recalibration day R <= D, R is fixed by the calendar,
and a refitted price model changes the forecast when the day-ahead prices are not known."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.replay.day import RULE, ReplayOptions, forecast, initial_state
from planner.replay.recalibrate import recalibrated_case, recalibration_day, window_prices

DAY = pd.Timestamp("2022-03-10")


def test_recalibration_days_follow_the_calendar():
    # 2022-03-10 has ordinal 738224 = 7 * 105460 + 4: the last multiple of 7 is 4 days earlier
    assert pd.Timestamp("2022-03-10").toordinal() % 7 == 4
    assert recalibration_day("2022-03-10", 7) == pd.Timestamp("2022-03-06")
    assert recalibration_day("2022-03-06", 7) == pd.Timestamp("2022-03-06")
    assert recalibration_day("2022-03-10", 1) == pd.Timestamp("2022-03-10")


def test_window_never_includes_the_day(real_days):
    known = real_days.known_before(DAY, day_ahead_known=True)      # holds the day-ahead prices of D
    r, rows = window_prices(known, DAY, 1, 30)
    assert r == DAY
    assert rows.index.max() < DAY and rows.index.min() >= DAY - pd.Timedelta(days=30)
    assert len(rows) == 30 * 24               # 2022-02-08 .. 03-09, 24 wall-clock hours a day (no DST change)
    r7, rows7 = window_prices(known, DAY, 7, 30)
    assert rows7.index.max() < r7 <= DAY


def test_short_window_keeps_the_calibrated_model(small_case, real_days):
    case, on = recalibrated_case(small_case, real_days.known_before("2015-01-14", True), "2015-01-14", 1, 365)
    assert on == "" and case is small_case    # the data starts 2015-01-05: 9 days of a 365-day window


def test_window_shorter_than_a_year_is_refused():
    with pytest.raises(ValueError, match="recalibrate_window_days"):
        ReplayOptions(recalibrate_every=7, recalibrate_window_days=120).check()


def test_refitted_price_model_moves_the_unknown_day_ahead_forecast(small_case, real_days):
    state = initial_state(small_case)
    known = real_days.known_before(DAY, day_ahead_known=False)
    base = ReplayOptions(n_scenarios=4, day_ahead_known=False, policies=(RULE,))
    refit = ReplayOptions(n_scenarios=4, day_ahead_known=False, policies=(RULE,), recalibrate_every=7)
    _, s0 = forecast(small_case, known, DAY, state, base)
    _, s1 = forecast(small_case, known, DAY, state, refit)
    assert s1.metadata["recalibrated_on"] == "2022-03-06" and s0.metadata["recalibrated_on"] == ""
    # fitted before 2021, the calibrated model does not know the 2022 price level; the refit does
    assert s1["p0_eur_per_mwh"].mean() > 1.5 * s0["p0_eur_per_mwh"].mean()
