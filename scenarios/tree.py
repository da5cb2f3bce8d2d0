"""Scenario trees for multistage stochastic programs, with mpi-sppy node names (ROOT, ROOT_0, ROOT_0_1...).

A tree is built from a scenario set by stage-wise clustering of the scenario paths, or from
explicit nodes; each leaf is a scenario whose path of nodes gives its values period by period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from .metrics import as_generator
from .scenario_set import ScenarioSet

__all__ = ["TreeNode", "ScenarioTree"]

_NODE_NAME = re.compile(r"^ROOT(_\d+)*$")


@dataclass(frozen=True, eq=False)
class TreeNode:
    """One node of a scenario tree.

    Attributes
    ----------
    name : mpi-sppy name, ``ROOT`` or parent name + ``_k`` (k = 0, 1, ... among its siblings).
    conditional_probability : probability of this node given its parent (1 for ROOT).
    values : array (periods of the node's stage, variables).
    probability : unconditional probability (product of conditional ones along the path); filled
        in by :class:`ScenarioTree`.
    stage : 1 for ROOT, 2 for its children...; filled in by :class:`ScenarioTree`.
    """

    name: str
    conditional_probability: float
    values: np.ndarray
    probability: float = float("nan")
    stage: int = 0

    @property
    def parent(self) -> str | None:
        return None if self.name == "ROOT" else self.name.rsplit("_", 1)[0]

    @property
    def path_indices(self) -> tuple[int, ...]:
        return tuple(int(k) for k in self.name.split("_")[1:])


@dataclass(frozen=True, eq=False)
class ScenarioTree:
    """A scenario tree whose leaves all sit at the last stage (as mpi-sppy requires).

    Attributes
    ----------
    nodes : dict name -> :class:`TreeNode` (with ``probability`` and ``stage`` filled in).
    variables : names of the variables (with units).
    stage_start_periods : tuple, period at which each stage begins (first is 0).
    n_periods : total number of periods of a scenario.
    scenario_names : leaf scenarios ``scen0, scen1...`` in the order of their leaf names.
    leaf_of_scenario : dict scenario name -> leaf node name.
    period_hours, start, metadata : as in :class:`ScenarioSet`.
    """

    nodes: dict = field(repr=False)
    variables: tuple
    period_hours: float = 1.0
    start: pd.Timestamp | None = None
    metadata: dict = field(default_factory=dict, repr=False)
    stage_start_periods: tuple = field(init=False)
    n_periods: int = field(init=False)
    scenario_names: tuple = field(init=False)
    leaf_of_scenario: dict = field(init=False)

    # -- construction ------------------------------------------------------------------------
    def __post_init__(self) -> None:
        raw = self.nodes
        if isinstance(raw, dict):
            raw = list(raw.values())
        raw = list(raw)
        variables = tuple(self.variables)
        by_name: dict[str, TreeNode] = {}
        for node in raw:
            if not isinstance(node, TreeNode):
                raise TypeError(f"nodes must be TreeNode instances; got {type(node).__name__}")
            if not _NODE_NAME.match(node.name):
                raise ValueError(
                    f"node name {node.name!r} is not an mpi-sppy name: use ROOT, ROOT_0, ROOT_0_1..."
                )
            if node.name in by_name:
                raise ValueError(f"node {node.name!r} is given twice")
            by_name[node.name] = node
        if "ROOT" not in by_name:
            raise ValueError("nodes must include ROOT")
        children: dict[str, list[str]] = {name: [] for name in by_name}
        for name, node in by_name.items():
            if node.parent is not None:
                if node.parent not in by_name:
                    raise ValueError(f"node {name!r} has no parent {node.parent!r} among the nodes")
                children[node.parent].append(name)
        for name, kids in children.items():
            kids.sort(key=lambda n: by_name[n].path_indices)
            expected = [f"{name}_{k}" for k in range(len(kids))]
            if kids != expected:
                raise ValueError(f"children of {name!r} must be numbered 0, 1, ...: got {kids}, expected {expected}")
            if kids:
                total = sum(by_name[k].conditional_probability for k in kids)
                if not np.isclose(total, 1.0, atol=1e-9):
                    raise ValueError(
                        f"conditional probabilities of the children of {name!r} must sum to 1; they sum to {total:.12g}"
                    )
        depth = {name: len(by_name[name].path_indices) + 1 for name in by_name}
        leaves = [n for n, kids in children.items() if not kids]
        n_stages = max(depth.values())
        if any(depth[leaf] != n_stages for leaf in leaves):
            raise ValueError("every leaf must be at the last stage (mpi-sppy needs equal-depth trees)")
        stage_lengths: dict[int, int] = {}
        final: dict[str, TreeNode] = {}
        # parents before children: sort by depth then path
        for name in sorted(by_name, key=lambda n: (depth[n], by_name[n].path_indices)):
            node = by_name[name]
            values = np.asarray(node.values, dtype=float)
            if values.ndim == 1 and len(variables) == 1:
                values = values[:, None]
            if values.ndim != 2 or values.shape[1] != len(variables):
                raise ValueError(
                    f"values of node {name!r} must have shape (periods, {len(variables)} variables); got {values.shape}"
                )
            stage = depth[name]
            if stage_lengths.setdefault(stage, values.shape[0]) != values.shape[0]:
                raise ValueError(f"all nodes of stage {stage} must cover the same number of periods")
            if values.shape[0] == 0 or not np.all(np.isfinite(values)):
                raise ValueError(f"values of node {name!r} must be finite and cover at least one period")
            cp = 1.0 if name == "ROOT" else float(node.conditional_probability)
            if not 0.0 <= cp <= 1.0:
                raise ValueError(f"conditional probability of {name!r} must be in [0, 1]; got {cp}")
            prob = cp if node.parent is None else final[node.parent].probability * cp
            final[name] = TreeNode(name, cp, values, prob, stage)
        lengths = [stage_lengths[s] for s in range(1, n_stages + 1)]
        starts = tuple(int(x) for x in np.concatenate([[0], np.cumsum(lengths)[:-1]]))
        leaves.sort(key=lambda n: final[n].path_indices)
        scenario_names = tuple(f"scen{i}" for i in range(len(leaves)))
        ordered = {n: final[n] for n in sorted(final, key=lambda n: (depth[n], final[n].path_indices))}
        object.__setattr__(self, "nodes", ordered)
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "stage_start_periods", starts)
        object.__setattr__(self, "n_periods", int(sum(lengths)))
        object.__setattr__(self, "scenario_names", scenario_names)
        object.__setattr__(self, "leaf_of_scenario", dict(zip(scenario_names, leaves)))
        object.__setattr__(self, "_children", {n: tuple(k) for n, k in children.items()})
        if self.start is not None:
            object.__setattr__(self, "start", pd.Timestamp(self.start))

    @classmethod
    def from_scenario_set(cls, scenario_set: ScenarioSet, stage_start_periods, branching_factors,
                          random_state=0, standardise: bool = True, cluster_on: str = "stage",
                          n_init: int = 4) -> "ScenarioTree":
        """Build a tree by stage-wise clustering of the paths of ``scenario_set``.

        ``stage_start_periods`` gives the period at which each stage begins (``[0, 6, 12]`` for
        three stages over 24 periods); ``branching_factors`` the number of children of every node
        of stages 1 .. n-1 (``[2, 3]`` gives 2 x 3 = 6 leaves). The ROOT values are the
        probability-weighted mean of all scenarios over stage 1. Then, stage by stage, the scenarios
        of each node are split by probability-weighted k-means (scikit-learn, seeded) on their
        values over the next stage's periods (``cluster_on="stage"``) or over all remaining periods
        (``cluster_on="future"``), variables standardised over the whole set when ``standardise``.
        Each child gets the cluster's conditional probability (its mass over the parent's) and
        the cluster's conditional mean over its own stage. ``metadata['leaf_members']`` lists the
        original scenarios behind each leaf scenario.
        """
        if not isinstance(scenario_set, ScenarioSet):
            raise TypeError(f"scenario_set must be a ScenarioSet; got {type(scenario_set).__name__}")
        starts = [int(s) for s in stage_start_periods]
        t_total = scenario_set.n_periods
        if not starts or starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:])) or starts[-1] >= t_total:
            raise ValueError(
                f"stage_start_periods must start at 0 and increase strictly below {t_total} periods; got {starts}"
            )
        branching = [int(b) for b in branching_factors]
        if len(branching) != len(starts) - 1 or any(b < 1 for b in branching):
            raise ValueError(
                f"branching_factors needs one factor >= 1 per stage after the first "
                f"({len(starts) - 1}); got {branching}"
            )
        if cluster_on not in ("stage", "future"):
            raise ValueError(f"cluster_on must be 'stage' or 'future'; got {cluster_on!r}")
        n_leaves = int(np.prod(branching)) if branching else 1
        if n_leaves > scenario_set.n_scenarios:
            raise ValueError(
                f"the tree would have {n_leaves} leaves but the set has only {scenario_set.n_scenarios} scenarios"
            )
        rng = as_generator(random_state)
        values = scenario_set.values
        probs = scenario_set.probabilities
        ends = starts[1:] + [t_total]
        if standardise:
            flat = values.reshape(-1, values.shape[2])
            w = np.repeat(probs, values.shape[1])
            mean = w @ flat
            std = np.sqrt(w @ (flat - mean) ** 2)
            std[std <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
            scaled = (values - mean) / std
        else:
            scaled = values

        def conditional_mean(members, stage_index):
            w = probs[members] / probs[members].sum()
            return np.tensordot(w, values[members, starts[stage_index]:ends[stage_index]], axes=1)

        all_members = np.arange(scenario_set.n_scenarios)
        nodes = [TreeNode("ROOT", 1.0, conditional_mean(all_members, 0))]
        members_of = {"ROOT": all_members}
        frontier = ["ROOT"]
        for stage_index in range(1, len(starts)):
            k = branching[stage_index - 1]
            new_frontier = []
            last = ends[stage_index] if cluster_on == "stage" else t_total
            for parent in frontier:
                members = members_of[parent]
                if members.size < k:
                    raise ValueError(
                        f"node {parent} holds {members.size} scenarios, fewer than its {k} branches; "
                        "use more scenarios or smaller branching_factors"
                    )
                features = scaled[members, starts[stage_index]:last].reshape(members.size, -1)
                weights = probs[members]
                if k == 1:
                    labels = np.zeros(members.size, dtype=int)
                else:
                    km = KMeans(n_clusters=k, n_init=n_init, random_state=int(rng.integers(2**31 - 1)))
                    with threadpool_limits(1):  # OpenMP start-up dominates such small fits
                        labels = km.fit(features, sample_weight=weights / weights.sum()).labels_
                    if np.unique(labels).size < k:
                        raise ValueError(
                            f"node {parent}: its scenarios have fewer than {k} distinct paths in stage "
                            f"{stage_index + 1}; use smaller branching_factors"
                        )
                    # order children by first member so names do not depend on k-means label order
                    first_member = [np.flatnonzero(labels == c)[0] for c in range(k)]
                    relabel = np.argsort(np.argsort(first_member))
                    labels = relabel[labels]
                for c in range(k):
                    child_members = members[labels == c]
                    name = f"{parent}_{c}"
                    cp = probs[child_members].sum() / weights.sum()
                    nodes.append(TreeNode(name, float(cp), conditional_mean(child_members, stage_index)))
                    members_of[name] = child_members
                    new_frontier.append(name)
            frontier = new_frontier
        metadata = dict(scenario_set.metadata)
        tree = cls(nodes, scenario_set.variables, scenario_set.period_hours, scenario_set.start, metadata)
        metadata["leaf_members"] = {
            scen: [scenario_set.names[i] for i in members_of[leaf]]
            for scen, leaf in tree.leaf_of_scenario.items()
        }
        metadata["branching_factors"] = branching
        return tree

    # -- queries -----------------------------------------------------------------------------
    @property
    def n_stages(self) -> int:
        return len(self.stage_start_periods)

    @property
    def n_scenarios(self) -> int:
        return len(self.scenario_names)

    @property
    def leaves(self) -> tuple:
        return tuple(self.leaf_of_scenario.values())

    @property
    def branching_factors(self) -> list | None:
        """Children per node for each stage but the last, or None when a stage's nodes differ."""
        factors = []
        for stage in range(1, self.n_stages):
            counts = {len(self._children[n]) for n, node in self.nodes.items() if node.stage == stage}
            if len(counts) != 1:
                return None
            factors.append(counts.pop())
        return factors

    def stage_periods(self, stage: int) -> range:
        """Periods covered by ``stage`` (1-based)."""
        if not 1 <= stage <= self.n_stages:
            raise ValueError(f"stage must be between 1 and {self.n_stages}; got {stage}")
        end = self.stage_start_periods[stage] if stage < self.n_stages else self.n_periods
        return range(self.stage_start_periods[stage - 1], end)

    def children(self, node_name: str) -> tuple:
        return self._children[node_name]

    def _leaf(self, scenario: str) -> str:
        try:
            return self.leaf_of_scenario[scenario]
        except KeyError:
            raise KeyError(
                f"no scenario {scenario!r} in this tree; it has {list(self.scenario_names)[:5]}..."
            ) from None

    def node_names_of(self, scenario: str) -> list[str]:
        """Names of the nodes on the scenario's path, ROOT first, its leaf last."""
        leaf = self._leaf(scenario)
        parts = leaf.split("_")
        return ["_".join(parts[:i]) for i in range(1, len(parts) + 1)]

    def path_of(self, scenario: str) -> list[TreeNode]:
        return [self.nodes[n] for n in self.node_names_of(scenario)]

    def conditional_probabilities_of(self, scenario: str) -> np.ndarray:
        return np.array([n.conditional_probability for n in self.path_of(scenario)])

    def node_probabilities_of(self, scenario: str) -> np.ndarray:
        """Unconditional probabilities of the nodes on the path (the last is the scenario's)."""
        return np.array([n.probability for n in self.path_of(scenario)])

    def probability_of(self, scenario: str) -> float:
        return float(self.nodes[self._leaf(scenario)].probability)

    def values_of(self, scenario: str) -> np.ndarray:
        """Values of the scenario, shape (periods, variables), concatenated along its path."""
        return np.concatenate([n.values for n in self.path_of(scenario)], axis=0)

    def scenarios_through(self, node_name: str) -> tuple:
        """Scenarios whose path passes through ``node_name``."""
        if node_name not in self.nodes:
            raise KeyError(f"no node {node_name!r} in this tree")
        return tuple(s for s, leaf in self.leaf_of_scenario.items()
                     if leaf == node_name or leaf.startswith(node_name + "_"))

    def nonanticipativity_sets(self, stage: int | None = None) -> dict:
        """For each non-leaf node (of ``stage`` if given): the scenarios that must share its decisions."""
        return {
            name: self.scenarios_through(name)
            for name, node in self.nodes.items()
            if node.stage < self.n_stages and (stage is None or node.stage == stage)
        }

    @property
    def nonanticipativity_stages(self) -> tuple:
        """Stages whose decisions are subject to nonanticipativity (all but the last)."""
        return tuple(range(1, self.n_stages))

    def mpisppy_node_specs(self, scenario: str) -> list[dict]:
        """What ``mpisppy.scenario_tree.ScenarioNode`` needs for each non-leaf node of the path:
        ``name``, ``cond_prob``, ``stage``, ``parent_name`` (cost expressions and nonant lists come
        from the model)."""
        return [
            {"name": n.name, "cond_prob": n.conditional_probability, "stage": n.stage,
             "parent_name": n.parent}
            for n in self.path_of(scenario)[:-1]
        ]

    def to_scenario_set(self) -> ScenarioSet:
        """The leaf scenarios as a :class:`ScenarioSet` (names ``scen0``..., leaf probabilities)."""
        values = np.stack([self.values_of(s) for s in self.scenario_names])
        probs = np.array([self.probability_of(s) for s in self.scenario_names])
        metadata = {k: v for k, v in self.metadata.items()}
        metadata["tree_leaves"] = dict(self.leaf_of_scenario)
        return ScenarioSet(values, probs / probs.sum(), self.variables, self.scenario_names,
                           self.period_hours, self.start, metadata)
