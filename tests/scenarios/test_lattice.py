"""Tests of scenarios.lattice: Markov lattice recovery and stage-wise independent supports."""

import numpy as np
import pytest
from sklearn.base import clone

from scenarios.lattice import MarkovLattice, StagewiseIndependent
from scenarios.scenario_set import ScenarioSet

P_TRUE = np.array([[0.9, 0.1], [0.3, 0.7]])
LEVELS = np.array([[20.0, 0.1], [80.0, 0.6]])  # (state, variable): price and PV per kWp


def two_state_paths(n_paths=2000, n_periods=8, seed=0):
    rng = np.random.default_rng(seed)
    states = np.zeros((n_paths, n_periods), dtype=int)
    states[:, 0] = rng.random(n_paths) < 0.5
    for t in range(1, n_periods):
        u = rng.random(n_paths)
        states[:, t] = u < P_TRUE[states[:, t - 1], 1]
    noise = rng.normal(size=(n_paths, n_periods, 2)) * np.array([3.0, 0.03])
    return states, LEVELS[states] + noise


@pytest.fixture(scope="module")
def chain():
    states, values = two_state_paths()
    s = ScenarioSet(values, np.full(len(values), 1 / len(values)), ("p0_eur_per_mwh", "pv_kw_per_kwp:site0"))
    return states, s, MarkovLattice(n_states=2, random_state=0).fit(s)


@pytest.mark.parametrize("model, bad, word", [
    (MarkovLattice(n_states=3), {"n_init": 0}, "n_init"),
    (StagewiseIndependent(n_points=3), {"method": "median"}, "method"),
])
def test_estimator_contract_clone_set_params_and_checks_in_fit(chain, model, bad, word):
    _, s, fitted = chain
    assert not hasattr(clone(fitted), "transition_matrices_")  # a clone is unfitted
    copy = clone(model)
    assert copy is not model and copy.get_params(deep=True) == model.get_params(deep=True)
    assert copy.set_params(random_state=7, standardise=False) is copy
    assert (copy.random_state, copy.standardise, model.random_state) == (7, False, 0)
    copy.set_params(**bad)  # accepted until fit
    with pytest.raises(ValueError, match=word):
        copy.fit(s)


def test_transition_rows_sum_to_one_and_shapes(chain):
    _, s, lattice = chain
    assert len(lattice.transition_matrices) == len(lattice.node_values) == 8
    assert lattice.transition_matrices[0].shape == (1, 2)
    for t, matrix in enumerate(lattice.transition_matrices):
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
        assert matrix.shape[1] == lattice.node_values[t].shape[0]
        if t:
            assert matrix.shape[0] == lattice.node_values[t - 1].shape[0]
    assert lattice.node_values[3].shape == (2, 2)
    assert lattice.variables == s.variables


def test_lattice_recovers_known_two_state_chain(chain):
    states, _, lattice = chain
    # states sorted by price: state 0 is the low one; clusters must match the true states
    np.testing.assert_array_equal(lattice.labels_, states)
    for t in range(8):
        # means of ~1000 points with noise std 3 and 0.03: within 4 standard errors
        np.testing.assert_allclose(lattice.node_values[t][:, 0], LEVELS[:, 0], atol=0.5)
        np.testing.assert_allclose(lattice.node_values[t][:, 1], LEVELS[:, 1], atol=0.005)
    n = 2000
    for matrix in lattice.transition_matrices[1:]:
        # each row estimated from ~n/2 transitions: binomial std <= sqrt(0.25 / 500) = 0.022
        np.testing.assert_allclose(matrix, P_TRUE, atol=0.07)
    pooled = np.mean(lattice.transition_matrices[1:], axis=0)
    np.testing.assert_allclose(pooled, P_TRUE, atol=0.025)
    assert lattice.initial_distribution[0] == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / n))


def test_transition_counts_by_hand():
    # four equiprobable paths over 2 periods, two clear states per period
    paths = np.array([[0.0, 0.0], [0.0, 10.0], [0.0, 10.0], [10.0, 10.0]])
    lattice = MarkovLattice(n_states=2).fit(paths)
    np.testing.assert_allclose(lattice.initial_distribution, [0.75, 0.25])
    np.testing.assert_allclose(lattice.transition_matrices[1], [[1 / 3, 2 / 3], [0.0, 1.0]])
    np.testing.assert_allclose(lattice.node_values[1][:, 0], [0.0, 10.0])
    assert lattice.variables == ("x0",)


def test_deterministic_set_collapses_to_it():
    path = np.linspace(10.0, 50.0, 6)[:, None] * np.array([1.0, 0.01])
    s = ScenarioSet(np.repeat(path[None], 30, axis=0), np.full(30, 1 / 30), ("p0_eur_per_mwh", "pv_kw_per_kwp:a"))
    lattice = MarkovLattice(n_states=4).fit(s)
    for t in range(6):
        assert lattice.node_values[t].shape == (1, 2)
        np.testing.assert_allclose(lattice.node_values[t][0], path[t])
        np.testing.assert_allclose(lattice.transition_matrices[t], [[1.0]])
    states, values = lattice.sample_paths(5, random_state=0)
    assert states.shape == (5, 6) and np.all(states == 0)
    np.testing.assert_allclose(values, np.repeat(path[None], 5, axis=0))


def test_sample_paths_follow_the_chain(chain):
    _, _, lattice = chain
    states, values = lattice.sample_paths(20000, random_state=3)
    again, _ = lattice.sample_paths(20000, random_state=3)
    np.testing.assert_array_equal(states, again)
    np.testing.assert_allclose(values[:, 4], np.stack(lattice.node_values)[4][states[:, 4]])
    # empirical transitions of sampled paths match the lattice's matrices
    a, b = states[:, 2], states[:, 3]
    empirical = np.array([[np.mean(b[a == i] == j) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(empirical, lattice.transition_matrices[3], atol=0.02)
    # marginals of the sampled states match the propagated distribution
    np.testing.assert_allclose(np.bincount(states[:, 5], minlength=2) / 20000,
                               lattice.marginal_probabilities()[5], atol=0.015)
    scen = lattice.sample_scenario_set(10, random_state=1)
    assert scen.values.shape == (10, 8, 2) and scen.variables == lattice.variables


def test_unfitted_lattice_says_so():
    with pytest.raises(RuntimeError, match="fit"):
        MarkovLattice().transition_matrices


@pytest.mark.parametrize("method", ["kmeans", "quantiles"])
def test_stagewise_independent_keeps_the_mean(method):
    rng = np.random.default_rng(4)
    values = rng.gamma(2.0, 10.0, size=(500, 5, 1))
    model = StagewiseIndependent(n_points=4, method=method, random_state=0).fit(values)
    for t in range(5):
        p = model.probabilities[t]
        assert p.sum() == pytest.approx(1.0) and model.support[t].shape == (4, 1)
        assert p @ model.support[t][:, 0] == pytest.approx(values[:, t, 0].mean())
        assert np.all(np.diff(model.support[t][:, 0]) > 0)
    idx, paths = model.sample_paths(100, random_state=0)
    assert idx.shape == (100, 5) and paths.shape == (100, 5, 1)


def test_quantile_support_by_hand():
    # 1..8 in 4 equal bins: means 1.5, 3.5, 5.5, 7.5; 3 bins of 1..6 with weights -> straddling
    model = StagewiseIndependent(n_points=4, method="quantiles").fit(np.arange(1.0, 9.0)[:, None])
    np.testing.assert_allclose(model.support[0][:, 0], [1.5, 3.5, 5.5, 7.5])
    np.testing.assert_allclose(model.probabilities[0], 0.25)
    model = StagewiseIndependent(n_points=2, method="quantiles").fit(np.array([[1.0], [2.0], [3.0]]))
    # bins [0, 1/2] and [1/2, 1]: first = (1 * 1/3 + 2 * 1/6) / (1/2) = 4/3
    np.testing.assert_allclose(model.support[0][:, 0], [4 / 3, 8 / 3])


def test_stagewise_kmeans_separates_clusters():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 0.1, 300), rng.normal(10, 0.1, 100)])[:, None, None]
    model = StagewiseIndependent(n_points=2, random_state=0).fit(x)
    np.testing.assert_allclose(model.probabilities[0], [0.75, 0.25])
    np.testing.assert_allclose(model.support[0][:, 0], [0.0, 10.0], atol=0.05)
