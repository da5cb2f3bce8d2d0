"""Tests of scenarios.stability with a newsvendor solved in closed form (critical fractile).

Buy x kWh at c = 1 EUR/kWh, sell min(x, D) at p = 3 EUR/kWh, no salvage; minimise
c x - p E[min(x, D)]. The optimum is the (p - c)/p = 2/3 quantile of demand. For D ~ U(0, 100):
E[min(x, D)] = x - x^2/200, optimum x* = 200/3 with cost -200/3.
"""

import numpy as np
import pandas as pd
import pytest

from scenarios.scenario_set import ScenarioSet
from scenarios.stability import stability_study, summarise_stability

C, P, B = 1.0, 3.0, 100.0
FRACTILE = (P - C) / P


def demand_set(demands, probabilities=None) -> ScenarioSet:
    d = np.asarray(demands, dtype=float)
    p = np.full(d.size, 1 / d.size) if probabilities is None else probabilities
    return ScenarioSet(d.reshape(-1, 1, 1), p, ("demand_kwh",))


def generate(n, seed):
    return demand_set(np.random.default_rng(seed).uniform(0, B, n))


def evaluate(x, scenario_set):
    d = scenario_set["demand_kwh"][:, 0]
    return float(C * x - P * scenario_set.probabilities @ np.minimum(x, d))


def solve(scenario_set):
    d = scenario_set["demand_kwh"][:, 0]
    order = np.argsort(d)
    cum = np.cumsum(scenario_set.probabilities[order])
    x = float(d[order][np.searchsorted(cum, FRACTILE - 1e-12)])
    return x, evaluate(x, scenario_set)


def exact_cost(x):
    return C * x - P * (x - x * x / (2 * B))


# reference: mid-point quantile grid of U(0, 100); its E[min(x, D)] is exact up to ~1e-6
REFERENCE = demand_set((np.arange(20000) + 0.5) / 20000 * B)


def test_solver_and_reference_by_hand():
    x, cost = solve(demand_set([10.0, 30.0, 20.0]))
    assert x == 20.0 and cost == pytest.approx(20 - 3 * (10 + 20 + 20) / 3)  # -30
    assert evaluate(20.0, REFERENCE) == pytest.approx(exact_cost(20.0), abs=1e-4)  # -34
    assert exact_cost(20.0) == pytest.approx(-34.0)


def test_rows_match_hand_calculation():
    results, summary = stability_study(generate, solve, evaluate, sizes=[3, 50], seeds=[0, 1, 2],
                                       reference=REFERENCE, solve_reference=True, keep_decisions=True)
    assert list(results.columns[:4]) == ["size", "seed", "in_sample_objective", "out_of_sample_objective"]
    assert len(results) == 6
    for row in results.itertuples():
        d = np.random.default_rng(row.seed).uniform(0, B, row.size)
        x = np.quantile(d, FRACTILE, method="inverted_cdf")  # smallest x with F(x) >= 2/3
        assert row.decision == pytest.approx(x)
        assert row.in_sample_objective == pytest.approx(C * x - P * np.mean(np.minimum(x, d)))
        assert row.out_of_sample_objective == pytest.approx(exact_cost(x), abs=1e-4)
        assert row.reference_objective == pytest.approx(-200 / 3, abs=1e-3)
        # no decision beats the true optimum out of sample
        assert row.out_of_sample_objective >= row.reference_objective - 1e-9
    by_hand = results[results["size"] == 50]["in_sample_objective"]
    assert summary.loc[50, "in_sample_mean"] == pytest.approx(by_hand.mean())
    assert summary.loc[50, "in_sample_std"] == pytest.approx(by_hand.std(ddof=1))
    assert summary.loc[50, "in_sample_relative_spread"] == pytest.approx(by_hand.std(ddof=1) / abs(by_hand.mean()))


def test_stability_improves_with_size():
    results, summary = stability_study(generate, solve, evaluate, sizes=[10, 100, 1000], seeds=range(20),
                                       reference=REFERENCE)
    assert summary["n_seeds"].tolist() == [20, 20, 20]
    for key in ("in_sample_std", "out_of_sample_std"):
        spread = summary[key].to_numpy()
        assert spread[0] > spread[1] > spread[2]
    # out-of-sample: close to the true optimum for large sets, never below it
    assert summary.loc[1000, "out_of_sample_mean"] == pytest.approx(-200 / 3, abs=0.2)
    assert summary.loc[10, "out_of_sample_mean"] > summary.loc[1000, "out_of_sample_mean"]
    assert summary.loc[1000, "in_sample_mean"] == pytest.approx(-200 / 3, abs=3 * summary.loc[1000, "in_sample_std"])
    # small sets are optimistic in sample (classic optimisation bias of a minimisation)
    assert summary.loc[10, "in_minus_out_of_sample_mean"] < 0


def test_validation():
    with pytest.raises(TypeError, match="solve"):
        stability_study(generate, "not a function", evaluate, [5], [0], REFERENCE)
    with pytest.raises(ValueError, match="sizes"):
        stability_study(generate, solve, evaluate, [0], [0], REFERENCE)
    with pytest.raises(TypeError, match="pair"):
        stability_study(generate, lambda s: 1.0, evaluate, [5], [0], REFERENCE)
    with pytest.raises(ValueError, match="results lacks"):
        summarise_stability(pd.DataFrame({"size": [1]}))
