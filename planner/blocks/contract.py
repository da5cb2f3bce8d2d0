"""The contract block: day-ahead, intraday and resale volumes and the tariff f1*P + f2*E + f3*overrun.

First stage: ``day_ahead_kw[zone, t]`` (zone ``"grid"`` for a global contract, or one zone per site
when ``day_ahead_scope = "per_site"``). Second stage: intraday purchase ``intraday_kw`` at p1 and
resale ``resale_kw`` at p2. Per zone and period: sum of the zone's site grid imports =
day-ahead + intraday - resale. The tariff applies to the total grid import ``import_kw``:
- energy charge f2 on imported energy (positive part of the net import);
- demand charge f1 * P prorated by horizon_days / billing_period_days (a constant);
- overrun f3 * max(0, P' - threshold * P), prorated the same way, where P' is the highest average
  import over a demand window. With periods as long as or longer than the window (hourly periods,
  15-minute window), P' is the highest period average: this assumes a flat import within a period,
  so the 15-minute average equals the hourly average.
- optional hard cap on the net import (``peak_cap_kw``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo


def build_contract_block(b: pyo.Block, case, zones: dict, zone_bound_kw: dict, prices: dict,
                         site_grid_kw, elastic=frozenset()) -> pyo.Block:
    """``zones``: zone -> list of site names; ``prices``: p0, p1, p2 arrays (EUR/MWh) per period;
    ``site_grid_kw(site, t)``: the site's grid port."""
    c = case.contract
    n, dt = case.n_periods, case.period_hours
    b.T = pyo.Set(initialize=range(n), ordered=True)
    b.Z = pyo.Set(initialize=list(zones), ordered=True)
    ub = {z: float(zone_bound_kw[z]) for z in zones}
    b.day_ahead_kw = pyo.Var(b.Z, b.T, bounds=lambda b, z, t: (0.0, ub[z]))
    b.intraday_kw = pyo.Var(b.Z, b.T, bounds=lambda b, z, t: (0.0, ub[z]))
    b.resale_kw = pyo.Var(b.Z, b.T, bounds=lambda b, z, t: (0.0, ub[z]))
    for key in ("p0", "p1", "p2"):
        arr = np.asarray(prices[key], dtype=float)
        setattr(b, f"{key}_eur_per_mwh", pyo.Param(b.T, initialize=dict(enumerate(arr)), mutable=True))
    b.zone_balance = pyo.Constraint(
        b.Z, b.T,
        rule=lambda b, z, t: sum(site_grid_kw(s, t) for s in zones[z])
        == b.day_ahead_kw[z, t] + b.intraday_kw[z, t] - b.resale_kw[z, t],
    )
    b.net_import_kw = pyo.Expression(
        b.T, rule=lambda b, t: sum(b.day_ahead_kw[z, t] + b.intraday_kw[z, t] - b.resale_kw[z, t] for z in b.Z))
    total_ub = sum(ub.values())
    b.import_kw = pyo.Var(b.T, bounds=(0.0, total_ub))
    b.import_def = pyo.Constraint(b.T, rule=lambda b, t: b.import_kw[t] >= b.net_import_kw[t])
    b.peak_kw = pyo.Var(bounds=(0.0, total_ub))
    w = max(1, int(round(c.demand_window_minutes / case.period_minutes)))
    b.peak_def = pyo.Constraint(
        range(w - 1, n), rule=lambda b, t: b.peak_kw >= sum(b.net_import_kw[tau] for tau in range(t - w + 1, t + 1)) / w)
    P = float(c.subscribed_power_kw)
    b.overrun_kw = pyo.Var(bounds=(0.0, None))
    b.overrun_def = pyo.Constraint(expr=b.overrun_kw >= b.peak_kw - c.overrun_threshold * P)
    if c.peak_cap_kw is not None:
        if "peak_cap" in elastic:
            b.slack_peak_cap = pyo.Var(b.T, bounds=(0.0, None))
            b.cap = pyo.Constraint(b.T, rule=lambda b, t: b.net_import_kw[t] <= c.peak_cap_kw + b.slack_peak_cap[t])
        else:
            b.cap = pyo.Constraint(b.T, rule=lambda b, t: b.net_import_kw[t] <= c.peak_cap_kw)
    prorate = case.horizon_hours / 24.0 / c.billing_period_days
    b.prorate = prorate
    to_mwh = dt / 1000.0
    b.day_ahead_cost_eur = pyo.Expression(
        expr=sum(b.p0_eur_per_mwh[t] * b.day_ahead_kw[z, t] * to_mwh for z in b.Z for t in b.T))
    b.intraday_cost_eur = pyo.Expression(
        expr=sum(b.p1_eur_per_mwh[t] * b.intraday_kw[z, t] * to_mwh for z in b.Z for t in b.T))
    b.resale_revenue_eur = pyo.Expression(
        expr=sum(b.p2_eur_per_mwh[t] * b.resale_kw[z, t] * to_mwh for z in b.Z for t in b.T))
    b.energy_charge_eur = pyo.Expression(
        expr=float(c.energy_charge_eur_per_kwh) * dt * sum(b.import_kw[t] for t in b.T))
    b.demand_charge_eur = pyo.Expression(expr=float(c.demand_charge_eur_per_kw_month) * P * prorate)
    b.overrun_charge_eur = pyo.Expression(expr=float(c.overrun_charge_eur_per_kw) * prorate * b.overrun_kw)
    b.cost_eur = pyo.Expression(
        expr=b.day_ahead_cost_eur + b.intraday_cost_eur - b.resale_revenue_eur
        + b.energy_charge_eur + b.demand_charge_eur + b.overrun_charge_eur)
    return b
