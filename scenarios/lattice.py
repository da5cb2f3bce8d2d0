"""Discretisations of a multivariate process for SDDP: Markov lattices and stage-wise independent supports.

A :class:`MarkovLattice` clusters the values of each period into states and counts transitions
between consecutive periods; :class:`StagewiseIndependent` gives each period a finite support
with probabilities and no memory. One stage = one period of the history.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from .base import ScenarioModel
from .metrics import as_generator
from .scenario_set import ScenarioSet

__all__ = ["MarkovLattice", "StagewiseIndependent"]


def _history(history, variables=None):
    """(values (S, T, V), probabilities (S,), variables) from a ScenarioSet or an array of paths."""
    if isinstance(history, ScenarioSet):
        return history.values, history.probabilities, history.variables, history.period_hours
    values = np.asarray(history, dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    if values.ndim != 3 or values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError(
            f"history must be a ScenarioSet or an array of sample paths (paths, periods[, variables]); "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("history contains NaN or infinite values")
    n_var = values.shape[2]
    names = tuple(variables) if variables is not None else tuple(f"x{i}" for i in range(n_var))
    if len(names) != n_var:
        raise ValueError(f"variables must name the {n_var} variables of history; got {names}")
    return values, np.full(values.shape[0], 1.0 / values.shape[0]), names, 1.0


def _global_scale(values, probs):
    """Per-variable mean and std over all paths and periods (std 1 for constant variables)."""
    flat = values.reshape(-1, values.shape[2])
    w = np.repeat(probs, values.shape[1]) / values.shape[1]
    mean = w @ flat
    std = np.sqrt(w @ (flat - mean) ** 2)
    std[std <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean, std


def _n_states_per_stage(n_states, n_stages, name="n_states"):
    if isinstance(n_states, (int, np.integer)) and not isinstance(n_states, bool):
        counts = [int(n_states)] * n_stages
    else:
        counts = [int(k) for k in n_states]
        if len(counts) != n_stages:
            raise ValueError(f"{name} must be an int or give one count per stage ({n_stages}); got {len(counts)}")
    if any(k < 1 for k in counts):
        raise ValueError(f"{name} must be >= 1; got {counts}")
    return counts


def _check_n_init(n_init) -> None:
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1; got {n_init}")


def _weighted_kmeans(points, weights, k, random_state, n_init):
    """Labels 0..k'-1 (k' <= k, fewer when there are fewer distinct points), sorted by first coordinate
    of the cluster means, and the number of clusters."""
    n_distinct = np.unique(points, axis=0).shape[0]
    k = min(k, n_distinct)
    if k == 1:
        return np.zeros(points.shape[0], dtype=int), 1
    # one thread: on a small shared machine OpenMP start-up costs far more than these tiny fits
    with threadpool_limits(1):
        labels = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(
            points, sample_weight=weights / weights.sum()
        ).labels_
    present = np.unique(labels)
    labels = np.searchsorted(present, labels)
    k = present.size
    return labels, k


def _order_states(labels, k, values, weights):
    """Relabel states so that their mean values increase lexicographically (first variable first)."""
    means = np.array([np.average(values[labels == c], axis=0, weights=weights[labels == c]) for c in range(k)])
    order = np.lexsort(means.T[::-1])
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    return rank[labels], means[order]


class MarkovLattice(ScenarioModel):
    """A Markov chain lattice fitted to sample paths: per-period states, values and transitions.

    Parameters
    ----------
    n_states : int or list of ints, states per stage (fewer where the history has fewer distinct
        values, so a deterministic history collapses to one state per stage).
    standardise : standardise each variable (by its mean and std over all periods) before
        clustering, so variables in different units weigh alike.
    n_init : k-means restarts per stage.
    random_state : seed of the k-means runs.

    Learned attributes (after :meth:`fit`)
    ------------------------------------
    transition_matrices_ : list of T arrays; the first is (1, K_0) -- the initial distribution, as
        in SDDP.jl's ``MarkovianGraph`` -- and the t-th is (K_{t-1}, K_t), rows summing to 1.
    node_values_ : list of T arrays (K_t, V): the probability-weighted mean of the paths' values in
        each state.
    variables_ : names of the variables; period_hours_ : length of a stage.
    labels_ : (paths, T) state of each history path at each stage.
    The properties ``transition_matrices``, ``node_values``, ``variables``, ``initial_distribution``
    give the same without the underscore.
    """

    def __init__(self, n_states=5, standardise: bool = True, n_init: int = 4, random_state=0):
        self.n_states = n_states
        self.standardise = standardise
        self.n_init = n_init
        self.random_state = random_state

    def check_params(self) -> None:
        _check_n_init(self.n_init)

    def fit(self, history, variables=None) -> "MarkovLattice":
        """Fit on a ScenarioSet (probabilities used as path weights) or an array (paths, periods[, variables])."""
        self.check_params()
        values, probs, names, period_hours = _history(history, variables)
        n_paths, n_stages, _ = values.shape
        counts = _n_states_per_stage(self.n_states, n_stages)
        rng = as_generator(self.random_state)
        if self.standardise:
            mean, std = _global_scale(values, probs)
            scaled = (values - mean) / std
        else:
            scaled = values
        labels = np.zeros((n_paths, n_stages), dtype=int)
        node_values = []
        for t in range(n_stages):
            lab, k = _weighted_kmeans(scaled[:, t], probs, counts[t], int(rng.integers(2**31 - 1)), self.n_init)
            lab, means = _order_states(lab, k, values[:, t], probs)
            labels[:, t] = lab
            node_values.append(means)
        transitions = []
        k0 = node_values[0].shape[0]
        transitions.append((np.bincount(labels[:, 0], weights=probs, minlength=k0) / probs.sum())[None, :])
        for t in range(1, n_stages):
            ka, kb = node_values[t - 1].shape[0], node_values[t].shape[0]
            mass = np.zeros((ka, kb))
            np.add.at(mass, (labels[:, t - 1], labels[:, t]), probs)
            transitions.append(mass / mass.sum(axis=1, keepdims=True))
        self.transition_matrices_ = transitions
        self.node_values_ = node_values
        self.variables_ = tuple(names)
        self.period_hours_ = period_hours
        self.labels_ = labels
        return self

    # -- views ---------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "transition_matrices_"):
            raise RuntimeError("this MarkovLattice is not fitted yet; call fit(history) first")

    @property
    def transition_matrices(self) -> list:
        self._check_fitted()
        return self.transition_matrices_

    @property
    def node_values(self) -> list:
        self._check_fitted()
        return self.node_values_

    @property
    def variables(self) -> tuple:
        self._check_fitted()
        return self.variables_

    @property
    def initial_distribution(self) -> np.ndarray:
        return self.transition_matrices[0][0]

    @property
    def n_stages(self) -> int:
        return len(self.node_values)

    def marginal_probabilities(self) -> list:
        """Unconditional probability of each state at each stage."""
        out = [self.initial_distribution]
        for matrix in self.transition_matrices[1:]:
            out.append(out[-1] @ matrix)
        return out

    # -- sampling -------------------------------------------------------------------------------
    def sample_paths(self, n: int, *, random_state=None):
        """Sample ``n`` paths: returns (states (n, T) ints, values (n, T, V))."""
        self._check_fitted()
        if n < 1:
            raise ValueError(f"n must be >= 1; got {n}")
        rng = as_generator(random_state)
        t_total = self.n_stages
        states = np.zeros((n, t_total), dtype=int)
        current = np.zeros(n, dtype=int)
        for t, matrix in enumerate(self.transition_matrices):
            cdf = np.cumsum(matrix[current], axis=1)
            u = rng.random(n)[:, None]
            nxt = np.minimum((u >= cdf).sum(axis=1), matrix.shape[1] - 1)
            states[:, t] = nxt
            current = nxt
        values = np.stack([self.node_values[t][states[:, t]] for t in range(t_total)], axis=1)
        return states, values

    def sample_scenario_set(self, n: int, *, random_state=None) -> ScenarioSet:
        """``n`` sampled paths as an equiprobable ScenarioSet."""
        _, values = self.sample_paths(n, random_state=random_state)
        return ScenarioSet(values, np.full(n, 1.0 / n), self.variables, period_hours=self.period_hours_,
                           metadata={"source": "MarkovLattice.sample"})


class StagewiseIndependent(ScenarioModel):
    """A finite support with probabilities for each stage, independent across stages.

    Parameters
    ----------
    n_points : int or list of ints, support points per stage (fewer where there are fewer
        distinct values).
    method : ``"kmeans"`` -- probability-weighted k-means on the period's joint vector (standardised
        as in :class:`MarkovLattice`), support = cluster means, probability = cluster mass; or
        ``"quantiles"`` -- each variable's marginal cut into ``n_points`` equal-probability bins,
        support = bin means, probability = bin mass; with several variables the bins are paired
        in rank order (comonotone), which drops cross-variable dependence, so prefer ``"kmeans"``.
        Both keep the period's mean exactly.
    standardise, n_init, random_state : as in :class:`MarkovLattice`.

    Learned attributes: ``support_`` list of (K_t, V) arrays, ``probabilities_`` list of (K_t,),
    ``variables_``; the properties ``support``, ``probabilities``, ``variables`` give the same.
    """

    def __init__(self, n_points=5, method: str = "kmeans", standardise: bool = True, n_init: int = 4,
                 random_state=0):
        self.n_points = n_points
        self.method = method
        self.standardise = standardise
        self.n_init = n_init
        self.random_state = random_state

    def check_params(self) -> None:
        if self.method not in ("kmeans", "quantiles"):
            raise ValueError(f"method must be 'kmeans' or 'quantiles'; got {self.method!r}")
        _check_n_init(self.n_init)

    def fit(self, history, variables=None) -> "StagewiseIndependent":
        self.check_params()
        values, probs, names, period_hours = _history(history, variables)
        n_stages = values.shape[1]
        counts = _n_states_per_stage(self.n_points, n_stages, "n_points")
        rng = as_generator(self.random_state)
        scaled = values
        if self.standardise:
            mean, std = _global_scale(values, probs)
            scaled = (values - mean) / std
        support, probabilities = [], []
        for t in range(n_stages):
            if self.method == "kmeans":
                lab, k = _weighted_kmeans(scaled[:, t], probs, counts[t], int(rng.integers(2**31 - 1)), self.n_init)
                lab, means = _order_states(lab, k, values[:, t], probs)
                support.append(means)
                probabilities.append(np.bincount(lab, weights=probs, minlength=k) / probs.sum())
            else:
                pts, pr = self._quantile_support(values[:, t], probs, counts[t])
                support.append(pts)
                probabilities.append(pr)
        self.support_ = support
        self.probabilities_ = probabilities
        self.variables_ = tuple(names)
        self.period_hours_ = period_hours
        return self

    @staticmethod
    def _quantile_support(x, probs, k):
        """Equal-probability bins of each variable's marginal; bins of the same rank paired."""
        w = probs / probs.sum()
        n_distinct = np.unique(x, axis=0).shape[0]
        k = min(k, n_distinct)
        edges = np.linspace(0.0, 1.0, k + 1)
        points = np.zeros((k, x.shape[1]))
        masses = np.diff(edges)
        for v in range(x.shape[1]):
            order = np.argsort(x[:, v], kind="stable")
            xs, ws = x[order, v], w[order]
            cum = np.concatenate([[0.0], np.cumsum(ws)])
            cum[-1] = 1.0
            for b in range(k):
                # mass of each sample inside [edges[b], edges[b+1]] (samples may straddle edges)
                lo, hi = edges[b], edges[b + 1]
                inside = np.clip(np.minimum(cum[1:], hi) - np.maximum(cum[:-1], lo), 0.0, None)
                points[b, v] = inside @ xs / inside.sum()
        return points, masses

    def _check_fitted(self):
        if not hasattr(self, "support_"):
            raise RuntimeError("this StagewiseIndependent is not fitted yet; call fit(history) first")

    @property
    def support(self) -> list:
        self._check_fitted()
        return self.support_

    @property
    def probabilities(self) -> list:
        self._check_fitted()
        return self.probabilities_

    @property
    def variables(self) -> tuple:
        self._check_fitted()
        return self.variables_

    def sample_paths(self, n: int, *, random_state=None):
        """Sample ``n`` paths: returns (support indices (n, T), values (n, T, V))."""
        self._check_fitted()
        rng = as_generator(random_state)
        idx = np.stack([rng.choice(len(p), size=n, p=p) for p in self.probabilities], axis=1)
        values = np.stack([self.support[t][idx[:, t]] for t in range(len(self.support))], axis=1)
        return idx, values
