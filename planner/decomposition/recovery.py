"""Primal recovery: a feasible plan of the full problem from the site plans the decomposition has seen.

Every site answer is a feasible plan of that site (a *column*: supply profile, own cost, integer
schedule). Columns of one site and scenario that share an integer schedule may be mixed convexly
(with the schedule fixed the site's constraints are linear), so the selection problem picks one
schedule per site and scenario (binary), a convex mix of its columns, and the contract and links
(the coordinator) that serve the resulting supplies. Its incumbent is a feasible plan of the full
problem, hence an upper bound. ``verify_plan`` re-checks a plan on the project's own full model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from planner.dayahead.data import zones_of
from planner.dayahead.model import build_day_ahead_model
from planner.decomposition.coordinator import build_coordinator
from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem
from planner.solvers.highs import appsi_highs, relax_binaries


class ColumnPool:
    """Columns per subproblem, deduplicated."""

    def __init__(self, n_sub: int):
        self.columns: list[list] = [[] for _ in range(n_sub)]
        self._keys: list[set] = [set() for _ in range(n_sub)]

    def add(self, sol) -> bool:
        key = (sol.schedule, tuple(np.round(sol.supply_kw, 3)))
        if key in self._keys[sol.j]:
            return False
        self._keys[sol.j].add(key)
        self.columns[sol.j].append((float(sol.cost_eur), np.asarray(sol.supply_kw, dtype=float), sol.schedule))
        return True

    def __len__(self):
        return sum(len(c) for c in self.columns)


@dataclass
class Plan:
    """A feasible plan: day-ahead volumes, site supplies and integer schedules, and its cost."""

    cost_eur: float
    day_ahead_kw: np.ndarray               # (zones, T)
    supply_kw: np.ndarray                  # (n_sub, T)
    schedules: list = field(default_factory=list)  # per subproblem: the 0/1 tuple (SiteSubproblem order)
    zones: list = field(default_factory=list)


def select_columns(problem: CoupledProblem, pool: ColumnPool, *, time_limit: float = 60.0,
                   mip_gap: float = 1e-4) -> Plan | None:
    """Solve the column-selection MIP; None when no feasible selection was found in time."""
    m = build_coordinator(problem)
    cols = pool.columns
    K = [(j, k) for j in range(problem.n_sub) for k in range(len(cols[j]))]
    groups = {}
    for j, k in K:
        groups.setdefault((j, cols[j][k][2]), []).append(k)
    G = list(groups)
    m.K = pyo.Set(initialize=K, dimen=2)
    m.G = pyo.Set(initialize=range(len(G)))
    m.weight = pyo.Var(m.K, bounds=(0.0, 1.0))
    m.pick = pyo.Var(m.G, within=pyo.Binary)
    m.mix = pyo.Constraint(m.G, rule=lambda m, g: sum(m.weight[G[g][0], k] for k in groups[G[g]]) == m.pick[g])
    by_j = {}
    for g, (j, _) in enumerate(G):
        by_j.setdefault(j, []).append(g)
    m.one = pyo.Constraint(m.J, rule=lambda m, j: sum(m.pick[g] for g in by_j[j]) == 1)
    m.serve = pyo.Constraint(m.J, m.T, rule=lambda m, j, t: m.supply_kw[j, t]
                             == sum(m.weight[j, k] * float(cols[j][k][1][t]) for k in range(len(cols[j]))))
    m.obj = pyo.Objective(expr=m.cost_eur + sum(problem.probability(j) * cols[j][k][0] * m.weight[j, k] for j, k in K))
    opt = appsi_highs(mip_gap=mip_gap, time_limit=time_limit)
    res = opt.solve(m)
    if res.best_feasible_objective is None:
        return None
    res.solution_loader.load_vars()
    schedules = [None] * problem.n_sub
    for g, (j, sched) in enumerate(G):
        if (m.pick[g].value or 0) > 0.5:
            schedules[j] = sched
    supply = np.array([[pyo.value(m.supply_kw[j, t]) for t in m.T] for j in m.J])
    da = np.array([[m.day_ahead_kw[z, t].value for t in m.T] for z in m.Z])
    return Plan(float(res.best_feasible_objective), da, supply, schedules, list(m.Z))


def build_full_model(problem: CoupledProblem, *, fixed_day_ahead=None) -> pyo.ConcreteModel:
    """The project's full model (planner.dayahead.model) over every scenario, the day-ahead volumes shared
    (``nonant_*`` constraints) or fixed to ``fixed_day_ahead`` ((zones, T) array); ``m.obj`` is the
    expected cost and ``m.scen[w]`` the scenario models."""
    case = problem.case
    zones = list(zones_of(case))
    m = pyo.ConcreteModel("full")
    m.scen = pyo.Block(range(problem.n_scenarios))
    total = 0.0
    for w in range(problem.n_scenarios):
        model = build_day_ahead_model(case, problem.data[w], name=f"scen{w}")
        model.obj.deactivate()
        m.scen[w].transfer_attributes_from(model)
        b = m.scen[w]
        for zi, z in enumerate(zones):
            for t in range(case.n_periods):
                if fixed_day_ahead is not None:
                    b.contract.day_ahead_kw[z, t].fix(float(fixed_day_ahead[zi, t]))
                elif w > 0:
                    b.add_component(f"nonant_{zi}_{t}", pyo.Constraint(
                        expr=b.contract.day_ahead_kw[z, t] == m.scen[0].contract.day_ahead_kw[z, t]))
        total = total + float(problem.probabilities[w]) * b.total_cost_eur
    m.obj = pyo.Objective(expr=total)
    return m


def lp_prices(problem: CoupledProblem, time_limit: float | None = None):
    """The LP relaxation of the full problem (every binary relaxed; each line's relaxation is the
    convex hull of its schedules) and its supply prices: (LP optimum = a valid lower bound,
    prices (n_sub, T) in EUR/MWh, supplies (n_sub, T) in kW, seconds), or None if not solved. The price of site j's supply is the dual of its energy
    balance (supply enters the full model nowhere else), per unit of the scenario's probability; by
    LP duality the Lagrangian dual function of the relaxed sites at these prices equals the LP
    optimum, so the site MIPs' Lagrangian there is at least the LP bound."""
    t0 = time.perf_counter()
    case, N = problem.case, problem.n_sites
    m = build_full_model(problem)
    relax_binaries(m)
    opt = appsi_highs(time_limit=time_limit, options={"solver": "ipm"})
    res = opt.solve(m)
    if str(res.termination_condition).split(".")[-1] != "optimal":
        return None
    rows = [m.scen[j // N].site[case.site_names[j % N]].balance[t]
            for j in range(problem.n_sub) for t in range(case.n_periods)]
    duals = opt.get_duals(rows)
    lam = np.array([duals[r] for r in rows]).reshape(problem.n_sub, case.n_periods)
    probs = np.array([problem.probability(j) for j in range(problem.n_sub)])[:, None]
    # HiGHS's dual is d cost / d right-hand side; Pyomo keeps the balance as supply + own sources
    # - loads = 0 with the (constant) base load on the right: one more kW of load costs the price
    lam = lam / (problem.kappa * probs)
    res.solution_loader.load_vars()
    supply = np.array([[pyo.value(m.scen[j // N].site[case.site_names[j % N]].grid_kw[t]
                                  + m.scen[j // N].site[case.site_names[j % N]].link_in_kw[t])
                        for t in range(case.n_periods)] for j in range(problem.n_sub)])
    return float(res.best_feasible_objective), lam, supply, time.perf_counter() - t0


def verify_plan(problem: CoupledProblem, plan: Plan, *, fix_day_ahead: bool = True):
    """Fix the plan's integer schedules (and day-ahead volumes) in the project's full model
    (planner.dayahead.model, every scenario) and solve the remaining LP with HiGHS.

    Returns (feasible, cost): a feasible plan's cost can only be at most ``plan.cost_eur`` (the plan
    is one point of that LP). With ``fix_day_ahead=False`` returns (feasible, polished Plan or None).
    """
    case = problem.case
    N = problem.n_sites
    m = build_full_model(problem, fixed_day_ahead=plan.day_ahead_kw if fix_day_ahead else None)
    for w in range(problem.n_scenarios):
        b = m.scen[w]
        for i in range(N):
            j = w * N + i
            sub = SiteSubproblem(problem, j)
            names = [v.name.split(".", 1)[1] for v in sub.base_model().binaries]  # 'line[x].on[M1,0]'
            for name, val in zip(names, plan.schedules[j]):
                b.find_component(f"site[{case.site_names[i]}].{name}").fix(val)
    opt = appsi_highs()
    res = opt.solve(m)
    status = str(res.termination_condition).split(".")[-1]
    if res.best_feasible_objective is None or status != "optimal":
        return (False, math.inf) if fix_day_ahead else (False, None)
    cost = float(res.best_feasible_objective)
    if fix_day_ahead:
        return True, cost
    res.solution_loader.load_vars()
    T = range(case.n_periods)
    da = np.array([[m.scen[0].contract.day_ahead_kw[z, t].value for t in T] for z in plan.zones])
    supply = np.array([[pyo.value(m.scen[j // N].site[case.site_names[j % N]].grid_kw[t]
                                  + m.scen[j // N].site[case.site_names[j % N]].link_in_kw[t]) for t in T]
                       for j in range(problem.n_sub)])
    return True, Plan(cost, da, supply, list(plan.schedules), list(plan.zones))


def polish_plan(problem: CoupledProblem, plan: Plan) -> Plan | None:
    """Keep the plan's integer schedules, re-optimise everything continuous on the full model (an LP)."""
    ok, better = verify_plan(problem, plan, fix_day_ahead=False)
    return better if ok else None
