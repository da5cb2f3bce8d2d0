"""Paired comparison of the replayed policies against the rule on the same realised days: the saving
(rule cost - policy cost, EUR per day and over the period) with a 95 % interval from a block bootstrap
that resamples whole weeks (ISO weeks), keeping the dependence between days of a week."""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.replay.day import PERFECT, RULE


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
    if PERFECT in wide.columns and len(table):
        best = float((wide[RULE] - wide[PERFECT]).sum())
        table["share_of_perfect_foresight_saving"] = table["saving_eur"] / best if best > 0 else np.nan
    return table
