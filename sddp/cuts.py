"""Cut storage (single-cut and multi-cut), Level-1 cut selection, and cut files
in JSON following SDDP.jl's layout."""

from __future__ import annotations

import json
from bisect import bisect_left

import highspy
import numpy as np

from .objective_state import box_vertices

__all__ = ["CutSet", "RowBook", "prepare_cuts", "write_cuts", "read_cuts"]

INF = highspy.kHighsInf
_I32 = np.int32


class RowBook:
    """The cut sets sharing one HiGHS model: deleting rows renumbers them all."""

    def __init__(self, highs):
        self.h = highs
        self.sets = []
        self._one = np.zeros(1, dtype=_I32)

    def delete(self, rows):
        """Delete the given LP rows and renumber the rows of every cut set (only
        the cuts in the LP have a row; there are few, so this is scalar work)."""
        rows = sorted(int(r) for r in rows)
        if len(rows) == 1:  # the usual case: one dominated cut
            d = rows[0]
            self._one[0] = d
            self.h.deleteRows(1, self._one)
            for cs in self.sets:
                r = cs.rows
                for i in cs._in_lp:
                    if r[i] > d:
                        r[i] -= 1
            return
        self.h.deleteRows(len(rows), np.array(rows, dtype=_I32))
        for cs in self.sets:
            r = cs.rows
            for i in cs._in_lp:
                ri = int(r[i])
                if ri >= 0:
                    r[i] = ri - bisect_left(rows, ri)


class CutSet:
    """Cuts ``theta >= intercept + coef @ x_out`` on one cost-to-go column.

    Values are stored in the internal minimisation sense. With objective-state
    columns ``mu_cols`` a cut is ``theta + obj_state @ mu >= intercept + coef @ x_out``
    (see :mod:`sddp.objective_state`). With Level-1
    selection a cut stays in the LP only if it is the highest cut at one or more
    of the sampled trial points; other cuts are deleted from the LP (row index
    -1) and come back if they become the highest at a new trial point.
    """

    def __init__(self, highs, theta_col, out_cols, book=None, mu_cols=None):
        self.h = highs
        self.book = book or RowBook(highs)
        self.book.sets.append(self)
        self.theta = int(theta_col)
        self.out_cols = out_cols
        self.n_states = len(out_cols)
        self.mu_cols = np.empty(0, dtype=_I32) if mu_cols is None else np.asarray(mu_cols, dtype=_I32)
        self.n_obj = len(self.mu_cols)
        self._idx = np.concatenate([[self.theta], out_cols, self.mu_cols]).astype(_I32)
        self._vals = np.empty(self.n_states + 1 + self.n_obj)
        self._vals[0] = 1.0
        self.n = 0
        cap = 16
        self.obj_states = np.empty((cap, self.n_obj))  # objective state of each cut
        self.intercepts = np.empty(cap)
        self.coefs = np.empty((cap, self.n_states))
        self.states = np.empty((cap, self.n_states))  # trial point of each cut
        self.rows = np.empty(cap, dtype=_I32)
        self.active = np.empty(cap, dtype=bool)
        self.points = np.empty((cap, self.n_states))  # sampled states for selection
        self.n_points = 0
        # Level-1 bookkeeping: best cut and its height at each point, points won per cut
        self.best_val = np.empty(cap)
        self.best_idx = np.empty(cap, dtype=np.int64)
        self.best_thr = np.empty(cap)  # best_val + tol * max(1, |best_val|)
        self._thr_tol = 1e-9
        self._cnt = []  # points won per cut (a list: cheap scalar updates)
        self._in_lp = set()  # indices of the cuts that have a row in the LP
        self._sel_n = 0  # cuts and points already taken into account
        self._sel_p = 0
        self._views()

    def _views(self):
        """1-D views of the slopes and points when there is one state (cheaper
        slicing in :meth:`_select_one`)."""
        if self.n_states == 1:
            self._c1 = self.coefs[:, 0]
            self._p1 = self.points[:, 0]

    @property
    def n_active(self):
        return len(self._in_lp)

    def _grow(self):
        cap = 2 * len(self.intercepts)
        for name in ("intercepts", "rows", "active"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        for name in ("coefs", "states", "obj_states"):
            old = getattr(self, name)
            new = np.empty((cap, old.shape[1]))
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._views()

    def add(self, intercept, coef, state, obj_state=None):
        """Add a cut row ``theta - coef @ x_out >= intercept`` (plus ``obj_state @ mu`` on the
        left with objective states)."""
        if self.n == len(self.intercepts):
            self._grow()
        i = self.n
        self.intercepts[i] = intercept
        self.coefs[i] = coef
        self.states[i] = state
        if self.n_obj:
            self.obj_states[i] = obj_state
        self.n = i + 1
        self._insert(i)

    def _insert(self, i):
        h = self.h
        self.active[i] = True
        self._in_lp.add(i)
        self.rows[i] = h.getNumRow()
        vals = self._vals
        if self.n_states == 1:
            vals[1] = -self.coefs[i, 0]
        else:
            np.negative(self.coefs[i], out=vals[1:self.n_states + 1])
        if self.n_obj:
            vals[self.n_states + 1:] = self.obj_states[i]
        h.addRow(float(self.intercepts[i]), INF, len(vals), self._idx, vals)

    def add_point(self, x):
        if self.n_points == len(self.points):
            cap = 2 * len(self.points)
            new = np.empty((cap, self.n_states))
            new[: self.n_points] = self.points[: self.n_points]
            self.points = new
            self._views()
            for name in ("best_val", "best_idx", "best_thr"):
                old = getattr(self, name)
                grown = np.empty(cap, dtype=old.dtype)
                grown[: self.n_points] = old[: self.n_points]
                setattr(self, name, grown)
        self.points[self.n_points] = x
        self.n_points += 1

    def select(self, tol=1e-9):
        """Level-1 selection, incremental (as SDDP.jl): new cuts are compared at
        the known points, new points against all cuts; a cut stays in the LP iff
        it is the highest at one point or more. Cost O((cuts + points) * states)
        per new cut instead of O(cuts * points * states)."""
        n, p = self.n, self.n_points
        c0, p0 = self._sel_n, self._sel_p
        if n == 0 or p == 0 or (c0 == n and p0 == p):
            return
        best_val, best_idx, best_thr = self.best_val, self.best_idx, self.best_thr
        if tol != self._thr_tol:
            self._thr_tol = tol
            best_thr[:p0] = best_val[:p0] + tol * np.maximum(1.0, np.abs(best_val[:p0]))
        if c0 == n - 1 and p0 == p - 1 and p0 > 0 and len(self._cnt) == c0:
            self._select_one(tol)
            return
        if c0 < n and p0 > 0:  # new cuts at the old points
            H = self.coefs[c0:n] @ self.points[:p0].T
            H += self.intercepts[c0:n, None]
            j = H.argmax(axis=0)
            hv = H[j, np.arange(p0)]
            # best_thr = best_val + tol * max(1, |best_val|): replaced only if clearly higher
            better = np.flatnonzero(hv > best_thr[:p0])
            if len(better):
                best_idx[better] = c0 + j[better]
                v = hv[better]
                best_val[better] = v
                best_thr[better] = v + tol * np.maximum(1.0, np.abs(v))
        if p0 < p:  # new points against every cut (ties: the oldest cut)
            H = self.coefs[:n] @ self.points[p0:p].T
            H += self.intercepts[:n, None]
            j = H.argmax(axis=0)
            best_idx[p0:p] = j
            v = H[j, np.arange(p - p0)]
            best_val[p0:p] = v
            best_thr[p0:p] = v + tol * np.maximum(1.0, np.abs(v))
        self._sel_n, self._sel_p = n, p
        cnt = np.bincount(best_idx[:p], minlength=n)
        self._cnt = cnt.tolist()
        keep = cnt > 0
        active = self.active[:n]
        change = np.flatnonzero(keep != active)
        if not len(change):
            return
        drop = change[active[change]]
        if len(drop):
            rows = self.rows[drop].copy()
            self.rows[drop] = -1
            active[drop] = False
            self._in_lp.difference_update(drop.tolist())
            self.book.delete(rows)
        for i in change[keep[change]]:
            self._insert(i)

    def _select_one(self, tol):
        """:meth:`select` after one new cut and one new point (the backward pass):
        only the new cut, the cuts it beat and the best cut at the new point can
        change status, so the bookkeeping is a few small Python operations.
        Gives exactly the result of the general path (same arithmetic)."""
        c = self._sel_n
        p0 = self._sel_p
        n = c + 1
        cnt = self._cnt
        cnt.append(0)
        best_val, best_idx, best_thr = self.best_val, self.best_idx, self.best_thr
        one = self.n_states == 1
        # the new cut at the old points (one state: a product, as the matmul computes)
        if one:
            hv = self._p1[:p0] * self._c1[c]
        else:
            hv = self.points[:p0] @ self.coefs[c]
        hv += self.intercepts[c]
        better = (hv > best_thr[:p0]).nonzero()[0]
        cand = {c}
        nb = len(better)
        if nb:
            losers = best_idx[better].tolist()
            for i in losers:
                cnt[i] -= 1
            cnt[c] += nb
            cand.update(losers)
            if nb <= 8:
                for i, v in zip(better.tolist(), hv[better].tolist()):
                    best_idx[i] = c
                    best_val[i] = v
                    best_thr[i] = v + tol * max(1.0, abs(v))
            else:
                best_idx[better] = c
                v = hv[better]
                best_val[better] = v
                best_thr[better] = v + tol * np.maximum(1.0, np.abs(v))
        # the new point against every cut (ties: the oldest cut)
        if one:
            hc = self._c1[:n] * self._p1[p0]
        else:
            hc = self.coefs[:n] @ self.points[p0]
        hc += self.intercepts[:n]
        j = int(hc.argmax())
        v = float(hc[j])
        best_idx[p0] = j
        best_val[p0] = v
        best_thr[p0] = v + tol * max(1.0, abs(v))
        cnt[j] += 1
        cand.add(j)
        self._sel_n, self._sel_p = n, p0 + 1
        active = self.active
        drop = [i for i in cand if cnt[i] == 0 and active[i]]
        if drop:
            rows = self.rows
            lp_rows = [int(rows[i]) for i in drop]
            for i in drop:
                rows[i] = -1
                active[i] = False
            self._in_lp.difference_update(drop)
            self.book.delete(lp_rows)
        if cnt[j] and not active[j]:  # only the best cut at the new point can come back
            self._insert(j)

    def value(self, x):
        """Height of the cut approximation at ``x`` (active cuts only)."""
        n = self.n
        if n == 0:
            return -np.inf
        h = self.intercepts[:n] + self.coefs[:n] @ np.asarray(x, dtype=float)
        return float(h[self.active[:n]].max())


def prepare_cuts(graph, cut_type="single"):
    """Add the cost-to-go columns (and multi-cut risk-set rows) once."""
    if cut_type not in ("single", "multi"):
        raise ValueError("cut_type must be 'single' or 'multi'")
    n_obj = getattr(graph, "n_objective_states", 0)
    if n_obj and cut_type != "single":
        raise ValueError("objective states need cut_type='single' (multi-cut is not supported)")
    if graph.cut_type is not None:
        if graph.cut_type != cut_type:
            raise ValueError(f"the policy already uses {graph.cut_type!r} cuts")
        return
    lb = graph.theta_bound
    for nd in graph.nodes:
        if not nd.children:
            continue
        h = nd.sp.highs
        nd.theta = h.getNumCol()
        if n_obj:
            _add_objective_state_columns(nd, h, lb)
            nd.cuts = [CutSet(h, nd.theta, nd.out_cols, RowBook(h), nd.mu_cols)]
            continue
        # multi-cut: the aggregate is bounded through the risk-set rows
        h.addVar(lb if cut_type == "single" else -INF, INF)
        h.changeColCost(nd.theta, 1.0)
        book = RowBook(h)
        if cut_type == "single":
            nd.cuts = [CutSet(h, nd.theta, nd.out_cols, book)]
        else:
            nd.realizations = []
            for c, pc in nd.children:
                probs = graph.nodes[c].sp.noise_probs
                for k, pk in enumerate(probs):
                    nd.realizations.append((c, k, pc * pk))
            K = len(nd.realizations)
            first = h.getNumCol()
            h.addVars(K, np.full(K, lb), np.full(K, INF))
            nd.theta_k = np.arange(first, first + K, dtype=_I32)
            nd.cuts = [CutSet(h, col, nd.out_cols, book) for col in nd.theta_k]
            nd.risk_set_cuts = []
            add_risk_set_cut(nd, np.array([r[2] for r in nd.realizations]))
    graph.cut_type = cut_type


def _add_objective_state_columns(nd, h, lb):
    """A free cost-to-go column ``theta``, the columns ``-L <= mu <= L`` (cost: the current objective
    state) and the initial bound ``theta + y_v @ mu >= lb`` at the vertices ``y_v`` of the box."""
    d = nd.sp.objective_state_def
    n = d.dim
    h.addVar(-INF, INF)
    h.changeColCost(nd.theta, 1.0)
    first = h.getNumCol()
    h.addVars(n, -d.lipschitz, d.lipschitz.copy())
    nd.mu_cols = np.arange(first, first + n, dtype=_I32)
    h.changeColsCost(n, nd.mu_cols, d.initial.copy())
    idx = np.concatenate([[nd.theta], nd.mu_cols]).astype(_I32)
    for y in box_vertices(d.lower, d.upper, d.initial):
        h.addRow(float(lb), INF, n + 1, idx, np.concatenate([[1.0], y]))


def add_risk_set_cut(nd, q, tol=1e-10):
    """Multi-cut: add ``theta >= sum_k q_k theta_k`` unless already present."""
    for old in nd.risk_set_cuts:
        if np.max(np.abs(old - q)) <= tol:
            return False
    h = nd.sp.highs
    K = len(q)
    idx = np.concatenate([[nd.theta], nd.theta_k]).astype(_I32)
    vals = np.concatenate([[1.0], -np.asarray(q, dtype=float)])
    h.addRow(0.0, INF, K + 1, idx, vals)
    nd.risk_set_cuts.append(np.array(q, dtype=float))
    return True


def _cut_dict(graph, cs, i, names):
    s = graph.sign
    d = {
        "intercept": s * float(cs.intercepts[i]),
        "coefficients": {n: s * float(v) for n, v in zip(names, cs.coefs[i])},
        "state": {n: float(v) for n, v in zip(names, cs.states[i])},
    }
    if cs.n_obj:
        d["objective_state"] = {n: float(v) for n, v in
                                zip(graph.objective_state_names, cs.obj_states[i])}
    return d


def write_cuts(graph, path, only_active=True):
    """Write the cuts to JSON: a list of nodes, each ``{"node", "single_cuts",
    "multi_cuts", "risk_set_cuts"}``; cuts are ``{intercept, coefficients,
    state}`` in the problem's objective sense (as SDDP.jl's ``write_cuts_to_file``); with an objective
    state each cut also has ``objective_state`` ``{name: value}`` (the point ``y_k`` of its row)."""
    names = graph.state_names
    out = []
    for nd in graph.nodes:
        entry = {"node": str(nd.key), "single_cuts": [], "multi_cuts": [], "risk_set_cuts": []}
        if nd.cuts:
            if graph.cut_type == "single":
                cs = nd.cuts[0]
                for i in range(cs.n):
                    if cs.active[i] or not only_active:
                        entry["single_cuts"].append(_cut_dict(graph, cs, i, names))
            else:
                for k, cs in enumerate(nd.cuts):
                    for i in range(cs.n):
                        if cs.active[i] or not only_active:
                            d = _cut_dict(graph, cs, i, names)
                            d["realization"] = k + 1
                            entry["multi_cuts"].append(d)
                entry["risk_set_cuts"] = [[float(v) for v in q] for q in nd.risk_set_cuts]
        out.append(entry)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


def read_cuts(graph, path):
    """Load cuts written by :func:`write_cuts` into a (fresh) policy graph."""
    with open(path) as f:
        data = json.load(f)
    multi = any(e.get("multi_cuts") for e in data)
    prepare_cuts(graph, "multi" if multi else "single")
    by_name = {str(nd.key): nd for nd in graph.nodes}
    names = graph.state_names
    obj_names = graph.objective_state_names
    s = graph.sign
    for e in data:
        nd = by_name.get(e["node"])
        if nd is None:
            raise KeyError(f"node {e['node']!r} of the cut file is not in the graph")
        cuts = list(e.get("single_cuts", []))
        if (cuts or e.get("multi_cuts")) and not nd.cuts:
            raise ValueError(f"node {e['node']!r} has no children but cuts in the file")
        for c in cuts:
            coef = np.array([s * c["coefficients"][n] for n in names])
            st = np.array([c["state"][n] for n in names])
            y = None
            if obj_names or "objective_state" in c:
                got = sorted(c.get("objective_state", {}))
                if got != sorted(obj_names):
                    raise ValueError(f"cut of node {e['node']!r} has objective state {got}, the graph "
                                     f"has {sorted(obj_names)}: the cut file belongs to another model")
                y = np.array([c["objective_state"][n] for n in obj_names])
            nd.cuts[0].add(s * c["intercept"], coef, st, y)
            nd.cuts[0].add_point(st)
        for c in e.get("multi_cuts", []):
            k = int(c["realization"]) - 1
            coef = np.array([s * c["coefficients"][n] for n in names])
            st = np.array([c["state"][n] for n in names])
            nd.cuts[k].add(s * c["intercept"], coef, st)
            nd.cuts[k].add_point(st)
        for q in e.get("risk_set_cuts", []):
            add_risk_set_cut(nd, np.asarray(q, dtype=float))
