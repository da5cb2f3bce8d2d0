"""Quantity decomposition (resource allocation): the coordinator allocates each site's supply.

The coordinator allocates to every site (and scenario) its supply profile — its share of the
day-ahead and intraday volumes, of the peak and of the exchange flows, which the coordinator's
contract and links must then deliver. Each site plans its day with the supply pinned to its
allocation (elastic, with a penalty that flags an infeasible allocation) and returns its cost and
marginal values (the duals of the pin with its integer schedule fixed). The coordinator
re-allocates by a trust-region step on the linearised total cost (an LP in HiGHS), accepting an
allocation only if it lowers the true total cost; it stops when the marginal values of the sites
equal the coordinator's marginal supply cost (or the gap closes). Upper bound: every accepted
allocation is a feasible plan. Lower bound: the Lagrangian dual at the coordinator's marginal
costs (site MIP dual bounds), valid for any prices.
"""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from planner.decomposition.coordinator import build_coordinator
from planner.decomposition.method import DecompositionMethod
from planner.decomposition.recovery import Plan
from planner.solvers.highs import appsi_highs


class _Reallocation:
    """min coordinator cost + sum_j prob_j kappa grad_j . (a_j - centre_j)  s.t. supply = a, |a - centre| <= delta."""

    def __init__(self, problem):
        self.problem = problem
        m = build_coordinator(problem)
        m.grad = pyo.Param(m.J, m.T, initialize=0.0, mutable=True)
        m.alloc_kw = pyo.Var(m.J, m.T)
        m.pin = pyo.Constraint(m.J, m.T, rule=lambda m, j, t: m.supply_kw[j, t] == m.alloc_kw[j, t])
        prob = {j: problem.probability(j) for j in m.J}
        m.obj = pyo.Objective(expr=m.cost_eur + problem.kappa * sum(prob[j] * m.grad[j, t] * m.alloc_kw[j, t]
                                                                      for j in m.J for t in m.T))
        m.opt = appsi_highs()
        self.m = m

    def solve(self, centre, grad, delta, bound) -> np.ndarray | None:
        m = self.m
        for j in m.J:
            for t in m.T:
                m.grad[j, t] = float(grad[j, t])
                lo = max(centre[j, t] - delta[j], -bound[j])
                hi = min(centre[j, t] + delta[j], bound[j])
                m.alloc_kw[j, t].setlb(min(lo, hi))
                m.alloc_kw[j, t].setub(max(lo, hi))
        m.opt.config.load_solution = False
        res = m.opt.solve(m)
        if res.best_feasible_objective is None:
            return None
        res.solution_loader.load_vars()
        return np.array([[m.alloc_kw[j, t].value for t in m.T] for j in m.J])


class QuantityDecomposition(DecompositionMethod):
    """Options: ``delta0_fraction`` (initial trust region, share of each site's supply bound, 0.1),
    ``penalty_eur_per_mwh`` (elastic pin penalty, 3000), ``lower_bound_every`` (1), ``start`` ("lp":
    the LP relaxation's supplies as the first allocation, default; "day_ahead")."""

    name = "quantity"

    def run(self):
        p = self.problem
        penalty = float(self.options.get("penalty_eur_per_mwh", 3000.0))
        frac = float(self.options.get("delta0_fraction", 0.1))
        lb_every = max(1, int(self.options.get("lower_bound_every", 1)))
        bound = np.array([p.supply_bound_kw(*p.site_scenario(j)) for j in range(p.n_sub)])
        delta = frac * bound
        # initial allocation: the LP relaxation's supplies (warm start), else what each site would
        # draw at the day-ahead price
        lam0, supply0 = self.warm_start()
        _, sols, _, _, _ = self.lagrangian(lam0)
        alloc = np.array([s.supply_kw for s in sols]) if supply0 is None else np.array(supply0, copy=True)
        self.recover()
        centre, centre_cost, grad = None, math.inf, None
        realloc = _Reallocation(p)
        it = 0
        spread = math.nan
        self.record(0, "initial allocation")
        for it in range(1, self.max_iterations + 1):
            if self.done():
                it -= 1
                break
            sols = self.sites.solve_allocations(alloc, penalty, self.site_time_limit)
            self.count_site_solves(sols)
            coord_cost, lam, short, da = self.coordinator.solve_supply(alloc, penalty)
            site_short = sum(s.shortfall_kw for s in sols)
            feasible = site_short <= 1e-6 and short <= 1e-6
            total = coord_cost + sum(p.probability(s.j) * s.cost_eur for s in sols)
            if feasible:
                for s in sols:
                    self.pool.add(s)
                self.offer_plan(Plan(total, da, alloc.copy(), [s.schedule for s in sols], self.coordinator.zones))
            if feasible and total < centre_cost - 1e-9:
                centre, centre_cost = alloc.copy(), total
                grad = np.array([s.marginal for s in sols])
                delta = delta * 1.5
                note = "accepted"
            else:
                delta = delta / 2
                note = "rejected" + ("" if feasible else f" (infeasible by {site_short + short:,.0f} kW)")
            if centre is None:  # no feasible allocation yet: move towards the sites' answers
                grad = np.array([s.marginal for s in sols])
                centre = np.array([s.supply_kw for s in sols])
            # marginal values: site d cost/d supply (EUR/MWh, < 0 when supply saves cost) vs coordinator's
            spread = float(np.max(np.abs(-grad - lam))) if grad is not None else math.nan
            if it % lb_every == 0:
                self.lagrangian(lam)
            if it % self.recover_every == 0:
                self.recover()
            self.record(it, f"{note}, marginal spread {spread:,.1f} EUR/MWh, trust {np.mean(delta / bound):.3g}")
            new = realloc.solve(centre, grad, delta, bound)
            if new is None or np.max(delta / bound) < 1e-4:
                break
            alloc = new
        self.recover()
        res = self.result(it)
        res.stats["marginal_spread_eur_per_mwh"] = spread
        return res
