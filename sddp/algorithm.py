"""The SDDP core: forward pass, backward pass with nested risk measures, the
deterministic bound at the root, and the training loop."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from time import perf_counter

import numpy as np

from .cuts import add_risk_set_cut, prepare_cuts
from .problem import _OPTIMAL
from .progress import Progress
from .risk import Expectation, RiskMeasure
from .sampling import InSample
from .stopping import IterationLimit

_OPTIMAL_VALUE = int(_OPTIMAL.value)  # comparing ints is cheaper than pybind enums

__all__ = ["train", "calculate_bound", "IterationRecord", "TrainingResult"]


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


# ----------------------------------------------------------------------------------
class _Solver:
    """Hot path: set the incoming state and the noise, solve, read results.

    Everything the loops need per node (bound HiGHS methods, the noise change of
    each realisation as one call, index getters) is prepared once by
    :func:`_ensure_realizations`, so a solve costs a handful of Python calls."""

    def __init__(self, graph):
        self.graph = graph
        self.solves = 0
        self.solve_time = 0.0  # wall time inside Highs.run()

    def solve(self, nd, x, k, omega, set_state=True):
        """Solve node ``nd`` with incoming state ``x`` and noise ``k``/``omega``."""
        if set_state and nd.n_states:
            if nd.n_states == 1:
                v = float(x[0])
                nd.set_col_bounds(nd.in_col0, v, v)
            else:
                nd.set_cols_bounds(nd.n_states, nd.in_cols, x, x)
        if k is not None:
            nd.noise_calls[k]()
        else:
            nd.sp.record(omega).apply(nd.h)
        self.solves += 1
        t0 = perf_counter()
        nd.run()
        self.solve_time += perf_counter() - t0
        if nd.status().value != _OPTIMAL_VALUE:
            nd.sp.recover(omega)
        return nd.h

    def forward(self, traj, x0, record=None):
        """Solve along a trajectory; returns (internal cost, list of (x_in, x_out)),
        and calls ``record(step, node, col_values, stage cost, omega)`` if given."""
        graph = self.graph
        nodes = graph.nodes
        x = x0
        total = 0.0
        points = []
        t_run = 0.0
        for step, (i, k, omega) in enumerate(traj):
            nd = nodes[i]
            n = nd.n_states
            if n == 1:
                v = float(x[0])
                nd.set_col_bounds(nd.in_col0, v, v)
            elif n:
                nd.set_cols_bounds(n, nd.in_cols, x, x)
            if k is not None:
                nd.noise_calls[k]()
            else:
                nd.sp.record(omega).apply(nd.h)
            t0 = perf_counter()
            nd.run()
            t_run += perf_counter() - t0
            if nd.status().value != _OPTIMAL_VALUE:
                nd.sp.recover(omega)
            cv = nd.get_solution().col_value
            # project onto the state bounds (np.clip is slow on tiny arrays)
            if n == 1:
                v = cv[nd.out_col0]
                if v < nd.out_lo0:
                    v = nd.out_lo0
                elif v > nd.out_hi0:
                    v = nd.out_hi0
                x_out = np.array((v,))
            elif n:
                x_out = np.array(nd.get_out(cv), dtype=float)
                np.maximum(x_out, nd.out_lo, out=x_out)
                np.minimum(x_out, nd.out_hi, out=x_out)
            else:
                x_out = np.empty(0)
            stage = nd.objective_value() + nd.const
            if nd.theta >= 0:
                stage -= cv[nd.theta]
            total += stage
            points.append((x, x_out))
            if record is not None:
                record(step, nd, cv, graph.sign * stage, omega)
            x = x_out
        self.solves += len(points)
        self.solve_time += t_run
        return total, points

    def child_values(self, nd, x):
        """Solve every child realisation of ``nd`` at outgoing state ``x``;
        returns (values, duals matrix) in internal minimisation sense."""
        n = len(x)
        x0 = float(x[0]) if n == 1 else 0.0
        vals = []
        duals = []
        append_val = vals.append
        append_dual = duals.append
        pc = perf_counter
        t_run = 0.0
        # plan: per child (child, its realisations' noise calls)
        for child, noise in nd.plan:
            if n == 1:
                child.set_col_bounds(child.in_col0, x0, x0)
            elif n:
                child.set_cols_bounds(n, child.in_cols, x, x)
            run, status, objective_value = child.run, child.status, child.objective_value
            get_solution, get_in = child.get_solution, child.get_in
            if n:
                for f in noise:
                    f()
                    t0 = pc()
                    run()
                    t_run += pc() - t0
                    if status().value != _OPTIMAL_VALUE:
                        child.sp.recover(child.sp.noise_support[len(vals) - nd.plan_offset[child.index]])
                    append_val(objective_value())
                    append_dual(get_in(get_solution().col_dual))
            else:
                for f in noise:
                    f()
                    t0 = pc()
                    run()
                    t_run += pc() - t0
                    if status().value != _OPTIMAL_VALUE:
                        child.sp.recover(child.sp.noise_support[len(vals) - nd.plan_offset[child.index]])
                    append_val(objective_value())
        K = len(vals)
        V = np.add(vals, nd.child_const)
        D = np.array(duals, dtype=float).reshape(K, n) if n else np.zeros((K, 0))
        self.solves += K
        self.solve_time += t_run
        return V, D


def _realizations(graph, children):
    out = []
    for c, pc in children:
        for k, pk in enumerate(graph.nodes[c].sp.noise_probs):
            out.append((c, k, pc * pk))
    return out


def _adjust(risk, p, V):
    if type(risk) is Expectation:
        return p
    total = p.sum()
    return risk.adjust_probabilities(p / total, V) * total


def _noop():
    pass


def _noise_call(h, changes):
    """The changes of one noise realisation as a single argument-less call."""
    ops = [partial(f, h, *args) for f, args in changes.ops]
    if not ops:
        return _noop
    if len(ops) == 1:
        return ops[0]

    def apply_all():
        for g in ops:
            g()

    return apply_all


def _ensure_realizations(graph):
    for nd in graph.nodes:
        if not hasattr(nd, "get_in"):
            h = nd.sp.highs
            nd.h = h
            # bound methods of this node's HiGHS model (saves lookups in the hot loops)
            nd.run = h.run
            nd.status = h.getModelStatus
            nd.objective_value = h.getObjectiveValue
            nd.get_solution = h.getSolution
            nd.set_col_bounds = h.changeColBounds
            nd.set_cols_bounds = h.changeColsBounds
            nd.noise_calls = [_noise_call(h, ch) for ch in nd.sp.noise_changes]
            nd.const = graph.sign * nd.sp.objective_constant
            nd.n_states = len(nd.in_cols)
            nd.in_col0 = int(nd.in_cols[0]) if nd.n_states else -1
            nd.out_col0 = int(nd.out_cols[0]) if nd.n_states else -1
            nd.out_lo0 = float(nd.out_lo[0]) if nd.n_states else 0.0
            nd.out_hi0 = float(nd.out_hi[0]) if nd.n_states else 0.0
            nd.get_in = itemgetter(*nd.in_cols.tolist()) if nd.n_states else None
            nd.get_out = itemgetter(*nd.out_cols.tolist()) if nd.n_states else None
    for nd in graph.nodes:
        if nd.children and not nd.realizations:
            nd.realizations = _realizations(graph, nd.children)
        if nd.children and not hasattr(nd, "real_probs"):
            nd.real_probs = np.array([r[2] for r in nd.realizations])
            nd.child_const = np.array([graph.nodes[c].const for c, _, _ in nd.realizations])
            plan, offset = [], {}
            for j, (c, k, _) in enumerate(nd.realizations):
                child = graph.nodes[c]
                if not plan or plan[-1][0] is not child:
                    plan.append((child, []))
                    offset[c] = j
                plan[-1][1].append(child.noise_calls[k])
            nd.plan = [(child, tuple(noise)) for child, noise in plan]
            nd.plan_offset = offset
    if not hasattr(graph, "root_realizations"):
        graph.root_realizations = _realizations(graph, graph.root_children)


def calculate_bound(graph, solver=None) -> float:
    """Deterministic bound (user sense): expectation over the root's children and
    first-stage noise of the first-stage values with the current cuts."""
    if graph.cut_type is None:
        prepare_cuts(graph, "single")
    _ensure_realizations(graph)
    solver = solver or _Solver(graph)
    x0 = graph.initial_state
    total = 0.0
    last = -1
    for c, k, p in graph.root_realizations:
        child = graph.nodes[c]
        solver.solve(child, x0, k, child.sp.noise_support[k], set_state=c != last)
        last = c
        total += p * (child.objective_value() + child.const)
    return graph.sign * total


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


def add_shared_cuts(graph, cuts, cut_selection):
    """Add cuts received from other MPI ranks."""
    nodes = graph.nodes
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
    from .parallel import resolve_parallel
    from .stopping import TimeLimit

    prepare_cuts(graph, cut_type)
    _ensure_realizations(graph)
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
    solver = _Solver(graph)
    result = TrainingResult()
    x0 = graph.initial_state
    t_start = time.perf_counter()
    progress.header(risk_measure, cut_type, par.size if par else 1)
    iteration = 0
    while True:
        iteration += 1
        traj = sampling_scheme.sample_trajectory(graph, rng)
        cost, points = solver.forward(traj, x0)
        visited = [(i, pt[1]) for (i, _, _), pt in zip(traj, points)]
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
