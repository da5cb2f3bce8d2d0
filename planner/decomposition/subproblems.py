"""The pieces of the site decomposition: one site's problem in one scenario, and the coordinator.

The full model couples sites only through each site's *supply* ``e[i,t] = grid[i,t] + link_in[i,t]``
(the site's balance sees nothing else of the grid and the links). The decomposition therefore
splits it into
- site subproblems (one per site and scenario): the project's site block (lines, storage, battery,
  generator, renewables) with the supply ``e`` as a free port bounded by grid connection plus
  incident link capacity; priced at ``lam`` (price mode) or pinned to an allocation (allocation
  mode);
- the coordinator: the project's contract and links blocks, one per scenario, with the day-ahead
  volumes shared by all scenarios, the grid/link split of each site's supply, and the supply itself.
Coupling constraint per site, scenario and period: site supply = coordinator supply. Prices ``lam``
are in EUR/MWh of supply; the Lagrangian weighs every term by the scenario's probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from planner.blocks.contract import build_contract_block
from planner.blocks.links import build_links_block
from planner.blocks.site import build_site_block, grid_port_bound_kw
from planner.load_profiles import base_load_kw
from planner.twostage import scenario_data, zones_of
from planner.twostage import zone_bounds_kw as twostage_zone_bounds_kw


# --------------------------------------------------------------------------------------------
# Problem data shared by every method
# --------------------------------------------------------------------------------------------
@dataclass
class CoupledProblem:
    """A case with its scenario inputs: subproblem ``j`` is (site ``j % n_sites``, scenario ``j // n_sites``)."""

    case: object
    data: list  # one scenario_data dict per scenario
    probabilities: np.ndarray
    scenario_names: list = field(default_factory=list)

    @classmethod
    def from_case(cls, case, scenarios=None) -> "CoupledProblem":
        """Deterministic day (``scenarios=None``: the expected-value inputs are not invented — a
        one-row ScenarioSet is required) or a two-stage problem over a ScenarioSet."""
        if scenarios is None:
            raise ValueError("scenarios: give a ScenarioSet (one row for a deterministic day)")
        from planner.twostage import check_scenarios

        check_scenarios(case, scenarios)
        data = [scenario_data(case, scenarios, w) for w in range(scenarios.n_scenarios)]
        names = list(scenarios.names) if scenarios.names else [f"scen{w}" for w in range(scenarios.n_scenarios)]
        return cls(case, data, np.asarray(scenarios.probabilities, dtype=float), names)

    @property
    def n_sites(self) -> int:
        return len(self.case.sites)

    @property
    def n_scenarios(self) -> int:
        return len(self.data)

    @property
    def n_sub(self) -> int:
        return self.n_sites * self.n_scenarios

    @property
    def n_periods(self) -> int:
        return self.case.n_periods

    @property
    def kappa(self) -> float:
        """EUR per (EUR/MWh x kW x period)."""
        return self.case.period_hours / 1000.0

    def site_scenario(self, j: int) -> tuple[int, int]:
        return j % self.n_sites, j // self.n_sites

    def probability(self, j: int) -> float:
        return float(self.probabilities[j // self.n_sites])

    def base_load(self, i: int) -> np.ndarray:
        s = self.case.sites[i]
        return base_load_kw(s.base_load, self.case.scenarios.day, self.case.period_minutes, self.case.n_periods)

    def grid_limit_kw(self, i: int, w: int) -> float:
        """The grid-port bound the project's site block uses (min of connection and physical need)."""
        s = self.case.sites[i]
        d = self.data[w]
        return grid_port_bound_kw(s, self.base_load(i), d["pv_kw"][s.name], d["wind_kw"][s.name])

    def incident_link_kw(self, i: int) -> float:
        name = self.case.sites[i].name
        return sum(float(l.capacity_kw) for l in self.case.links if name in (l.site_a, l.site_b))

    def supply_bound_kw(self, i: int, w: int) -> float:
        return self.grid_limit_kw(i, w) + self.incident_link_kw(i)

    def initial_prices(self) -> np.ndarray:
        """Starting prices (n_sub, T): the day-ahead price plus the energy charge, per scenario."""
        f2 = 1000.0 * float(self.case.contract.energy_charge_eur_per_kwh)
        lam = np.empty((self.n_sub, self.n_periods))
        for j in range(self.n_sub):
            lam[j] = np.asarray(self.data[j // self.n_sites]["p0"], dtype=float) + f2
        return lam


# --------------------------------------------------------------------------------------------
# HiGHS via Pyomo's persistent interface
# --------------------------------------------------------------------------------------------
def relax_binaries(model) -> list:
    """Relax every binary variable of ``model`` to the interval [0, 1]; return the relaxed variables."""
    relaxed = [v for v in model.component_data_objects(pyo.Var, descend_into=True) if v.is_binary()]
    for v in relaxed:
        v.domain = pyo.Reals
        v.setlb(0.0)
        v.setub(1.0)
    return relaxed


def _solver(mip_gap: float | None = None, time_limit: float | None = None, threads: int = 1):
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.load_solution = False
    if mip_gap is not None:
        opt.config.mip_gap = mip_gap
    if time_limit is not None:
        opt.config.time_limit = time_limit
    opt.highs_options["threads"] = threads
    return opt


@dataclass
class SiteSolution:
    """One site subproblem's answer: bound and value of its objective, its plan's cost and supply."""

    j: int
    bound: float          # dual bound of the (probability-weighted) subproblem objective
    value: float          # objective value of the incumbent
    cost_eur: float       # site's own cost (generator) of the incumbent, unweighted
    supply_kw: np.ndarray  # (T,)
    schedule: tuple       # integer decisions (0/1) in a fixed order: the plan's signature
    marginal: np.ndarray | None = None  # allocation mode: d objective / d supply (EUR/MWh), unweighted
    shortfall_kw: float = 0.0           # allocation mode: elastic slack used (0 = allocation feasible)
    seconds: float = 0.0


class SiteSubproblem:
    """One site in one scenario, built from the project's site block, solved with HiGHS."""

    def __init__(self, problem: CoupledProblem, j: int, mip_gap: float = 1e-3, time_limit: float = 10.0):
        self.problem, self.j = problem, j
        self.i, self.w = problem.site_scenario(j)
        self.site = problem.case.sites[self.i]
        self.prob = problem.probability(j)
        self.mip_gap, self.time_limit = mip_gap, time_limit
        self._price_model = None
        self._alloc_model = None

    # ---- model construction -----------------------------------------------------------------
    def _base_model(self):
        p, s, d = self.problem, self.site, self.problem.data[self.w]
        m = pyo.ConcreteModel(f"site_{s.name}_{self.w}")
        m.site = pyo.Block()
        build_site_block(m.site, s, p.case, p.base_load(self.i), d["pv_kw"][s.name], d["wind_kw"][s.name])
        m.site.link_in_kw.fix(0.0)
        bound = p.supply_bound_kw(self.i, self.w)
        for t in m.site.T:  # grid_kw now carries the whole supply (grid + links)
            m.site.grid_kw[t].setlb(-bound)
            m.site.grid_kw[t].setub(bound)
        m.binaries = [v for v in m.component_data_objects(pyo.Var, descend_into=True) if v.is_binary()]
        return m

    def _price(self):
        if self._price_model is None:
            m = self._base_model()
            T = m.site.T
            m.lam = pyo.Param(T, initialize=0.0, mutable=True)
            k = self.problem.kappa
            m.obj = pyo.Objective(expr=self.prob * (m.site.cost_eur + k * sum(m.lam[t] * m.site.grid_kw[t] for t in T)))
            m.opt = _solver(self.mip_gap, self.time_limit)
            self._price_model = m
        return self._price_model

    def _alloc(self, penalty_eur_per_mwh: float):
        if self._alloc_model is None:
            m = self._base_model()
            T = m.site.T
            m.target = pyo.Param(T, initialize=0.0, mutable=True)
            m.short = pyo.Var(T, bounds=(0.0, None))
            m.excess = pyo.Var(T, bounds=(0.0, None))
            m.pin = pyo.Constraint(T, rule=lambda m, t: m.site.grid_kw[t] + m.short[t] - m.excess[t] == m.target[t])
            k = self.problem.kappa
            m.obj = pyo.Objective(expr=m.site.cost_eur + k * penalty_eur_per_mwh * sum(m.short[t] + m.excess[t] for t in T))
            m.opt = _solver(self.mip_gap, self.time_limit)
            m.lp = _solver()
            self._alloc_model = m
        return self._alloc_model

    # ---- solves ---------------------------------------------------------------------------
    def _run(self, m):
        import time

        t0 = time.perf_counter()
        m.opt.config.warmstart = any(v.value is not None for v in m.binaries)
        res = m.opt.solve(m)
        tries = 0
        while res.best_feasible_objective is None and tries < 3:  # no plan yet: give HiGHS more time
            tries += 1
            m.opt.config.time_limit = self.time_limit * 4 ** tries
            res = m.opt.solve(m)
        m.opt.config.time_limit = self.time_limit
        seconds = time.perf_counter() - t0
        if res.best_feasible_objective is None:
            raise RuntimeError(f"site {self.site.name!r} scenario {self.w}: no feasible plan "
                               f"({res.termination_condition}); raise the time limit")
        res.solution_loader.load_vars()
        ub = float(res.best_feasible_objective)
        lb = res.best_objective_bound
        lb = ub if lb is None or not math.isfinite(lb) else min(float(lb), ub)
        return lb, ub, seconds

    def _schedule(self, m) -> tuple:
        return tuple(int(round(v.value or 0.0)) for v in m.binaries)

    def solve_price(self, lam: np.ndarray, time_limit: float | None = None) -> SiteSolution:
        """min prob * (site cost + kappa * sum_t lam_t * supply_t): the site's Lagrangian term."""
        if time_limit is not None:
            self.time_limit = float(time_limit)
        m = self._price()
        m.opt.config.time_limit = self.time_limit
        for t in m.site.T:
            m.lam[t] = float(lam[t])
        lb, ub, sec = self._run(m)
        supply = np.array([m.site.grid_kw[t].value for t in m.site.T], dtype=float)
        return SiteSolution(self.j, lb, ub, float(pyo.value(m.site.cost_eur)), supply, self._schedule(m), seconds=sec)

    def solve_standalone(self) -> SiteSolution:
        """The site on its own (links closed): imports at the day-ahead price plus the energy charge,
        exports at the resale price, within its grid connection."""
        p, d = self.problem, self.problem.data[self.w]
        m = self._base_model()
        lim = p.grid_limit_kw(self.i, self.w)
        T = m.site.T
        m.imp = pyo.Var(T, bounds=(0.0, lim))
        m.exp = pyo.Var(T, bounds=(0.0, lim))
        m.split = pyo.Constraint(T, rule=lambda m, t: m.site.grid_kw[t] == m.imp[t] - m.exp[t])
        f2 = 1000.0 * float(p.case.contract.energy_charge_eur_per_kwh)
        k = p.kappa
        m.obj = pyo.Objective(expr=m.site.cost_eur + k * sum((float(d["p0"][t]) + f2) * m.imp[t]
                                                             - float(d["p2"][t]) * m.exp[t] for t in T))
        m.opt = _solver(self.mip_gap, self.time_limit)
        lb, ub, sec = self._run(m)
        supply = np.array([m.site.grid_kw[t].value for t in T], dtype=float)
        return SiteSolution(self.j, self.prob * lb, self.prob * ub, float(pyo.value(m.site.cost_eur)), supply,
                            self._schedule(m), seconds=sec)

    def solve_allocation(self, target_kw: np.ndarray, penalty_eur_per_mwh: float,
                         time_limit: float | None = None) -> SiteSolution:
        """min site cost with the supply pinned to ``target_kw`` (elastic, penalised); marginal values
        are the duals of the pin in the LP with the integer schedule fixed."""
        if time_limit is not None:
            self.time_limit = float(time_limit)
        m = self._alloc(penalty_eur_per_mwh)
        m.opt.config.time_limit = self.time_limit
        for t in m.site.T:
            m.target[t] = float(target_kw[t])
        lb, ub, sec = self._run(m)
        supply = np.array([m.site.grid_kw[t].value for t in m.site.T], dtype=float)
        short = float(sum(m.short[t].value + m.excess[t].value for t in m.site.T))
        sched = self._schedule(m)
        cost = float(pyo.value(m.site.cost_eur))
        for v in m.binaries:  # the LP with the schedule fixed (continuous domain, so HiGHS gives duals)
            val = float(round(v.value or 0.0))
            v.domain = pyo.Reals
            v.setlb(val)
            v.setub(val)
        try:
            m.lp.solve(m)
            duals = m.lp.get_duals([m.pin[t] for t in m.site.T])
            marginal = np.array([duals[m.pin[t]] for t in m.site.T]) / self.problem.kappa
        finally:
            for v in m.binaries:
                v.domain = pyo.Binary
                v.setlb(0)
                v.setub(1)
        return SiteSolution(self.j, self.prob * lb, self.prob * ub, cost, supply, sched, marginal=marginal,
                            shortfall_kw=short, seconds=sec)


# --------------------------------------------------------------------------------------------
# The coordinator: contract and links over all scenarios, day-ahead volumes shared
# --------------------------------------------------------------------------------------------
def zone_bounds_kw(problem: CoupledProblem) -> dict:
    """The zone purchase bounds of the project's model (planner.twostage.zone_bounds_kw)."""
    case = problem.case
    return twostage_zone_bounds_kw(case, {s.name: problem.base_load(i) for i, s in enumerate(case.sites)})


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

    def solve_prices(self, lam: np.ndarray) -> tuple[float, np.ndarray, dict]:
        """min cost - kappa * sum_j prob_j sum_t lam[j,t] supply[j,t]; (value, supply (n_sub, T), plan)."""
        p = self.problem
        if self._lag is None:
            m = build_coordinator(p)
            m.lam = pyo.Param(m.J, m.T, initialize=0.0, mutable=True)
            prob = {j: p.probability(j) for j in m.J}
            m.obj = pyo.Objective(expr=m.cost_eur - p.kappa * sum(prob[j] * m.lam[j, t] * m.supply_kw[j, t]
                                                                   for j in m.J for t in m.T))
            m.opt = _solver()
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
            m.opt = _solver()
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
