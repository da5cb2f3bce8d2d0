"""The node kernel shared by training and simulation (SDDP.jl's ``solve_subproblem``): fix the incoming
state, apply the noise, solve, read the outgoing state, stage cost and duals; and the one HiGHS factory."""

from __future__ import annotations

from functools import partial
from operator import itemgetter
from time import perf_counter

import highspy
import numpy as np

from .cuts import prepare_cuts

__all__ = ["TIGHT_TOLERANCES", "OPTIMAL", "new_highs", "prepare_nodes", "NodeSolver"]

TIGHT_TOLERANCES = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
OPTIMAL = highspy.HighsModelStatus.kOptimal
_OPTIMAL_VALUE = int(OPTIMAL.value)  # comparing ints is cheaper than pybind enums


def new_highs(options=None) -> highspy.Highs:
    """A quiet HiGHS model with the tight feasibility tolerances; ``options`` are set last."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in TIGHT_TOLERANCES.items():
        h.setOptionValue(key, value)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    return h


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


def _realizations(graph, children):
    """(child index, noise index, probability) of every child realisation."""
    out = []
    for c, pc in children:
        for k, pk in enumerate(graph.nodes[c].sp.noise_probs):
            out.append((c, k, pc * pk))
    return out


def prepare_nodes(graph):
    """Attach to every node what the kernel needs per solve (done once): the bound HiGHS methods,
    the noise changes of each realisation as one call, the state columns and bounds, and the
    children's realisations in the order the backward pass solves them."""
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


class NodeSolver:
    """Solves the nodes of one policy graph and counts the solves and the time inside HiGHS ``run()``.

    Values are in the internal minimisation sense (``graph.sign`` times the user's). Creating it gives
    the graph its cost-to-go columns (single cut unless a cut type was chosen) and the kernel data."""

    def __init__(self, graph):
        if graph.cut_type is None:
            prepare_cuts(graph, "single")
        prepare_nodes(graph)
        self.graph = graph
        self.solves = 0
        self.solve_time = 0.0  # wall time inside Highs.run()

    def solve(self, nd, x, k, omega, set_state=True) -> float:
        """Solve node ``nd`` at incoming state ``x`` under noise ``k`` (support index, or None for
        ``omega`` outside the support); returns the objective (stage cost plus cost-to-go)."""
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
        return nd.objective_value() + nd.const

    def solve_stage(self, nd, x, k, omega):
        """Solve node ``nd`` at incoming state ``x`` under noise ``k``/``omega``; returns the outgoing
        state projected onto its bounds, the stage cost (without cost-to-go) and the column values."""
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
        self.solve_time += perf_counter() - t0
        self.solves += 1
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
        return x_out, stage, cv

    def child_values(self, nd, x):
        """Solve every child realisation of ``nd`` at outgoing state ``x``; returns their objective
        values and the duals of the fixed incoming states (one row per realisation)."""
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

    # -- objective states (sddp.objective_state): the noise changes depend on the state, so they are
    # recorded per solve; these paths are separate so that graphs without one keep the fast kernel
    def _prepare_y(self, nd, y_in, omega):
        """Advance the node's objective state from ``y_in`` under ``omega``, apply the noise and set the
        costs of ``mu``; returns the node's objective state."""
        y = nd.sp.objective_state_def.advance(y_in, omega)
        nd.sp.record(omega).apply(nd.h)
        if nd.theta >= 0:  # the columns mu exist at nodes with a cost-to-go (cuts.prepare_cuts)
            nd.h.changeColsCost(len(y), nd.mu_cols, y)
        return y

    def _run_y(self, nd, omega):
        self.solves += 1
        t0 = perf_counter()
        nd.run()
        self.solve_time += perf_counter() - t0
        if nd.status().value != _OPTIMAL_VALUE:
            nd.sp.recover(omega)

    def solve_y(self, nd, x, y_in, omega) -> float:
        """:meth:`solve` for a graph with an objective state entering the node as ``y_in``."""
        if nd.n_states:
            nd.set_cols_bounds(nd.n_states, nd.in_cols, x, x)
        self._prepare_y(nd, y_in, omega)
        self._run_y(nd, omega)
        return nd.objective_value() + nd.const

    def solve_stage_y(self, nd, x, y_in, omega):
        """:meth:`solve_stage` with an objective state entering as ``y_in``; returns the outgoing
        state, the node's objective state, the stage cost (without ``theta + y @ mu``) and the columns."""
        n = nd.n_states
        if n:
            nd.set_cols_bounds(n, nd.in_cols, x, x)
        y = self._prepare_y(nd, y_in, omega)
        self._run_y(nd, omega)
        cv = nd.get_solution().col_value
        if n:
            x_out = np.array(nd.get_out(cv), dtype=float).reshape(n)
            np.maximum(x_out, nd.out_lo, out=x_out)
            np.minimum(x_out, nd.out_hi, out=x_out)
        else:
            x_out = np.empty(0)
        stage = nd.objective_value() + nd.const
        if nd.theta >= 0:
            stage -= cv[nd.theta]
            for j, c in enumerate(nd.mu_cols):
                stage -= y[j] * cv[c]
        return x_out, y, stage, cv

    def child_values_y(self, nd, x, y):
        """:meth:`child_values` when ``nd``'s objective state is ``y``: each child realisation
        advances it under its own noise."""
        n = len(x)
        vals, duals = [], []
        nodes = self.graph.nodes
        for c, k, _ in nd.realizations:
            child = nodes[c]
            omega = child.sp.noise_support[k]
            if n:
                child.set_cols_bounds(n, child.in_cols, x, x)
            self._prepare_y(child, y, omega)
            self._run_y(child, omega)
            vals.append(child.objective_value())
            if n:
                duals.append(child.get_in(child.get_solution().col_dual))
        V = np.add(vals, nd.child_const)
        D = np.array(duals, dtype=float).reshape(len(vals), n) if n else np.zeros((len(vals), 0))
        return V, D
