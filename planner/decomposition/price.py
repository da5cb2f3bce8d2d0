"""Price decomposition: Lagrangian dual of the site-coupling constraints by a trust-region bundle method.

Prices ``lam[j, t]`` (EUR/MWh) on "site supply = coordinator supply" for every site, scenario and
period. The dual function L(lam) = sum_j min_site + min_coordinator is concave; each evaluation is
a valid lower bound (site MIP dual bounds). The price update maximises the disaggregated
cutting-plane model of L within an infinity-norm box around the stability centre (an LP in HiGHS):
a proximal (trust-region) bundle method with serious/null steps (Kiwiel; Linderoth & Wright 2003,
"ATR"), convergent for concave L. Each cut is a column ``prob * (cost_k + kappa * lam . supply_k)``
of a feasible site plan, so cuts stay valid upper models even when site MIPs stop at a gap; the
serious-step test uses the incumbents' values (inexact oracle, de Oliveira, Sagastizabal & Lemarechal
2014), the lower bound the MIP dual bounds.
Primal recovery: the column-selection MIP (planner.decomposition.recovery).
Warm start (``start="lshaped"``, default with several scenarios, or ``"lp"``, the monolithic LP,
default for one scenario): the full problem's LP relaxation is solved first; its optimum is
a valid lower bound and the duals of the site balances are the prices where the *relaxed* sites'
dual function peaks, so the first Lagrangian evaluation (integer sites) starts at or above the LP
bound instead of at the day-ahead price (Geoffrion 1974: the Lagrangian dual is at least as strong as
the LP relaxation).
"""

from __future__ import annotations

import math

import highspy
import numpy as np
import pyomo.environ as pyo

from planner.decomposition.coordinator import build_coordinator
from planner.decomposition.method import DecompositionMethod
from planner.solvers.highs import appsi_highs, highs_lp


class BundleMaster:
    """max sum(theta) s.t. theta_j <= cut_jk(lam), |lam - centre| <= delta (HiGHS LP)."""

    def __init__(self, n_sub: int, n_periods: int):
        self.n_sub, self.T = n_sub, n_periods
        self.n_lam = n_sub * n_periods
        h = highs_lp()
        inf = highspy.kHighsInf
        n = self.n_lam + n_sub + 1
        h.addVars(n, np.full(n, -inf), np.full(n, inf))
        cost = np.zeros(n)
        cost[self.n_lam:] = -1.0  # maximise sum theta
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        self.h = h
        self.n_cuts = 0

    def theta(self, j: int) -> int:
        return self.n_lam + j

    def add_site_cut(self, j: int, prob: float, kappa: float, cost: float, supply: np.ndarray):
        # theta_j - prob*kappa*supply . lam_j <= prob*cost
        idx = np.concatenate([[self.theta(j)], j * self.T + np.arange(self.T)]).astype(np.int32)
        val = np.concatenate([[1.0], -prob * kappa * np.asarray(supply, dtype=float)])
        self.h.addRow(-highspy.kHighsInf, prob * cost, len(idx), idx, val)
        self.n_cuts += 1

    def add_coordinator_cut(self, cost: float, weighted_supply: np.ndarray):
        # theta_0 + kappa * sum_j prob_j supply_j . lam_j <= cost   (weighted_supply = kappa*prob*supply)
        flat = np.asarray(weighted_supply, dtype=float).ravel()
        nz = np.flatnonzero(np.abs(flat) > 1e-12)
        idx = np.concatenate([[self.n_lam + self.n_sub], nz]).astype(np.int32)
        val = np.concatenate([[1.0], flat[nz]])
        self.h.addRow(-highspy.kHighsInf, cost, len(idx), idx, val)
        self.n_cuts += 1

    def solve(self, centre: np.ndarray, delta: float) -> tuple[np.ndarray, float]:
        c = centre.ravel()
        idx = np.arange(self.n_lam, dtype=np.int32)
        self.h.changeColsBounds(self.n_lam, idx, c - delta, c + delta)
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"bundle master: HiGHS status {self.h.modelStatusToString(status)}")
        x = np.asarray(self.h.getSolution().col_value)
        return x[: self.n_lam].reshape(self.n_sub, self.T), -float(self.h.getInfo().objective_function_value)


class ColumnMaster:
    """The same trust-region step with the coordinator kept *exact*: the box-stabilised Dantzig-Wolfe
    master (BOXSTEP; du Merle, Villeneuve, Desrosiers & Hansen 1999), an LP in HiGHS:

        min C(y) + sum_j prob_j sum_k w_jk cost_jk + sum_jt prob_j kappa ((c+d) s+ - (c-d) s-)
        s.t. sum_k w_jk supply_jkt - supply_jt(y) - s+_jt + s-_jt = 0,   sum_k w_jk = 1,   w, s >= 0.

    By LP duality its value is max over the box |lam - c| <= d of [sum_j min_k prob_j (cost_jk +
    kappa lam . supply_jk) + min_y (C(y) - kappa sum_j prob_j lam_j . supply_j(y))], the cutting-plane
    model of L with the coordinator's term exact, and the duals of the first rows are that maximiser.
    """

    def __init__(self, problem, pool):
        self.problem, self.pool = problem, pool

    def solve(self, centre: np.ndarray, delta: float):
        p, cols = self.problem, self.pool.columns
        m = build_coordinator(p)
        K = [(j, k) for j in range(p.n_sub) for k in range(len(cols[j]))]
        m.K = pyo.Set(initialize=K, dimen=2)
        m.w = pyo.Var(m.K, bounds=(0.0, None))
        m.sp = pyo.Var(m.J, m.T, bounds=(0.0, None))
        m.sm = pyo.Var(m.J, m.T, bounds=(0.0, None))
        m.convex = pyo.Constraint(m.J, rule=lambda m, j: sum(m.w[j, k] for k in range(len(cols[j]))) == 1)
        m.link = pyo.Constraint(m.J, m.T, rule=lambda m, j, t: sum(
            m.w[j, k] * float(cols[j][k][1][t]) for k in range(len(cols[j]))) - m.supply_kw[j, t] - m.sp[j, t]
            + m.sm[j, t] == 0)
        pk = {j: p.probability(j) * p.kappa for j in range(p.n_sub)}
        m.obj = pyo.Objective(expr=m.cost_eur + sum(p.probability(j) * cols[j][k][0] * m.w[j, k] for j, k in K)
                              + sum(pk[j] * ((centre[j, t] + delta) * m.sp[j, t] - (centre[j, t] - delta) * m.sm[j, t])
                                    for j in m.J for t in m.T))
        opt = appsi_highs()
        res = opt.solve(m)
        duals = opt.get_duals([m.link[j, t] for j in m.J for t in m.T])
        # HiGHS reports d objective / d right-hand side, the opposite sign of lam in this row
        lam = np.array([[-duals[m.link[j, t]] / pk[j] for t in m.T] for j in m.J])
        lam = np.clip(lam, centre - delta, centre + delta)
        return lam, float(res.best_feasible_objective)


class PriceDecomposition(DecompositionMethod):
    """Options: ``delta0`` (initial box half-width, EUR/MWh, default 20), ``delta_max`` (500),
    ``delta_min`` (1: below it the site MIPs' inexactness dominates the model's predictions),
    ``serious_fraction`` (0.1: accept a step achieving this share of the predicted increase),
    ``master`` ("columns": coordinator exact in the master (ColumnMaster, default); "cuts": the
    coordinator by cutting planes too (BundleMaster, a pure price-space LP)), ``start`` ("lp": the LP
    relaxation's prices and bound, default; "day_ahead": the day-ahead price plus the energy
    charge; "lshaped": the LP by the L-shaped method; see DecompositionMethod.warm_start), ``delta_lp`` (initial box half-width after the LP start, default 5)."""

    name = "price"

    def run(self):
        p = self.problem
        delta = float(self.options.get("delta0", 20.0))
        delta_max = float(self.options.get("delta_max", 500.0))
        delta_min = float(self.options.get("delta_min", 1.0))
        nulls = 0
        m1 = float(self.options.get("serious_fraction", 0.1))
        master = BundleMaster(p.n_sub, p.n_periods)
        exact = self.options.get("master", "columns") == "columns"
        column_master = ColumnMaster(p, self.pool) if exact else None
        centre, _ = self.warm_start()
        if self.stats.get("lp_bound") is not None:
            delta = float(self.options.get("delta_lp", 5.0))
        _, value_c = self._evaluate(centre, master)
        self.recover()
        self.record(0, f"delta {delta:g}")
        it = 0
        for it in range(1, self.max_iterations + 1):
            if self.done():
                it -= 1
                break
            lam, model = column_master.solve(centre, delta) if exact else master.solve(centre, delta)
            predicted = model - value_c
            if predicted <= 1e-7 * max(1.0, abs(value_c)):
                self.recover(force=True)
                self.record(it, "dual model converged")
                break
            _, value = self._evaluate(lam, master)
            step = value - value_c
            at_edge = np.max(np.abs(lam - centre)) >= delta * (1 - 1e-6)
            if step >= m1 * predicted:
                kind = "serious"
                nulls = 0
                centre, value_c = lam, value
                if step >= 0.5 * predicted and at_edge:
                    delta = min(2 * delta, delta_max)
            else:
                kind = "null"
                nulls += 1
                if step < 0 and nulls >= 2:  # the model overestimates the ascent: trust it less
                    delta = max(0.6 * delta, delta_min)
                    nulls = 0
            if it % self.recover_every == 0 or it == self.max_iterations:
                self.recover()
            self.record(it, f"{kind}, delta {delta:g}, predicted +{predicted:,.1f}")
        if self.plan is None or not self.done():
            self.recover()
        return self.result(it)

    def _evaluate(self, lam, master: BundleMaster) -> tuple[float, float]:
        """(lower estimate, upper estimate) of L(lam): site MIP dual bounds / incumbents (inexact
        oracle); steps are decided on the upper estimate, which the cuts interpolate."""
        p = self.problem
        value, sols, coord_value, supply, info = self.lagrangian(lam)
        for s in sols:
            master.add_site_cut(s.j, p.probability(s.j), p.kappa, s.cost_eur, s.supply_kw)
        probs = np.array([p.probability(j) for j in range(p.n_sub)])[:, None]
        master.add_coordinator_cut(info["cost_eur"], p.kappa * probs * supply)
        return value, coord_value + sum(s.value for s in sols)
