"""One site in one scenario, the subproblem of the site decomposition, and the problem data they share.

The full model couples sites only through each site's *supply* ``e[i,t] = grid[i,t] + link_in[i,t]``
(the site's balance sees nothing else of the grid and the links). The decomposition therefore
splits it into
- site subproblems (one per site and scenario, here): the project's site block (lines, storage, battery,
  generator, renewables) with the supply ``e`` as a free port bounded by grid connection plus
  incident link capacity; priced at ``lam`` (price mode) or pinned to an allocation (allocation
  mode);
- the coordinator (planner.decomposition.coordinator): the project's contract and links blocks, one
  per scenario, with the day-ahead volumes shared by all scenarios, the grid/link split of each site's
  supply, and the supply itself.
Coupling constraint per site, scenario and period: site supply = coordinator supply. Prices ``lam``
are in EUR/MWh of supply; the Lagrangian weighs every term by the scenario's probability.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from planner.blocks.site import build_site_block, grid_port_bound_kw
from planner.dayahead.data import check_scenarios, scenario_data
from planner.load_profiles import base_load_kw
from planner.solvers.highs import appsi_highs


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
    def base_model(self):
        """A fresh Pyomo model of the site (its block, the supply as ``site.grid_kw``) without objective;
        ``m.binaries`` lists its binaries in the order of every schedule tuple."""
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

    @property
    def price_model(self):
        """The price-mode model (built once, kept warm): ``m.lam`` mutable prices, ``m.binaries``, ``m.opt``."""
        if self._price_model is None:
            m = self.base_model()
            T = m.site.T
            m.lam = pyo.Param(T, initialize=0.0, mutable=True)
            k = self.problem.kappa
            m.obj = pyo.Objective(expr=self.prob * (m.site.cost_eur + k * sum(m.lam[t] * m.site.grid_kw[t] for t in T)))
            m.opt = appsi_highs(mip_gap=self.mip_gap, time_limit=self.time_limit)
            self._price_model = m
        return self._price_model

    def _alloc(self, penalty_eur_per_mwh: float):
        if self._alloc_model is None:
            m = self.base_model()
            T = m.site.T
            m.target = pyo.Param(T, initialize=0.0, mutable=True)
            m.short = pyo.Var(T, bounds=(0.0, None))
            m.excess = pyo.Var(T, bounds=(0.0, None))
            m.pin = pyo.Constraint(T, rule=lambda m, t: m.site.grid_kw[t] + m.short[t] - m.excess[t] == m.target[t])
            k = self.problem.kappa
            m.obj = pyo.Objective(expr=m.site.cost_eur + k * penalty_eur_per_mwh * sum(m.short[t] + m.excess[t] for t in T))
            m.opt = appsi_highs(mip_gap=self.mip_gap, time_limit=self.time_limit)
            m.lp = appsi_highs()
            self._alloc_model = m
        return self._alloc_model

    # ---- solves ---------------------------------------------------------------------------
    def _run(self, m):
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
        m = self.price_model
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
        m = self.base_model()
        lim = p.grid_limit_kw(self.i, self.w)
        T = m.site.T
        m.imp = pyo.Var(T, bounds=(0.0, lim))
        m.exp = pyo.Var(T, bounds=(0.0, lim))
        m.split = pyo.Constraint(T, rule=lambda m, t: m.site.grid_kw[t] == m.imp[t] - m.exp[t])
        f2 = 1000.0 * float(p.case.contract.energy_charge_eur_per_kwh)
        k = p.kappa
        m.obj = pyo.Objective(expr=m.site.cost_eur + k * sum((float(d["p0"][t]) + f2) * m.imp[t]
                                                             - float(d["p2"][t]) * m.exp[t] for t in T))
        m.opt = appsi_highs(mip_gap=self.mip_gap, time_limit=self.time_limit)
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
