"""Tests of scenarios.tree: mpi-sppy names, probabilities, shared values, explicit nodes."""

import numpy as np
import pytest

from scenarios.scenario_set import ScenarioSet
from scenarios.tree import ScenarioTree, TreeNode

VARIABLES = ("p0_eur_per_mwh", "pv_kw_per_kwp:site0")


@pytest.fixture(scope="module")
def random_walks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 24, 2)).cumsum(axis=1) + np.array([50.0, 0.0])
    probs = rng.random(300)
    return ScenarioSet(x, probs / probs.sum(), VARIABLES)


@pytest.fixture(scope="module")
def tree23(random_walks):
    return ScenarioTree.from_scenario_set(random_walks, [0, 6, 12], [2, 3], random_state=1)


def test_branching_2_3_gives_six_leaves_named_as_mpisppy(tree23):
    assert tree23.n_stages == 3 and tree23.n_scenarios == 6
    assert tree23.leaves == ("ROOT_0_0", "ROOT_0_1", "ROOT_0_2", "ROOT_1_0", "ROOT_1_1", "ROOT_1_2")
    assert list(tree23.nodes) == ["ROOT", "ROOT_0", "ROOT_1", *tree23.leaves]
    assert tree23.scenario_names == tuple(f"scen{i}" for i in range(6))
    assert tree23.node_names_of("scen4") == ["ROOT", "ROOT_1", "ROOT_1_1"]
    assert tree23.branching_factors == [2, 3]
    assert [n.stage for n in tree23.path_of("scen0")] == [1, 2, 3]
    assert tree23.nonanticipativity_stages == (1, 2)


def test_probabilities(tree23, random_walks):
    leaf_probs = [tree23.probability_of(s) for s in tree23.scenario_names]
    assert sum(leaf_probs) == pytest.approx(1.0)
    for name in tree23.nodes:
        kids = tree23.children(name)
        if kids:
            assert sum(tree23.nodes[k].conditional_probability for k in kids) == pytest.approx(1.0)
            # unconditional probability of a node = sum over its children
            assert sum(tree23.nodes[k].probability for k in kids) == pytest.approx(tree23.nodes[name].probability)
    for s in tree23.scenario_names:
        cond = tree23.conditional_probabilities_of(s)
        assert np.prod(cond) == pytest.approx(tree23.probability_of(s))
        np.testing.assert_allclose(tree23.node_probabilities_of(s), np.cumprod(cond))
    # a leaf's probability is the mass of the original scenarios it stands for
    members = tree23.metadata["leaf_members"]
    for s in tree23.scenario_names:
        idx = [random_walks.names.index(n) for n in members[s]]
        assert tree23.probability_of(s) == pytest.approx(random_walks.probabilities[idx].sum())
    assert sorted(sum(members.values(), [])) == sorted(random_walks.names)


def test_values_shared_along_shared_nodes(tree23, random_walks):
    v = {s: tree23.values_of(s) for s in tree23.scenario_names}
    assert v["scen0"].shape == (24, 2)
    # all scenarios share stage 1 (periods 0-5): the weighted mean of the whole set
    for s in tree23.scenario_names:
        np.testing.assert_array_equal(v[s][:6], v["scen0"][:6])
    np.testing.assert_allclose(v["scen0"][:6], random_walks.mean()[:6])
    # scenarios under ROOT_0 share periods 6-11, and differ from those under ROOT_1
    for s in ("scen1", "scen2"):
        np.testing.assert_array_equal(v[s][6:12], v["scen0"][6:12])
    assert not np.allclose(v["scen3"][6:12], v["scen0"][6:12])
    assert not np.allclose(v["scen1"][12:], v["scen0"][12:])
    # conditional means preserve the overall mean path
    np.testing.assert_allclose(tree23.to_scenario_set().mean(), random_walks.mean(), atol=1e-9)


def test_to_scenario_set(tree23):
    s = tree23.to_scenario_set()
    assert s.names == tree23.scenario_names and s.variables == VARIABLES
    assert s.values.shape == (6, 24, 2)
    np.testing.assert_allclose(s.probabilities, [tree23.probability_of(n) for n in s.names])
    np.testing.assert_array_equal(s.values[4], tree23.values_of("scen4"))


def test_nonanticipativity_sets_and_mpisppy_specs(tree23):
    sets = tree23.nonanticipativity_sets()
    assert sets["ROOT"] == tree23.scenario_names
    assert sets["ROOT_0"] == ("scen0", "scen1", "scen2") and sets["ROOT_1"] == ("scen3", "scen4", "scen5")
    assert set(tree23.nonanticipativity_sets(stage=2)) == {"ROOT_0", "ROOT_1"}
    specs = tree23.mpisppy_node_specs("scen5")
    assert [(d["name"], d["stage"], d["parent_name"]) for d in specs] == [("ROOT", 1, None), ("ROOT_1", 2, "ROOT")]
    assert specs[1]["cond_prob"] == pytest.approx(tree23.nodes["ROOT_1"].conditional_probability)


def test_clustering_separates_obvious_branches():
    # 4 groups fixed by stage-2 level (+-10) and stage-3 level (+-1); 10 noisy copies of each
    rng = np.random.default_rng(2)
    paths = []
    for a in (-10.0, 10.0):
        for b in (-1.0, 1.0):
            base = np.concatenate([np.zeros(2), np.full(2, a), np.full(2, a + b)])
            paths.extend(base + 0.01 * rng.normal(size=(10, 6)))
    s = ScenarioSet(np.array(paths)[:, :, None], np.full(40, 1 / 40), ("p0_eur_per_mwh",))
    tree = ScenarioTree.from_scenario_set(s, [0, 2, 4], [2, 2], random_state=0)
    for scen in tree.scenario_names:
        assert tree.probability_of(scen) == pytest.approx(0.25)
    leaf_levels = sorted(round(float(tree.values_of(sc)[4, 0])) for sc in tree.scenario_names)
    assert leaf_levels == [-11, -9, 9, 11]
    # children named in the order of their first member: the -10 branch comes first
    assert tree.values_of("scen0")[2, 0] == pytest.approx(-10.0, abs=0.05)


def test_uneven_explicit_tree():
    nodes = [
        TreeNode("ROOT", 1.0, [[1.0]]),
        TreeNode("ROOT_0", 0.3, [[2.0], [2.5]]),
        TreeNode("ROOT_1", 0.7, [[3.0], [3.5]]),
        TreeNode("ROOT_0_0", 1.0, [[4.0]]),
        TreeNode("ROOT_1_0", 0.5, [[5.0]]),
        TreeNode("ROOT_1_1", 0.25, [[6.0]]),
        TreeNode("ROOT_1_2", 0.25, [[7.0]]),
    ]
    tree = ScenarioTree(nodes, ("p0_eur_per_mwh",))
    assert tree.stage_start_periods == (0, 1, 3) and tree.n_periods == 4
    assert tree.branching_factors is None  # ROOT_0 has one child, ROOT_1 three
    assert tree.leaves == ("ROOT_0_0", "ROOT_1_0", "ROOT_1_1", "ROOT_1_2")
    np.testing.assert_allclose([tree.probability_of(s) for s in tree.scenario_names], [0.3, 0.35, 0.175, 0.175])
    np.testing.assert_array_equal(tree.values_of("scen3")[:, 0], [1.0, 3.0, 3.5, 7.0])
    assert list(tree.stage_periods(2)) == [1, 2]


def test_explicit_tree_validation():
    root = TreeNode("ROOT", 1.0, [[1.0]])
    with pytest.raises(ValueError, match="sum to 1"):
        ScenarioTree([root, TreeNode("ROOT_0", 0.5, [[1.0]]), TreeNode("ROOT_1", 0.4, [[1.0]])], ("x1",))
    with pytest.raises(ValueError, match="numbered"):
        ScenarioTree([root, TreeNode("ROOT_1", 1.0, [[1.0]])], ("x1",))
    with pytest.raises(ValueError, match="mpi-sppy"):
        ScenarioTree([root, TreeNode("ROOT-0", 1.0, [[1.0]])], ("x1",))
    with pytest.raises(ValueError, match="last stage"):
        ScenarioTree([root, TreeNode("ROOT_0", 0.5, [[1.0]]), TreeNode("ROOT_1", 0.5, [[1.0]]),
                      TreeNode("ROOT_0_0", 1.0, [[1.0]])], ("x1",))


def test_from_scenario_set_validation(random_walks):
    with pytest.raises(ValueError, match="stage_start_periods"):
        ScenarioTree.from_scenario_set(random_walks, [1, 6], [2])
    with pytest.raises(ValueError, match="branching_factors"):
        ScenarioTree.from_scenario_set(random_walks, [0, 6, 12], [2])
    with pytest.raises(ValueError, match="leaves"):
        ScenarioTree.from_scenario_set(random_walks.subset(range(5)), [0, 6], [6])


def test_seeded_and_future_clustering(random_walks):
    a = ScenarioTree.from_scenario_set(random_walks, [0, 12], [4], random_state=5, cluster_on="future")
    b = ScenarioTree.from_scenario_set(random_walks, [0, 12], [4], random_state=5, cluster_on="future")
    np.testing.assert_array_equal(a.to_scenario_set().values, b.to_scenario_set().values)
