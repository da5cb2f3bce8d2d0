"""Tests of scenarios.reduction: forward selection and k-medoids."""

import itertools

import numpy as np
import pytest

from scenarios.metrics import flatten_scenarios, scenario_set_wasserstein_distance
from scenarios.reduction import fast_forward_selection, kmedoids_reduction
from scenarios.scenario_set import ScenarioSet

VARIABLES = ("p0_eur_per_mwh", "pv_kw_per_kwp:site0", "wind_speed_m_per_s:site0")


def ar_scenarios(n=1000, periods=24, seed=0) -> ScenarioSet:
    """Autocorrelated paths of three variables with very different units."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, periods, 3))
    x = np.zeros_like(e)
    for t in range(periods):
        x[:, t] = (0.8 * x[:, t - 1] if t else 0.0) + e[:, t]
    x = x * np.array([20.0, 0.1, 1.0]) + np.array([60.0, 0.3, 5.0])
    return ScenarioSet(x, np.full(n, 1.0 / n), VARIABLES)


@pytest.fixture(scope="module")
def big_set():
    return ar_scenarios()


@pytest.fixture(scope="module")
def ffs_result(big_set):
    return fast_forward_selection(big_set, 20)


def line_set(points, probabilities=None):
    points = np.asarray(points, dtype=float)
    probs = np.full(points.size, 1 / points.size) if probabilities is None else probabilities
    return ScenarioSet(points.reshape(-1, 1, 1), probs, ("p0_eur_per_mwh",))


def test_ffs_hand_case_three_points_on_a_line():
    # points 0, 1, 10 with equal probability, p = 2:
    # one kept: costs (1 + 100)/3, (1 + 81)/3, (100 + 81)/3 -> keep 1
    # two kept: adding 0 leaves 81/3, adding 10 leaves 1/3 -> keep 10; 0 goes to 1
    s = line_set([0.0, 1.0, 10.0])
    one, rep1 = fast_forward_selection(s, 1, standardise=False)
    assert one.names == ("scen1",) and rep1.kantorovich_objective == pytest.approx(82 / 3)
    two, rep2 = fast_forward_selection(s, 2, standardise=False)
    assert two.names == ("scen1", "scen2")
    np.testing.assert_allclose(two.probabilities, [2 / 3, 1 / 3])
    assert rep2.selection_order.tolist() == [1, 2]
    assert rep2.kantorovich_objective == pytest.approx(1 / 3)
    assert rep2.wasserstein_distance == pytest.approx(np.sqrt(1 / 3))
    # p = 1 with unequal probabilities: 0 (0.5), 1 (0.1), 10 (0.4)
    # one kept: 0 -> 0.1 + 4 = 4.1; 1 -> 0.5 + 3.6 = 4.1 (tie, first wins); 10 -> 5 + 0.9 = 5.9
    s = line_set([0.0, 1.0, 10.0], np.array([0.5, 0.1, 0.4]))
    one, rep = fast_forward_selection(s, 1, standardise=False, p=1)
    assert one.names == ("scen0",) and rep.kantorovich_objective == pytest.approx(4.1)


def test_ffs_greedy_matches_bruteforce_first_step_and_objective(big_set):
    small = big_set.subset(np.arange(40))
    reduced, rep = fast_forward_selection(small, 3)
    x, w, _ = flatten_scenarios(small, standardise=True)
    cost = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)

    def objective(kept):
        return float(np.sum(w * cost[:, list(kept)].min(axis=1)))

    first = min(range(40), key=lambda u: objective([u]))
    assert rep.selection_order[0] == first
    assert rep.kantorovich_objective == pytest.approx(objective(rep.selection_order))
    # greedy cannot beat the best 3-subset, and should be close to it here
    best = min(objective(c) for c in itertools.combinations(range(40), 3))
    assert best <= rep.kantorovich_objective + 1e-9
    assert rep.kantorovich_objective <= 1.25 * best


def test_ffs_reduced_set_is_a_reweighted_subset(big_set, ffs_result):
    reduced, rep = ffs_result
    assert reduced.n_scenarios == 20 and rep.n_kept == 20 and rep.n_original == 1000
    assert reduced.probabilities.sum() == pytest.approx(1.0)
    assert np.all(reduced.probabilities > 0)
    for name, values in zip(reduced.names, reduced.values):
        np.testing.assert_array_equal(values, big_set.values[big_set.names.index(name)])
    np.testing.assert_array_equal(rep.kept_indices, [big_set.names.index(n) for n in reduced.names])
    # probabilities = mass of the scenarios nearest to each kept one (counted independently)
    x, w, _ = flatten_scenarios(big_set, standardise=True)
    kept = rep.kept_indices
    d = ((x[:, None, :] - x[None, kept, :]) ** 2).sum(-1)
    counts = np.bincount(np.argmin(d, axis=1), minlength=20)
    np.testing.assert_allclose(reduced.probabilities, counts / 1000)


def test_ffs_beats_random_subsets_and_report_is_consistent(big_set, ffs_result):
    reduced, rep = ffs_result
    # the LP distance equals the closed-form optimal-redistribution distance
    assert rep.wasserstein_distance == pytest.approx(np.sqrt(rep.kantorovich_objective), rel=1e-6)
    assert rep.wasserstein_distance == pytest.approx(scenario_set_wasserstein_distance(reduced, big_set), rel=1e-9)
    rng = np.random.default_rng(123)
    random_distances = [
        scenario_set_wasserstein_distance(
            big_set.subset(rng.choice(1000, 20, replace=False), np.full(20, 1 / 20)), big_set
        )
        for _ in range(20)
    ]
    assert rep.wasserstein_distance < np.mean(random_distances)


def test_ffs_is_fast(big_set, ffs_result):
    _, rep = ffs_result
    assert rep.elapsed_seconds < 2.0


def test_kmedoids_reduction(big_set, ffs_result):
    reduced, rep = kmedoids_reduction(big_set, 20, random_state=0)
    again, rep_again = kmedoids_reduction(big_set, 20, random_state=0)
    assert reduced.names == again.names  # seeded
    assert reduced.probabilities.sum() == pytest.approx(1.0)
    assert set(reduced.names) <= set(big_set.names)
    assert rep.wasserstein_distance == pytest.approx(np.sqrt(rep.kantorovich_objective), rel=1e-6)
    # each medoid minimises the weighted cost within its cluster (the k-medoids fixed point)
    x, w, _ = flatten_scenarios(big_set, standardise=True)
    kept = rep.kept_indices
    sq = (x * x).sum(axis=1)
    cost = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    labels = np.argmin(cost[:, kept], axis=1)
    for c, m in enumerate(kept):
        members = np.flatnonzero(labels == c)
        within = w[members] @ cost[np.ix_(members, members)]
        assert within[list(members).index(m)] == pytest.approx(within.min())
    # comparable to forward selection (neither dominates in general)
    assert rep.wasserstein_distance < 1.2 * ffs_result[1].wasserstein_distance


def test_kmedoids_two_clusters_by_hand():
    # points 0, 1, 2 and 10, 11: medoids 1 and 10 (or 11; weights make 11 the medoid)
    s = line_set([0, 1, 2, 10, 11], np.array([0.2, 0.2, 0.2, 0.1, 0.3]))
    reduced, rep = kmedoids_reduction(s, 2, random_state=3, standardise=False)
    assert reduced.names == ("scen1", "scen4")
    np.testing.assert_allclose(reduced.probabilities, [0.6, 0.4])
    assert rep.kantorovich_objective == pytest.approx(0.2 + 0.2 + 0.1)


def test_keep_all_and_validation():
    s = line_set([0.0, 1.0, 10.0])
    same, rep = fast_forward_selection(s, 3)
    np.testing.assert_allclose(same.probabilities, 1 / 3)
    assert rep.kantorovich_objective == 0.0
    with pytest.raises(ValueError, match="n_keep"):
        fast_forward_selection(s, 4)
    with pytest.raises(TypeError, match="n_keep"):
        kmedoids_reduction(s, 1.5)
