"""Policy graphs (linear or Markovian), stage subproblems held once in HiGHS and
changed in place, states and stagewise-independent noise."""

from __future__ import annotations

import os
import tempfile

import highspy
import numpy as np

from .expressions import Constraint, LinearExpression, Variable
from .objective_state import ObjectiveState
from .solver import OPTIMAL, new_highs

__all__ = [
    "Subproblem",
    "State",
    "PolicyGraph",
    "LinearPolicyGraph",
    "MarkovianPolicyGraph",
    "SubproblemError",
]

INF = highspy.kHighsInf
_I32 = np.int32


class SubproblemError(RuntimeError):
    """Raised when a stage subproblem cannot be solved to optimality."""


class State:
    """A state variable: ``incoming`` (fixed to the trial value) and ``outgoing``."""

    __slots__ = ("name", "incoming", "outgoing", "lower", "upper", "initial")

    def __init__(self, name, incoming, outgoing, lower, upper, initial):
        self.name = name
        self.incoming = incoming
        self.outgoing = outgoing
        self.lower = lower
        self.upper = upper
        self.initial = initial

    def __iter__(self):  # allows ``x_in, x_out = sp.add_state(...)``
        yield self.incoming
        yield self.outgoing

    def __getitem__(self, i):
        return (self.incoming, self.outgoing)[i]

    def __len__(self):
        return 2

    def __repr__(self):
        return f"State({self.name!r})"


class _Changes:
    """Model modifications for one noise realisation, applied in batches."""

    __slots__ = ("row_idx", "row_lo", "row_hi", "col_idx", "col_lo", "col_hi",
                 "cost_idx", "cost_val", "coeffs", "empty", "ops")

    def __init__(self, rows, cols, costs, coeffs):
        self.row_idx = np.fromiter(rows.keys(), dtype=_I32, count=len(rows))
        self.row_lo = np.array([v[0] for v in rows.values()], dtype=float)
        self.row_hi = np.array([v[1] for v in rows.values()], dtype=float)
        self.col_idx = np.fromiter(cols.keys(), dtype=_I32, count=len(cols))
        self.col_lo = np.array([v[0] for v in cols.values()], dtype=float)
        self.col_hi = np.array([v[1] for v in cols.values()], dtype=float)
        self.cost_idx = np.fromiter(costs.keys(), dtype=_I32, count=len(costs))
        self.cost_val = np.array(list(costs.values()), dtype=float)
        self.coeffs = [(r, c, v) for (r, c), v in coeffs.items()]
        self.empty = not (rows or cols or costs or coeffs)
        # (unbound Highs method, arguments): applied as f(h, *args) in the hot loop
        H = highspy.Highs
        ops = []
        # single changes use the scalar calls (cheaper than the array ones)
        if len(rows) == 1:
            ops.append((H.changeRowBounds, (int(self.row_idx[0]), float(self.row_lo[0]),
                                            float(self.row_hi[0]))))
        elif rows:
            ops.append((H.changeRowsBounds, (len(rows), self.row_idx, self.row_lo, self.row_hi)))
        if len(cols) == 1:
            ops.append((H.changeColBounds, (int(self.col_idx[0]), float(self.col_lo[0]),
                                            float(self.col_hi[0]))))
        elif cols:
            ops.append((H.changeColsBounds, (len(cols), self.col_idx, self.col_lo, self.col_hi)))
        if len(costs) == 1:
            ops.append((H.changeColCost, (int(self.cost_idx[0]), float(self.cost_val[0]))))
        elif costs:
            ops.append((H.changeColsCost, (len(costs), self.cost_idx, self.cost_val)))
        for r, c, v in self.coeffs:
            ops.append((H.changeCoeff, (int(r), int(c), float(v))))
        self.ops = tuple(ops)

    def apply(self, h):
        for f, args in self.ops:
            f(h, *args)

    def apply_to_data(self, col_lo, col_hi, col_cost, row_lo, row_hi, rows):
        """Apply to plain python model data (used by the deterministic equivalent)."""
        for i, lo, hi in zip(self.row_idx, self.row_lo, self.row_hi):
            row_lo[i], row_hi[i] = lo, hi
        for i, lo, hi in zip(self.col_idx, self.col_lo, self.col_hi):
            col_lo[i], col_hi[i] = lo, hi
        for i, c in zip(self.cost_idx, self.cost_val):
            col_cost[i] = c
        for r, c, v in self.coeffs:
            rows[r][c] = v


class Subproblem:
    """One node's stage problem: a thin layer over a ``highspy.Highs`` model.

    Build it in ``build(sp, node)`` with :meth:`add_state`, :meth:`add_variable`,
    :meth:`add_constraint` and :meth:`parameterize`. Costs are given in the
    user's objective sense (the graph's ``sense``); internally everything is a
    minimisation. Default variable bounds are ``[0, inf)``.
    """

    def __init__(self, node, stage, markov_state, sign):
        self.node = node
        self.stage = stage
        self.markov_state = markov_state
        self._sign = sign  # +1 for min, -1 for max (internal = sign * user cost)
        self.col_lo: list = []
        self.col_hi: list = []
        self.col_cost: list = []
        self.col_names: list = []
        self.row_lo: list = []
        self.row_hi: list = []
        self.rows: list = []  # list of dict col -> coef
        self.constraints: list = []
        self.states: dict = {}
        self.names: dict = {}
        self.objective_constant = 0.0  # user sense
        self.noise_support = [None]
        self.noise_probs = np.ones(1)
        self.noise_cdf = [float("inf")]  # cumulative probabilities, the last one infinite
        self._param_fn = None
        self._rec = None
        self.highs = None
        self.failure_dir = None
        self.recoveries = 0  # number of solves that needed the recovery path
        self.objective_state_def = None  # ObjectiveState or None

    # -- model building --------------------------------------------------------
    def add_variable(self, lower=0.0, upper=INF, cost=0.0, name=None) -> Variable:
        """Add a column with bounds and (user-sense) objective coefficient."""
        if self.highs is not None:
            raise RuntimeError("cannot add variables after the subproblem is built")
        col = len(self.col_lo)
        self.col_lo.append(-INF if lower is None else float(lower))
        self.col_hi.append(INF if upper is None else float(upper))
        self.col_cost.append(self._sign * float(cost))
        self.col_names.append(name)
        v = Variable(col, name)
        if name is not None:
            self.names[name] = v
        return v

    def add_variables(self, n, lower=0.0, upper=INF, cost=0.0, name=None) -> list:
        """Add ``n`` columns; names become ``f"{name}[{i}]"`` when given."""
        return [self.add_variable(lower, upper, cost, None if name is None else f"{name}[{i}]")
                for i in range(n)]

    def add_state(self, name, lower=0.0, upper=INF, initial=0.0) -> State:
        """Add a state; returns a :class:`State` that unpacks to ``(incoming, outgoing)``.

        The outgoing value is bounded by ``[lower, upper]``; the incoming column
        is fixed to the trial point before each solve. ``initial`` is the value
        entering the first stage.
        """
        if name in self.states:
            raise ValueError(f"duplicate state {name!r}")
        lo = -INF if lower is None else float(lower)
        hi = INF if upper is None else float(upper)
        x_in = self.add_variable(-INF, INF, 0.0, f"{name}_in")
        x_out = self.add_variable(lo, hi, 0.0, name)
        st = State(name, x_in, x_out, lo, hi, float(initial))
        self.states[name] = st
        return st

    def add_objective_state(self, update, initial, lipschitz, lower=None, upper=None,
                            names=None) -> ObjectiveState:
        """Add an objective state (see :mod:`sddp.objective_state`): after the node's noise ``omega``
        is observed its value is ``update(previous, omega)``; read it as :attr:`objective_state` in
        the parameterisation function to set objective coefficients (never constraints).

        ``initial`` is the value entering the first stage (a float or one value per dimension);
        ``lipschitz`` bounds the change of the cost-to-go per unit change of each dimension (in
        objective units per state unit: too small voids the bound, too large slows convergence);
        ``lower``/``upper`` are hints on the range (where the initial bound is written)."""
        if self.objective_state_def is not None:
            raise ValueError("add_objective_state can be called once per node (use a vector state "
                             "for several dimensions)")
        if self.highs is not None:
            raise RuntimeError("cannot add an objective state after the subproblem is built")
        self.objective_state_def = ObjectiveState(update, initial, lipschitz, lower, upper, names)
        return self.objective_state_def

    @property
    def objective_state(self):
        """The node's current objective state: a float (one dimension) or a tuple."""
        if self.objective_state_def is None:
            raise AttributeError(f"node {self.node!r} has no objective state (add_objective_state)")
        return self.objective_state_def.user_value()

    def add_constraint(self, expr, sense="==", rhs=0.0, name=None) -> Constraint:
        """Add ``expr (sense) rhs`` with sense one of ``'<=' '>=' '=='``."""
        e = LinearExpression.of(expr)
        rhs = LinearExpression.of(rhs)
        if rhs.terms:
            e.add_inplace(rhs, -1.0)
            rhs = 0.0
        else:
            rhs = rhs.constant
        if sense in ("=", "=="):
            sense = "=="
        elif sense not in ("<=", ">="):
            raise ValueError(f"unknown sense {sense!r}")
        if self.highs is not None:
            raise RuntimeError("cannot add constraints after the subproblem is built")
        row = len(self.rows)
        con = Constraint(row, sense, e.constant, name)
        lo, hi = self._rhs_bounds(con, rhs)
        self.row_lo.append(lo)
        self.row_hi.append(hi)
        self.rows.append({c: v for c, v in e.terms.items() if v != 0.0})
        self.constraints.append(con)
        if name is not None:
            self.names[name] = con
        return con

    def set_stage_objective(self, expr):
        """Set the stage objective (user sense) from a linear expression."""
        e = LinearExpression.of(expr)
        for c in range(len(self.col_cost)):
            self.col_cost[c] = 0.0
        for c, v in e.terms.items():
            self.col_cost[c] = self._sign * v
        self.objective_constant = e.constant

    def parameterize(self, support, probabilities=None, fn=None):
        """Declare stagewise-independent noise: finite ``support`` with
        ``probabilities`` (uniform by default); ``fn(sp, omega)`` applies a
        realisation with the ``set_*`` methods below."""
        support = list(support)
        if not support:
            raise ValueError("empty noise support")
        if probabilities is None:
            p = np.full(len(support), 1.0 / len(support))
        else:
            p = np.asarray(probabilities, dtype=float)
            if p.shape != (len(support),) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
                raise ValueError("noise probabilities must be non-negative and sum to 1")
        self.noise_support = support
        self.noise_probs = p
        self.noise_cdf = np.cumsum(p).tolist()
        self.noise_cdf[-1] = float("inf")  # guard against round-off when sampling
        self._param_fn = fn

    # -- modifications (recorded per noise realisation) ----------------------------
    @staticmethod
    def _rhs_bounds(con, v):
        v = float(v) - con.constant
        if con.sense == "==":
            return v, v
        if con.sense == "<=":
            return -INF, v
        return v, INF

    def set_rhs(self, con: Constraint, value):
        lo, hi = self._rhs_bounds(con, value)
        if self._rec is not None:
            self._rec[0][con.row] = (lo, hi)
        else:
            self.row_lo[con.row], self.row_hi[con.row] = lo, hi

    def set_bounds(self, var: Variable, lower=None, upper=None):
        lo = self.col_lo[var.col] if lower is None else float(lower)
        hi = self.col_hi[var.col] if upper is None else float(upper)
        if self._rec is not None:
            self._rec[1][var.col] = (lo, hi)
        else:
            self.col_lo[var.col], self.col_hi[var.col] = lo, hi

    def set_objective_coefficient(self, var: Variable, value):
        if self._rec is not None:
            self._rec[2][var.col] = self._sign * float(value)
        else:
            self.col_cost[var.col] = self._sign * float(value)

    def set_coefficient(self, con: Constraint, var: Variable, value):
        if self._rec is not None:
            self._rec[3][(con.row, var.col)] = float(value)
        else:
            self.rows[con.row][var.col] = float(value)

    def record(self, omega) -> _Changes:
        """Run the parameterisation for ``omega`` and return the changes."""
        if self._param_fn is None:
            return _Changes({}, {}, {}, {})
        self._rec = ({}, {}, {}, {})
        try:
            self._param_fn(self, omega)
            rec = self._rec
        finally:
            self._rec = None
        return _Changes(*rec)

    # -- HiGHS model ---------------------------------------------------------------
    def _build(self, options=None):
        # small LPs: presolve and the thread pool only add overhead; the caller's options come last
        h = new_highs({"presolve": "off", "threads": 1, **(options or {})})
        n = len(self.col_lo)
        if n:
            h.addVars(n, np.array(self.col_lo), np.array(self.col_hi))
            h.changeColsCost(n, np.arange(n, dtype=_I32), np.array(self.col_cost))
        m = len(self.rows)
        if m:
            starts = np.zeros(m, dtype=_I32)
            idx, vals = [], []
            for r, row in enumerate(self.rows):
                starts[r] = len(idx)
                idx.extend(row.keys())
                vals.extend(row.values())
            h.addRows(m, np.array(self.row_lo), np.array(self.row_hi), len(idx), starts,
                      np.array(idx, dtype=_I32), np.array(vals, dtype=float))
        self.highs = h
        self.noise_changes = [self.record(w) for w in self.noise_support]
        return h

    def solve(self, label=None):
        """Run HiGHS; on failure retry (clear solver, presolve on, other simplex
        strategy). If still not optimal, write the LP and raise SubproblemError."""
        h = self.highs
        h.run()
        if h.getModelStatus() != OPTIMAL:
            self.recover(label)

    def recover(self, label=None):
        """Recovery path after a non-optimal run(); raises if it does not help."""
        h = self.highs
        status = h.getModelStatus()
        attempts = (("clear", None), ("presolve", "on"), ("simplex_strategy", 4),
                    ("solver", "ipm"))
        ok = False
        for key, value in attempts:
            h.clearSolver()
            if key != "clear":
                h.setOptionValue(key, value)
            h.run()
            ok = h.getModelStatus() == OPTIMAL
            if ok:
                break
        for key, value in (("presolve", "off"), ("simplex_strategy", 1), ("solver", "choose")):
            h.setOptionValue(key, value)
        self.recoveries += 1
        if ok:
            return
        status = h.modelStatusToString(h.getModelStatus()) or str(status)
        folder = self.failure_dir or tempfile.gettempdir()
        safe = str(self.node).replace(" ", "").replace("(", "").replace(")", "").replace(",", "_")
        path = os.path.join(folder, f"sddp_failed_stage{self.stage}_node{safe}.lp")
        try:
            h.writeModel(path)
        except Exception:  # pragma: no cover - writing is best effort
            path = "<not written>"
        noise = "" if label is None else f", noise {label!r}"
        raise SubproblemError(
            f"subproblem at stage {self.stage}, node {self.node!r}{noise} is not optimal "
            f"(status: {status}); model written to {path}")


# ----------------------------------------------------------------------------------
class _Node:
    """Internal data of one policy-graph node (everything the algorithm needs)."""

    def __init__(self, index, key, stage, markov_state, sp):
        self.index = index
        self.key = key
        self.stage = stage
        self.markov_state = markov_state
        self.sp = sp
        self.children = []  # list of (child index, probability)
        self.in_cols = None
        self.out_cols = None
        self.out_lo = None
        self.out_hi = None
        self.theta = -1  # aggregated cost-to-go column (-1: leaf)
        self.realizations = []  # multi-cut: list of (child index, noise index, prob)
        self.theta_k = None  # multi-cut: columns per realisation
        self.cuts = None  # list of CutSet
        self.risk_set_cuts = []


class PolicyGraph:
    """An acyclic policy graph: nodes, the root's children, and transitions.

    Usually created with :func:`LinearPolicyGraph` or :func:`MarkovianPolicyGraph`.
    ``sense`` is ``'min'`` or ``'max'``; ``lower_bound`` (min) or ``upper_bound``
    (max) bounds the cost-to-go variables.
    """

    def __init__(self, build, nodes, root_children, edges, sense="min", lower_bound=None,
                 upper_bound=None, stage_of=None, markov_of=None, solver_options=None):
        if sense not in ("min", "max"):
            raise ValueError("sense must be 'min' or 'max'")
        self.sense = sense
        self.sign = 1.0 if sense == "min" else -1.0
        if sense == "min":
            if lower_bound is None:
                raise ValueError("a minimisation needs lower_bound (bound on the cost-to-go)")
            self.theta_bound = float(lower_bound)
        else:
            if upper_bound is None:
                raise ValueError("a maximisation needs upper_bound (bound on the value-to-go)")
            self.theta_bound = -float(upper_bound)
        self.nodes = []
        self.index = {}
        for i, key in enumerate(nodes):
            stage = stage_of(key) if stage_of else key
            ms = markov_of(key) if markov_of else None
            sp = Subproblem(key, stage, ms, self.sign)
            build(sp, key)
            sp._build(solver_options)
            self.nodes.append(_Node(i, key, stage, ms, sp))
            self.index[key] = i
        self.root_children = [(self.index[k], float(p)) for k, p in root_children if p > 0]
        for (a, b), p in edges.items():
            if p > 0:
                self.nodes[self.index[a]].children.append((self.index[b], float(p)))
        # states: same names in every node, canonical order of the first node
        first = self.nodes[0].sp
        self.state_names = list(first.states)
        names = set(self.state_names)
        for nd in self.nodes:
            sp = nd.sp
            if set(sp.states) != names:
                raise ValueError(f"node {nd.key!r} has states {sorted(sp.states)}, "
                                 f"expected {sorted(names)}")
            sts = [sp.states[n] for n in self.state_names]
            nd.in_cols = np.array([s.incoming.col for s in sts], dtype=_I32)
            nd.out_cols = np.array([s.outgoing.col for s in sts], dtype=_I32)
            nd.out_lo = np.array([s.lower for s in sts])
            nd.out_hi = np.array([s.upper for s in sts])
        root_sp = self.nodes[self.root_children[0][0]].sp if self.root_children else first
        self.initial_state = np.array([root_sp.states[n].initial for n in self.state_names])
        # objective states: none, or one of the same names in every node (initial value: the root's)
        defs = [nd.sp.objective_state_def for nd in self.nodes]
        self.objective_state_names = []
        self.initial_objective_state = np.empty(0)
        if any(d is not None for d in defs):
            ref = root_sp.objective_state_def or next(d for d in defs if d is not None)
            for nd, d in zip(self.nodes, defs):
                if d is None or d.names != ref.names:
                    raise ValueError(f"node {nd.key!r} has objective state "
                                     f"{None if d is None else d.names}, expected {ref.names}: "
                                     "call add_objective_state in every node with the same dimension")
            self.objective_state_names = list(ref.names)
            self.initial_objective_state = ref.initial.copy()
        self.cut_type = None
        self._check_acyclic()

    def _check_acyclic(self):
        colour = [0] * len(self.nodes)

        def visit(i):
            colour[i] = 1
            for j, _ in self.nodes[i].children:
                if colour[j] == 1:
                    raise ValueError("cyclic policy graphs are not supported")
                if colour[j] == 0:
                    visit(j)
            colour[i] = 2

        for i in range(len(self.nodes)):
            if colour[i] == 0:
                visit(i)

    # convenience ---------------------------------------------------------------
    def __repr__(self):
        return (f"PolicyGraph({len(self.nodes)} nodes, states={self.state_names}, "
                f"sense={self.sense!r}, cuts={self.num_cuts()})")

    def node(self, key) -> Subproblem:
        """The subproblem of the node ``key``."""
        return self.nodes[self.index[key]].sp

    @property
    def n_states(self):
        return len(self.state_names)

    @property
    def n_objective_states(self):
        """Dimension of the objective state (0: none)."""
        return len(self.objective_state_names)

    def num_cuts(self) -> int:
        """Number of active cuts over all nodes."""
        n = 0
        for nd in self.nodes:
            for cs in nd.cuts or ():
                n += cs.n_active
        return n

    def to_user(self, value):
        """Convert an internal (minimisation) objective value to the user's sense."""
        return self.sign * value


def LinearPolicyGraph(build, stages, sense="min", lower_bound=None, upper_bound=None,
                      solver_options=None) -> PolicyGraph:
    """Stages ``1..stages`` in a line; node keys are the stage numbers."""
    keys = list(range(1, int(stages) + 1))
    edges = {(t, t + 1): 1.0 for t in keys[:-1]}
    return PolicyGraph(build, keys, [(1, 1.0)], edges, sense, lower_bound, upper_bound,
                       solver_options=solver_options)


def MarkovianPolicyGraph(build, transition_matrices, sense="min", lower_bound=None,
                         upper_bound=None, solver_options=None) -> PolicyGraph:
    """Markov chain graph as in SDDP.jl: ``transition_matrices[0]`` is a 1 x M1
    row (root to stage 1), ``transition_matrices[t]`` is M_t x M_{t+1}. Node keys
    are ``(stage, markov_state)``, both 1-based."""
    mats = [np.atleast_2d(np.asarray(m, dtype=float)) for m in transition_matrices]
    if mats[0].shape[0] != 1:
        raise ValueError("the first transition matrix must have one row (from the root)")
    keys, edges = [], {}
    for t, m in enumerate(mats, start=1):
        if t > 1 and m.shape[0] != mats[t - 2].shape[1]:
            raise ValueError(f"transition matrix {t} has {m.shape[0]} rows, expected "
                             f"{mats[t - 2].shape[1]}")
        if np.any(m < 0) or np.any(m.sum(axis=1) > 1 + 1e-9):
            raise ValueError(f"transition matrix {t} is not (sub)stochastic")
        for j in range(m.shape[1]):
            keys.append((t, j + 1))
        if t > 1:
            for i in range(m.shape[0]):
                for j in range(m.shape[1]):
                    edges[((t - 1, i + 1), (t, j + 1))] = m[i, j]
    root = [((1, j + 1), mats[0][0, j]) for j in range(mats[0].shape[1])]
    # drop nodes that can never be reached
    reach = {k for k, p in root if p > 0}
    for t in range(2, len(mats) + 1):
        reach |= {b for (a, b), p in edges.items() if a in reach and b[0] == t and p > 0}
    keys = [k for k in keys if k in reach]
    edges = {e: p for e, p in edges.items() if e[0] in reach and e[1] in reach}
    return PolicyGraph(build, keys, root, edges, sense, lower_bound, upper_bound,
                       stage_of=lambda k: k[0], markov_of=lambda k: k[1],
                       solver_options=solver_options)
