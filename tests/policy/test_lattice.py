"""The lattice of the one-day battery policy: each node carries its training realisations as noise
(SDDP's bound reaches the deterministic equivalent of the same lattice and noise), clustering on
values standardised hour by hour (p1 no longer left out by wind), the rule of at least 30 training
paths per node, and no overrun that the generator could have covered."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sddp

from planner.case import case_from_dict, case_to_dict
from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import (
    MIN_PATHS_PER_NODE,
    ResidualLattice,
    add_initial_cuts,
    build_policy_model,
    fit_lattice,
    policy_inputs,
)
from scenarios.lattice import MarkovLattice
from scenarios.scenario_set import ScenarioSet


def with_subscribed_power(case, power_kw):
    data = case_to_dict(case)
    data["contract"]["subscribed_power_kw"] = power_kw
    return case_from_dict(data)


def three_uncertain_hours(case, n_paths=60, hours=(17, 18, 19), seed=0):
    """Day paths equal to the first path except at ``hours``: there, each path's own values, and
    on about half of the paths (switching with probability 0.3 from hour to hour) the three prices
    40 EUR/MWh higher. The lattice then has one node and one noise point at the other hours, so
    the deterministic equivalent stays small."""
    base = synthetic_scenarios(case, n_paths, random_state=1)
    values = base.values.copy()
    rng = np.random.default_rng(seed)
    high = rng.random(n_paths) < 0.5
    for t in range(values.shape[1]):
        if t not in hours:
            values[:, t] = values[0, t]
            continue
        if t > hours[0]:
            high = np.where(rng.random(n_paths) < 0.3, ~high, high)
        values[high, t, :3] += 40.0
    return ScenarioSet(values, base.probabilities, base.variables, period_hours=base.period_hours)


def test_node_noise_is_the_nodes_training_realisations(default_case):
    """With at most max_noise realisations in a node its support is exactly those realisations with
    their masses; with more, the k-means reduction keeps the node's mean and total mass."""
    scenarios = three_uncertain_hours(default_case)
    variables = scenarios.variables
    for max_noise in (40, 3):
        lat = ResidualLattice(n_states=2, max_noise=max_noise, random_state=0).fit(scenarios)
        for t in (16, 17, 18, 19):
            for k in range(lat.node_values[t].shape[0]):
                members = scenarios.values[lat.labels_[:, t] == k, t]
                support, probs = lat.noise_values_[t][k], lat.noise_probabilities_[t][k]
                assert probs.sum() == pytest.approx(1.0, abs=1e-12)
                np.testing.assert_allclose(probs @ support, members.mean(axis=0), rtol=1e-9, atol=1e-9)
                np.testing.assert_allclose(lat.node_values[t][k], members.mean(axis=0), rtol=1e-9, atol=1e-9)
                distinct = np.unique(members, axis=0)
                if distinct.shape[0] <= max_noise:
                    np.testing.assert_allclose(np.sort(support, axis=0), np.sort(distinct, axis=0))
                    counts = [(members == row).all(axis=1).sum() for row in support]
                    np.testing.assert_allclose(probs, np.array(counts) / len(members))
                else:
                    assert support.shape == (max_noise, len(variables))
    # hour 16 is the same on every path: one node with one realisation
    assert lat.node_values[16].shape[0] == 1 and lat.noise_values_[16][0].shape[0] == 1


def test_bound_with_residual_noise_equals_the_deterministic_equivalent(default_case):
    """P = 4000 kW (the overrun is charged on every path) and three uncertain hours with two nodes
    of three noise points each: SDDP's bound reaches the optimum of the whole scenario tree of the
    same lattice and noise, solved as one LP (sddp.deterministic_equivalent), to 1e-6. The tree
    with the noise differs from the tree of the node means (the noise is seen)."""
    case = with_subscribed_power(default_case, 4000.0)
    scenarios = three_uncertain_hours(case)
    inp = policy_inputs(case, FixedSchedule.from_rule(case, scenarios), scenarios)
    model = build_policy_model(inp, scenarios, n_states=2, random_state=0, max_noise=3)
    assert [len(v) for v in model.lattice.node_values][17:20] == [2, 2, 2]
    assert all(len(model.graph.node((t + 1, k + 1)).noise_support) == 3 for t in (17, 18, 19) for k in (0, 1))
    exact = sddp.deterministic_equivalent(model.graph)
    res = sddp.train(model.graph, iteration_limit=60, print_level=0, random_state=0)
    assert res.bound == pytest.approx(exact, rel=1e-6)
    means_only = build_policy_model(inp, lattice=ResidualLattice(n_states=2, max_noise=1, random_state=0).fit(
        scenarios.select_variables(list(inp.variables))))
    assert abs(sddp.deterministic_equivalent(means_only.graph) - exact) > 1e-5 * abs(exact)


def between_share(labels, values, probs):
    """Share of each variable's within-hour variance between the clusters, averaged over hours (V,)."""
    shares = []
    for t in range(values.shape[1]):
        x, w = values[:, t], probs / probs.sum()
        mean = w @ x
        total = w @ (x - mean) ** 2
        between = np.zeros(x.shape[1])
        for k in np.unique(labels[:, t]):
            m = labels[:, t] == k
            between += w[m].sum() * (w[m] @ x[m] / w[m].sum() - mean) ** 2
        shares.append(np.where(total > 1e-12, between / np.maximum(total, 1e-12), 0.0))
    return np.mean(shares, axis=0)


def test_hourly_standardisation_lets_p1_shape_the_clusters():
    """p1 swings 50 EUR/MWh over the day but varies by 5 EUR/MWh within an hour; wind (kW per
    turbine) varies by 250 within every hour. Unscaled, or scaled over all hours (the old lattice),
    the clusters split on wind and explain little of p1's within-hour variance; scaled by each
    hour's standard deviation both variables have unit variance and p1 gets its share."""
    rng = np.random.default_rng(0)
    S, T = 300, 24
    hours = np.arange(T)
    p1 = 55 + 25 * np.sin(2 * np.pi * hours / 24)[None, :] + rng.normal(0, 5, (S, T))
    wind = 400 + rng.normal(0, 250, (S, T))
    values = np.stack([p1, wind], axis=2)
    probs = np.full(S, 1.0 / S)
    names = ("p1_eur_per_mwh", "wind_kw_per_turbine:site")
    history = ScenarioSet(values, probs, names)
    hourly = ResidualLattice(n_states=4, random_state=0).fit(history)
    unscaled = MarkovLattice(n_states=4, standardise=False, random_state=0).fit(history)
    all_hours = MarkovLattice(n_states=4, standardise=True, random_state=0).fit(history)
    share = {name: between_share(lat.labels_, values, probs)
             for name, lat in (("hourly", hourly), ("unscaled", unscaled), ("all hours", all_hours))}
    assert share["unscaled"][0] < 0.1 and share["all hours"][0] < 0.3
    assert share["hourly"][0] > 0.3
    assert share["hourly"][0] > 2 * max(share["unscaled"][0], share["all hours"][0])
    # and wind keeps a fair share: neither variable is left out
    assert share["hourly"][1] > 0.3


def test_at_least_30_paths_per_node(default_case):
    """100 paths allow 100 // 30 = 3 states: a request for 5 is cut to 3 with a warning and a note."""
    scenarios = synthetic_scenarios(default_case, 100, random_state=0)
    inp = policy_inputs(default_case, FixedSchedule.from_rule(default_case, scenarios), scenarios)
    with pytest.warns(UserWarning, match=r"n_states = 5 reduced to 3.*give 150 training paths"):
        lattice, _ = fit_lattice(inp, scenarios, n_states=5, random_state=0)
    assert MIN_PATHS_PER_NODE == 30
    assert max(len(v) for v in lattice.node_values) == 3
    assert any("reduced to 3" in note for note in inp.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lattice, _ = fit_lattice(inp, scenarios, n_states=3, random_state=0)  # no warning
    with pytest.raises(ValueError, match="min_paths_per_node"):
        fit_lattice(inp, scenarios, n_states=3, min_paths_per_node=0)
    with pytest.raises(ValueError, match="max_noise"):
        build_policy_model(inp, scenarios, n_states=3, max_noise=0)


@pytest.mark.parametrize("power_kw", [7000.0, 5500.0])
def test_no_overrun_that_the_generator_could_cover(default_case, power_kw, tmp_path):
    """100 out-of-sample paths: no path overruns the threshold (1.1 P) where the foundry's generator
    (95 EUR/MWh, far below f3 = 25 EUR/kW) had the spare capacity to cover the excess in every
    hour above the threshold. (The issue's bug: with the overrun charged at the last hour only,
    SDDP bought intraday above the threshold on 18 of 100 paths at P = 7000 kW.) At P = 5500 kW
    the threshold binds: the policy holds the import at it on some paths."""
    case = with_subscribed_power(default_case, power_kw)
    scenarios = synthetic_scenarios(case, 250, random_state=1)
    train, test = scenarios.subset(range(150)), scenarios.subset(range(150, 250))
    inp = policy_inputs(case, FixedSchedule.from_rule(case, train), train)
    model = build_policy_model(inp, train, n_states=3, random_state=0)
    add_initial_cuts(model, tmp_path / "initial_cuts.json")
    sddp.train(model.graph, iteration_limit=15, print_level=0, random_state=0)
    values = test.select_variables(list(inp.variables)).values
    sites = inp.site_names
    generators = [i for i, g in enumerate(inp.generator) if g is not None]
    grid = [f"grid_kw:{n}" for n in sites]
    gens = [f"generator_kw:{sites[i]}" for i in generators]
    sim = sddp.simulate_historical(model.graph, model.paths(values), variables=grid + gens)
    wide = sim.data.pivot_table(index=["replication", "stage"], columns="variable", values="value")
    S, T = values.shape[:2]
    imports = wide[grid].sum(axis=1).to_numpy().reshape(S, T)
    spare = sum(inp.generator[i][0] - wide[g].to_numpy().reshape(S, T) for i, g in zip(generators, gens))
    excess = np.maximum(imports - inp.overrun_threshold_kw, 0.0)
    overruns = excess.max(axis=1) > 1e-3
    coverable = np.all(spare >= excess - 1e-6, axis=1)
    assert not np.any(overruns & coverable), f"{np.count_nonzero(overruns & coverable)} paths"
    if power_kw == 5500.0:
        assert np.count_nonzero(imports.max(axis=1) > inp.overrun_threshold_kw - 1.0) >= 1
