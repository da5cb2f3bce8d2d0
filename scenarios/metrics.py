"""Scores and distances that judge scenario sets against observations or against each other.

Proper scores (CRPS, energy, variogram), rank histograms (univariate and multivariate) with a
chi-square flatness test, and the exact p-Wasserstein distance between discrete distributions;
for forecasts: CRPS from quantiles and per hour, pinball loss, interval coverage, PIT histograms
and the Diebold-Mariano test of point forecasts.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats
from scipy.optimize import linprog

from .base import check_positive_int
from .scenario_set import ScenarioSet

__all__ = [
    "as_generator",
    "crps",
    "crps_mean",
    "energy_score",
    "variogram_score",
    "rank_histogram",
    "chi_square_flatness",
    "block_bootstrap_flatness",
    "multivariate_rank_histogram",
    "wasserstein_distance",
    "flatten_scenarios",
    "scenario_set_wasserstein_distance",
    "crps_gaussian",
    "pinball_loss",
    "crps_from_quantiles",
    "crps_per_hour",
    "interval_coverage",
    "pit_values",
    "pit_from_quantiles",
    "pit_histogram",
    "DieboldMarianoResult",
    "diebold_mariano",
]


# -- helpers ------------------------------------------------------------------------------------
def as_generator(random_state) -> np.random.Generator:
    """A numpy Generator from ``random_state`` (int, None or Generator); same seed, same stream."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(
        f"random_state must be an int, None or a numpy Generator; got {type(random_state).__name__}"
    )


def _member_weights(weights, n: int, name: str = "weights") -> np.ndarray:
    """Normalised non-negative member weights of length n (uniform when None)."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"{name} must have one entry per ensemble member ({n}); got shape {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero")
    return w / w.sum()


def _fair_factor(w: np.ndarray) -> float:
    """1 / (1 - sum w^2): turns the weighted V-statistic of E|X-X'| into the unbiased one."""
    s2 = float(np.sum(w * w))
    if s2 >= 1.0 - 1e-15:
        raise ValueError("the fair score needs at least two members with positive weight")
    return 1.0 / (1.0 - s2)


def _weighted_abs_pair_sum_sorted(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_{i,j} w_i w_j |x_i - x_j| along the last axis, in O(n log n) by sorting."""
    order = np.argsort(x, axis=-1)
    xs = np.take_along_axis(x, order, axis=-1)
    ws = np.take_along_axis(np.broadcast_to(w, x.shape), order, axis=-1)
    total = ws.sum(axis=-1, keepdims=True)
    cum = np.cumsum(ws, axis=-1)
    below = cum - ws  # weight strictly before k in sorted order
    above = total - cum  # weight strictly after k
    # each unordered pair (i<j) contributes w_i w_j (x_j - x_i); the full double sum counts it twice
    return 2.0 * np.sum(ws * xs * (below - above), axis=-1)


# -- CRPS ---------------------------------------------------------------------------------------
def crps(samples, observation, weights=None, fair: bool = False) -> float:
    """Continuous ranked probability score of an ensemble for one scalar observation.

    Standard (``fair=False``): the CRPS of the ensemble's empirical distribution,
    ``sum_i w_i |x_i - y| - 1/2 sum_ij w_i w_j |x_i - x_j|`` (equals |x - y| for one member).
    Fair (``fair=True``, Ferro 2014): the spread term divided by ``1 - sum_i w_i^2``, i.e. with
    uniform weights ``1/(2 n (n-1)) sum_{i != j} |x_i - x_j|``; it is unbiased for the CRPS of the
    distribution the members are drawn from (needs at least two members).
    Lower is better; units are those of the observation.
    """
    x = np.asarray(samples, dtype=float).reshape(-1)
    if x.size == 0:
        raise ValueError("samples must hold at least one ensemble member")
    y = float(observation)
    w = _member_weights(weights, x.size)
    accuracy = float(np.sum(w * np.abs(x - y)))
    spread = float(_weighted_abs_pair_sum_sorted(x, w))
    if fair:
        spread *= _fair_factor(w)
    return accuracy - 0.5 * spread


def crps_mean(samples, observations, weights=None, fair: bool = False) -> float:
    """Mean CRPS over periods: ``samples`` (m periods, n members), ``observations`` (m,).

    ``weights`` is None (uniform), (n,) shared by all periods, or (m, n) per period.
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observations, dtype=float).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.size:
        raise ValueError(
            f"samples must have shape (periods, members) with periods = len(observations) = {y.size}; "
            f"got {x.shape}"
        )
    m, n = x.shape
    if weights is None:
        w = np.full((m, n), 1.0 / n)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape == (n,):
            w = np.broadcast_to(w, (m, n))
        if w.shape != (m, n) or np.any(w < 0) or np.any(w.sum(axis=1) <= 0):
            raise ValueError(f"weights must be (members,) or (periods, members), non-negative; got {w.shape}")
        w = w / w.sum(axis=1, keepdims=True)
    accuracy = np.sum(w * np.abs(x - y[:, None]), axis=1)
    spread = _weighted_abs_pair_sum_sorted(x, w)
    if fair:
        s2 = np.sum(w * w, axis=1)
        if np.any(s2 >= 1.0 - 1e-15):
            raise ValueError("the fair score needs at least two members with positive weight")
        spread = spread / (1.0 - s2)
    return float(np.mean(accuracy - 0.5 * spread))


# -- multivariate scores -------------------------------------------------------------------------
def _as_ensemble(samples, observation):
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observation, dtype=float).reshape(-1)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != y.size:
        raise ValueError(
            f"samples must have shape (members, dimension) with dimension = len(observation) = {y.size}; "
            f"got {x.shape}"
        )
    return x, y


def energy_score(samples, observation, weights=None, fair: bool = False) -> float:
    """Energy score (Gneiting & Raftery 2007) of an ensemble ``samples`` (n, d) for ``observation`` (d,).

    ``sum_i w_i ||x_i - y|| - 1/2 sum_ij w_i w_j ||x_i - x_j||`` (Euclidean norm); equals the
    Euclidean distance for a one-member ensemble and reduces to the CRPS when d = 1.
    ``fair=True`` divides the spread term by ``1 - sum w_i^2`` as for :func:`crps`.
    Memory is O(n^2); fine for a few thousand members.
    """
    x, y = _as_ensemble(samples, observation)
    w = _member_weights(weights, x.shape[0])
    accuracy = float(np.sum(w * np.linalg.norm(x - y, axis=1)))
    spread = 0.0
    for start in range(0, x.shape[0], 1024):  # chunked to bound memory
        block = x[start:start + 1024]
        d = np.sqrt(np.maximum(_squared_distances(block, x), 0.0))
        spread += float(w[start:start + 1024] @ d @ w)
    if fair:
        spread *= _fair_factor(w)
    return accuracy - 0.5 * spread


def variogram_score(samples, observation, p: float = 0.5, weights=None, pair_weights=None) -> float:
    """Variogram score of order ``p`` (Scheuerer & Hamill 2015) of ``samples`` (n, d) for ``observation`` (d,).

    ``VS_p = sum_{i,j} c_ij (|y_i - y_j|^p - sum_k w_k |x_ki - x_kj|^p)^2`` over all ordered pairs of
    components, as in the paper (each unordered pair counts twice, the diagonal is zero).
    ``weights`` are the ensemble members' probabilities (uniform by default, as in the other
    scores); ``pair_weights`` is the (d, d) matrix c of pair weights, unit by default.
    """
    x, y = _as_ensemble(samples, observation)
    if not p > 0:
        raise ValueError(f"p must be > 0; got {p}")
    w = _member_weights(weights, x.shape[0])
    d = y.size
    if pair_weights is None:
        c = np.ones((d, d))
    else:
        c = np.asarray(pair_weights, dtype=float)
        if c.shape != (d, d):
            raise ValueError(f"pair_weights must have shape ({d}, {d}); got {c.shape}")
    vy = np.abs(y[:, None] - y[None, :]) ** p
    vx = np.einsum("k,kij->ij", w, np.abs(x[:, :, None] - x[:, None, :]) ** p)
    return float(np.sum(c * (vy - vx) ** 2))


# -- rank histograms ------------------------------------------------------------------------------
def rank_histogram(samples, observations, random_state=0) -> np.ndarray:
    """Counts of the observation's rank among the ensemble, ``samples`` (m periods, n members).

    The rank of y among n members is 1 + #{x_i < y} + U, U uniform on {0..#{x_i = y}} (ties
    randomised); the result has n + 1 bins (rank 1 ... n + 1). Flat for a calibrated ensemble,
    U-shaped for an under-dispersed one, dome-shaped for an over-dispersed one.
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observations, dtype=float).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.size:
        raise ValueError(
            f"samples must have shape (periods, members) with periods = len(observations) = {y.size}; "
            f"got {x.shape}"
        )
    rng = as_generator(random_state)
    below = np.sum(x < y[:, None], axis=1)
    ties = np.sum(x == y[:, None], axis=1)
    ranks = below + rng.integers(0, ties + 1)  # 0-based rank
    return np.bincount(ranks, minlength=x.shape[1] + 1)


def chi_square_flatness(counts) -> tuple[float, float]:
    """Pearson chi-square test that rank-histogram ``counts`` come from a uniform distribution.

    Returns (statistic, p-value) with len(counts) - 1 degrees of freedom.
    """
    c = np.asarray(counts, dtype=float).reshape(-1)
    if c.size < 2 or c.sum() <= 0 or np.any(c < 0):
        raise ValueError("counts must hold at least two non-negative bins with a positive total")
    result = stats.chisquare(c)
    return float(result.statistic), float(result.pvalue)


def block_bootstrap_flatness(ranks, n_bins: int, blocks, n_boot: int = 2000,
                             random_state=0) -> tuple[float, float]:
    """Flatness test of 0-based ``ranks`` (values 0..n_bins-1) that allows for serial dependence.

    The Pearson statistic T of the observed counts against flat is compared with its null spread
    estimated by a block bootstrap: whole blocks (``blocks``, one label per rank, e.g. the day) are
    drawn with replacement, and T* = sum_j (c*_j - c_j)^2 / E_j measures how far resampled counts
    stray from the observed ones when blocks keep their internal dependence. Returns (T, p) with
    p = (1 + #{T* >= T}) / (1 + n_boot). With independent ranks the null spread of T* matches the
    chi-square law with n_bins - 1 degrees of freedom; with positively dependent ranks it is wider.
    """
    r = np.asarray(ranks).reshape(-1)
    b = np.asarray(blocks).reshape(-1)
    if r.size != b.size or r.size == 0:
        raise ValueError(f"ranks and blocks must be non-empty and of equal length; got {r.size} and {b.size}")
    if np.any(r < 0) or np.any(r >= n_bins):
        raise ValueError(f"ranks must lie in 0..n_bins-1 = {n_bins - 1}")
    _, block_id = np.unique(b, return_inverse=True)
    per_block = np.zeros((block_id.max() + 1, n_bins))
    np.add.at(per_block, (block_id, r.astype(int)), 1.0)
    counts = per_block.sum(axis=0)
    expected = counts.sum() / n_bins
    statistic = float(np.sum((counts - expected) ** 2) / expected)
    rng = as_generator(random_state)
    draws = rng.integers(0, len(per_block), size=(check_positive_int("n_boot", n_boot), len(per_block)))
    boot = np.stack([per_block[d].sum(axis=0) for d in draws])
    t_star = np.sum((boot - counts) ** 2, axis=1) / expected
    return statistic, float((1 + np.sum(t_star >= statistic)) / (1 + n_boot))


def _prerank(pool: np.ndarray, method: str) -> np.ndarray:
    """Pre-ranks of the (k, d) pool of vectors (observation first), Thorarinsdottir et al. 2016."""
    k = pool.shape[0]
    # rank_j,l = #{i : x_il <= x_jl}, in 1..k
    comp_rank = np.sum(pool[None, :, :] <= pool[:, None, :], axis=1)
    if method == "average":
        return comp_rank.mean(axis=1)
    if method == "band_depth":
        return np.mean((k - comp_rank) * (comp_rank - 1), axis=1)
    raise ValueError(f"method must be 'band_depth' or 'average'; got {method!r}")


def multivariate_rank_histogram(samples, observations, method: str = "band_depth",
                                random_state=0) -> np.ndarray:
    """Multivariate rank histogram counts (Thorarinsdottir, Scheuerer & Heinz 2016).

    ``samples`` (m cases, n members, d), ``observations`` (m, d). In each case the observation and
    the members are pre-ranked by band depth (``'band_depth'``) or average component rank
    (``'average'``); the observation's rank among the n + 1 pre-ranks (ties at random) is counted.
    Returns n + 1 counts. For band depth a U shape means under-dispersion *or* bias and a dome
    over-dispersion; for the average rank a U shape means under-dispersion or bias as usual.
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observations, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 3 or y.shape != (x.shape[0], x.shape[2]):
        raise ValueError(
            f"samples must be (cases, members, dimension) and observations (cases, dimension); "
            f"got {x.shape} and {y.shape}"
        )
    rng = as_generator(random_state)
    m, n, _ = x.shape
    counts = np.zeros(n + 1, dtype=int)
    for t in range(m):
        pool = np.vstack([y[t][None, :], x[t]])
        rho = _prerank(pool, method)
        below = int(np.sum(rho[1:] < rho[0]))
        ties = int(np.sum(rho[1:] == rho[0]))
        counts[below + int(rng.integers(0, ties + 1))] += 1
    return counts


# -- Wasserstein distance -------------------------------------------------------------------------
def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d2, 0.0)


def _points(values, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(f"{name} must have shape (points, dimension) with at least one point; got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return v


def wasserstein_distance(values_a, weights_a, values_b, weights_b, p: float = 2,
                         return_plan: bool = False):
    """Exact p-Wasserstein distance between two discrete distributions on R^d (Euclidean ground metric).

    ``values_a`` (n, d) with ``weights_a`` (n,) and ``values_b`` (m, d) with ``weights_b`` (m,)
    (None means uniform; weights are normalised to sum to 1). The optimal transport plan is found
    by the transport LP ``min sum_ij pi_ij ||a_i - b_j||^p`` with row sums ``weights_a`` and column
    sums ``weights_b``, solved by HiGHS through scipy.optimize.linprog; the distance is the optimum
    to the power 1/p. Fine up to n * m of a few million variables. With ``return_plan`` returns
    (distance, plan (n, m)).
    """
    a = _points(values_a, "values_a")
    b = _points(values_b, "values_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"values_a and values_b must have the same dimension; got {a.shape[1]} and {b.shape[1]}")
    if not p >= 1:
        raise ValueError(f"p must be >= 1; got {p}")
    wa = _member_weights(weights_a, a.shape[0], "weights_a")
    wb = _member_weights(weights_b, b.shape[0], "weights_b")
    n, m = a.shape[0], b.shape[0]
    dist = np.sqrt(_squared_distances(a, b))
    cost = dist ** p
    if n == 1 or m == 1:  # the only feasible plan
        plan = np.outer(wa, wb)
    else:
        # rows: sum_j pi_ij = wa_i ; columns: sum_i pi_ij = wb_j (the last is implied, dropped)
        rows = sparse.kron(sparse.identity(n, format="csr"), np.ones((1, m)), format="csr")
        cols = sparse.kron(np.ones((1, n)), sparse.identity(m, format="csr"), format="csr")[:-1]
        a_eq = sparse.vstack([rows, cols], format="csr")
        b_eq = np.concatenate([wa, wb[:-1]])
        res = linprog(cost.reshape(-1), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if res.status != 0:
            raise RuntimeError(f"the transport LP failed: {res.message}")
        plan = res.x.reshape(n, m)
    value = float(np.sum(plan * cost))
    distance = max(value, 0.0) ** (1.0 / p)
    return (distance, plan) if return_plan else distance


# -- scenario sets ----------------------------------------------------------------------------------
def flatten_scenarios(scenario_set: "ScenarioSet", standardise: bool = False, scale=None):
    """Scenario paths as points: returns (points (S, T*V), probabilities (S,), scale).

    With ``standardise`` each variable is centred and divided by its probability-weighted standard
    deviation over all scenarios and periods (so prices in EUR/MWh and PV in kW/kWp weigh alike);
    ``scale`` = (mean (V,), std (V,)) reuses the scaling of another set, so that a reduced set and
    its full set are measured on the same axes. Constant variables get a std of 1.
    """
    values = scenario_set.values
    s, t, v = values.shape
    if scale is None and standardise:
        w = scenario_set.probabilities
        mean = np.einsum("s,stv->v", w, values) / t
        var = np.einsum("s,stv->v", w, (values - mean) ** 2) / t
        std = np.sqrt(var)
        std[std <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        scale = (mean, std)
    if scale is not None:
        mean, std = (np.asarray(scale[0], float), np.asarray(scale[1], float))
        if mean.shape != (v,) or std.shape != (v,):
            raise ValueError(f"scale must be (mean, std) with {v} entries each")
        values = (values - mean) / std
    return values.reshape(s, t * v), scenario_set.probabilities.copy(), scale


def scenario_set_wasserstein_distance(reduced: "ScenarioSet", full: "ScenarioSet", p: float = 2,
                                      standardise: bool = True) -> float:
    """p-Wasserstein distance between two scenario sets seen as distributions of whole paths.

    Paths are flattened (periods x variables); with ``standardise`` both sets use the per-variable
    scaling of ``full``.
    """
    if reduced.values.shape[1:] != full.values.shape[1:] or reduced.variables != full.variables:
        raise ValueError("the two scenario sets must share periods and variables")
    xf, wf, scale = flatten_scenarios(full, standardise=standardise)
    xr, wr, _ = flatten_scenarios(reduced, scale=scale)
    return wasserstein_distance(xr, wr, xf, wf, p=p)


# -- quantile forecasts, intervals, PIT, and the Diebold-Mariano test -----------------------------------
def crps_gaussian(mean, std, observation) -> np.ndarray:
    """Closed-form CRPS of N(mean, std^2) for ``observation`` (Gneiting et al. 2005), elementwise.

    ``std * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with z = (y - mean) / std.
    """
    mu, sd, y = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (mean, std, observation)))
    if np.any(~(sd > 0)):
        raise ValueError("std must be > 0")
    z = (y - mu) / sd
    return sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def _levels(levels) -> np.ndarray:
    tau = np.asarray(levels, dtype=float).reshape(-1)
    if tau.size == 0 or np.any(~(tau > 0)) or np.any(~(tau < 1)) or np.any(np.diff(tau) <= 0):
        raise ValueError(f"levels must be increasing quantile levels strictly between 0 and 1; got {levels!r}")
    return tau


def _quantile_inputs(quantiles, levels, observations):
    tau = _levels(levels)
    q = np.asarray(quantiles, dtype=float)
    y = np.asarray(observations, dtype=float)
    if q.shape != y.shape + (tau.size,):
        raise ValueError(f"quantiles must have shape observations.shape + (len(levels),) = "
                         f"{y.shape + (tau.size,)}; got {q.shape}")
    return q, tau, y


def pinball_loss(quantiles, levels, observations) -> np.ndarray:
    """Mean pinball (quantile) loss per level: ``quantiles`` (..., L) for ``observations`` (...).

    For level tau and quantile q: (tau - 1{y < q}) (y - q); returns the L means over all observations.
    """
    q, tau, y = _quantile_inputs(quantiles, levels, observations)
    diff = y[..., None] - q
    loss = np.where(diff >= 0, tau * diff, (tau - 1) * diff)
    return loss.reshape(-1, tau.size).mean(axis=0)


def crps_from_quantiles(quantiles, levels, observations) -> np.ndarray:
    """CRPS of each observation from its forecast quantiles, ``quantiles`` (..., L), elementwise (...).

    CRPS = 2 * integral over tau of the pinball loss, by the rectangle rule on the given levels: for
    the evenly spaced levels k / (L + 1), 2 / L * sum_k pinball_k (Laio and Tamea 2007). The error
    against the exact CRPS shrinks as 1 / L (with 99 levels it is below 1 % for a Gaussian).
    """
    q, tau, y = _quantile_inputs(quantiles, levels, observations)
    diff = y[..., None] - q
    loss = np.where(diff >= 0, tau * diff, (tau - 1) * diff)
    return 2.0 * loss.mean(axis=-1)


def crps_per_hour(samples, observations, fair: bool = False) -> np.ndarray:
    """Mean CRPS per period of the day: ``samples`` (days, members, hours), ``observations`` (days, hours).

    Returns (hours,) means over the days of :func:`crps_mean`'s ensemble CRPS.
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observations, dtype=float)
    if x.ndim != 3 or y.shape != (x.shape[0], x.shape[2]):
        raise ValueError(f"samples must be (days, members, hours) and observations (days, hours); got "
                         f"{x.shape} and {y.shape}")
    return np.array([crps_mean(x[:, :, h], y[:, h], fair=fair) for h in range(x.shape[2])])


def interval_coverage(lower, upper, observations) -> float:
    """Share of observations inside [lower, upper] (bounds included); arrays of one shape."""
    lo, hi, y = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lower, upper, observations)))
    if np.any(lo > hi):
        raise ValueError("lower must not exceed upper")
    return float(np.mean((y >= lo) & (y <= hi)))


def pit_values(samples, observations, random_state=0) -> np.ndarray:
    """Randomised probability integral transform of each observation within its ensemble.

    ``samples`` (m, n members), ``observations`` (m,): (#{x < y} + U (#{x = y} + 1)) / ... in the
    continuous form (#{x < y} + V) / n with V uniform on [0, 1 + #{x = y}), clipped to [0, 1]: uniform
    on [0, 1] when y is exchangeable with the members.
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(observations, dtype=float).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.size:
        raise ValueError(f"samples must have shape (observations, members); got {x.shape} for {y.size}")
    rng = as_generator(random_state)
    below = np.sum(x < y[:, None], axis=1)
    ties = np.sum(x == y[:, None], axis=1)
    n = x.shape[1]
    return np.clip((below + rng.uniform(0, 1, y.size) * (ties + 1)) / (n + 1), 0.0, 1.0)


def pit_from_quantiles(quantiles, levels, observations) -> np.ndarray:
    """PIT of each observation from forecast quantiles ``quantiles`` (m, L) at ``levels`` (L,).

    The forecast cdf is linear between the given quantiles and flat beyond them (0 below the lowest
    quantile, 1 above the highest, linear from (q_1, tau_1) to 0 and 1 is not assumed).
    """
    q, tau, y = _quantile_inputs(quantiles, levels, observations)
    q = q.reshape(-1, tau.size)
    y = y.reshape(-1)
    out = np.empty(y.size)
    for i in range(y.size):
        qi = np.maximum.accumulate(q[i])
        out[i] = np.interp(y[i], qi, tau, left=0.0, right=1.0)
    return out


def pit_histogram(pit, n_bins: int = 10) -> np.ndarray:
    """Counts of PIT values in ``n_bins`` equal bins of [0, 1] (flat for a calibrated forecast)."""
    u = np.asarray(pit, dtype=float).reshape(-1)
    if np.any((u < 0) | (u > 1)):
        raise ValueError("PIT values must lie in [0, 1]")
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}")
    return np.histogram(u, bins=int(n_bins), range=(0.0, 1.0))[0]


class DieboldMarianoResult(tuple):
    """(statistic, pvalue, mean_loss_difference) of :func:`diebold_mariano`."""

    __slots__ = ()

    def __new__(cls, statistic: float, pvalue: float, mean_difference: float):
        return super().__new__(cls, (statistic, pvalue, mean_difference))

    statistic = property(lambda self: self[0])
    pvalue = property(lambda self: self[1])
    mean_difference = property(lambda self: self[2])


def diebold_mariano(loss_a, loss_b, horizon: int = 1, alternative: str = "two-sided") -> DieboldMarianoResult:
    """Diebold-Mariano test of equal predictive accuracy of two point forecasts from their losses.

    ``loss_a`` and ``loss_b``: losses per forecast (T,), or per day and hour (T, 24); in the latter
    case the daily loss differential is summed over the hours (the multivariate DM test of Ziel and
    Weron 2018 used by Lago et al. 2021). d_t = loss_a_t - loss_b_t; DM = mean(d) / sqrt(V / T) with
    V = gamma_0 + 2 sum_{k=1}^{horizon-1} gamma_k (autocovariances of d, divided by T); p from the
    standard normal. ``alternative``: 'two-sided', 'less' (H1: a has the smaller expected loss) or
    'greater'.
    """
    a = np.asarray(loss_a, dtype=float)
    b = np.asarray(loss_b, dtype=float)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[0] < 3:
        raise ValueError(f"loss_a and loss_b must share a shape (T,) or (T, hours) with T >= 3; got "
                         f"{a.shape} and {b.shape}")
    d = a - b if a.ndim == 1 else (a - b).sum(axis=1)
    if not np.all(np.isfinite(d)):
        raise ValueError("losses must be finite")
    h = int(horizon)
    if h != horizon or h < 1:
        raise ValueError(f"horizon must be a positive integer; got {horizon!r}")
    T = d.size
    dc = d - d.mean()
    gammas = [float(dc @ dc) / T] + [float(dc[k:] @ dc[:-k]) / T for k in range(1, h)]
    variance = gammas[0] + 2.0 * sum(gammas[1:])
    if not variance > 0:
        raise ValueError("the loss differential has zero (or negative long-run) variance")
    stat = float(d.mean() / np.sqrt(variance / T))
    if alternative == "two-sided":
        p = 2.0 * stats.norm.sf(abs(stat))
    elif alternative == "less":
        p = stats.norm.cdf(stat)
    elif alternative == "greater":
        p = stats.norm.sf(stat)
    else:
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater'; got {alternative!r}")
    return DieboldMarianoResult(stat, float(p), float(d.mean()))
