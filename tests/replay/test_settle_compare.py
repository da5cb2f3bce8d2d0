"""Monthly bills and paired savings on hand-made daily tables (values checked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.replay.compare import (block_bootstrap_mean, block_bootstrap_ratio, paired_difference, planner_table,
                                    savings_table, week_blocks)
from planner.replay.day import FIXED, PERFECT, RULE
from planner.replay.policies import DETERMINISTIC, PERFECT_MONTH, SDDP_OPERATION
from planner.replay.settle import monthly_bills


def daily(costs_rule, costs_fixed, start="2022-01-03"):
    dates = pd.date_range(start, periods=len(costs_rule)).strftime("%Y-%m-%d")
    rows = []
    for policy, costs in ((RULE, costs_rule), (FIXED, costs_fixed)):
        for d, c in zip(dates, costs):
            rows.append({"date": d, "month": d[:7], "policy": policy, "cost_eur": c, "day_ahead_energy_eur": c / 2,
                         "operating_eur": c / 2, "overrun_eur": 0.0, "day_peak_kw": 100.0 + c,
                         "unserved_kwh": 0.0})
    return pd.DataFrame(rows)


def test_monthly_bill_by_hand(default_case):
    frame = daily([10.0, 20.0, 30.0], [5.0, 5.0, 5.0], start="2022-01-30")   # 30, 31 Jan and 1 Feb
    bills = monthly_bills(frame, default_case).set_index(["policy", "month"])
    jan = bills.loc[(RULE, "2022-01")]
    # f1 * P * days / billing period = 10.95 EUR/kW/month * 7000 kW * 2 / 30
    assert jan["demand_charge_eur"] == pytest.approx(10.95 * 7000 * 2 / 30)
    assert jan["total_eur"] == pytest.approx(30.0 + 10.95 * 7000 * 2 / 30)
    assert jan["month_peak_kw"] == 120.0 and jan["days"] == 2
    assert bills.loc[(RULE, "2022-02"), "month_peak_kw"] == 130.0      # the peak resets with the month


def test_savings_with_week_blocks():
    # 14 days = ISO weeks 1 and 2 of 2022; saving 10 EUR every day of week 1 and 30 of week 2
    rule = [100.0] * 14
    fixed = [90.0] * 7 + [70.0] * 7
    table = savings_table(daily(rule, fixed), n_boot=4000).iloc[0]
    assert table["weeks"] == 2 and table["days"] == 14
    assert table["saving_eur_per_day"] == pytest.approx(20.0)
    assert table["saving_eur"] == pytest.approx(280.0)
    # resampling two weeks: means 10 (both week 1), 20, 30 with probabilities 1/4, 1/2, 1/4
    assert table["saving_ci_low_eur_per_day"] == pytest.approx(10.0)
    assert table["saving_ci_high_eur_per_day"] == pytest.approx(30.0)


def test_one_week_gives_no_interval():
    lo, hi = block_bootstrap_mean(np.ones(5), week_blocks(pd.date_range("2022-01-03", periods=5)))
    assert np.isnan(lo) and np.isnan(hi)


def test_week_blocks_follow_iso_weeks():
    blocks = week_blocks(pd.date_range("2022-01-01", periods=10))   # Sat 1 Jan 2022 is in ISO week 52 of 2021
    assert list(blocks[:3]) == [202152, 202152, 202201]


def test_share_of_the_month_bound_by_hand():
    """The policy saves half of what the month in hindsight saves, every day: share 0.5, interval [0.5, 0.5]."""
    frame = daily([100.0] * 14, [90.0] * 14)
    bound = frame[frame["policy"] == FIXED].assign(policy=PERFECT_MONTH, cost_eur=80.0)
    table = savings_table(pd.concat([frame, bound]), n_boot=500).set_index("policy")
    row = table.loc[FIXED]
    assert row["perfect_foresight_reference"] == PERFECT_MONTH
    assert row["share_of_perfect_foresight_saving"] == pytest.approx(0.5)
    assert row["share_ci_low"] == pytest.approx(0.5) and row["share_ci_high"] == pytest.approx(0.5)
    assert table.loc[PERFECT_MONTH, "share_of_perfect_foresight_saving"] == pytest.approx(1.0)


def test_the_share_is_of_the_cheaper_hindsight_policy():
    """With production lines the month LP (the lines' schedules given) may cost more than the per-day
    hindsight: the share is then of the per-day one's saving (20 of 40 EUR/day), never above 1 for it."""
    frame = daily([100.0] * 14, [80.0] * 14)
    month = frame[frame["policy"] == FIXED].assign(policy=PERFECT_MONTH, cost_eur=90.0)
    day = frame[frame["policy"] == FIXED].assign(policy=PERFECT, cost_eur=60.0)
    table = savings_table(pd.concat([frame, month, day]), n_boot=200).set_index("policy")
    assert (table["perfect_foresight_reference"] == PERFECT).all()
    assert table.loc[FIXED, "share_of_perfect_foresight_saving"] == pytest.approx(0.5)
    assert table.loc[PERFECT_MONTH, "share_of_perfect_foresight_saving"] == pytest.approx(0.25)
    assert table.loc[PERFECT, "share_of_perfect_foresight_saving"] == pytest.approx(1.0)


def test_ratio_interval_resamples_weeks_together():
    # week 1: saving 10 of a bound saving 20; week 2: 30 of 40. Resampled pairs of weeks give the ratios
    # 20/40, 40/60, 60/80 with probabilities 1/4, 1/2, 1/4: the 95 % interval is [0.5, 0.75]
    blocks = np.array([1] * 7 + [2] * 7)
    lo, hi = block_bootstrap_ratio(np.r_[[10 / 7] * 7, [30 / 7] * 7], np.r_[[20 / 7] * 7, [40 / 7] * 7],
                                   blocks, n_boot=4000)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.75)


def test_paired_difference_between_two_policies_by_hand():
    # the fixed schedule saves 10 EUR a day in week 1 and 30 in week 2 against the rule: against the rule
    # the same numbers; against itself nothing
    frame = daily([100.0] * 14, [90.0] * 7 + [70.0] * 7)
    out = paired_difference(frame, FIXED, RULE, n_boot=4000)
    assert out["saving_eur_per_day"] == pytest.approx(20.0)
    assert (out["saving_ci_low_eur_per_day"], out["saving_ci_high_eur_per_day"]) == pytest.approx((10.0, 30.0))
    reverse = paired_difference(frame, RULE, FIXED, n_boot=4000)
    assert reverse["saving_eur_per_day"] == pytest.approx(-20.0)
    with pytest.raises(ValueError, match="not replayed"):
        paired_difference(frame, PERFECT_MONTH, RULE)


def test_the_planner_against_each_policy_by_hand():
    # the planner costs 95 a day in week 1 and 75 in week 2; the fixed schedule 90 / 70 (the planner loses 5 a
    # day, every day), the deterministic plan 100 / 80 (the planner saves 5 a day), the rule 100 every day
    frame = daily([100.0] * 14, [90.0] * 7 + [70.0] * 7)
    dates = frame["date"].unique()
    planner = pd.DataFrame({"date": dates, "policy": SDDP_OPERATION, "cost_eur": [95.0] * 7 + [75.0] * 7})
    determ = pd.DataFrame({"date": dates, "policy": DETERMINISTIC, "cost_eur": [100.0] * 7 + [80.0] * 7})
    table = planner_table(pd.concat([frame, planner, determ], ignore_index=True), n_boot=4000).set_index("reference")
    assert list(table.index) == [RULE, DETERMINISTIC, FIXED]      # the look-ahead was not replayed: no row
    assert table.loc[DETERMINISTIC, "saving_eur_per_day"] == pytest.approx(5.0)
    assert table.loc[FIXED, "saving_eur_per_day"] == pytest.approx(-5.0)
    assert table.loc[RULE, "saving_eur_per_day"] == pytest.approx(15.0)
    # week savings against the rule 5 and 25: the interval spans them and excludes 0
    assert (table.loc[RULE, "saving_ci_low_eur_per_day"], table.loc[RULE, "saving_ci_high_eur_per_day"]) \
        == pytest.approx((5.0, 25.0))
    assert table["beats_it"].tolist() == [True, True, False] and (table["weeks"] == 2).all()
    assert planner_table(frame).empty   # no planner replayed: nothing to compare
