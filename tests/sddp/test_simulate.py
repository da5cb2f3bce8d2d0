"""Simulation: confidence interval vs the bound, the tidy DataFrame, and
simulation along historical noise paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import sddp
from sddp.examples import hydro_thermal, hydro_valley

H1 = 25000 / 3


@pytest.fixture(scope="module")
def trained_h1():
    model = hydro_thermal()
    res = sddp.train(model, iteration_limit=30, print_level=0, random_state=1)
    assert res.bound == pytest.approx(H1, rel=1e-6)
    return model


def test_confidence_interval_is_a_statistical_upper_bound(trained_h1):
    sim = sddp.simulate(trained_h1, 400, random_state=7)
    lo, hi = sim.ci
    assert hi >= H1  # contains or lies above the converged lower bound
    assert lo <= sim.mean <= hi
    assert hi - lo == pytest.approx(2 * 1.96 * np.std(sim.costs, ddof=1) / np.sqrt(400))
    assert sim.statistical_bound == hi


def test_tidy_dataframe(trained_h1):
    sim = sddp.simulate(trained_h1, 5, variables=["volume", "volume_in", "hydro", "spill",
                                                  "thermal", "noise", "stage_objective"],
                        random_state=3)
    df = sim.data
    assert list(df.columns) == ["replication", "stage", "node", "variable", "value"]
    assert len(df) == 5 * 3 * 7
    wide = df.pivot_table(index=["replication", "stage"], columns="variable", values="value")
    # water balance and demand hold, stage costs add up to the replication costs
    assert np.allclose(wide.volume, wide.volume_in - wide.hydro - wide.spill + wide.noise)
    assert np.allclose(wide.hydro + wide.thermal, 150.0)
    per_rep = wide.stage_objective.groupby(level="replication").sum().to_numpy()
    assert np.allclose(per_rep, sim.costs)
    first = wide.xs(1, level="stage")
    assert np.allclose(first.volume_in, 200.0)


def test_same_random_state_same_costs(trained_h1):
    a = sddp.simulate(trained_h1, 20, random_state=11).costs
    b = sddp.simulate(trained_h1, 20, random_state=11).costs
    assert np.array_equal(a, b)


def test_historical_paths_cover_the_tree(trained_h1):
    # all 27 equally likely paths: the optimal policy's mean cost is the optimum
    paths = [list(p) for p in itertools.product([0, 50, 100], repeat=3)]
    sim = sddp.simulate_historical(trained_h1, paths, variables=["noise"])
    assert len(sim.costs) == 27
    assert sim.mean == pytest.approx(H1, rel=1e-9)
    noise = sim.data[sim.data.replication == 5].value.tolist()
    assert noise == paths[5]


def test_historical_path_outside_the_support(trained_h1):
    # a dry path, 0 inflow everywhere, as explicit (node, noise) pairs: the
    # 200 units of water cover 200 of 450 demand, thermal is cheapest first
    sim = sddp.simulate_historical(trained_h1, [[(1, 0), (2, 0), (3, 0)]])
    assert sim.costs[0] >= 150 * 50 + 100 * 100 - 1e-6
    # an inflow that is not in the support is applied through the parameterisation
    # (1000 per stage covers all demand: no thermal, zero cost)
    sim = sddp.simulate_historical(trained_h1, [[(1, 1000.0), (2, 1000.0), (3, 1000.0)]],
                                   variables=["thermal"])
    assert sim.costs[0] == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(sim.data.value, 0.0)


def test_markov_simulation_records_nodes():
    model = hydro_valley(True, True)
    sddp.train(model, iteration_limit=20, print_level=0, random_state=0)
    sim = sddp.simulate(model, 50, variables=["reservoir1"], random_state=0)
    nodes = set(sim.data.node)
    assert nodes <= {(1, 1), (2, 1), (2, 2), (3, 1), (3, 2)}
    assert (1, 1) in nodes and len(nodes) >= 4
    # maximisation: the interval contains or lies below the upper bound 855
    assert sim.ci[0] <= 855.0 + 1e-6


def test_out_of_sample_simulation_uses_new_noise():
    model = hydro_thermal()
    sddp.train(model, iteration_limit=20, print_level=0, random_state=0)
    sim = sddp.simulate(model, 5, variables=["noise"], random_state=0,
                        sampling_scheme=sddp.OutOfSample(lambda node, rng: 1000.0))
    assert np.allclose(sim.costs, 0.0)  # plenty of water: no thermal
    assert np.allclose(sim.data.value, 1000.0)
