"""Real price days for the policy comparison: every day within +-15 days of the case's calendar day
in 2019 and in 2022 (the price file is read-only at ``../shared/data/prices/fr_hourly_2019_2022.csv``;
skipped when absent). The day-ahead price p0 is the real one; p1 and p2 are drawn around it by
``scenarios.intraday.IntradayResaleModel`` with the case's terms (``contract.intraday``,
``contract.resale``); PV and wind come from the generated comparison paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.case import Case
from scenarios.intraday import IntradayResaleModel
from scenarios.scenario_set import ScenarioSet

PRICE_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "prices" / "fr_hourly_2019_2022.csv"


def real_day_paths(case: Case, variables, generated_values, years=(2019, 2022), window_days: int = 15,
                   price_file=PRICE_FILE):
    """{year: values (days, T, V)} with real p0, p1/p2 from the case's terms, PV/wind from
    ``generated_values`` (cycled). None when the price file is absent."""
    path = Path(price_file)
    if not path.exists():
        return None
    frame = pd.read_csv(path, usecols=[0, 1])
    frame.columns = ["time", "price"]
    frame["time"] = pd.to_datetime(frame["time"])
    frame["date"] = frame["time"].dt.normalize()
    T = case.n_periods
    if case.period_hours != 1.0 or T % 24:
        return None  # real days are hourly whole days
    n_days = T // 24
    day = pd.Timestamp(case.scenarios.day)
    out = {}
    for year in years:
        try:
            centre = day.replace(year=year)
        except ValueError:  # 29 February
            centre = day.replace(year=year, day=28)
        starts = pd.date_range(centre - pd.Timedelta(days=window_days), centre + pd.Timedelta(days=window_days))
        paths = []
        for start in starts:
            sel = frame[(frame["date"] >= start) & (frame["date"] < start + pd.Timedelta(days=n_days))]
            if len(sel) != T:
                continue  # DST days have 23 or 25 hours
            paths.append(sel["price"].to_numpy(dtype=float))
        if not paths:
            continue
        p0 = np.array(paths)
        p1, p2 = intraday_prices(case, p0, random_state=year)
        values = np.empty((len(p0), T, len(variables)))
        for s in range(len(p0)):
            values[s] = generated_values[s % len(generated_values)]
        values[:, :, 0], values[:, :, 1], values[:, :, 2] = p0, p1, p2
        out[year] = values
    return out


def intraday_prices(case: Case, p0: np.ndarray, random_state: int = 0):
    """p1 and p2 around real p0 paths (days, T), sampled by ``scenarios.intraday.IntradayResaleModel``
    with the case's terms."""
    c = case.contract
    model = IntradayResaleModel(
        premium_ratio_mean=c.intraday.premium_ratio_mean, premium_ratio_std=c.intraday.premium_ratio_std,
        min_premium_eur_per_mwh=c.intraday.min_premium_eur_per_mwh,
        resale_discount_ratio_mean=c.resale.discount_ratio_mean,
        resale_discount_ratio_std=c.resale.discount_ratio_std, resale_fee_eur_per_mwh=c.resale.fee_eur_per_mwh,
        hourly_correlation=c.intraday.hourly_correlation)
    n = len(p0)
    base = ScenarioSet(p0[:, :, None], np.full(n, 1.0 / n), ("p0_eur_per_mwh",), period_hours=case.period_hours)
    out = model.sample(base, random_state=random_state)
    return out["p1_eur_per_mwh"], out["p2_eur_per_mwh"]
