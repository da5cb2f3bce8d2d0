"""Energy-community baselines: each site plans alone, its surplus is shared by a simple rule.

Every site first plans its day on its own (links closed; imports at the day-ahead price plus the
energy charge, exports at the resale price). In each period a site with a surplus (negative
supply) offers it to its link neighbours with a deficit, by one of the rules used by energy
communities:
- ``first_come``: neighbours served in a fixed order (case order), each up to its deficit;
- ``proportional``: in proportion to the neighbours' deficits;
- ``equal``: equal shares (capped by each deficit, leftovers re-split among the others);
always within link capacity, with the link losses on arrival. The rest is resold, deficits bought.
Purchases (day-ahead, intraday, resale) are then chosen optimally by the coordinator's LP with the
flows fixed, so the comparison isolates the value of *optimised exchanges* (``optimised_exchange``:
same site plans, flows chosen by the LP) and of the *fully optimised plan* (a decomposition run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from planner.decomposition.coordinator import build_coordinator
from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem
from planner.solvers.highs import appsi_highs

RULES = ("first_come", "proportional", "equal")


def standalone_plans(problem: CoupledProblem, mip_gap: float = 1e-3, time_limit: float = 10.0) -> list:
    """Each site and scenario planned on its own (SiteSolution list, subproblem order)."""
    return [SiteSubproblem(problem, j, mip_gap, time_limit).solve_standalone() for j in range(problem.n_sub)]


def split_surplus(offer: float, deficits: np.ndarray, rule: str) -> np.ndarray:
    """Energy given to each neighbour (before losses) out of ``offer`` under ``rule``."""
    give = np.zeros_like(deficits)
    if offer <= 0 or deficits.sum() <= 0:
        return give
    if rule == "first_come":
        left = offer
        for k, d in enumerate(deficits):
            give[k] = min(d, left)
            left -= give[k]
        return give
    if rule == "proportional":
        return deficits * min(1.0, offer / deficits.sum())
    if rule == "equal":
        left, open_ = offer, deficits > 0
        while left > 1e-9 and open_.any():
            share = left / open_.sum()
            add = np.where(open_, np.minimum(share, deficits - give), 0.0)
            give += add
            left -= add.sum()
            open_ = open_ & (deficits - give > 1e-9)
        return give
    raise ValueError(f"rule = {rule!r}: allowed values are {', '.join(map(repr, RULES))}")


def community_flows(problem: CoupledProblem, supply: np.ndarray, rule: str) -> np.ndarray:
    """Link flows (scenario, link, direction ab/ba, period) in kW sent, by ``rule``."""
    case = problem.case
    N, T = problem.n_sites, problem.n_periods
    flows = np.zeros((problem.n_scenarios, len(case.links), 2, T))
    names = list(case.site_names)
    for w in range(problem.n_scenarios):
        for t in range(T):
            net = supply[w * N:(w + 1) * N, t].copy()  # > 0 deficit, < 0 surplus
            for i in range(N):
                if net[i] >= 0:
                    continue
                nbrs = []  # (link index, direction, neighbour, keep)
                for k, l in enumerate(case.links):
                    if l.site_a == names[i]:
                        nbrs.append((k, 0, names.index(l.site_b), 1 - l.loss_fraction))
                    elif l.site_b == names[i]:
                        nbrs.append((k, 1, names.index(l.site_a), 1 - l.loss_fraction))
                if not nbrs:
                    continue
                nbrs.sort(key=lambda x: x[2])
                cap = np.array([case.links[k].capacity_kw - flows[w, k, d, t] for k, d, _, _ in nbrs])
                # sent energy needed to cover a neighbour's deficit after losses, capped by the link
                need = np.array([max(net[n], 0.0) / keep for _, _, n, keep in nbrs])
                need = np.minimum(need, np.maximum(cap, 0.0))
                give = split_surplus(-net[i], need, rule)
                for (k, d, n, keep), g in zip(nbrs, give):
                    flows[w, k, d, t] += g
                    net[n] -= keep * g
                net[i] += give.sum()
    return flows


def evaluate_sharing(problem: CoupledProblem, plans: list, flows: np.ndarray | None) -> float:
    """Expected cost (EUR) of the site plans with link flows fixed (``None``: flows optimised)."""
    m = build_coordinator(problem)
    supply = np.array([s.supply_kw for s in plans])
    m.pin = pyo.Constraint(m.J, m.T, rule=lambda m, j, t: m.supply_kw[j, t] == float(supply[j, t]))
    if flows is not None:
        for w in m.W:
            for k in range(len(problem.case.links)):
                for d, name in enumerate(("ab", "ba")):
                    for t in m.T:
                        m.scen[w].links.flow_kw[k, name, t].fix(float(flows[w, k, d, t]))
    m.obj = pyo.Objective(expr=m.cost_eur)
    opt = appsi_highs()
    res = opt.solve(m)
    if res.best_feasible_objective is None:
        raise RuntimeError("sharing baseline: the coordinator cannot serve the standalone plans")
    return float(res.best_feasible_objective) + sum(problem.probability(s.j) * s.cost_eur for s in plans)


def compare_sharing_rules(case, scenarios, optimised_cost_eur: float | None = None, *, mip_gap: float = 1e-3,
                          time_limit: float = 10.0) -> pd.DataFrame:
    """Expected cost of no sharing, each rule, optimised exchanges (same site plans) and, if given,
    the fully optimised plan; with the gain of optimisation over each row."""
    problem = CoupledProblem.from_case(case, scenarios)
    plans = standalone_plans(problem, mip_gap, time_limit)
    supply = np.array([s.supply_kw for s in plans])
    rows = [("no_sharing", evaluate_sharing(problem, plans, np.zeros((problem.n_scenarios, len(case.links), 2,
                                                                         problem.n_periods))))]
    for rule in RULES:
        rows.append((rule, evaluate_sharing(problem, plans, community_flows(problem, supply, rule))))
    rows.append(("optimised_exchange", evaluate_sharing(problem, plans, None)))
    if optimised_cost_eur is not None:
        rows.append(("optimised_plan", float(optimised_cost_eur)))
    frame = pd.DataFrame(rows, columns=["rule", "expected_cost_eur"]).set_index("rule")
    best = frame["expected_cost_eur"].min()
    frame["gain_of_optimisation_eur"] = frame["expected_cost_eur"] - best
    frame["gain_pct"] = 100 * frame["gain_of_optimisation_eur"] / frame["expected_cost_eur"].abs()
    return frame
