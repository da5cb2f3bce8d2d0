"""Scenario inputs of the day-ahead model: which variables a case needs, one scenario's prices and
renewables, the expected-value scenario, contract zones, and seeded synthetic scenarios for demos and tests."""

from __future__ import annotations

import numpy as np

from planner.blocks.site import site_max_demand_kw
from scenarios.scenario_set import ScenarioSet

PRICE_VARIABLES = ("p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh")


def required_variables(case) -> list[str]:
    """Scenario variables the model reads for ``case``."""
    names = list(PRICE_VARIABLES)
    for s in case.sites:
        if s.microgrid.pv is not None and s.microgrid.pv.kwp > 0:
            names.append(f"pv_kw_per_kwp:{s.name}")
        if sum(w.count for w in s.microgrid.wind) > 0:
            names.append(f"wind_kw_per_turbine:{s.name}")
    return names


def check_scenarios(case, scenarios) -> None:
    """Raise ValueError naming what is wrong when ``scenarios`` does not fit ``case``."""
    missing = [v for v in required_variables(case) if v not in scenarios.variables]
    if missing:
        raise ValueError(
            f"scenarios: missing variables {missing}; the case needs {required_variables(case)} "
            "(build them with planner.scenario_inputs.case_scenarios or add them to the ScenarioSet)")
    if scenarios.n_periods != case.n_periods:
        raise ValueError(f"scenarios: {scenarios.n_periods} periods but the case has {case.n_periods} "
                         f"(horizon_hours / period_minutes); regenerate the scenarios for this case")
    if abs(scenarios.period_hours - case.period_hours) > 1e-9:
        raise ValueError(f"scenarios: period_hours = {scenarios.period_hours} but the case uses "
                         f"{case.period_hours} h periods")


def scenario_data(case, scenarios, index: int) -> dict:
    """The inputs of one scenario: prices (EUR/MWh) and available PV and wind (kW) per site."""
    values = scenarios.values[index]
    col = {v: i for i, v in enumerate(scenarios.variables)}
    data = {k[:2]: values[:, col[k]] for k in PRICE_VARIABLES}
    data["pv_kw"], data["wind_kw"] = {}, {}
    for s in case.sites:
        n = case.n_periods
        pv = s.microgrid.pv
        data["pv_kw"][s.name] = (pv.kwp * values[:, col[f"pv_kw_per_kwp:{s.name}"]]
                                 if pv is not None and pv.kwp > 0 else np.zeros(n))
        count = sum(w.count for w in s.microgrid.wind)
        data["wind_kw"][s.name] = (count * values[:, col[f"wind_kw_per_turbine:{s.name}"]]
                                   if count > 0 else np.zeros(n))
    return data


def mean_data(case, scenarios) -> dict:
    """Inputs of the expected-value scenario (probability-weighted mean path)."""
    mean = scenarios.mean()[None, :, :]
    one = ScenarioSet(mean, np.ones(1), scenarios.variables, ("mean0",), scenarios.period_hours)
    return scenario_data(case, one, 0)


def zones_of(case) -> dict:
    """Contract zones: one per site when the day-ahead scope is per site, else one 'grid' zone."""
    if case.contract.day_ahead_scope == "per_site":
        return {s.name: [s.name] for s in case.sites}
    return {"grid": list(case.site_names)}


def zone_bounds_kw(case, loads: dict) -> dict:
    """Bound on each zone's purchases: per site, the smaller of its grid connection and its highest
    demand plus every link's capacity (``loads``: site name -> base load per period, kW)."""
    bound = {}
    for z, sites in zones_of(case).items():
        total = 0.0
        for sn in sites:
            demand = site_max_demand_kw(case.site(sn), loads[sn])
            total += min(case.site(sn).grid_connection_kw, demand + sum(l.capacity_kw for l in case.links))
        bound[z] = total
    return bound


def synthetic_scenarios(case, n_scenarios: int, random_state=0) -> ScenarioSet:
    """Seeded synthetic scenarios with every variable the case needs: prices around a fixed daily shape,
    PV and wind from simple shapes. For demos and tests that must not depend on calibrated models;
    not a price model (use ``planner.scenario_inputs.case_scenarios`` for that)."""
    rng = np.random.default_rng(random_state)
    T = case.n_periods
    hours = (np.arange(T) + 0.5) * case.period_hours % 24
    shape = 45 + 15 * np.exp(-((hours - 9) / 2.5) ** 2) + 20 * np.exp(-((hours - 19) / 2.5) ** 2) \
        - 10 * np.exp(-((hours - 14) / 2.5) ** 2)
    level = rng.normal(1.0, 0.15, size=(n_scenarios, 1))
    noise = rng.normal(0, 4.0, size=(n_scenarios, T))
    p0 = shape[None, :] * level + noise
    c = case.contract
    prem = np.maximum(c.intraday.min_premium_eur_per_mwh,
                      np.abs(p0) * np.clip(rng.normal(c.intraday.premium_ratio_mean, c.intraday.premium_ratio_std,
                                                      size=(n_scenarios, T)), 0, None))
    p1 = p0 + prem
    disc = np.clip(rng.normal(c.resale.discount_ratio_mean, c.resale.discount_ratio_std, size=(n_scenarios, T)), 0, None)
    p2 = p0 - np.abs(p0) * disc - c.resale.fee_eur_per_mwh
    cols, names = [p0, p1, p2], list(PRICE_VARIABLES)
    sun = np.clip(np.sin(np.pi * (hours - 6) / 15), 0, None)
    for s in case.sites:
        if s.microgrid.pv is not None:
            cloud = rng.uniform(0.3, 1.0, size=(n_scenarios, 1)) * rng.uniform(0.8, 1.0, size=(n_scenarios, T))
            cols.append(0.8 * sun[None, :] * cloud)
            names.append(f"pv_kw_per_kwp:{s.name}")
        if s.microgrid.wind:
            speed = rng.weibull(2.0, size=(n_scenarios, 1)) * 7 + rng.normal(0, 1, size=(n_scenarios, T))
            cols.append(800 * np.clip((speed - 3) / 10, 0, 1) ** 3)
            names.append(f"wind_kw_per_turbine:{s.name}")
    values = np.stack(cols, axis=2)
    return ScenarioSet(values, np.full(n_scenarios, 1.0 / n_scenarios), tuple(names),
                       period_hours=case.period_hours,
                       metadata={"source": "planner.dayahead.data.synthetic_scenarios (synthetic)"})
