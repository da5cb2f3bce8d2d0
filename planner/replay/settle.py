"""Monthly bills of a replay under the contract f1*P + f2*E + f3*max(0, P' - threshold*P): the demand charge
f1*P prorated over the replayed days (``billing_period_days``), the overrun charge on the month's real peak."""

from __future__ import annotations

import pandas as pd

from planner.case import Case


def monthly_bills(daily: pd.DataFrame, case: Case) -> pd.DataFrame:
    """One row per (policy, month): day-ahead energy, operating (intraday, resale, fuel, f2, penalties),
    overrun f3 on the month's peak, demand charge, total (EUR), the month's peak (kW) and its days."""
    c = case.contract
    thr = c.overrun_threshold * c.subscribed_power_kw
    rows = []
    for (policy, month), g in daily.groupby(["policy", "month"], sort=True):
        peak = float(g["day_peak_kw"].max())
        days = len(g)
        demand = c.demand_charge_eur_per_kw_month * c.subscribed_power_kw * days / c.billing_period_days
        overrun = float(g["overrun_eur"].sum())
        rows.append({"policy": policy, "month": month, "days": days,
                     "day_ahead_energy_eur": float(g["day_ahead_energy_eur"].sum()),
                     "operating_eur": float(g["operating_eur"].sum()), "overrun_eur": overrun,
                     "overrun_on_month_peak_eur": c.overrun_charge_eur_per_kw * max(0.0, peak - thr),
                     "demand_charge_eur": demand, "total_eur": float(g["cost_eur"].sum()) + demand,
                     "month_peak_kw": peak, "unserved_kwh": float(g["unserved_kwh"].sum())})
    return pd.DataFrame(rows)
