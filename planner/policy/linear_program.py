"""A small LP written with the ``sddp.Subproblem`` building interface and solved by HiGHS: the one-hour
recourse, the look-ahead window and the stage minima of the battery policy."""

from __future__ import annotations

import highspy
import numpy as np

from planner.solvers.highs import highs_lp
from sddp import Constraint, LinearExpression, Variable

INF = float("inf")


class LinearProgram:
    """A small LP with the sddp.Subproblem building interface, solved by HiGHS (used by the
    look-ahead, the rule policies and the deterministic checks). After the first :meth:`solve` the
    HiGHS model is kept: later ``set_*`` calls change it in place and the next solve warm-starts."""

    def __init__(self):
        self.lo, self.hi, self.cost, self.rows, self.rlo, self.rhi, self.sense = [], [], [], [], [], [], []
        self.constant = 0.0
        self.highs = None

    def add_variable(self, lower=0.0, upper=INF, cost=0.0, name=None):
        if self.highs is not None:
            raise RuntimeError("cannot add variables after the first solve")
        self.lo.append(-INF if lower is None else float(lower))
        self.hi.append(INF if upper is None else float(upper))
        self.cost.append(float(cost))
        return Variable(len(self.lo) - 1, name)

    def add_constraint(self, expr, sense="==", rhs=0.0, name=None):
        if self.highs is not None:
            raise RuntimeError("cannot add constraints after the first solve")
        e = LinearExpression.of(expr)
        r = LinearExpression.of(rhs)
        if r.terms:  # as sddp.Subproblem: variables of the rhs move left, its constant stays right
            e.add_inplace(LinearExpression(r.terms), -1.0)
        row = len(self.rows)
        self.rows.append({c: v for c, v in e.terms.items() if v != 0.0})
        con = Constraint(row, sense, e.constant, name)
        self.rlo.append(0.0)
        self.rhi.append(0.0)
        self.sense.append(sense)
        self.set_rhs(con, r.constant)
        return con

    def set_rhs(self, con, value):
        v = float(value) - con.constant
        s = con.sense
        self.rlo[con.row] = v if s in ("==", "=", ">=") else -INF
        self.rhi[con.row] = v if s in ("==", "=", "<=") else INF
        if self.highs is not None:
            self.highs.changeRowBounds(con.row, self.rlo[con.row], self.rhi[con.row])

    def set_bounds(self, var, lower=None, upper=None):
        if lower is not None:
            self.lo[var.col] = float(lower)
        if upper is not None:
            self.hi[var.col] = float(upper)
        if self.highs is not None:
            self.highs.changeColBounds(var.col, self.lo[var.col], self.hi[var.col])

    def set_objective_coefficient(self, var, value):
        self.cost[var.col] = float(value)
        if self.highs is not None:
            self.highs.changeColCost(var.col, float(value))

    def compile(self) -> None:
        """Load the LP into a HiGHS instance (done by the first :meth:`solve`)."""
        hs = highs_lp()
        n = len(self.lo)
        hs.addVars(n, np.array(self.lo), np.array(self.hi))
        hs.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(self.cost))
        starts, idx, vals = [], [], []
        for row in self.rows:
            starts.append(len(idx))
            idx.extend(row.keys())
            vals.extend(row.values())
        hs.addRows(len(self.rows), np.array(self.rlo), np.array(self.rhi), len(idx),
                   np.array(starts, dtype=np.int32), np.array(idx, dtype=np.int32),
                   np.array(vals, dtype=float))
        self.highs = hs

    def solve(self):
        """Solve; returns (objective, column values). Raises RuntimeError if not optimal."""
        if self.highs is None:
            self.compile()
        hs = self.highs
        hs.run()
        if hs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            hs.clearSolver()
            hs.run()
        if hs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"LP not optimal: {hs.modelStatusToString(hs.getModelStatus())}")
        return hs.getObjectiveValue() + self.constant, np.array(hs.getSolution().col_value)
