"""Test inputs for the day-ahead model: simple seeded scenario sets (NOT a product price model).

``simple_test_scenarios`` draws prices around a fixed daily shape and PV/wind from simple shapes so
that tests, the benchmark and the notebook can run before/without ``planner.scenario_inputs``.
``default_case_scenarios`` uses ``planner.scenario_inputs.case_scenarios`` when it exists.
"""

from __future__ import annotations

import numpy as np

from scenarios.scenario_set import ScenarioSet


def simple_test_scenarios(case, n_scenarios: int, seed: int = 0) -> ScenarioSet:
    """Seeded test scenarios with every variable the case needs (a test input only)."""
    rng = np.random.default_rng(seed)
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
    cols, names = [p0, p1, p2], ["p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"]
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
                       period_hours=case.period_hours, metadata={"source": "tests.twostage_fixtures (test input)"})


def default_case_scenarios(case, n_scenarios: int, seed: int = 0) -> ScenarioSet:
    """The project's calibrated scenarios when available, else the simple test scenarios."""
    try:
        from planner.scenario_inputs import case_scenarios
    except ImportError:
        return simple_test_scenarios(case, n_scenarios, seed)
    return case_scenarios(case, n_scenarios, seed)
