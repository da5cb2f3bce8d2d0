"""Benchmark of scenario reduction: time of fast forward selection 1000 -> 20 and its quality.

Prints the selection time and the ratio of its Wasserstein distance to the full set over the mean
distance of random 20-subsets with uniform probabilities (below 1 means better than random).
Run: .venv/bin/python benchmarks/reduction.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios.metrics import scenario_set_wasserstein_distance  # noqa: E402
from scenarios.reduction import fast_forward_selection, kmedoids_reduction  # noqa: E402
from scenarios.scenario_set import ScenarioSet  # noqa: E402


def synthetic_set(n=1000, periods=24, seed=0) -> ScenarioSet:
    """AR(1) paths of a price, a PV output and a wind speed (24 x 3)."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, periods, 3))
    x = np.zeros_like(e)
    for t in range(periods):
        x[:, t] = (0.8 * x[:, t - 1] if t else 0.0) + e[:, t]
    x = x * np.array([20.0, 0.1, 1.0]) + np.array([60.0, 0.3, 5.0])
    return ScenarioSet(x, np.full(n, 1.0 / n),
                       ("p0_eur_per_mwh", "pv_kw_per_kwp:site0", "wind_speed_m_per_s:site0"))


def main(n=1000, n_keep=20, n_random=20, seed=0) -> dict:
    full = synthetic_set(n, seed=seed)
    t0 = time.perf_counter()
    reduced, report = fast_forward_selection(full, n_keep)
    total = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, km_report = kmedoids_reduction(full, n_keep, random_state=seed)
    km_total = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1)
    random_distances = np.array([
        scenario_set_wasserstein_distance(
            full.subset(rng.choice(n, n_keep, replace=False), np.full(n_keep, 1.0 / n_keep)), full)
        for _ in range(n_random)
    ])
    result = {
        "ffs_selection_seconds": report.elapsed_seconds,
        "ffs_total_seconds_with_wasserstein_lp": total,
        "ffs_wasserstein": report.wasserstein_distance,
        "kmedoids_seconds": km_total,
        "kmedoids_wasserstein": km_report.wasserstein_distance,
        "random_subset_wasserstein_mean": float(random_distances.mean()),
        "random_subset_wasserstein_min": float(random_distances.min()),
        "ffs_over_random_mean": report.wasserstein_distance / random_distances.mean(),
        "kmedoids_over_random_mean": km_report.wasserstein_distance / random_distances.mean(),
    }
    print(f"fast forward selection {n} -> {n_keep} scenarios of {full.n_periods}x{len(full.variables)}: "
          f"{report.elapsed_seconds:.3f} s selection, {total:.3f} s with the Wasserstein LP")
    print(f"W2 reduced-vs-full: FFS {report.wasserstein_distance:.4f}, k-medoids "
          f"{km_report.wasserstein_distance:.4f} ({km_total:.3f} s), random {n_keep}-subsets mean "
          f"{random_distances.mean():.4f} (min {random_distances.min():.4f}, {n_random} draws)")
    print(f"ratio FFS / random mean: {result['ffs_over_random_mean']:.3f}; "
          f"k-medoids / random mean: {result['kmedoids_over_random_mean']:.3f}")
    return result


if __name__ == "__main__":
    main()
