"""What every sizing method solves with: a sizing model through the one HiGHS factory (bounds in EUR),
integer sizes rounded from a relaxed or averaged first stage, fixed sizes evaluated scenario by scenario
(battery replacement search, the MIP as fallback), and the EF-shaped model that holds an answer for
reporting. The methods themselves are in ``planner.sizing.methods`` (one file each)."""

from __future__ import annotations

import math
import time

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from planner.ageing.lives import replacement_schedules
from planner.solvers.highs import appsi_highs, is_optimal
from planner.sizing.model import OBJECTIVE_SCALE, build_extensive_form, build_scenario_model, first_stage_vars
from planner.stochastic.names import scenario_names_creator


def solve_model(model, time_limit=None, mip_rel_gap=1e-3, stream=False, warmstart=False, lp_method=None) -> dict:
    """Solve a sizing model; returns bounds in EUR (lower = solver's dual bound) and the status.
    ``lp_method`` = "ipm" solves an LP with HiGHS's interior point method (much faster than simplex
    on the large multi-year relaxations), with crossover so the answer is a vertex."""
    solver = appsi_highs(mip_gap=mip_rel_gap, time_limit=time_limit, stream=stream,
                         options=None if lp_method is None else {"solver": lp_method})
    solver.config.warmstart = bool(warmstart)
    t0 = time.perf_counter()
    res = solver.solve(model)
    seconds = time.perf_counter() - t0
    ok = res.best_feasible_objective is not None and math.isfinite(res.best_feasible_objective)
    if not ok:
        raise RuntimeError(f"sizing model not solved: {res.termination_condition}")
    res.solution_loader.load_vars()
    upper = res.best_feasible_objective / OBJECTIVE_SCALE
    lower = res.best_objective_bound / OBJECTIVE_SCALE if res.best_objective_bound is not None else -math.inf
    lower = min(lower, upper)
    return {"lower_eur": lower, "upper_eur": upper, "seconds": seconds,
            "status": str(res.termination_condition), "optimal": is_optimal(res)}


# ------------------------------------------------------------------------------------------------
# Integer sizes from a relaxed or averaged first stage
# ------------------------------------------------------------------------------------------------
def round_sizes(m):
    """Integer sizes from a relaxed solution: PV modules rounded; per site the wind turbine type
    with the largest relaxed count, its count rounded (no turbines when it rounds to 0)."""
    fixed = ComponentMap()
    for i in m.SITES:
        fixed[m.n_pv_modules[i]] = float(round(m.n_pv_modules[i].value or 0.0))
    sites = {}
    for (i, t) in m.WT:
        sites.setdefault(i, []).append(t)
    for i, types in sites.items():
        best = max(types, key=lambda t: m.n_turbines[i, t].value or 0.0)
        n = float(round(m.n_turbines[i, best].value or 0.0))
        for t in types:
            chosen = t == best and n > 0
            fixed[m.n_turbines[i, t]] = n if chosen else 0.0
            fixed[m.turbine_choice[i, t]] = 1.0 if chosen else 0.0
    return fixed


def clip_to_bounds(values, variables) -> list[float]:
    """Each value within its variable's bounds."""
    return [min(max(x, v.lb if v.lb is not None else x), v.ub if v.ub is not None else x)
            for x, v in zip(values, variables)]


def round_first_stage(m, values) -> list[float]:
    """An averaged first stage (PH's xbar, the mean of the scenarios' sizes) made integer by the same
    rounding as relax-and-fix (``round_sizes``: a site's turbine type and count stay consistent),
    continuous sizes clipped to their bounds."""
    variables = first_stage_vars(m)
    for var, v in zip(variables, values):
        var.set_value(float(v), skip_validation=True)
    fixed = round_sizes(m)
    out = []
    for var, v in zip(variables, values):
        if var in fixed:
            out.append(float(fixed[var]))
        elif var.is_integer() or var.is_binary():
            out.append(float(round(v)))
        else:
            lo = var.lb if var.lb is not None else -math.inf
            hi = var.ub if var.ub is not None else math.inf
            out.append(float(min(max(v, lo), hi)))
    return out


# ------------------------------------------------------------------------------------------------
# Fixed sizes evaluated (an upper bound)
# ------------------------------------------------------------------------------------------------
def evaluate_first_stage(case, day_tables, probabilities, options, values, names=None, mip_rel_gap=1e-4,
                         time_limit=None):
    """Expected cost (EUR) of fixed sizes: each scenario solved with the first stage fixed (an upper
    bound of the optimum); returns (expected cost, per-scenario models)."""
    names = list(names) if names is not None else scenario_names_creator(len(day_tables))
    total, models = 0.0, []
    for name, days, p in zip(names, day_tables, probabilities):
        cost, sm = evaluate_scenario(case, days, options, name, values, mip_rel_gap, time_limit)
        total += float(p) * cost
        models.append(sm)
    return total, models


def evaluate_scenario(case, days, options, name, values, mip_rel_gap, time_limit):
    """One scenario with the sizes fixed: (cost EUR, an upper bound of its optimum; solved scenario
    model). With the sizes fixed only the battery replacements are integer: the replacement search
    (``search_replacements``) evaluates schedules as LPs; the MIP is the fallback."""
    sm = build_scenario_model(case, days, options, name)
    for var, v in zip(first_stage_vars(sm), values):
        var.fix(v)
    block = sm.scen[name]
    if options.integer and options.ageing and hasattr(block, "replace") and len(block.replace):
        found = search_replacements(sm, block, time_limit)
        if found is not None:
            return found, sm
        for v in block.replace.values():
            v.unfix()
    return solve_model(sm, time_limit, mip_rel_gap=mip_rel_gap)["upper_eur"], sm


def _fix_schedules(block, sites, schedules, choice) -> None:
    for i in sites:
        years = set(schedules[i][choice[i]])
        for y in block.Y1:
            block.replace[i, y].fix(1.0 if y in years else 0.0)


def search_replacements(sm, block, time_limit=None):
    """Battery replacement schedules for fixed sizes, each evaluated with every integer fixed (one
    persistent HiGHS instance; its MIP presolve removes the fixed integers): a ternary search over the schedules with
    the fewest replacements, the same rank for every site (the cost is close to unimodal in the
    replacement year), then the evenly spread schedule with one more replacement. Returns the best cost (EUR, an upper
    bound: a feasible schedule) with its solution loaded, or None when no schedule was feasible."""
    t0 = time.perf_counter()
    sites = list(block.BAT)
    lives = {i: [(a, z) for (j, a, z) in block.LIFE if j == i] for i in sites}
    Y = len(block.Y)
    schedules = {i: replacement_schedules(lives[i], Y) for i in sites}
    if any(not schedules[i] for i in sites):
        return None
    solver = appsi_highs(mip_gap=1e-3)
    seen, last = {}, [None, None]

    def cost(choice):  # choice: schedule index per site
        key = tuple(choice[i] for i in sites)
        if key in seen:
            return seen[key]
        if time_limit is not None and seen and time.perf_counter() - t0 > time_limit:
            return math.inf
        _fix_schedules(block, sites, schedules, choice)
        if time_limit is not None:
            solver.config.time_limit = max(1.0, time_limit - (time.perf_counter() - t0))
        res = solver.solve(sm)
        seen[key] = res.best_feasible_objective / OBJECTIVE_SCALE if is_optimal(res) else math.inf
        last[0], last[1] = key, res
        return seen[key]

    n_min = {i: len([s for s in schedules[i] if len(s) == len(schedules[i][0])]) for i in sites}
    n = max(n_min.values())

    def joint(j):  # the same rank in every site's list of fewest-replacement schedules
        return {i: int(round(j * (n_min[i] - 1) / max(1, n - 1))) for i in sites}

    lo, hi = 0, n - 1
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if cost(joint(m1)) <= cost(joint(m2)):
            hi = m2 - 1
        else:
            lo = m1 + 1
    best = min((joint(j) for j in range(lo, hi + 1)), key=cost)
    spread = {i: len(schedules[i]) - 1 for i in sites}
    if all(spread[i] >= n_min[i] for i in sites) and cost(spread) < cost(best):
        best = spread
    value = cost(best)
    if not math.isfinite(value):
        return None
    if last[0] != tuple(best[i] for i in sites):  # solve the best schedule again to load it
        _fix_schedules(block, sites, schedules, best)
        solver.config.time_limit = None
        last[1] = solver.solve(sm)
    last[1].solution_loader.load_vars()
    return value


# ------------------------------------------------------------------------------------------------
# Answers held in an EF-shaped model (what ``extract_result`` reads)
# ------------------------------------------------------------------------------------------------
def block_state(block) -> dict:
    """{variable name relative to the block: value} of a solved scenario block."""
    return {v.getname(fully_qualified=True, relative_to=block): v.value
            for v in block.component_data_objects(pyo.Var) if v.value is not None}


def set_block_state(block, state: dict) -> None:
    """Load values saved by ``block_state`` into a block of the same shape."""
    for key, value in state.items():
        block.find_component(key).set_value(value, skip_validation=True)


def model_with_answer(case, day_tables, probabilities, options, names, first_stage, states: dict):
    """The extensive form with ``first_stage`` fixed and each scenario block holding its operation
    (``states``: scenario name -> ``block_state``)."""
    ef = build_extensive_form(case, day_tables, probabilities, options, names)
    for var, v in zip(first_stage_vars(ef), first_stage):
        var.fix(v)
    for name, state in states.items():
        set_block_state(ef.scen[name], state)
    return ef
