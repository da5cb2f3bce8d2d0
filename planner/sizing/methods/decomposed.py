"""Sizing by scenario decomposition: a Lagrangian bound of nonanticipativity on the relaxation raised by
subgradient steps, and candidate integer sizes evaluated on every scenario, each scenario's model kept
(and warm-started) in one of a few worker processes (``planner.solvers.workers.WorkerPool``)."""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import numpy as np
import pyomo.environ as pyo

from planner.progress import Progress
from planner.results import relative_gap
from planner.sizing.model import OBJECTIVE_SCALE, build_scenario_model, first_stage_vars
from planner.sizing.solve import block_state, evaluate_scenario, model_with_answer, round_first_stage
from planner.solvers.highs import appsi_highs, is_optimal
from planner.solvers.workers import WorkerPool
from planner.stochastic.names import scenario_names_creator


def run(case, day_tables, probabilities, options, names, *, time_limit=None, mip_rel_gap=1e-3, method_options=None,
        progress=None):
    """The ``decomposed`` entry of ``planner.sizing.methods.METHODS`` (``method_options['processes']``,
    default 2)."""
    return solve_decomposed(case, day_tables, probabilities, options, names,
                            processes=(method_options or {}).get("processes", 2), mip_rel_gap=mip_rel_gap,
                            progress=progress, time_limit=time_limit)


def lagrangian_objective(sm, xs, coefficients) -> None:
    """Replace the scenario model's objective by ``f_s + sum_j w_j x_j`` (EUR, scaled like the
    objective); ``coefficients`` are numbers or mutable parameters."""
    sm.objective.deactivate()
    sm.lagrangian = pyo.Objective(expr=OBJECTIVE_SCALE * (sm.npv_eur + sum(w * x for w, x in zip(coefficients, xs))))


def _relaxation_solver():
    """Interior point for the first solve; warm simplex afterwards (``ScenarioWorker.relax``)."""
    return appsi_highs(mip_gap=1e-6, options={"solver": "ipm"})


class ScenarioWorker:
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
            lagrangian_objective(sm, xs, [sm.lag_w[j] for j in range(len(xs))])
            self.items.append([name, sm, xs, _relaxation_solver()])

    def relax(self, weights):
        """min f_s(x, y) + W_s . x over the relaxation, per scenario: {name: (value EUR, x, seconds)}."""
        out = {}
        for item in self.items:
            name, sm, xs, solver = item
            t0 = time.perf_counter()
            for j, w in enumerate(weights[name]):
                sm.lag_w[j] = float(w)
            res = solver.solve(sm)
            if not is_optimal(res):  # once more, cold
                solver = item[3] = _relaxation_solver()
                res = solver.solve(sm)
            if not is_optimal(res):
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
            cost, sm = evaluate_scenario(self.case, days, self.options, name, values, mip_rel_gap, time_limit)
            out[name] = (cost, block_state(sm.scen[name]), time.perf_counter() - t0)
        return out


@dataclasses.dataclass
class LagrangianDual:
    """``L(W) = sum_s p_s min_(x, y) [f_s(x, y) + W_s . x]`` evaluated by the workers."""

    workers: WorkerPool
    names: list
    probabilities: np.ndarray

    def __call__(self, W):
        """(L(W), each scenario's value, each scenario's sizes (rows), each scenario's seconds)."""
        out = self.workers.call("relax", {n: W[k] for k, n in enumerate(self.names)})
        values = np.array([out[n][0] for n in self.names])
        X = np.array([out[n][1] for n in self.names])
        return float(self.probabilities @ values), values, X, [out[n][2] for n in self.names]


def subgradient_ascent(dual: LagrangianDual, xvars, X, lower, values, upper, *, mip_rel_gap, max_iterations,
                       time_limit, t0, log: Progress):
    """Raise the Lagrangian bound from W = 0 (``lower``, ``values``, ``X``: its answer) by Polyak steps
    towards ``upper``, scaled by each size's range, halved after two steps without improvement.
    Returns (best bound, its scenario values, iterations, history of (iteration, bound, seconds))."""
    p = dual.probabilities
    # scale of each size (its bound, else its largest value) for the subgradient step
    scale = np.array([max(1.0, abs(v.ub) if v.ub is not None else 0.0, float(np.max(np.abs(X[:, j]))))
                      for j, v in enumerate(xvars)])
    D = 1.0 / scale ** 2
    W = np.zeros_like(X)
    gap = relative_gap(lower, upper)
    theta, stall, iterations, history = 1.0, 0, 0, [(0, lower, time.perf_counter() - t0)]
    bounds, current, cX = values, lower, X
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
            current, vals, cX, _ = dual(W)
        except RuntimeError as exc:  # keep the best bound so far
            log.message(f"Lagrangian iteration {iterations} stopped: {str(exc).splitlines()[-1]}")
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
        log.message(f"Lagrangian iteration {iterations}: {current / 1e6:.4f} MEUR, best bound {lower / 1e6:.4f}, "
                    f"gap {100 * gap:.3f} % ({time.perf_counter() - t0:.0f} s)")
    return lower, bounds, iterations, history


def solve_decomposed(case, day_tables, probabilities, options, names=None, processes=2, mip_rel_gap=1e-2,
                     progress: Progress | None = None, time_limit=None, max_iterations=8):
    """Scenario decomposition with a certified gap, for horizons whose extensive form is too large.

    Lower bound: the Lagrangian dual of nonanticipativity on the relaxation,
    ``L(W) = sum_s p_s min_(x, y) [f_s(x, y) + W_s . x]`` with ``sum_s p_s W_s = 0``: valid for the
    MILP whatever W (each scenario's relaxation is below its MILP optimum). W = 0 gives the
    wait-and-see bound; then up to ``max_iterations`` subgradient steps (``subgradient_ascent``),
    each scenario re-solved from its last basis. Upper bound: candidate integer sizes (the
    probability-weighted mean of the scenarios' wait-and-see sizes, rounded like relax-and-fix)
    evaluated on every scenario with the sizes fixed (replacement search). Stops at ``mip_rel_gap``,
    after ``max_iterations`` or at ``time_limit``. The scenarios stay in ``processes`` worker
    processes. Returns (EF-shaped model holding the candidate's operation, info)."""
    log = progress or Progress("sizing", enabled=False)
    names = list(names) if names is not None else scenario_names_creator(len(day_tables))
    p = np.array([float(x) for x in probabilities])
    t0 = time.perf_counter()
    workers = WorkerPool(partial(ScenarioWorker, case, options), list(zip(names, day_tables)), processes,
                         "sizing scenario worker")
    try:
        # the sizes' variables (bounds, integrality, rounding) from one scenario's model
        first = build_scenario_model(case, day_tables[0], options, names[0])
        xvars = first_stage_vars(first)
        dual = LagrangianDual(workers, names, p)
        lower, values, X, relax_seconds = dual(np.zeros((len(names), len(xvars))))
        log.message(f"wait-and-see bound {lower / 1e6:.4f} MEUR from {len(names)} scenario relaxations "
                    f"({time.perf_counter() - t0:.0f} s, {workers.n} processes)")
        candidate = round_first_stage(first, list(p @ X))
        per = None if time_limit is None else max(10.0, 0.5 * time_limit * workers.n / max(1, len(names)))
        evals = workers.call("evaluate", candidate, per, max(1e-4, mip_rel_gap / 4))
        upper = float(sum(pk * evals[n][0] for pk, n in zip(p, names)))
        log.message(f"candidate sizes evaluated: {upper / 1e6:.4f} MEUR, gap {100 * relative_gap(lower, upper):.3f} % "
                    f"({time.perf_counter() - t0:.0f} s)")
        lower, bounds, iterations, history = subgradient_ascent(
            dual, xvars, X, lower, values, upper, mip_rel_gap=mip_rel_gap, max_iterations=max_iterations,
            time_limit=time_limit, t0=t0, log=log)
    finally:
        workers.close()
    ef = model_with_answer(case, day_tables, probabilities, options, names, candidate,
                           {name: evals[name][1] for name in names})
    info = {"method": "decomposed", "lower_eur": lower, "upper_eur": upper,
            "seconds": time.perf_counter() - t0, "status": "scenario decomposition", "optimal": False,
            "first_stage": candidate, "scenario_bounds_eur": [float(b) for b in bounds],
            "relaxation_seconds": relax_seconds, "evaluation_seconds": [evals[n][2] for n in names],
            "processes": workers.n, "lagrangian_iterations": iterations,
            "bound_history": history}
    return ef, info
