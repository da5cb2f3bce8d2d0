"""Solving the sizing problem: extensive form with HiGHS, or progressive hedging (mpi-sppy) with a
Lagrangian lower bound and an evaluated first-stage solution (xhat) as upper bound: a certified gap.
The extensive form starts with a relax-and-fix certificate (LP bound; LP sizes rounded, fixed and
evaluated scenario by scenario) and only solves the full MIP when that gap is too wide.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pyomo.environ as pyo

from planner.results import relative_gap
from planner.sizing.model import (OBJECTIVE_SCALE, build_extensive_form, build_scenario_model, first_stage_vars,
                                  replacement_schedules)


def highs_solver(time_limit: float | None = None, mip_rel_gap: float = 1e-3, stream: bool = False):
    """An appsi HiGHS solver that keeps the best bound of a MIP."""
    from pyomo.contrib.appsi.solvers import Highs

    solver = Highs()
    solver.config.load_solution = False
    solver.config.stream_solver = stream
    if time_limit is not None:
        solver.config.time_limit = float(time_limit)
    solver.highs_options = {"mip_rel_gap": float(mip_rel_gap), "threads": 1}
    return solver


def solve_model(model, time_limit=None, mip_rel_gap=1e-3, stream=False, warmstart=False, lp_method=None) -> dict:
    """Solve a sizing model; returns bounds in EUR (lower = solver's dual bound) and the status.
    ``lp_method`` = "ipm" solves an LP with HiGHS's interior point method (much faster than simplex
    on the large multi-year relaxations), with crossover so the answer is a vertex."""
    from pyomo.contrib.appsi.base import TerminationCondition

    solver = highs_solver(time_limit, mip_rel_gap, stream)
    if lp_method is not None:
        solver.highs_options["solver"] = lp_method
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
            "status": str(res.termination_condition), "optimal": res.termination_condition == TerminationCondition.optimal}


def solve_ef(case, day_tables, probabilities, options, names=None, time_limit=None, mip_rel_gap=1e-3, stream=False,
             relax_and_fix=True, progress=None):
    """Build and solve the extensive form; returns (model, info).

    With integer decisions and ``relax_and_fix`` (default), a cheap certificate comes first: the LP
    relaxation gives a lower bound, its sizes rounded (``round_sizes``) and fixed give an upper bound
    (each scenario's remaining MIP, e.g. battery replacements, solved on its own); when their gap is
    within ``mip_rel_gap`` that answer is returned, otherwise the full MIP is solved from the rounded
    sizes as a warm start and the LP bound is kept if it is the better one.
    """
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    m = build_extensive_form(case, day_tables, probabilities, options, names)
    build_s = time.perf_counter() - t0
    has_integers = any(v.is_integer() or v.is_binary() for v in m.component_data_objects(pyo.Var))
    lp_info = None
    if has_integers and relax_and_fix:
        try:
            lp_info = _relax_and_fix(case, day_tables, probabilities, options, names, m, mip_rel_gap, say, time_limit)
        except RuntimeError as exc:  # a rounded size left a scenario without a plan in its time: full MIP
            say(f"relax-and-fix gave no certificate ({exc}); solving the MIP")
            lp_info = None
    if lp_info is not None:
        gap = relative_gap(lp_info["lower_eur"], lp_info["upper_eur"])
        say(f"relax-and-fix: LP bound {lp_info['lower_eur'] / 1e6:.4f} MEUR, rounded sizes "
            f"{lp_info['upper_eur'] / 1e6:.4f} MEUR, gap {100 * gap:.3f} % ({time.perf_counter() - t0:.0f} s)")
        if gap <= mip_rel_gap:
            lp_info.pop("_models", None)
            lp_info.update(build_seconds=build_s, method="ef", relax_and_fix=True, optimal=False,
                           seconds=time.perf_counter() - t0 - build_s)
            return m, lp_info
        # warm start the MIP from the rounded sizes' solution (already loaded in m)
    remaining = None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - t0))
    try:
        info = solve_model(m, remaining, mip_rel_gap, stream, warmstart=lp_info is not None)
    except RuntimeError:
        if lp_info is None:
            raise
        _load_fixed_solution(m, lp_info)
        info = dict(lp_info, status="time limit: relax-and-fix answer kept", optimal=False)
        lp_info = dict(info)
    if lp_info is not None:
        if lp_info["upper_eur"] < info["upper_eur"]:
            _load_fixed_solution(m, lp_info)
            info["upper_eur"] = lp_info["upper_eur"]
        info["lower_eur"] = max(info["lower_eur"], lp_info["lower_eur"])
        info["relax_and_fix"] = True
        info.pop("_models", None)
    info["build_seconds"] = build_s
    info["method"] = "ef"
    return m, info


def round_sizes(m):
    """Integer sizes from a relaxed solution: PV modules rounded; per site the wind turbine type
    with the largest relaxed count, its count rounded (no turbines when it rounds to 0)."""
    from pyomo.common.collections import ComponentMap

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


def _relax_and_fix(case, day_tables, probabilities, options, names, m, mip_rel_gap, say, time_limit=None) -> dict:
    ints = [v for v in m.component_data_objects(pyo.Var) if (v.is_integer() or v.is_binary()) and not v.fixed]
    domains = [(v, v.domain) for v in ints]
    for v in ints:  # the relaxation keeps the domains' implicit bounds
        v.domain = pyo.UnitInterval if v.is_binary() else (
            pyo.NonNegativeReals if (v.domain.bounds()[0] or 0) >= 0 else pyo.Reals)
    try:
        lp = solve_model(m, None, mip_rel_gap, lp_method="ipm")
    finally:
        for v, d in domains:
            v.domain = d
    say(f"LP relaxation: {lp['lower_eur'] / 1e6:.4f} MEUR ({lp['seconds']:.0f} s)")
    fixed = round_sizes(m)
    values = [fixed.get(v, float(v.value)) for v in first_stage_vars(m)]
    values = [min(max(x, v.lb if v.lb is not None else x), v.ub if v.ub is not None else x)
              for x, v in zip(values, first_stage_vars(m))]
    # each scenario's remaining MIP (battery replacements) to a quarter of the target gap, within half
    # of the time limit shared among the scenarios (its incumbent is what counts: an upper bound)
    per = None if time_limit is None else max(5.0, 0.5 * time_limit / max(1, len(day_tables)))
    upper, models = evaluate_first_stage(case, day_tables, probabilities, options, values, names,
                                         mip_rel_gap=max(1e-4, mip_rel_gap / 4), time_limit=per)
    # load the fixed solution into the EF so that it can warm-start the MIP and be reported
    info = {"lower_eur": lp["lower_eur"], "upper_eur": upper, "seconds": lp["seconds"], "status": "relax_and_fix",
            "first_stage": values, "optimal": False, "lp_seconds": lp["seconds"], "_models": models}
    _load_fixed_solution(m, info)
    return info


def _copy_block_values(src, dst) -> None:
    for var in src.component_objects(pyo.Var, descend_into=True):
        target = dst.find_component(var.getname(fully_qualified=True, relative_to=src))
        if target is None:
            continue
        for idx, vd in var.items():
            if vd.value is not None:
                target[idx].set_value(vd.value, skip_validation=True)


def _load_fixed_solution(m, info) -> None:
    """Put the relax-and-fix answer (sizes and each scenario's operation) into the EF's variables."""
    for v, x in zip(first_stage_vars(m), info["first_stage"]):
        v.set_value(x, skip_validation=True)
    for sm in info.get("_models", []):
        for name in sm.SCEN:
            _copy_block_values(sm.scen[name], m.scen[name])


def first_stage_values(m) -> list[float]:
    return [float(v.value) for v in first_stage_vars(m)]


def _round_first_stage(m, values) -> list[float]:
    """PH's xhat: the averaged first stage made integer by the same rounding as relax-and-fix
    (``round_sizes``: a site's turbine type and count stay consistent), continuous sizes clipped to
    their bounds."""
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


def evaluate_first_stage(case, day_tables, probabilities, options, values, names=None, mip_rel_gap=1e-4,
                         time_limit=None):
    """Expected cost (EUR) of fixed sizes: each scenario solved with the first stage fixed (an upper
    bound of the optimum); returns (expected cost, per-scenario models)."""
    names = list(names) if names is not None else [f"scen{k}" for k in range(len(day_tables))]
    total, models = 0.0, []
    for name, days, p in zip(names, day_tables, probabilities):
        cost, sm = _evaluate_scenario(case, days, options, name, values, mip_rel_gap, time_limit)
        total += float(p) * cost
        models.append(sm)
    return total, models


def _evaluate_scenario(case, days, options, name, values, mip_rel_gap, time_limit):
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


def search_replacements(sm, block, time_limit=None):
    """Battery replacement schedules for fixed sizes, each evaluated with every integer fixed (one
    persistent HiGHS instance; its MIP presolve removes the fixed integers): a ternary search over the schedules with
    the fewest replacements, the same rank for every site (the cost is close to unimodal in the
    replacement year), then the evenly spread schedule with one more replacement. Returns the best cost (EUR, an upper
    bound: a feasible schedule) with its solution loaded, or None when no schedule was feasible."""
    from pyomo.contrib.appsi.base import TerminationCondition

    t0 = time.perf_counter()
    sites = list(block.BAT)
    lives = {i: [(a, z) for (j, a, z) in block.LIFE if j == i] for i in sites}
    Y = len(block.Y)
    schedules = {i: replacement_schedules(lives[i], Y) for i in sites}
    if any(not schedules[i] for i in sites):
        return None
    solver = highs_solver()
    seen, last = {}, [None, None]

    def cost(choice):  # choice: schedule index per site
        key = tuple(choice[i] for i in sites)
        if key in seen:
            return seen[key]
        if time_limit is not None and seen and time.perf_counter() - t0 > time_limit:
            return math.inf
        for i in sites:
            years = set(schedules[i][choice[i]])
            for y in block.Y1:
                block.replace[i, y].fix(1.0 if y in years else 0.0)
        if time_limit is not None:
            solver.config.time_limit = max(1.0, time_limit - (time.perf_counter() - t0))
        res = solver.solve(sm)
        ok = res.termination_condition == TerminationCondition.optimal
        seen[key] = res.best_feasible_objective / OBJECTIVE_SCALE if ok else math.inf
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
        for i in sites:
            years = set(schedules[i][best[i]])
            for y in block.Y1:
                block.replace[i, y].fix(1.0 if y in years else 0.0)
        solver.config.time_limit = None
        last[1] = solver.solve(sm)
    last[1].solution_loader.load_vars()
    return value


def _lagrangian_objective(sm, xs, coefficients) -> None:
    """Replace the scenario model's objective by ``f_s + sum_j w_j x_j`` (EUR, scaled like the
    objective); ``coefficients`` are numbers or mutable parameters."""
    sm.objective.deactivate()
    sm.lagrangian = pyo.Objective(expr=OBJECTIVE_SCALE * (sm.npv_eur + sum(w * x for w, x in zip(coefficients, xs))))


def lagrangian_bound(case, day_tables, probabilities, options, weights, names=None, mip_rel_gap=1e-4):
    """Lower bound sum_s p_s min_x,y [f_s(x, y) + W_s x] with sum_s p_s W_s = 0 (W re-centred), each
    scenario's MIP bound used (valid whatever the MIP gap)."""
    names = list(names) if names is not None else [f"scen{k}" for k in range(len(day_tables))]
    p = np.asarray(probabilities, dtype=float)
    W = np.asarray(weights, dtype=float)
    W = W - (p[:, None] * W).sum(axis=0)
    total = 0.0
    for k, (name, days) in enumerate(zip(names, day_tables)):
        sm = build_scenario_model(case, days, options, name)
        xs = first_stage_vars(sm)
        _lagrangian_objective(sm, xs, [float(w) for w in W[k]])
        info = solve_model(sm, mip_rel_gap=mip_rel_gap)
        total += p[k] * info["lower_eur"]
    return total


def solve_ph(case, day_tables, probabilities, options, names=None, max_iterations=30, rho=None,
             convergence_tol=1e-3, time_limit=None, progress=None):
    """Progressive hedging with mpi-sppy (serial, in this process; integer first stage: linearised
    proximal terms, appsi_highs), then a Lagrangian bound with the final W and the xhat = rounded xbar
    evaluated on every scenario. Returns (ef-like model of the xhat, info)."""
    import mpisppy.opt.ph
    import mpisppy.utils.sputils as sputils

    names = list(names) if names is not None else [f"scen{k}" for k in range(len(day_tables))]
    probs = dict(zip(names, map(float, probabilities)))
    tables = dict(zip(names, day_tables))

    def creator(name, **kwargs):
        sm = build_scenario_model(case, tables[name], options, name)
        sputils.attach_root_node(sm, OBJECTIVE_SCALE * sm.first_stage_cost, first_stage_vars(sm))
        sm._mpisppy_probability = probs[name]
        return sm

    t0 = time.perf_counter()
    ph_options = {
        "solver_name": "appsi_highs",
        "PHIterLimit": int(max_iterations),
        "defaultPHrho": 1.0 if rho is None else float(rho),
        "convthresh": float(convergence_tol),
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "iter0_solver_options": {"mip_rel_gap": 1e-3},
        "iterk_solver_options": {"mip_rel_gap": 1e-3},
        "linearize_proximal_terms": True,
        "proximal_linearization_tolerance": 1e-1,
        "linearize_binary_proximal_terms": True,
    }
    ph = mpisppy.opt.ph.PH(ph_options, names, creator, lambda *a, **k: None)
    conv, eobj, trivial_bound = ph.ph_main()
    ph_seconds = time.perf_counter() - t0
    # W and xbar of the root node, in first_stage_vars order
    first = names[0]
    sm0 = ph.local_scenarios[first]
    n_x = len(first_stage_vars(sm0))
    W = np.zeros((len(names), n_x))
    for k, name in enumerate(names):
        s = ph.local_scenarios[name]
        W[k] = [pyo.value(s._mpisppy_model.W[("ROOT", j)]) for j in range(n_x)]
    xbar = np.array([pyo.value(sm0._mpisppy_model.xbars[("ROOT", j)]) for j in range(n_x)])
    # W multiplies the scaled objective: convert to EUR units
    W = W / OBJECTIVE_SCALE
    t1 = time.perf_counter()
    lower = lagrangian_bound(case, day_tables, probabilities, options, W, names)
    lower = max(lower, trivial_bound / OBJECTIVE_SCALE)
    xhat = _round_first_stage(sm0, xbar)
    upper, models = evaluate_first_stage(case, day_tables, probabilities, options, xhat, names)
    info = {"method": "ph", "lower_eur": lower, "upper_eur": upper, "seconds": time.perf_counter() - t0,
            "ph_seconds": ph_seconds, "bound_seconds": time.perf_counter() - t1, "ph_iterations": int(ph._PHIter),
            "ph_convergence": float(conv) if conv is not None else None, "xhat": xhat,
            "trivial_bound_eur": trivial_bound / OBJECTIVE_SCALE, "status": "ph"}
    # one EF-shaped model holding the xhat's scenario solutions, for reporting
    ef = build_extensive_form(case, day_tables, probabilities, options, names)
    for var, v in zip(first_stage_vars(ef), xhat):
        var.fix(v)
    for name, sm in zip(names, models):
        for src, dst in zip(sm.scen[name].component_data_objects(pyo.Var), ef.scen[name].component_data_objects(pyo.Var)):
            dst.set_value(src.value, skip_validation=True)
    return ef, info


# ------------------------------------------------------------------------------------------------
# Scenario decomposition: Lagrangian bound of nonanticipativity and evaluated candidate sizes, with
# each scenario's model kept (and warm-started) in one of a few worker processes
# ------------------------------------------------------------------------------------------------
class _ScenarioWorker:
    """Scenario models held for the whole solve: each one's LP relaxation with a Lagrangian term
    ``W . x`` on the sizes (mutable parameters, so HiGHS re-solves from its last basis), and the
    evaluation of fixed candidate sizes (replacement search)."""

    def __init__(self, case, options, jobs):
        relaxed = dataclasses.replace(options, integer=False)
        self.case, self.options, self.jobs = case, options, list(jobs)
        self.items = []
        for name, days in jobs:
            sm = build_scenario_model(case, days, relaxed, name)
            xs = first_stage_vars(sm)
            sm.lag_w = pyo.Param(range(len(xs)), mutable=True, initialize=0.0)
            _lagrangian_objective(sm, xs, [sm.lag_w[j] for j in range(len(xs))])
            solver = highs_solver(mip_rel_gap=1e-6)
            solver.highs_options["solver"] = "ipm"  # the first solve; warm simplex afterwards
            self.items.append([name, sm, xs, solver])

    def relax(self, weights):
        """min f_s(x, y) + W_s . x over the relaxation, per scenario: {name: (value EUR, x, seconds)}."""
        from pyomo.contrib.appsi.base import TerminationCondition

        out = {}
        for item in self.items:
            name, sm, xs, solver = item
            t0 = time.perf_counter()
            for j, w in enumerate(weights[name]):
                sm.lag_w[j] = float(w)
            res = solver.solve(sm)
            if res.termination_condition != TerminationCondition.optimal:  # once more, cold
                solver = item[3] = highs_solver(mip_rel_gap=1e-6)
                solver.highs_options["solver"] = "ipm"
                res = solver.solve(sm)
            if res.termination_condition != TerminationCondition.optimal:
                raise RuntimeError(f"sizing scenario {name}: relaxation not solved ({res.termination_condition})")
            res.solution_loader.load_vars()
            solver.highs_options["solver"] = "simplex"
            out[name] = (res.best_feasible_objective / OBJECTIVE_SCALE, [float(x.value) for x in xs],
                         time.perf_counter() - t0)
        return out

    def evaluate(self, values, time_limit, mip_rel_gap):
        """Fixed sizes: {name: (cost EUR = an upper bound, variable values by name, seconds)}. Each
        evaluation builds its scenario's integer model afresh: with the integers fixed, HiGHS's MIP
        presolve removes them and the LPs of the replacement search solve several times faster than
        on the relaxation's model."""
        out = {}
        for name, days in self.jobs:
            t0 = time.perf_counter()
            cost, sm = _evaluate_scenario(self.case, days, self.options, name, values, mip_rel_gap, time_limit)
            block = sm.scen[name]
            state = {v.getname(fully_qualified=True, relative_to=block): v.value
                     for v in block.component_data_objects(pyo.Var) if v.value is not None}
            out[name] = (cost, state, time.perf_counter() - t0)
        return out


def solve_decomposed(case, day_tables, probabilities, options, names=None, processes=2, mip_rel_gap=1e-2,
                     progress=None, time_limit=None, max_iterations=8):
    """Scenario decomposition with a certified gap, for horizons whose extensive form is too large.

    Lower bound: the Lagrangian dual of nonanticipativity on the relaxation,
    ``L(W) = sum_s p_s min_(x, y) [f_s(x, y) + W_s . x]`` with ``sum_s p_s W_s = 0``: valid for the
    MILP whatever W (each scenario's relaxation is below its MILP optimum). W = 0 gives the
    wait-and-see bound; then up to ``max_iterations`` subgradient steps (Polyak step towards the
    upper bound, scaled by each size's range, halved after two steps without improvement) raise it,
    each scenario re-solved from its last basis. Upper bound: candidate integer sizes (the
    probability-weighted mean of the scenarios' wait-and-see sizes, rounded like relax-and-fix)
    evaluated on every scenario with the sizes fixed (replacement search). Stops at ``mip_rel_gap``,
    after ``max_iterations`` or at ``time_limit``. The scenarios stay in ``processes`` worker
    processes. Returns (EF-shaped model holding the candidate's operation, info)."""
    say = progress or (lambda msg: None)
    names = list(names) if names is not None else [f"scen{k}" for k in range(len(day_tables))]
    p = np.array([float(x) for x in probabilities])
    t0 = time.perf_counter()
    from functools import partial

    from planner.solvers.workers import WorkerPool

    workers = WorkerPool(partial(_ScenarioWorker, case, options), list(zip(names, day_tables)), processes,
                         "sizing scenario worker")
    try:
        # the sizes' variables (bounds, integrality, rounding) from one scenario's model
        first = build_scenario_model(case, day_tables[0], options, names[0])
        xvars = first_stage_vars(first)
        n_x = len(xvars)
        W = np.zeros((len(names), n_x))

        def lagrangian(W):
            out = workers.call("relax", {n: W[k] for k, n in enumerate(names)})
            values = np.array([out[n][0] for n in names])
            X = np.array([out[n][1] for n in names])
            return float(p @ values), values, X, [out[n][2] for n in names]

        lower, values, X, relax_seconds = lagrangian(W)
        say(f"wait-and-see bound {lower / 1e6:.4f} MEUR from {len(names)} scenario relaxations "
            f"({time.perf_counter() - t0:.0f} s, {workers.n} processes)")
        bounds = values
        mean = p @ X
        candidate = _round_first_stage(first, list(mean))
        per = None if time_limit is None else max(10.0, 0.5 * time_limit * workers.n / max(1, len(names)))
        evals = workers.call("evaluate", candidate, per, max(1e-4, mip_rel_gap / 4))
        upper = float(sum(pk * evals[n][0] for pk, n in zip(p, names)))
        gap = relative_gap(lower, upper)
        say(f"candidate sizes evaluated: {upper / 1e6:.4f} MEUR, gap {100 * gap:.3f} % ({time.perf_counter() - t0:.0f} s)")
        # scale of each size (its bound, else its largest value) for the subgradient step
        scale = np.array([max(1.0, abs(v.ub) if v.ub is not None else 0.0, float(np.max(np.abs(X[:, j]))))
                          for j, v in enumerate(xvars)])
        D = 1.0 / scale ** 2
        theta, stall, iterations, history = 1.0, 0, 0, [(0, lower, time.perf_counter() - t0)]
        current, cX = lower, X
        while iterations < max_iterations and gap > mip_rel_gap:
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
            g = cX - p @ cX  # x_s - xbar: sum_s p_s g_s = 0 keeps sum_s p_s W_s = 0
            norm = float(np.sum(p[:, None] * g * g * D))
            if norm <= 1e-12:  # the relaxations agree on the sizes: the dual is at its optimum
                break
            step = theta * (upper - current) / norm
            W = W + step * g * D
            iterations += 1
            try:
                current, vals, cX, _ = lagrangian(W)
            except RuntimeError as exc:  # keep the best bound so far
                say(f"Lagrangian iteration {iterations} stopped: {str(exc).splitlines()[-1]}")
                break
            if current > lower:
                lower, bounds = current, vals
                stall = 0
            else:
                stall += 1
                if stall >= 2:
                    theta, stall = theta / 2, 0
            gap = relative_gap(lower, upper)
            history.append((iterations, current, time.perf_counter() - t0))
            say(f"Lagrangian iteration {iterations}: {current / 1e6:.4f} MEUR, best bound {lower / 1e6:.4f}, "
                f"gap {100 * gap:.3f} % ({time.perf_counter() - t0:.0f} s)")
    finally:
        workers.close()
    ef = build_extensive_form(case, day_tables, probabilities, options, names)
    for var, v in zip(first_stage_vars(ef), candidate):
        var.fix(v)
    for name in names:
        block = ef.scen[name]
        for key, value in evals[name][1].items():
            block.find_component(key).set_value(value, skip_validation=True)
    info = {"method": "decomposed", "lower_eur": lower, "upper_eur": upper,
            "seconds": time.perf_counter() - t0, "status": "scenario decomposition", "optimal": False,
            "first_stage": candidate, "scenario_bounds_eur": [float(b) for b in bounds],
            "relaxation_seconds": relax_seconds, "evaluation_seconds": [evals[n][2] for n in names],
            "processes": workers.n, "lagrangian_iterations": iterations,
            "bound_history": history}
    return ef, info
