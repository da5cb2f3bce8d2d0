"""Stochastic-programming measures for any mpi-sppy model module: EV, EEV, VSS, WS, EVPI.

The module provides ``scenario_creator`` and ``average_scenario_creator`` (the expected-value problem,
named as mpi-sppy names it). EV: optimum of the mean-value problem; EEV: expected cost of its
first-stage decision over the scenarios; VSS = EEV - RP; WS: expected cost with perfect information
(each scenario solved alone); EVPI = RP - WS. With MIP recourse each solve is to the given MIP gap:
the values are incumbents, their dual bounds kept alongside as ``*_bound``.
"""

from __future__ import annotations

from planner.stochastic.ef import nonant_vars, solve_ef
from planner.stochastic.evaluate import evaluate_first_stage, solve_scenario


def wait_and_see(module, scenario_names, creator_kwargs, *, mip_gap=1e-4, time_limit=None) -> tuple[float, float]:
    """(expected cost with perfect information, its dual bound)."""
    total, bound = 0.0, 0.0
    for name in scenario_names:
        m = module.scenario_creator(name, **(creator_kwargs or {}))
        lb, ub = solve_scenario(m, mip_gap, time_limit)
        total += m._mpisppy_probability * ub
        bound += m._mpisppy_probability * lb
    return total, bound


def expected_value_solution(module, creator_kwargs, *, mip_gap=1e-4, time_limit=None):
    """(EV, its dual bound, the EV problem's first stage in nonant order)."""
    m = module.average_scenario_creator("average0", **(creator_kwargs or {}))
    lb, ub = solve_scenario(m, mip_gap, time_limit)
    return ub, lb, [v.value for v in nonant_vars(m)]


def stochastic_measures(module, scenario_names, creator_kwargs=None, rp: float | None = None, *,
                        mip_gap=1e-4, time_limit=None, with_ev_first_stage: bool = False):
    """EV, EEV, VSS, WS, EVPI (and RP if given, else solved here by the extensive form); with
    ``with_ev_first_stage`` also the EV problem's first stage (nonant order): (measures, first stage)."""
    if rp is None:
        res, _ = solve_ef(module, scenario_names, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
        rp = res.upper_bound
    ev, ev_bound, x_ev = expected_value_solution(module, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
    eev = evaluate_first_stage(module, scenario_names, creator_kwargs, x_ev, mip_gap=mip_gap, time_limit=time_limit)
    ws, ws_bound = wait_and_see(module, scenario_names, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
    measures = {"RP": rp, "EV": ev, "EEV": eev.expected_cost, "VSS": eev.expected_cost - rp, "WS": ws,
                "EVPI": rp - ws, "EV_bound": ev_bound, "EEV_bound": eev.bound, "WS_bound": ws_bound}
    return (measures, x_ev) if with_ev_first_stage else measures
