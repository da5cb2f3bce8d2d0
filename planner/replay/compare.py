"""Paired comparison of the replayed policies against the rule on the same realised days: the saving
(rule cost - policy cost, EUR per day and over the period) with a 95 % interval from a block bootstrap
that resamples whole weeks (ISO weeks), keeping the dependence between days of a week."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.replay.day import FIXED, LOOKAHEAD, PERFECT, RULE
from planner.replay.policies import DETERMINISTIC, PERFECT_MONTH, SDDP_OPERATION

#: the planner (two-stage plan + SDDP operation) against the policies it must beat, in this order
PLANNER_REFERENCES = (RULE, DETERMINISTIC, LOOKAHEAD, FIXED)


def week_blocks(dates) -> np.ndarray:
    """Block label of each date: its ISO (year, week)."""
    iso = pd.to_datetime(pd.Series(dates)).dt.isocalendar()
    return (iso["year"].astype(int) * 100 + iso["week"].astype(int)).to_numpy()


def block_bootstrap_mean(values, blocks, n_boot: int = 2000, random_state: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the mean of ``values`` resampling whole blocks with replacement
    (NaN, NaN with fewer than 2 blocks: no interval can be claimed)."""
    values = np.asarray(values, dtype=float)
    labels = np.unique(blocks)
    if len(labels) < 2:
        return float("nan"), float("nan")
    groups = [values[blocks == b] for b in labels]
    sums = np.array([g.sum() for g in groups])
    counts = np.array([len(g) for g in groups])
    rng = np.random.default_rng(random_state)
    pick = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    means = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def block_bootstrap_ratio(numerator, denominator, blocks, n_boot: int = 2000,
                          random_state: int = 0) -> tuple[float, float]:
    """95 % percentile interval of sum(numerator) / sum(denominator) resampling whole blocks (the same
    blocks for both: paired); NaN, NaN with fewer than 2 blocks."""
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    labels = np.unique(blocks)
    if len(labels) < 2:
        return float("nan"), float("nan")
    num = np.array([numerator[blocks == b].sum() for b in labels])
    den = np.array([denominator[blocks == b].sum() for b in labels])
    pick = np.random.default_rng(random_state).integers(0, len(labels), size=(n_boot, len(labels)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = num[pick].sum(axis=1) / den[pick].sum(axis=1)
    ratios = ratios[np.isfinite(ratios)]
    if len(ratios) == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return float(lo), float(hi)


def savings_table(daily: pd.DataFrame, n_boot: int = 2000, random_state: int = 0) -> pd.DataFrame:
    """Per policy: mean daily saving against the rule with its 95 % week-block interval, the saving over
    the period (mean x days) with its interval, the rule's and the policy's total cost (EUR), and the share
    of the perfect-foresight saving captured when that policy was replayed."""
    wide = daily.pivot(index="date", columns="policy", values="cost_eur").sort_index()
    if RULE not in wide.columns:
        raise ValueError(f"the daily table has no {RULE!r} rows: the savings are measured against it")
    blocks = week_blocks(wide.index)
    rows = []
    for policy in wide.columns:
        if policy == RULE:
            continue
        d = (wide[RULE] - wide[policy]).to_numpy()
        lo, hi = block_bootstrap_mean(d, blocks, n_boot, random_state)
        n = len(d)
        rows.append({"policy": policy, "days": n, "weeks": len(np.unique(blocks)),
                     "rule_cost_eur": float(wide[RULE].sum()), "policy_cost_eur": float(wide[policy].sum()),
                     "saving_eur_per_day": float(d.mean()), "saving_ci_low_eur_per_day": lo,
                     "saving_ci_high_eur_per_day": hi, "saving_eur": float(d.sum()),
                     "saving_ci_low_eur": lo * n, "saving_ci_high_eur": hi * n,
                     "saving_share": float(d.sum() / wide[RULE].sum())})
    table = pd.DataFrame(rows)
    # the share of the perfect-foresight saving captured: of the cheaper of the two hindsight policies
    # replayed (the month LP, the per-day hindsight; with production lines neither bounds every policy:
    # planner.replay.hindsight), with a paired week-block interval of the ratio
    replayed = [p for p in (PERFECT_MONTH, PERFECT) if p in wide.columns]
    bound = min(replayed, key=lambda p: float(wide[p].sum())) if replayed else None
    if bound is not None and len(table):
        best_d = (wide[RULE] - wide[bound]).to_numpy()
        best = float(best_d.sum())
        shares, lows, highs = [], [], []
        for policy in table["policy"]:
            d = (wide[RULE] - wide[policy]).to_numpy()
            shares.append(float(d.sum() / best) if best > 0 else np.nan)
            lo, hi = block_bootstrap_ratio(d, best_d, blocks, n_boot, random_state) if best > 0 else (np.nan, np.nan)
            lows.append(lo)
            highs.append(hi)
        table["perfect_foresight_reference"] = bound
        table["share_of_perfect_foresight_saving"] = shares
        table["share_ci_low"] = lows
        table["share_ci_high"] = highs
    return table


def paired_difference(daily: pd.DataFrame, policy: str, reference: str, n_boot: int = 2000,
                      random_state: int = 0) -> dict:
    """How much ``policy`` saves against ``reference`` (EUR per day, reference cost - policy cost) on the
    same realised days, with its 95 % week-block interval (e.g. the planner against the deterministic plan)."""
    wide = daily.pivot(index="date", columns="policy", values="cost_eur").sort_index()
    missing = [p for p in (policy, reference) if p not in wide.columns]
    if missing:
        raise ValueError(f"policies {missing} were not replayed; the daily table has {list(wide.columns)}")
    d = (wide[reference] - wide[policy]).to_numpy()
    blocks = week_blocks(wide.index)
    lo, hi = block_bootstrap_mean(d, blocks, n_boot, random_state)
    return {"policy": policy, "reference": reference, "days": len(d), "weeks": len(np.unique(blocks)),
            "saving_eur_per_day": float(d.mean()), "saving_ci_low_eur_per_day": lo, "saving_ci_high_eur_per_day": hi}


def planner_table(daily: pd.DataFrame, n_boot: int = 2000, random_state: int = 0) -> pd.DataFrame:
    """The planner's saving against each replayed policy of ``PLANNER_REFERENCES`` (EUR/day, that policy's cost -
    the planner's, on the same days) with its 95 % week-block interval and whether the interval excludes 0;
    empty when the planner was not replayed."""
    replayed = set(daily["policy"])
    if SDDP_OPERATION not in replayed:
        return pd.DataFrame()
    rows = [paired_difference(daily, SDDP_OPERATION, ref, n_boot, random_state)
            for ref in PLANNER_REFERENCES if ref in replayed]
    table = pd.DataFrame(rows)
    if len(table):
        table["beats_it"] = table["saving_ci_low_eur_per_day"] > 0   # NaN interval (one week): False
    return table
