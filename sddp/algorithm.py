"""The SDDP core: forward pass, backward pass with nested risk measures, the
deterministic bound at the root, and the training loop."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .cuts import add_risk_set_cut, prepare_cuts
from .objective_state import box_vertices
from .parallel import resolve_parallel
from .progress import Progress
from .risk import Expectation, RiskMeasure
from .sampling import InSample
from .solver import NodeSolver, new_highs
from .stopping import IterationLimit, TimeLimit

__all__ = ["train", "calculate_bound", "cost_to_go", "forward_pass", "forward_pass_y", "backward_pass",
           "IterationRecord", "TrainingResult"]


@dataclass
class IterationRecord:
    """One line of the training log (values in the problem's objective sense)."""

    iteration: int
    bound: float
    simulation_value: float
    time: float
    cuts: int
    solves: int = 0


@dataclass
class TrainingResult:
    """What :func:`train` returns; the problem itself keeps the cuts."""

    log: list = field(default_factory=list)
    status: str = ""
    time: float = 0.0
    solve_time: float = 0.0  # wall time spent inside HiGHS run() calls (this rank)

    @property
    def bound_history(self):
        return [r.bound for r in self.log]

    @property
    def bound(self):
        return self.log[-1].bound if self.log else float("nan")

    @property
    def iterations(self):
        return len(self.log)


def forward_pass(solver, trajectory, x0):
    """Solve the nodes of a sampled trajectory in turn from state ``x0``; returns the internal cost
    and the visited (node index, outgoing state) pairs."""
    nodes = solver.graph.nodes
    solve_stage = solver.solve_stage
    x = x0
    total = 0.0
    visited = []
    for i, k, omega in trajectory:
        x, stage, _ = solve_stage(nodes[i], x, k, omega)
        total += stage
        visited.append((i, x))
    return total, visited


def forward_pass_y(solver, trajectory, x0, y0):
    """:func:`forward_pass` with an objective state entering the first node as ``y0``; the visited
    entries are (node index, outgoing state, the node's objective state)."""
    nodes = solver.graph.nodes
    x, y = x0, y0
    total = 0.0
    visited = []
    for i, k, omega in trajectory:
        x, y, stage, _ = solver.solve_stage_y(nodes[i], x, y, omega)
        total += stage
        visited.append((i, x, y))
    return total, visited


def _adjust(risk, p, V):
    if type(risk) is Expectation:
        return p
    total = p.sum()
    return risk.adjust_probabilities(p / total, V) * total


def calculate_bound(graph, solver=None) -> float:
    """Deterministic bound (user sense): expectation over the root's children and
    first-stage noise of the first-stage values with the current cuts."""
    solver = solver or NodeSolver(graph)
    x0 = graph.initial_state
    total = 0.0
    if graph.objective_state_names:
        y0 = graph.initial_objective_state
        for c, k, p in graph.root_realizations:
            child = graph.nodes[c]
            total += p * solver.solve_y(child, x0, y0, child.sp.noise_support[k])
        return graph.sign * total
    last = -1
    for c, k, p in graph.root_realizations:
        child = graph.nodes[c]
        total += p * solver.solve(child, x0, k, child.sp.noise_support[k], set_state=c != last)
        last = c
    return graph.sign * total


def cost_to_go(graph, key, x, y=None) -> float:
    """The current cut approximation of node ``key``'s cost-to-go at outgoing state ``x`` and, with an
    objective state, at the node's objective state ``y`` (user sense; single cuts, active cuts only):
    ``min theta + y @ mu`` over the cut rows and the initial bound (see :mod:`sddp.objective_state`)."""
    nd = graph.nodes[graph.index[key]]
    if not nd.cuts:
        raise ValueError(f"node {key!r} has no cost-to-go (a leaf, or the policy is not trained)")
    if graph.cut_type != "single":
        raise ValueError("cost_to_go evaluates single cuts only")
    cs = nd.cuts[0]
    x = np.atleast_1d(np.asarray(x, dtype=float))
    lb = graph.theta_bound
    act = np.flatnonzero(cs.active[:cs.n])
    heights = cs.intercepts[act] + cs.coefs[act] @ x
    if not graph.objective_state_names:
        return graph.sign * float(max([lb, *heights.tolist()]))
    d = nd.sp.objective_state_def
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = d.dim
    h = new_highs()
    h.addVar(-np.inf, np.inf)
    h.addVars(n, -d.lipschitz, d.lipschitz.copy())
    h.changeColsCost(n + 1, np.arange(n + 1, dtype=np.int32), np.concatenate([[1.0], y]))
    idx = np.arange(n + 1, dtype=np.int32)
    points = [(lb, v) for v in box_vertices(d.lower, d.upper, d.initial)]
    points += [(float(a), cs.obj_states[j]) for a, j in zip(heights, act)]
    for rhs, yk in points:
        h.addRow(rhs, np.inf, n + 1, idx, np.concatenate([[1.0], yk]))
    h.run()
    return graph.sign * h.getObjectiveValue()


def _resolve_risk(graph, risk_measure):
    if risk_measure is None:
        risk_measure = Expectation()
    if isinstance(risk_measure, RiskMeasure):
        return [risk_measure] * len(graph.nodes)
    if isinstance(risk_measure, dict):
        return [risk_measure.get(nd.key, Expectation()) for nd in graph.nodes]
    if callable(risk_measure):
        return [risk_measure(nd.key) for nd in graph.nodes]
    raise TypeError("risk_measure must be a RiskMeasure, a dict or a callable")


def backward_pass(graph, solver, points_by_node, risks, cut_selection, new_cuts=None):
    """Add one cut (or one per realisation) at each visited node, last first.
    ``points_by_node`` is a list of (node index, outgoing state)."""
    if graph.objective_state_names:
        _backward_pass_y(graph, solver, points_by_node, risks, new_cuts)
        return
    nodes = graph.nodes
    multi = graph.cut_type == "multi"
    for i, x in reversed(points_by_node):
        nd = nodes[i]
        if not nd.children:
            continue
        V, D = solver.child_values(nd, x)
        p = nd.real_probs
        q = _adjust(risks[i], p, V)
        if not multi:
            coef = q @ D
            if len(x) == 1:  # the same arithmetic without two small-array calls
                intercept = float(q @ V) - float(coef[0]) * float(x[0])
            else:
                intercept = float(q @ V - coef @ x)
            cs = nd.cuts[0]
            cs.add(intercept, coef, x)
            cs.add_point(x)
            if cut_selection:
                cs.select()
            if new_cuts is not None:
                new_cuts.append((i, 0, intercept, coef, x))
        else:
            for j, cs in enumerate(nd.cuts):
                intercept = float(V[j] - D[j] @ x)
                cs.add(intercept, D[j], x)
                cs.add_point(x)
                if cut_selection:
                    cs.select()
                if new_cuts is not None:
                    new_cuts.append((i, j, intercept, D[j], x))
            if q is not p and add_risk_set_cut(nd, q) and new_cuts is not None:
                new_cuts.append((i, -1, 0.0, q, None))


def _backward_pass_y(graph, solver, points_by_node, risks, new_cuts=None):
    """The backward pass with an objective state: (node index, outgoing state, objective state)
    entries; each cut is written at the node's objective state (no Level-1 selection: it compares only
    cuts with the same objective state, see :mod:`sddp.objective_state`)."""
    nodes = graph.nodes
    for i, x, y in reversed(points_by_node):
        nd = nodes[i]
        if not nd.children:
            continue
        V, D = solver.child_values_y(nd, x, y)
        q = _adjust(risks[i], nd.real_probs, V)
        coef = q @ D
        intercept = float(q @ V - coef @ x)
        cs = nd.cuts[0]
        cs.add(intercept, coef, x, y)
        cs.add_point(x)
        if new_cuts is not None:
            new_cuts.append((i, 0, intercept, coef, x, y))


def add_shared_cuts(graph, cuts, cut_selection):
    """Add cuts received from other MPI ranks."""
    nodes = graph.nodes
    if graph.objective_state_names:  # (i, 0, intercept, coef, x, y); no Level-1 selection
        for i, j, intercept, coef, x, y in cuts:
            cs = nodes[i].cuts[j]
            cs.add(intercept, np.asarray(coef), np.asarray(x), np.asarray(y))
            cs.add_point(x)
        return
    touched = set()
    for i, j, intercept, coef, x in cuts:
        nd = nodes[i]
        if j < 0:
            add_risk_set_cut(nd, np.asarray(coef))
            continue
        cs = nd.cuts[j]
        cs.add(intercept, np.asarray(coef), np.asarray(x))
        cs.add_point(x)
        touched.add((i, j))
    if cut_selection:
        for i, j in touched:
            nodes[i].cuts[j].select()


def train(graph, iteration_limit=None, time_limit=None, risk_measure=None,
          sampling_scheme=None, stopping_rules=None, cut_type="single", cut_selection=True,
          print_level=1, parallel=None, random_state=None, log_frequency=1) -> TrainingResult:
    """Train a policy by SDDP; cuts are stored in ``graph``.

    Stops when any stopping rule fires (``iteration_limit`` and ``time_limit`` add
    the corresponding rules; with none given, 100 iterations). Under MPI
    (``parallel='mpi'`` or an :class:`~sddp.parallel.MPIParallel`) each rank runs
    one trajectory per iteration and all new cuts are shared every iteration.
    """
    prepare_cuts(graph, cut_type)
    rules = list(stopping_rules or [])
    if iteration_limit is not None:
        rules.append(IterationLimit(iteration_limit))
    if time_limit is not None:
        rules.append(TimeLimit(time_limit))
    if not rules:
        rules.append(IterationLimit(100))
    sampling_scheme = sampling_scheme or InSample()
    risks = _resolve_risk(graph, risk_measure)
    par = resolve_parallel(parallel)
    rank = par.rank if par else 0
    if par:
        seq = np.random.SeedSequence(random_state).spawn(par.size)[rank]
        rng = np.random.default_rng(seq)
    else:
        rng = np.random.default_rng(random_state)
    progress = Progress(print_level if rank == 0 else 0, graph.sense)
    solver = NodeSolver(graph)
    result = TrainingResult()
    x0 = graph.initial_state
    y0 = graph.initial_objective_state if graph.objective_state_names else None
    t_start = time.perf_counter()
    progress.header(risk_measure, cut_type, par.size if par else 1)
    iteration = 0
    while True:
        iteration += 1
        traj = sampling_scheme.sample_trajectory(graph, rng)
        if y0 is None:
            cost, visited = forward_pass(solver, traj, x0)
        else:
            cost, visited = forward_pass_y(solver, traj, x0, y0)
        shared = [] if par else None
        backward_pass(graph, solver, visited, risks, cut_selection, shared)
        if par:
            others, costs = par.exchange(shared, cost)
            add_shared_cuts(graph, others, cut_selection)
            cost = float(np.mean(costs))
        bound = calculate_bound(graph, solver)
        elapsed = time.perf_counter() - t_start
        rec = IterationRecord(iteration, bound, graph.sign * cost, elapsed, graph.num_cuts(),
                              solver.solves)
        result.log.append(rec)
        if iteration % log_frequency == 0:
            progress.row(rec)
        stop = None
        if rank == 0:  # under MPI rank 0 decides for everybody
            for rule in rules:
                if rule.stop(result.log, graph):
                    stop = rule.name
                    break
        if par:
            stop = par.bcast(stop)
        if stop:
            result.status = stop
            break
    result.time = time.perf_counter() - t_start
    result.solve_time = solver.solve_time
    progress.footer(result)
    return result
