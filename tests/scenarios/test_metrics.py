"""Tests of scenarios.metrics against hand calculations and second methods."""

import itertools

import numpy as np
import pytest
from scipy import stats

from scenarios import metrics
from scenarios.scenario_set import ScenarioSet


# -- CRPS ---------------------------------------------------------------------------------------
def test_crps_of_single_member_is_absolute_error():
    assert metrics.crps([3.0], 1.0) == pytest.approx(2.0)
    assert metrics.crps(np.array([-1.5]), 2.0) == pytest.approx(3.5)


def test_crps_two_members_by_hand():
    # members {0, 2}, y = 0.5: accuracy (0.5 + 1.5)/2 = 1; spread 1/2 * (2 * 1/4 * 2) = 0.5
    assert metrics.crps([0.0, 2.0], 0.5) == pytest.approx(0.5)
    # fair: spread term 1/(2 n (n-1)) sum_{i != j} |xi - xj| = 1/4 * 4 = 1 -> 1 - 1 = 0
    assert metrics.crps([0.0, 2.0], 0.5, fair=True) == pytest.approx(0.0)


def test_crps_matches_integral_of_squared_cdf_difference():
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    w = rng.random(40)
    y = 0.3
    grid = np.linspace(-8, 8, 200001)
    order = np.argsort(x)
    # the ensemble's CDF is a step function
    idx = np.searchsorted(x[order], grid, side="right")
    cdf = np.concatenate([[0.0], np.cumsum(w[order] / w.sum())])[idx]
    integral = np.trapz((cdf - (grid >= y)) ** 2, grid)
    assert metrics.crps(x, y, weights=w) == pytest.approx(integral, abs=1e-3)


def test_fair_crps_is_unbiased_for_normal():
    # CRPS of N(0,1) at y=0 is 2*phi(0) - 1/sqrt(pi) (Gneiting & Raftery 2007)
    exact = 2 * stats.norm.pdf(0.0) - 1 / np.sqrt(np.pi)
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(4000, 5))
    fair = metrics.crps_mean(samples, np.zeros(4000), fair=True)
    standard = metrics.crps_mean(samples, np.zeros(4000))
    assert fair == pytest.approx(exact, abs=0.01)
    assert standard > fair + 0.02  # the standard score penalises a 5-member ensemble


def test_crps_mean_equals_mean_of_crps():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 9))
    y = rng.normal(size=7)
    w = rng.random(9)
    expected = np.mean([metrics.crps(x[i], y[i], weights=w) for i in range(7)])
    assert metrics.crps_mean(x, y, weights=w) == pytest.approx(expected)


# -- energy and variogram scores ---------------------------------------------------------------------
def test_energy_score_of_degenerate_ensemble_is_euclidean_distance():
    assert metrics.energy_score([[0.0, 0.0]], [3.0, 4.0]) == pytest.approx(5.0)
    assert metrics.energy_score(np.tile([1.0, 2.0, 3.0], (6, 1)), [1.0, 0.0, 3.0]) == pytest.approx(2.0)


def test_energy_score_reduces_to_crps_in_one_dimension():
    rng = np.random.default_rng(4)
    x = rng.normal(size=30)
    w = rng.random(30)
    assert metrics.energy_score(x[:, None], [0.4], weights=w) == pytest.approx(metrics.crps(x, 0.4, weights=w))
    assert metrics.energy_score(x[:, None], [0.4], fair=True) == pytest.approx(metrics.crps(x, 0.4, fair=True))


def test_variogram_score_by_hand():
    # two members in d=2: x1=(0,1), x2=(0,3); y=(0,0); p=1
    # E|X1-X2| = (1 + 3)/2 = 2; |y1-y2| = 0; pairs (1,2) and (2,1): 2 * (0 - 2)^2 = 8
    assert metrics.variogram_score([[0, 1], [0, 3]], [0, 0], p=1) == pytest.approx(8.0)
    # pair weights on one ordered pair only
    c = np.array([[0, 1], [0, 0]])
    assert metrics.variogram_score([[0, 1], [0, 3]], [0, 0], p=1, pair_weights=c) == pytest.approx(4.0)
    # p = 0.5 with member weights 0.25/0.75: E = 0.25*1 + 0.75*sqrt(3); y diff = sqrt(2)
    e = 0.25 + 0.75 * np.sqrt(3)
    expected = 2 * (np.sqrt(2) - e) ** 2
    got = metrics.variogram_score([[0, 1], [0, 3]], [1, 3], p=0.5, weights=[1, 3])
    assert got == pytest.approx(expected)


# -- rank histograms ---------------------------------------------------------------------------------
def test_rank_histogram_flat_for_calibrated_and_u_shaped_for_underdispersed():
    rng = np.random.default_rng(5)
    m, n = 3000, 9
    y = rng.normal(size=m)
    calibrated = rng.normal(size=(m, n))
    counts = metrics.rank_histogram(calibrated, y, random_state=0)
    assert counts.sum() == m and counts.size == n + 1
    _, p_value = metrics.chi_square_flatness(counts)
    assert p_value > 0.01
    narrow = 0.4 * rng.normal(size=(m, n))
    counts = metrics.rank_histogram(narrow, y, random_state=0)
    _, p_value = metrics.chi_square_flatness(counts)
    assert p_value < 1e-6
    middle = counts[1:-1].mean()
    assert counts[0] > 2 * middle and counts[-1] > 2 * middle


def test_rank_histogram_randomises_ties():
    # every member equals the observation: the rank is uniform on 1..n+1
    counts = metrics.rank_histogram(np.zeros((5000, 4)), np.zeros(5000), random_state=1)
    assert metrics.chi_square_flatness(counts)[1] > 0.01
    # deterministic without ties
    counts = metrics.rank_histogram(np.array([[0.0, 1.0, 2.0]]), np.array([1.5]))
    assert counts.tolist() == [0, 0, 1, 0]


def test_chi_square_flatness_by_hand():
    stat, p = metrics.chi_square_flatness([10, 10, 10, 30])
    # expected 15 each: (25 + 25 + 25 + 225)/15 = 20
    assert stat == pytest.approx(20.0)
    assert p == pytest.approx(stats.chi2.sf(20.0, 3))


@pytest.mark.parametrize("method", ["band_depth", "average"])
def test_multivariate_rank_histogram(method):
    rng = np.random.default_rng(6)
    m, n, d = 600, 9, 3
    cov = 0.5 * np.eye(d) + 0.5
    chol = np.linalg.cholesky(cov)
    y = rng.normal(size=(m, d)) @ chol.T
    calibrated = rng.normal(size=(m, n, d)) @ chol.T
    counts = metrics.multivariate_rank_histogram(calibrated, y, method=method, random_state=0)
    assert counts.sum() == m and counts.size == n + 1
    assert metrics.chi_square_flatness(counts)[1] > 0.01
    narrow = 0.3 * rng.normal(size=(m, n, d)) @ chol.T
    counts = metrics.multivariate_rank_histogram(narrow, y, method=method, random_state=0)
    assert metrics.chi_square_flatness(counts)[1] < 1e-6
    # under-dispersion: observation is outlying -> lowest pre-rank (band depth) / extreme (average)
    if method == "band_depth":
        assert counts[0] > counts[1:].max()
    else:
        assert counts[0] + counts[-1] > 4 * counts[1:-1].mean()


def test_multivariate_prerank_by_hand():
    # pool of 3 points in 2-D: obs (0,0), members (1,1), (2,2): component ranks 1, 2, 3
    # band depth (k - r)(r - 1): 0, 1, 0 -> obs ties with (2,2); average: 1, 2, 3 -> rank 1
    counts = metrics.multivariate_rank_histogram(np.array([[[1, 1], [2, 2]]]), np.array([[0, 0]]),
                                                 method="average")
    assert counts.tolist() == [1, 0, 0]
    seen = set()
    for seed in range(20):
        counts = metrics.multivariate_rank_histogram(np.array([[[1, 1], [2, 2]]]), np.array([[0, 0]]),
                                                     method="band_depth", random_state=seed)
        seen.add(int(np.argmax(counts)))
    assert seen == {0, 1}


# -- Wasserstein ---------------------------------------------------------------------------------------
def test_wasserstein_between_diracs_is_distance():
    assert metrics.wasserstein_distance([[0.0, 0.0]], None, [[3.0, 4.0]], None) == pytest.approx(5.0)
    assert metrics.wasserstein_distance([[1.0, 1.0]] * 3, None, [[1.0, 4.0]] * 2, None, p=1) == pytest.approx(3.0)


def test_wasserstein_1d_weighted_matches_scipy():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=40), rng.normal(loc=0.5, scale=2, size=55)
    wa, wb = rng.random(40), rng.random(55)
    ours = metrics.wasserstein_distance(a, wa, b, wb, p=1)
    assert ours == pytest.approx(stats.wasserstein_distance(a, b, wa, wb), rel=1e-7)


def test_wasserstein_2_in_1d_matches_quantile_formula():
    # W2 in 1-D = L2 distance of quantile functions; uniform weights and equal sizes -> sorted pairing
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=30), rng.exponential(size=30)
    expected = np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2))
    assert metrics.wasserstein_distance(a, None, b, None, p=2) == pytest.approx(expected, rel=1e-7)


def test_wasserstein_plan_marginals_and_bruteforce_assignment():
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    dist, plan = metrics.wasserstein_distance(a, None, b, None, p=2, return_plan=True)
    np.testing.assert_allclose(plan.sum(axis=1), 0.2, atol=1e-9)
    np.testing.assert_allclose(plan.sum(axis=0), 0.2, atol=1e-9)
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    best = min(cost[np.arange(5), list(perm)].mean() for perm in itertools.permutations(range(5)))
    assert dist == pytest.approx(np.sqrt(best), rel=1e-7)


def test_wasserstein_validates_inputs():
    with pytest.raises(ValueError, match="weights_a"):
        metrics.wasserstein_distance([[0.0]], [1.0, 2.0], [[1.0]], None)
    with pytest.raises(ValueError, match="dimension"):
        metrics.wasserstein_distance([[0.0, 1.0]], None, [[1.0]], None)


def test_scenario_set_distance_uses_standardisation_of_the_full_set():
    rng = np.random.default_rng(10)
    values = np.stack([rng.normal(50, 10, size=(8, 4)), rng.normal(0.3, 0.1, size=(8, 4))], axis=-1)
    full = ScenarioSet(values, np.full(8, 1 / 8), ("p0_eur_per_mwh", "pv_kw_per_kwp:a"))
    points, probs, (mean, std) = metrics.flatten_scenarios(full, standardise=True)
    assert points.shape == (8, 8)
    np.testing.assert_allclose(mean, values.reshape(-1, 2).mean(axis=0))
    np.testing.assert_allclose(std, values.reshape(-1, 2).std(axis=0))
    assert metrics.scenario_set_wasserstein_distance(full, full) == pytest.approx(0.0, abs=1e-9)
    one = full.subset([0])
    expected = np.sqrt(np.sum(probs * ((points - points[0]) ** 2).sum(axis=1)))
    assert metrics.scenario_set_wasserstein_distance(one, full) == pytest.approx(expected)


def test_as_generator_is_reproducible():
    assert metrics.as_generator(3).random() == metrics.as_generator(3).random()
    g = np.random.default_rng(0)
    assert metrics.as_generator(g) is g
    with pytest.raises(TypeError, match="random_state"):
        metrics.as_generator("seed")


# -- forecast scores: CRPS from quantiles, pinball, coverage, PIT, Diebold-Mariano ------------------------
def test_crps_gaussian_matches_integral_of_squared_cdf_difference():
    from scipy import integrate

    mu, sd, y = 1.0, 2.0, 2.7
    integral = integrate.quad(lambda x: stats.norm.cdf(x, mu, sd) ** 2, -np.inf, y)[0] + \
        integrate.quad(lambda x: (1 - stats.norm.cdf(x, mu, sd)) ** 2, y, np.inf)[0]
    assert float(metrics.crps_gaussian(mu, sd, y)) == pytest.approx(integral, rel=1e-7)
    # at the mean: sd (2 phi(0) - 1/sqrt(pi)) = sd (sqrt(2) - 1) / sqrt(pi)
    assert float(metrics.crps_gaussian(0.0, 1.0, 0.0)) == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi))


@pytest.mark.parametrize("n_levels, rel", [(99, 0.02), (999, 0.002)])
def test_crps_from_quantiles_converges_to_gaussian_closed_form(n_levels, rel):
    levels = np.arange(1, n_levels + 1) / (n_levels + 1)
    y = np.array([-1.3, 0.0, 0.4, 2.5])
    q = stats.norm.ppf(levels)[None, :].repeat(len(y), axis=0) * 1.5 + 0.2
    exact = metrics.crps_gaussian(0.2, 1.5, y)
    np.testing.assert_allclose(metrics.crps_from_quantiles(q, levels, y), exact, rtol=rel)


def test_pinball_loss_by_hand():
    # y = 2.5 against q = (1, 2, 3) at tau = (0.1, 0.5, 0.9): 0.1*1.5, 0.5*0.5, (0.9-1)*(-0.5)
    loss = metrics.pinball_loss([[1.0, 2.0, 3.0]], [0.1, 0.5, 0.9], [2.5])
    np.testing.assert_allclose(loss, [0.15, 0.25, 0.05])


def test_interval_coverage_by_hand():
    assert metrics.interval_coverage([0, 0, 0, 0], [1, 1, 1, 1], [0.0, 1.0, 0.5, 1.5]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="lower"):
        metrics.interval_coverage([2.0], [1.0], [1.5])


def test_pit_of_calibrated_ensemble_is_flat():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 30))
    y = rng.normal(size=4000)
    counts = metrics.pit_histogram(metrics.pit_values(x, y, random_state=0), 10)
    assert counts.sum() == 4000
    assert metrics.chi_square_flatness(counts)[1] > 0.01
    # an observation above every member has PIT in [n/(n+1), 1]
    assert metrics.pit_values([[0.0, 1.0, 2.0]], [5.0])[0] >= 0.75


def test_pit_from_quantiles_by_hand():
    levels = [0.25, 0.5, 0.75]
    q = [[1.0, 2.0, 4.0]] * 4
    pit = metrics.pit_from_quantiles(q, levels, [2.0, 3.0, 0.0, 9.0])
    np.testing.assert_allclose(pit, [0.5, 0.625, 0.0, 1.0])


def test_crps_per_hour_of_one_member_is_mean_absolute_error():
    x = np.array([[[1.0, 2.0]], [[3.0, 0.0]]])  # (days 2, members 1, hours 2)
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(metrics.crps_per_hour(x, y), [1.5, 1.5])


def test_diebold_mariano_by_hand():
    # d = (2, 0, 1, 3): mean 1.5, centred (0.5, -1.5, -0.5, 1.5), gamma0 = 5/4
    res = metrics.diebold_mariano([3.0, 1.0, 2.0, 4.0], [1.0, 1.0, 1.0, 1.0])
    assert res.statistic == pytest.approx(1.5 / np.sqrt(1.25 / 4))
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(1.5 / np.sqrt(1.25 / 4)))
    # horizon 2: gamma1 = (-0.75 + 0.75 - 0.75) / 4 = -0.1875, V = 1.25 - 0.375 = 0.875
    res2 = metrics.diebold_mariano([3.0, 1.0, 2.0, 4.0], [1.0, 1.0, 1.0, 1.0], horizon=2, alternative="greater")
    assert res2.statistic == pytest.approx(1.5 / np.sqrt(0.875 / 4))
    assert res2.pvalue == pytest.approx(stats.norm.sf(1.5 / np.sqrt(0.875 / 4)))
    # multivariate: daily differentials are sums over the hours
    a = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    assert metrics.diebold_mariano(a, np.zeros_like(a)).statistic == pytest.approx(res.statistic)


def test_diebold_mariano_rejects_bad_alternative():
    with pytest.raises(ValueError, match="alternative"):
        metrics.diebold_mariano([1.0, 2.0, 3.0], [0.0, 1.0, 1.0], alternative="better")


def test_block_bootstrap_flatness_allows_for_dependent_ranks():
    """Ranks repeated 12 times a day: the naive chi-square rejects flat, the day-block bootstrap does not;
    a truly non-flat histogram is rejected by both."""
    rng = np.random.default_rng(0)
    days = np.repeat(np.arange(365), 12)
    p_naive, p_boot = [], []
    for seed in range(10):
        ranks = np.repeat(np.random.default_rng(seed).integers(0, 51, size=365), 12)
        statistic, p = metrics.block_bootstrap_flatness(ranks, 51, days, 500, seed)
        assert statistic == pytest.approx(metrics.chi_square_flatness(np.bincount(ranks, minlength=51))[0])
        p_naive.append(metrics.chi_square_flatness(np.bincount(ranks, minlength=51))[1])
        p_boot.append(p)
    assert max(p_naive) < 1e-6 and np.median(p_boot) > 0.1
    skewed = np.repeat(np.minimum(rng.integers(0, 51, size=365), rng.integers(0, 51, size=365)), 12)
    assert metrics.block_bootstrap_flatness(skewed, 51, days, 500, 0)[1] < 0.01
    with pytest.raises(ValueError, match="ranks must lie"):
        metrics.block_bootstrap_flatness(np.array([0, 51]), 51, np.array([0, 1]))
