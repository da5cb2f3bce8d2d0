"""In-sample and out-of-sample stability of scenario generation (Kaut & Wallace 2007), solver-agnostic.

For each scenario-set size and seed: generate a set, solve on it (in-sample objective), evaluate
the decision on a reference set (out-of-sample objective); then summarise the spread per size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

__all__ = ["stability_study", "summarise_stability"]


def _objective(value, where: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where} must return a real objective value; got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{where} returned a non-finite objective {v}")
    return v


def summarise_stability(results: pd.DataFrame) -> pd.DataFrame:
    """Per size: mean, std (ddof=1), relative spread (std / |mean|), min, max of the in-sample and
    out-of-sample objectives, and the mean in-sample minus out-of-sample gap (the optimism of the
    in-sample value for a minimisation). With a ``reference_objective`` column (the optimum on the
    reference set) also the mean relative out-of-sample gap to it.
    """
    required = {"size", "seed", "in_sample_objective", "out_of_sample_objective"}
    missing = required - set(results.columns)
    if missing:
        raise ValueError(f"results lacks columns {sorted(missing)}")
    rows = []
    for size, group in results.groupby("size", sort=True):
        row = {"size": size, "n_seeds": len(group)}
        for key in ("in_sample", "out_of_sample"):
            x = group[f"{key}_objective"].to_numpy(dtype=float)
            mean = float(x.mean())
            std = float(x.std(ddof=1)) if x.size > 1 else 0.0
            row[f"{key}_mean"] = mean
            row[f"{key}_std"] = std
            row[f"{key}_relative_spread"] = std / abs(mean) if mean != 0 else (0.0 if std == 0 else math.inf)
            row[f"{key}_min"] = float(x.min())
            row[f"{key}_max"] = float(x.max())
        row["in_minus_out_of_sample_mean"] = float(
            (group["in_sample_objective"] - group["out_of_sample_objective"]).mean()
        )
        if "reference_objective" in group:
            ref = group["reference_objective"].to_numpy(dtype=float)
            oos = group["out_of_sample_objective"].to_numpy(dtype=float)
            row["out_of_sample_relative_gap_mean"] = float(np.mean((oos - ref) / np.abs(ref)))
        rows.append(row)
    return pd.DataFrame(rows).set_index("size")


def stability_study(
    generate: Callable,
    solve: Callable,
    evaluate: Callable,
    sizes: Iterable[int],
    seeds: Iterable[int],
    reference,
    solve_reference: bool = False,
    keep_decisions: bool = False,
):
    """Kaut & Wallace (2007) stability harness.

    ``generate(n, seed)`` -> a scenario set of ``n`` scenarios (any object ``solve`` accepts);
    ``solve(scenario_set)`` -> ``(decision, objective)`` (the in-sample optimum);
    ``evaluate(decision, scenario_set)`` -> objective of a fixed decision on a set;
    ``reference`` -> the large (or exact) set that stands for the true distribution, on which
    each decision is evaluated (the out-of-sample objective). With ``solve_reference`` the
    reference problem is solved once and its optimum reported in ``reference_objective``.

    In-sample stability: in-sample objectives of one size agree across seeds. Out-of-sample
    stability: out-of-sample objectives agree (and approach the reference optimum).

    Returns (results, summary): ``results`` is tidy, one row per (size, seed), with columns
    ``size, seed, in_sample_objective, out_of_sample_objective, solve_seconds`` (+
    ``reference_objective``, + ``decision`` with ``keep_decisions``); ``summary`` is
    :func:`summarise_stability` of it, indexed by size.
    """
    for name, fn in (("generate", generate), ("solve", solve), ("evaluate", evaluate)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable; got {type(fn).__name__}")
    sizes = [int(s) for s in sizes]
    seeds = list(seeds)
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"sizes must be a non-empty list of positive ints; got {sizes}")
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if reference is None:
        raise ValueError("reference must be the set on which decisions are evaluated out of sample")
    reference_objective = None
    if solve_reference:
        reference_solution = solve(reference)
        if not isinstance(reference_solution, tuple) or len(reference_solution) != 2:
            raise TypeError("solve must return a (decision, objective) pair")
        reference_objective = _objective(reference_solution[1], "solve(reference)")
    rows = []
    for size in sizes:
        for seed in seeds:
            scenario_set = generate(size, seed)
            t0 = time.perf_counter()
            solution = solve(scenario_set)
            elapsed = time.perf_counter() - t0
            if not isinstance(solution, tuple) or len(solution) != 2:
                raise TypeError("solve must return a (decision, objective) pair")
            decision, in_sample = solution
            row = {
                "size": size,
                "seed": seed,
                "in_sample_objective": _objective(in_sample, "solve"),
                "out_of_sample_objective": _objective(evaluate(decision, reference), "evaluate"),
                "solve_seconds": elapsed,
            }
            if reference_objective is not None:
                row["reference_objective"] = reference_objective
            if keep_decisions:
                row["decision"] = decision
            rows.append(row)
    results = pd.DataFrame(rows)
    return results, summarise_stability(results)
