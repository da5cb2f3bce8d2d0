"""Stochastic-programming measures for any mpi-sppy-style two-stage module: EV, EEV, VSS, WS, EVPI.

The module provides ``scenario_creator`` and ``mean_scenario_creator`` (the expected-value
problem). EV: optimum of the mean-value problem; EEV: expected cost of its first-stage decision
over the scenarios; VSS = EEV - RP; WS: expected cost with perfect information (each scenario
solved alone); EVPI = RP - WS. With MIP recourse, each solve is to the given MIP gap: the values are
incumbents (the dual bounds are kept alongside as ``*_bound``).
"""

from __future__ import annotations

import math

from planner.solve_ef import highs_solve, nonant_vars


RETRIES_WITHOUT_INCUMBENT = 2  # a solve stopped by its time limit before any incumbent gets 4x, then 16x


def _solve(model, mip_gap, time_limit):
    """Bounds of one scenario MIP; a time limit hit before any feasible solution is raised 4-fold (twice)."""
    limit = time_limit
    for attempt in range(RETRIES_WITHOUT_INCUMBENT + 1):
        lb, ub, status, _ = highs_solve(model, mip_gap=mip_gap, time_limit=limit)
        if math.isfinite(ub):
            return lb, ub
        if limit is None or "time" not in str(status).lower() or attempt == RETRIES_WITHOUT_INCUMBENT:
            break
        limit = 4 * limit
    raise RuntimeError(f"{model.name}: no feasible solution ({status}; last time limit {limit} s)")


def evaluate_first_stage(module, scenario_names, creator_kwargs, first_stage: list, *, mip_gap=1e-4,
                         time_limit=None):
    """Expected cost of fixed first-stage values (list in nonant order); (expected, bound, per scenario)."""
    total, bound, per = 0.0, 0.0, {}
    for name in scenario_names:
        m = module.scenario_creator(name, **(creator_kwargs or {}))
        for var, val in zip(nonant_vars(m), first_stage):
            var.fix(val if not var.is_integer() else round(val))
        lb, ub = _solve(m, mip_gap, time_limit)
        p = m._mpisppy_probability
        total += p * ub
        bound += p * lb
        per[name] = ub
    return total, bound, per


def wait_and_see(module, scenario_names, creator_kwargs, *, mip_gap=1e-4, time_limit=None):
    total, bound = 0.0, 0.0
    for name in scenario_names:
        m = module.scenario_creator(name, **(creator_kwargs or {}))
        lb, ub = _solve(m, mip_gap, time_limit)
        total += m._mpisppy_probability * ub
        bound += m._mpisppy_probability * lb
    return total, bound


def expected_value_solution(module, creator_kwargs, *, mip_gap=1e-4, time_limit=None):
    m = module.mean_scenario_creator("mean0", **(creator_kwargs or {}))
    lb, ub = _solve(m, mip_gap, time_limit)
    return ub, lb, [v.value for v in nonant_vars(m)]


def stochastic_measures(module, scenario_names, creator_kwargs=None, rp: float | None = None, *,
                        mip_gap=1e-4, time_limit=None) -> dict:
    """EV, EEV, VSS, WS, EVPI (and RP if given or solved here by the extensive form)."""
    if rp is None:
        from planner.solve_ef import solve_ef

        res, _ = solve_ef(module, scenario_names, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
        rp = res.upper_bound
    ev, ev_bound, x_ev = expected_value_solution(module, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
    eev, eev_bound, _ = evaluate_first_stage(module, scenario_names, creator_kwargs, x_ev, mip_gap=mip_gap,
                                             time_limit=time_limit)
    ws, ws_bound = wait_and_see(module, scenario_names, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
    return {"RP": rp, "EV": ev, "EEV": eev, "VSS": eev - rp, "WS": ws, "EVPI": rp - ws,
            "EV_bound": ev_bound, "EEV_bound": eev_bound, "WS_bound": ws_bound}
