"""Simulation of a trained policy, sampled (mean cost with a confidence interval: the statistical
bound) or along historical noise paths, with the recorded variables as a tidy DataFrame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .parallel import resolve_parallel
from .sampling import Historical, InSample
from .solver import NodeSolver

__all__ = ["simulate", "simulate_historical", "SimulationResult"]


@dataclass
class SimulationResult:
    """Costs per replication (problem sense), mean and ``z_score`` interval."""

    costs: np.ndarray
    data: pd.DataFrame
    z_score: float = 1.96
    sense: str = "min"

    @property
    def mean(self):
        return float(np.mean(self.costs))

    @property
    def std(self):
        return float(np.std(self.costs, ddof=1)) if len(self.costs) > 1 else 0.0

    @property
    def half_width(self):
        return self.z_score * self.std / np.sqrt(len(self.costs))

    @property
    def ci(self):
        return (self.mean - self.half_width, self.mean + self.half_width)

    @property
    def statistical_bound(self):
        """Upper end of the interval for a minimisation (lower end for max)."""
        return self.ci[1] if self.sense == "min" else self.ci[0]


class _Recorder:
    def __init__(self, graph, variables):
        self.variables = list(variables)
        self.rows = []
        self.replication = 0
        self.cols = {}
        for nd in graph.nodes:
            m = []
            for name in self.variables:
                if name in ("stage_objective", "noise", "objective_state"):
                    if name == "objective_state" and not graph.objective_state_names:
                        raise KeyError("no objective state in this policy graph (add_objective_state)")
                    m.append((name, name))
                    continue
                v = nd.sp.names.get(name)
                if v is None or not hasattr(v, "col"):
                    raise KeyError(f"no variable named {name!r} in node {nd.key!r}")
                m.append((name, v.col))
            self.cols[nd.index] = m

    def __call__(self, step, nd, cv, stage_cost, omega, y=None):
        rows = self.rows
        r = self.replication
        for name, col in self.cols[nd.index]:
            if col == "stage_objective":
                val = stage_cost
            elif col == "noise":
                val = omega
            elif col == "objective_state":
                val = float(y[0]) if len(y) == 1 else tuple(y.tolist())
            else:
                val = cv[col]
            rows.append((r, nd.stage, nd.key, name, val))


def _run(graph, trajectories, variables):
    """Costs (problem sense) of the trajectories and the recorded rows."""
    solver = NodeSolver(graph)
    solve_stage = solver.solve_stage
    nodes = graph.nodes
    sign = graph.sign
    x0 = graph.initial_state
    rec = _Recorder(graph, variables) if variables else None
    costs = np.empty(len(trajectories))
    if graph.objective_state_names:
        y0 = graph.initial_objective_state
        for r, traj in enumerate(trajectories):
            x, y = x0, y0
            total = 0.0
            if rec is not None:
                rec.replication = r
            for step, (i, k, omega) in enumerate(traj):
                nd = nodes[i]
                x, y, stage, cv = solver.solve_stage_y(nd, x, y, omega)
                total += stage
                if rec is not None:
                    rec(step, nd, cv, sign * stage, omega, y)
            costs[r] = sign * total
        return costs, (rec.rows if rec is not None else [])
    for r, traj in enumerate(trajectories):
        x = x0
        total = 0.0
        if rec is None:
            for i, k, omega in traj:
                x, stage, _ = solve_stage(nodes[i], x, k, omega)
                total += stage
        else:
            rec.replication = r
            for step, (i, k, omega) in enumerate(traj):
                nd = nodes[i]
                x, stage, cv = solve_stage(nd, x, k, omega)
                total += stage
                rec(step, nd, cv, sign * stage, omega)
        costs[r] = sign * total
    rows = rec.rows if rec is not None else []
    return costs, rows


def _frame(rows):
    df = pd.DataFrame(rows, columns=["replication", "stage", "node", "variable", "value"])
    return df


def simulate(graph, n_replications=100, variables=(), random_state=None, sampling_scheme=None,
             z_score=1.96, parallel=None) -> SimulationResult:
    """Simulate the policy ``n_replications`` times (in-sample by default).

    ``variables`` are names given to ``add_variable``/``add_state`` (a state's
    name records its outgoing value, ``name + '_in'`` the incoming one), or
    ``'stage_objective'`` / ``'noise'`` / ``'objective_state'`` (the node's value after its update: a
    float for one dimension, else a tuple). With ``parallel='mpi'`` replications
    are split over the ranks and gathered on every rank.
    """
    par = resolve_parallel(parallel)
    sampling_scheme = sampling_scheme or InSample()
    if par:
        seq = np.random.SeedSequence(random_state).spawn(par.size)[par.rank]
        rng = np.random.default_rng(seq)
        mine = range(par.rank, n_replications, par.size)
    else:
        rng = np.random.default_rng(random_state)
        mine = range(n_replications)
    trajs = [sampling_scheme.sample_trajectory(graph, rng) for _ in mine]
    costs, rows = _run(graph, trajs, variables)
    if par:
        ids = list(mine)  # global replication numbers of this rank's local 0, 1, ...
        rows = [(ids[row[0]],) + tuple(row[1:]) for row in rows]
        pairs = sorted(par.gather_list(list(zip(ids, costs.tolist()))))
        costs = np.array([c for _, c in pairs])
        rows = sorted(par.gather_list(rows), key=lambda row: row[0])  # stable: keeps order
    return SimulationResult(costs, _frame(rows), z_score, graph.sense)


def simulate_historical(graph, paths, variables=(), z_score=1.96) -> SimulationResult:
    """Simulate once along each path; a path is a list of ``(node_key, omega)``.
    For a linear graph a path may also be a plain list of noise values."""
    hist = Historical([_as_pairs(graph, p) for p in paths])
    trajs = [hist.trajectory(graph, p) for p in hist.paths]
    costs, rows = _run(graph, trajs, variables)
    return SimulationResult(costs, _frame(rows), z_score, graph.sense)


def _as_pairs(graph, path):
    path = list(path)
    keys = [nd.key for nd in graph.nodes]
    linear = all(isinstance(k, int) for k in keys)
    if linear and len(path) == len(keys) and not all(
            isinstance(e, tuple) and len(e) == 2 and e[0] in graph.index for e in path):
        return list(zip(keys, path))
    return path
