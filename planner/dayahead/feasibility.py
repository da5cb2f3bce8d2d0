"""Plan pre-checks before any solve, and diagnosis of infeasible models by elastic relaxation.

``check_plan(case)`` returns the problems that make a production plan impossible whatever the
prices: a material that the site's lines cannot make in time (line capacity, restart and changeover
latencies, the no-M1-with-M2 rule, shared line time), storage that overflows or runs short before a
delivery. Each problem names the site, the material and the shortfall in tonnes.
``diagnose_infeasible(case, data)`` relaxes one constraint family at a time with penalised slacks
and reports which families must be violated, and by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from scipy.optimize import linprog

from planner.blocks import ELASTIC_FAMILIES
from planner.blocks.site import delivery_period
from planner.dayahead.model import build_day_ahead_model
from planner.solvers.highs import solve_with_bounds


@dataclass(frozen=True)
class PlanProblem:
    site: str
    material: str
    shortfall_t: float
    reason: str

    def __str__(self) -> str:
        return (f"site {self.site!r}, material {self.material}: shortfall {self.shortfall_t:.3g} t — {self.reason}")


class InfeasiblePlanError(ValueError):
    """A plan that cannot be produced; ``problems`` lists PlanProblem items."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("the production plan cannot be met:\n  - " + "\n  - ".join(map(str, self.problems)))


def _line_hours(line, material, case) -> float:
    """Hours the line can produce ``material`` in the horizon if it does nothing else."""
    dt = case.period_hours
    lost = 0.0
    if line.initial_material is None:
        lost = line.restart_hours
    elif line.initial_material != material:
        lost = min(line.changeover_hours, dt + line.restart_hours)  # switch, or stop one period and restart
    return max(0.0, case.horizon_hours - lost)


def _site_time_lp(site, case, need: dict) -> dict:
    """Minimal total shortfall per material when lines share their time (LP, scipy)."""
    mats = [m for m in need if need[m] > 0]
    if not mats:
        return {}
    pairs = [(j, m) for j, line in enumerate(site.lines) for m in line.materials if m in mats]
    nv = len(pairs) + len(mats)  # hours per (line, material), then shortfall per material
    c = np.r_[np.zeros(len(pairs)), np.ones(len(mats))]
    A, b = [], []
    for j, line in enumerate(site.lines):
        row = np.zeros(nv)
        used = [k for k, (jj, m) in enumerate(pairs) if jj == j]
        if not used:
            continue
        row[used] = 1.0
        lost = line.restart_hours if line.initial_material is None else 0.0
        n_mats = len({pairs[k][1] for k in used} - {line.initial_material})
        lost += line.changeover_hours * max(0, n_mats - (1 if line.initial_material is None else 0))
        A.append(row)
        b.append(max(0.0, case.horizon_hours - lost))
    if site.no_m1_m2_together and "M1" in mats and "M2" in mats:
        for k1, (j1, m1) in enumerate(pairs):
            for k2, (j2, m2) in enumerate(pairs):
                if m1 == "M1" and m2 == "M2":
                    row = np.zeros(nv)
                    row[k1] = row[k2] = 1.0
                    A.append(row)
                    b.append(case.horizon_hours)
    for i, m in enumerate(mats):
        row = np.zeros(nv)
        for k, (j, mm) in enumerate(pairs):
            if mm == m:
                row[k] = -site.lines[j].rate_t_per_h[m]
        row[len(pairs) + i] = -1.0
        A.append(row)
        b.append(-need[m])
    res = linprog(c, A_ub=np.array(A), b_ub=np.array(b), bounds=[(0, None)] * nv, method="highs")
    if res.status != 0:
        return {}
    return {m: float(res.x[len(pairs) + i]) for i, m in enumerate(mats)}


def check_plan(case) -> list[PlanProblem]:
    """Problems that make the plan impossible whatever prices and dispatch (necessary conditions)."""
    problems: list[PlanProblem] = []
    days = case.horizon_hours / 24.0
    dt = case.period_hours
    for site in case.sites:
        need = {m: q * days for m, q in site.plan_t_per_day.items() if q > 0}
        # deliveries must be covered too: production needed >= deliveries - (initial - min)
        for m, stock in site.storage.items():
            delivered = sum(d.quantity_t for d in site.deliveries if d.material == m)
            final = stock.min_t if stock.final_min_t is None else stock.final_min_t
            need[m] = max(need.get(m, 0.0), delivered + final - stock.initial_t)
        for m, qty in need.items():
            if qty <= 1e-9:
                continue
            cap = sum(line.rate_t_per_h[m] * _line_hours(line, m, case) for line in site.lines if m in line.rate_t_per_h)
            if cap + 1e-9 < qty:
                problems.append(PlanProblem(site.name, m, qty - cap,
                                            f"needs {qty:.3g} t but its lines can make at most {cap:.3g} t "
                                            f"(line capacity after restart/changeover latencies)"))
        if not any(p.site == site.name for p in problems):
            short = _site_time_lp(site, case, need)
            for m, s in short.items():
                if s > 1e-6:
                    problems.append(PlanProblem(site.name, m, s, "the lines' shared time (one material per line, "
                                                "changeovers, no M1 with M2) is not enough for the whole plan"))
        for m, stock in site.storage.items():
            produced_min = need.get(m, 0.0) if m in site.plan_t_per_day else 0.0
            delivered = sum(d.quantity_t for d in site.deliveries if d.material == m)
            if not math.isinf(stock.max_t) and stock.initial_t + produced_min - delivered > stock.max_t + 1e-9:
                problems.append(PlanProblem(site.name, m, stock.initial_t + produced_min - delivered - stock.max_t,
                                            f"storage overflow: initial {stock.initial_t:g} t + plan {produced_min:g} t - "
                                            f"deliveries {delivered:g} t exceeds max_t {stock.max_t:g} t"))
            # stock before each delivery: initial + what the lines can make before it
            for d in sorted((d for d in site.deliveries if d.material == m), key=lambda d: d.hour):
                p = delivery_period(d.hour, dt)
                hours = (p + 1) * dt
                cum = sum(x.quantity_t for x in site.deliveries if x.material == m and x.hour <= d.hour)
                cap = sum(line.rate_t_per_h[m] * max(0.0, hours - (case.horizon_hours - _line_hours(line, m, case)))
                          for line in site.lines if m in line.rate_t_per_h)
                if stock.initial_t + cap - cum < stock.min_t - 1e-9:
                    problems.append(PlanProblem(site.name, m, stock.min_t + cum - stock.initial_t - cap,
                                                f"delivery of {d.quantity_t:g} t at hour {d.hour:g}: stock plus "
                                                f"what the lines can make by then is short"))
    return problems


def require_feasible_plan(case) -> None:
    problems = check_plan(case)
    if problems:
        raise InfeasiblePlanError(problems)


@dataclass
class Diagnosis:
    """Which constraint families, relaxed alone, restore feasibility, and the violations needed."""

    feasible: bool
    families: dict  # family -> list of (where, amount) needed, for families that restore feasibility

    def __str__(self) -> str:
        if self.feasible:
            return "the model is feasible"
        if not self.families:
            return "infeasible, and no single constraint family relaxed alone restores feasibility"
        lines = ["infeasible; relaxing one family at a time, these must be violated:"]
        for fam, items in self.families.items():
            where = ", ".join(f"{w} by {a:.4g}" for w, a in items[:5])
            lines.append(f"  - {ELASTIC_FAMILIES[fam]} ({fam}): {where}")
        return "\n".join(lines)


def _slack_report(model) -> list:
    items = []
    for v in model.component_objects(pyo.Var, descend_into=True):
        if not v.local_name.startswith("slack_"):
            continue
        for idx, var in v.items():
            if var.value is not None and var.value > 1e-6:
                owner = v.parent_block()
                where = owner.name + ("" if idx is None else f"[{idx}]")
                items.append((where, float(var.value)))
    return items


def diagnose_infeasible(case, data: dict, *, schedule_first_stage: bool = False, time_limit: float = 60.0,
                        families=None) -> Diagnosis:
    """Solve the scenario ``data`` (see planner.dayahead.data.scenario_data); if infeasible, relax families."""
    model = build_day_ahead_model(case, data, schedule_first_stage=schedule_first_stage)
    if math.isfinite(solve_with_bounds(model, mip_gap=1e-3, time_limit=time_limit).upper_bound):
        return Diagnosis(True, {})
    found = {}
    for fam in (families or ELASTIC_FAMILIES):
        m = build_day_ahead_model(case, data, elastic=frozenset([fam]))
        if math.isfinite(solve_with_bounds(m, mip_gap=1e-3, time_limit=time_limit).upper_bound):
            found[fam] = sorted(_slack_report(m), key=lambda x: -x[1])
    return Diagnosis(False, found)
