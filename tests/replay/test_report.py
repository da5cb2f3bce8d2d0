"""The replay's figures and page: cumulative saving with its week-block band (by hand), the four PNGs and
report.html written into the output folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.replay.day import FIXED, RULE
from planner.replay.report import cumulative_savings, write_report
from planner.replay.settle import monthly_bills
from planner.replay.compare import planner_table, savings_table
from planner.replay.policies import SDDP_OPERATION


def daily_table(days=14):
    dates = pd.date_range("2022-01-03", periods=days).strftime("%Y-%m-%d")     # ISO weeks 1 and 2 of 2022
    rows = []
    for k, d in enumerate(dates):
        for policy, cost in ((RULE, 100.0), (FIXED, 90.0 if k < 7 else 70.0)):
            rows.append({"date": d, "month": d[:7], "policy": policy, "cost_eur": cost, "day_ahead_energy_eur": cost,
                         "operating_eur": 0.0, "overrun_eur": 0.0, "day_peak_kw": 500.0, "unserved_kwh": 0.0,
                         "soc_end_kwh": 950.0, "month_peak_kw": 500.0 + k, "forecast_p0_range_coverage": 1.0,
                         "forecast_pv_range_coverage": 0.5})
    return pd.DataFrame(rows)


def test_cumulative_saving_and_band_by_hand():
    cum = cumulative_savings(daily_table(), n_boot=4000).set_index("date")
    assert cum.loc["2022-01-09", "saving_eur"] == pytest.approx(70.0)      # 7 days x 10 EUR
    assert cum.loc["2022-01-16", "saving_eur"] == pytest.approx(280.0)     # + 7 days x 30 EUR
    assert np.isnan(cum.loc["2022-01-09", "ci_low_eur"])                   # one week: no interval
    # two weeks: 14 days x the interval of the mean daily saving, [10, 30] EUR/day (see test_settle_compare)
    assert cum.loc["2022-01-16", "ci_low_eur"] == pytest.approx(140.0)
    assert cum.loc["2022-01-16", "ci_high_eur"] == pytest.approx(420.0)


def test_report_writes_the_figures(small_case, tmp_path):
    daily = daily_table()
    page = write_report(daily, monthly_bills(daily, small_case), savings_table(daily), small_case, tmp_path)
    assert page == tmp_path / "report.html" and page.stat().st_size > 10_000
    for name in ("cumulative_saving", "monthly_bills", "state", "forecast_coverage"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 5_000
    assert "Savings" in page.read_text() and "planner against" not in page.read_text()


def test_report_shows_the_planner_against_the_others(small_case, tmp_path):
    daily = daily_table()
    planner = daily[daily["policy"] == FIXED].assign(policy=SDDP_OPERATION, cost_eur=lambda f: f["cost_eur"] - 3.0)
    daily = pd.concat([daily, planner], ignore_index=True)
    page = write_report(daily, monthly_bills(daily, small_case), savings_table(daily), small_case, tmp_path,
                        planner=planner_table(daily))
    text = page.read_text()
    assert "The planner against the other policies" in text and FIXED in text
    table = pd.read_csv(tmp_path / "tables" / "planner_against.csv").set_index("reference")
    assert table.loc[FIXED, "saving_eur_per_day"] == pytest.approx(3.0) and bool(table.loc[FIXED, "beats_it"])
