"""Sizing by progressive hedging: ``planner.stochastic.ph.solve_ph_serial`` over the sizing module (the
Lagrangian bound with PH's final W), with sizing's own xhat: the averaged sizes rounded like
relax-and-fix, evaluated with the battery replacement search."""

from __future__ import annotations

import time

import planner.sizing.module as sizing_module
from planner.sizing.model import OBJECTIVE_SCALE
from planner.sizing.solve import block_state, evaluate_first_stage, model_with_answer, round_first_stage
from planner.stochastic.names import scenario_names_creator
from planner.stochastic.ph import solve_ph_serial


def run(case, day_tables, probabilities, options, names, *, time_limit=None, mip_rel_gap=1e-3, method_options=None,
        progress=None):
    """The ``ph`` entry of ``planner.sizing.methods.METHODS`` (``method_options``: ``solve_ph``'s)."""
    return solve_ph(case, day_tables, probabilities, options, names,
                    progress=progress is not None and progress.enabled, **(method_options or {}))


def solve_ph(case, day_tables, probabilities, options, names=None, max_iterations=30, rho=None,
             convergence_tol=1e-3, time_limit=None, progress=False):
    """Progressive hedging with mpi-sppy (serial, in this process; integer first stage: linearised
    proximal terms, appsi_highs), then a Lagrangian bound with the final W and the xhat = rounded xbar
    evaluated on every scenario. Returns (ef-like model of the xhat, info)."""
    names = list(names) if names is not None else scenario_names_creator(len(day_tables))
    data = sizing_module.SizingData(case, options, dict(zip(names, day_tables)),
                                    dict(zip(names, map(float, probabilities))))
    evaluated = {}

    def xhat(probe, xbar, xs):
        return [round_first_stage(probe, xbar)]

    def evaluate(first_stage):  # in the objective's units (kEUR), like PH's bounds
        cost, models = evaluate_first_stage(case, day_tables, probabilities, options, first_stage, names)
        evaluated[tuple(first_stage)] = models
        return OBJECTIVE_SCALE * cost

    t0 = time.perf_counter()
    res = solve_ph_serial(
        sizing_module, names, {"data": data}, max_iterations=int(max_iterations),
        default_rho=1.0 if rho is None else float(rho), subproblem_mip_gap=1e-4, subproblem_time_limit=time_limit,
        progress=progress, make_candidates=xhat, evaluate=evaluate,
        ph_options={"convthresh": float(convergence_tol), "iter0_solver_options": {"mip_rel_gap": 1e-3},
                    "iterk_solver_options": {"mip_rel_gap": 1e-3}, "linearize_binary_proximal_terms": True})
    if not res.first_stage:
        raise RuntimeError(f"sizing PH: no evaluated first stage ({res.status})")
    first_stage = list(res.first_stage.values())
    models = evaluated[tuple(first_stage)]
    info = {"method": "ph", "lower_eur": res.lower_bound / OBJECTIVE_SCALE, "upper_eur": res.upper_bound / OBJECTIVE_SCALE,
            "seconds": time.perf_counter() - t0, "ph_iterations": int(res.iterations), "xhat": first_stage,
            "status": "ph"}
    # one EF-shaped model holding the xhat's scenario solutions, for reporting
    ef = model_with_answer(case, day_tables, probabilities, options, names, first_stage,
                           {name: block_state(sm.scen[name]) for name, sm in zip(names, models)})
    return ef, info
