"""The coordinator of the site decomposition: the contract and links over every scenario, the
day-ahead volumes shared, each site's supply as the interface to the site subproblems."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from planner.blocks.contract import build_contract_block
from planner.blocks.links import build_links_block
from planner.dayahead.data import zone_bounds_kw as dayahead_zone_bounds_kw
from planner.dayahead.data import zones_of
from planner.decomposition.subproblems import CoupledProblem
from planner.solvers.highs import appsi_highs


def zone_bounds_kw(problem: CoupledProblem) -> dict:
    """The zone purchase bounds of the project's model (planner.dayahead.data.zone_bounds_kw)."""
    case = problem.case
    return dayahead_zone_bounds_kw(case, {s.name: problem.base_load(i) for i, s in enumerate(case.sites)})


def build_coordinator(problem: CoupledProblem) -> pyo.ConcreteModel:
    """Contract and links blocks per scenario, site grid imports, and ``supply[j, t]`` expressions."""
    case, n = problem.case, problem.n_periods
    m = pyo.ConcreteModel("coordinator")
    m.T = pyo.Set(initialize=range(n), ordered=True)
    m.W = pyo.Set(initialize=range(problem.n_scenarios), ordered=True)
    m.J = pyo.Set(initialize=range(problem.n_sub), ordered=True)
    zones = zones_of(case)
    m.Z = pyo.Set(initialize=list(zones), ordered=True)
    bounds = zone_bounds_kw(problem)
    lim = {j: problem.grid_limit_kw(*problem.site_scenario(j)) for j in range(problem.n_sub)}
    m.grid_kw = pyo.Var(m.J, m.T, bounds=lambda m, j, t: (-lim[j], lim[j]))
    m.day_ahead_kw = pyo.Var(m.Z, m.T, bounds=lambda m, z, t: (0.0, bounds[z]))
    m.scen = pyo.Block(m.W)
    N = problem.n_sites
    for w in m.W:
        b = m.scen[w]
        d = problem.data[w]
        b.links = pyo.Block()
        build_links_block(b.links, case.links, case.site_names, n)
        b.contract = pyo.Block()
        build_contract_block(b.contract, case, zones, bounds, {"p0": d["p0"], "p1": d["p1"], "p2": d["p2"]},
                             lambda s, t, w=w: m.grid_kw[w * N + case.site_names.index(s), t])
        b.nonant = pyo.Constraint(m.Z, m.T, rule=lambda b, z, t: b.contract.day_ahead_kw[z, t] == m.day_ahead_kw[z, t])
    names = case.site_names
    m.supply_kw = pyo.Expression(
        m.J, m.T, rule=lambda m, j, t: m.grid_kw[j, t] + m.scen[j // N].links.link_in_kw[names[j % N], t])
    m.cost_eur = pyo.Expression(expr=sum(float(problem.probabilities[w]) * m.scen[w].contract.cost_eur for w in m.W))
    return m


class Coordinator:
    """The coordinator's LPs: Lagrangian (given prices) and supply (given site supplies)."""

    def __init__(self, problem: CoupledProblem):
        self.problem = problem
        self._lag = None
        self._sup = None

    @property
    def zones(self) -> list:
        """The contract's zones, in the order of the day-ahead arrays (rows of ``solve_supply``'s plan)."""
        return list(zones_of(self.problem.case))

    def solve_prices(self, lam: np.ndarray) -> tuple[float, np.ndarray, dict]:
        """min cost - kappa * sum_j prob_j sum_t lam[j,t] supply[j,t]; (value, supply (n_sub, T), plan)."""
        p = self.problem
        if self._lag is None:
            m = build_coordinator(p)
            m.lam = pyo.Param(m.J, m.T, initialize=0.0, mutable=True)
            prob = {j: p.probability(j) for j in m.J}
            m.obj = pyo.Objective(expr=m.cost_eur - p.kappa * sum(prob[j] * m.lam[j, t] * m.supply_kw[j, t]
                                                                   for j in m.J for t in m.T))
            m.opt = appsi_highs()
            self._lag = m
        m = self._lag
        for j in m.J:
            for t in m.T:
                m.lam[j, t] = float(lam[j, t])
        res = m.opt.solve(m)
        res.solution_loader.load_vars()
        value = float(res.best_feasible_objective)
        supply = np.array([[pyo.value(m.supply_kw[j, t]) for t in m.T] for j in m.J])
        return value, supply, {"cost_eur": float(pyo.value(m.cost_eur))}

    def solve_supply(self, supply_kw: np.ndarray, penalty_eur_per_mwh: float):
        """Cheapest contract and links meeting given supplies (elastic with a penalty): (cost, duals
        in EUR/MWh per unit of probability (n_sub, T), shortfall kW, day-ahead (Z, T))."""
        p = self.problem
        if self._sup is None:
            m = build_coordinator(p)
            m.target = pyo.Param(m.J, m.T, initialize=0.0, mutable=True)
            m.short = pyo.Var(m.J, m.T, bounds=(0.0, None))
            m.excess = pyo.Var(m.J, m.T, bounds=(0.0, None))
            m.pin = pyo.Constraint(m.J, m.T, rule=lambda m, j, t: m.supply_kw[j, t] + m.short[j, t] - m.excess[j, t]
                                   == m.target[j, t])
            prob = {j: p.probability(j) for j in m.J}
            m.obj = pyo.Objective(expr=m.cost_eur + p.kappa * penalty_eur_per_mwh
                                  * sum(prob[j] * (m.short[j, t] + m.excess[j, t]) for j in m.J for t in m.T))
            m.opt = appsi_highs()
            self._sup = m
        m = self._sup
        for j in m.J:
            for t in m.T:
                m.target[j, t] = float(supply_kw[j, t])
        res = m.opt.solve(m)
        res.solution_loader.load_vars()
        duals = m.opt.get_duals([m.pin[j, t] for j in m.J for t in m.T])
        lam = np.array([[duals[m.pin[j, t]] / (p.kappa * p.probability(j)) for t in m.T] for j in m.J])
        short = float(sum(m.short[j, t].value + m.excess[j, t].value for j in m.J for t in m.T))
        da = np.array([[m.day_ahead_kw[z, t].value for t in m.T] for z in m.Z])
        return float(pyo.value(m.cost_eur)), lam, short, da
