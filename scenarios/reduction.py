"""Scenario reduction: keep a few scenarios of a large set and give them the probability of the rest.

Fast forward selection (Heitsch & Roemisch 2003) and probability-weighted k-medoids, both on whole
paths (periods x variables, optionally standardised per variable), with a report of the
Kantorovich objective and of the exact Wasserstein distance between the reduced and full sets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .metrics import as_generator, flatten_scenarios, wasserstein_distance
from .scenario_set import ScenarioSet

__all__ = ["ReductionReport", "fast_forward_selection", "kmedoids_reduction", "redistribute"]


@dataclass(frozen=True)
class ReductionReport:
    """What a reduction kept and how far the reduced set is from the full one.

    Attributes
    ----------
    method : ``"fast_forward_selection"`` or ``"kmedoids"``.
    n_original, n_kept : sizes before and after.
    kept_indices : indices of the kept scenarios in the original set, in the reduced set's order.
    selection_order : for forward selection, the order in which scenarios were picked.
    kantorovich_objective : ``sum_j p_j min_{i kept} ||x_j - x_i||^p`` on the (standardised)
        flattened paths -- the cost of moving every scenario's probability to its nearest kept one.
    wasserstein_distance : exact p-Wasserstein distance between reduced and full sets (transport LP),
        on the same axes; equals ``kantorovich_objective ** (1/p)`` because nearest-kept
        redistribution is the optimal one.
    p : order of the distance; standardise : whether variables were standardised.
    elapsed_seconds : time of the selection itself (without the Wasserstein LP).
    """

    method: str
    n_original: int
    n_kept: int
    kept_indices: np.ndarray
    selection_order: np.ndarray
    kantorovich_objective: float
    wasserstein_distance: float
    p: float
    standardise: bool
    elapsed_seconds: float


def _validate(scenario_set: ScenarioSet, n_keep, p) -> int:
    if not isinstance(scenario_set, ScenarioSet):
        raise TypeError(f"scenario_set must be a ScenarioSet; got {type(scenario_set).__name__}")
    if isinstance(n_keep, bool) or not isinstance(n_keep, (int, np.integer)):
        raise TypeError(f"n_keep must be an int; got {n_keep!r}")
    if not 1 <= n_keep <= scenario_set.n_scenarios:
        raise ValueError(
            f"n_keep must be between 1 and the number of scenarios ({scenario_set.n_scenarios}); got {n_keep}"
        )
    if not p >= 1:
        raise ValueError(f"p must be >= 1; got {p}")
    return int(n_keep)


def _cost_matrix(points: np.ndarray, p: float) -> np.ndarray:
    """(S, S) matrix of ||x_i - x_j||^p, computed once."""
    sq = (points * points).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * points @ points.T, 0.0)
    np.fill_diagonal(d2, 0.0)
    return d2 if p == 2 else np.sqrt(d2) ** p


def redistribute(cost: np.ndarray, probabilities: np.ndarray, kept: np.ndarray):
    """Give each scenario's probability to its nearest kept scenario (by ``cost``).

    Returns (probabilities of the kept scenarios in the order of ``kept``, Kantorovich objective).
    """
    kept = np.asarray(kept, dtype=int)
    to_kept = cost[:, kept]  # (S, k)
    nearest = np.argmin(to_kept, axis=1)
    nearest[kept] = np.arange(kept.size)  # a kept scenario keeps its own probability (ties)
    new_p = np.bincount(nearest, weights=probabilities, minlength=kept.size)
    objective = float(np.sum(probabilities * to_kept[np.arange(cost.shape[0]), nearest]))
    return new_p, objective


def _reduced_set(scenario_set: ScenarioSet, kept: np.ndarray, new_p: np.ndarray, method: str) -> ScenarioSet:
    order = np.argsort(kept)
    kept, new_p = kept[order], new_p[order]
    reduced = scenario_set.subset(kept, probabilities=new_p)
    metadata = dict(reduced.metadata)
    metadata["reduction"] = {"method": method, "n_original": int(scenario_set.n_scenarios)}
    return ScenarioSet(reduced.values, reduced.probabilities, reduced.variables, reduced.names,
                       reduced.period_hours, reduced.start, metadata)


def _report(method, scenario_set, reduced, kept_sorted, selection_order, objective, p, standardise,
            scale, elapsed) -> ReductionReport:
    xf, wf, _ = flatten_scenarios(scenario_set, scale=scale)
    xr, wr, _ = flatten_scenarios(reduced, scale=scale)
    distance = wasserstein_distance(xr, wr, xf, wf, p=p)
    return ReductionReport(
        method=method,
        n_original=scenario_set.n_scenarios,
        n_kept=reduced.n_scenarios,
        kept_indices=kept_sorted,
        selection_order=np.asarray(selection_order, dtype=int),
        kantorovich_objective=objective,
        wasserstein_distance=distance,
        p=p,
        standardise=standardise,
        elapsed_seconds=elapsed,
    )


def fast_forward_selection(scenario_set: ScenarioSet, n_keep: int, standardise: bool = True,
                           p: float = 2, compute_wasserstein: bool = True):
    """Keep ``n_keep`` scenarios by fast forward selection (Heitsch & Roemisch 2003).

    Scenarios are flattened to points (periods x variables; per-variable standardised when
    ``standardise``), the cost matrix ``c_ij = ||x_i - x_j||^p`` is computed once, and scenarios
    are added greedily: at each step the one whose addition most lowers the Kantorovich objective
    ``sum_j p_j min_{i kept} c_ij``. Removed scenarios' probabilities go to their nearest kept one.
    Memory is O(S^2): the cost matrix of S = 5000 scenarios takes 200 MB.

    Returns (reduced ScenarioSet, :class:`ReductionReport`); with ``compute_wasserstein=False`` the
    report's Wasserstein distance is ``kantorovich_objective ** (1/p)`` (equal in exact arithmetic)
    and no LP is solved.
    """
    n_keep = _validate(scenario_set, n_keep, p)
    t0 = time.perf_counter()
    points, probs, scale = flatten_scenarios(scenario_set, standardise=standardise)
    cost = _cost_matrix(points, p)
    n = cost.shape[0]
    nearest_cost = np.full(n, np.inf)
    selected = np.zeros(n, dtype=bool)
    order = []
    for _ in range(n_keep):
        # objective if u were added: sum_k p_k min(nearest_cost_k, c_ku)
        if order:
            candidate_obj = np.empty(n)
            for lo in range(0, n, 2048):  # column blocks bound the temporary to S x 2048
                block = np.minimum(nearest_cost[:, None], cost[:, lo:lo + 2048])
                candidate_obj[lo:lo + 2048] = probs @ block
        else:
            candidate_obj = probs @ cost
        candidate_obj[selected] = np.inf
        u = int(np.argmin(candidate_obj))
        order.append(u)
        selected[u] = True
        nearest_cost = np.minimum(nearest_cost, cost[:, u])
    kept = np.asarray(order, dtype=int)
    new_p, objective = redistribute(cost, probs, kept)
    reduced = _reduced_set(scenario_set, kept, new_p, "fast_forward_selection")
    elapsed = time.perf_counter() - t0
    kept_sorted = np.sort(kept)
    if compute_wasserstein:
        return reduced, _report("fast_forward_selection", scenario_set, reduced, kept_sorted, kept,
                                objective, p, standardise, scale, elapsed)
    report = ReductionReport("fast_forward_selection", n, n_keep, kept_sorted, kept, objective,
                             objective ** (1.0 / p), p, standardise, elapsed)
    return reduced, report


def _kmeans_plus_plus(cost: np.ndarray, probs: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    n = cost.shape[0]
    first = int(rng.choice(n, p=probs))
    medoids = [first]
    nearest = cost[:, first].copy()
    for _ in range(1, k):
        weights = probs * nearest
        total = weights.sum()
        if total <= 0:  # every remaining point coincides with a medoid: pick any unused one
            rest = np.setdiff1d(np.arange(n), medoids)
            nxt = int(rng.choice(rest))
        else:
            nxt = int(rng.choice(n, p=weights / total))
        medoids.append(nxt)
        nearest = np.minimum(nearest, cost[:, nxt])
    return np.asarray(medoids, dtype=int)


def kmedoids_reduction(scenario_set: ScenarioSet, n_keep: int, random_state=0, standardise: bool = True,
                       p: float = 2, n_init: int = 4, max_iter: int = 100):
    """Keep ``n_keep`` scenarios by probability-weighted k-medoids.

    Starting from a probability-weighted k-means++ seeding (``n_init`` seeded starts, best kept),
    alternate (1) assigning each scenario to its nearest medoid and (2) moving each medoid to the
    member of its cluster minimising ``sum_{k in cluster} p_k c_k,m`` (``c = ||x - x'||^p``), until
    the medoids no longer change. Each medoid gets its cluster's probability.

    Returns (reduced ScenarioSet, :class:`ReductionReport`).
    """
    n_keep = _validate(scenario_set, n_keep, p)
    if n_init < 1 or max_iter < 1:
        raise ValueError("n_init and max_iter must be >= 1")
    rng = as_generator(random_state)
    t0 = time.perf_counter()
    points, probs, scale = flatten_scenarios(scenario_set, standardise=standardise)
    cost = _cost_matrix(points, p)
    best_medoids, best_obj = None, np.inf
    for _ in range(n_init):
        medoids = _kmeans_plus_plus(cost, probs, n_keep, rng)
        for _ in range(max_iter):
            labels = np.argmin(cost[:, medoids], axis=1)
            labels[medoids] = np.arange(n_keep)
            new = medoids.copy()
            for c in range(n_keep):
                members = np.flatnonzero(labels == c)
                within = probs[members] @ cost[np.ix_(members, members)]
                new[c] = members[int(np.argmin(within))]
            if np.array_equal(np.sort(new), np.sort(medoids)):
                medoids = new
                break
            medoids = new
        _, obj = redistribute(cost, probs, medoids)
        if obj < best_obj - 1e-12:
            best_medoids, best_obj = medoids, obj
    kept = best_medoids
    new_p, objective = redistribute(cost, probs, kept)
    reduced = _reduced_set(scenario_set, kept, new_p, "kmedoids")
    elapsed = time.perf_counter() - t0
    return reduced, _report("kmedoids", scenario_set, reduced, np.sort(kept), kept, objective, p,
                            standardise, scale, elapsed)
