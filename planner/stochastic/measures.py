"""Stochastic-programming measures for any mpi-sppy model module: EV, EEV, VSS, WS, EVPI.

The module provides ``scenario_creator`` and ``average_scenario_creator`` (the expected-value problem,
named as mpi-sppy names it). EV: optimum of the mean-value problem; EEV: expected cost of its
first-stage decision over the scenarios; VSS = EEV - RP; WS: expected cost with perfect information
(each scenario solved alone); EVPI = RP - WS. With MIP recourse each solve is to the given MIP gap:
the values are incumbents, their dual bounds kept alongside as ``*_bound``.

Progress: a line per measure with its value, bound and elapsed time, a line per scenario solve once
a few seconds passed since the last line, and a heartbeat during a long solve (no silent stretch).
Within a command's wall-clock limit (``planner.progress.wall_clock_limit``) no solve outlasts it: a
measure that cannot finish raises ``NoIncumbentError`` naming the limit.
"""

from __future__ import annotations

import math

from planner.progress import Progress, seconds_left
from planner.solvers.highs import solve_with_bounds
from planner.stochastic.ef import nonant_vars, solve_ef
from planner.stochastic.evaluate import Evaluation, NoIncumbentError, fix_first_stage, solve_scenario

MIN_SOLVE_S = 0.5  # a solve is not started with less than this left of the wall-clock limit
SCENARIO_LINE_EVERY_S = 5.0  # a line after a scenario's solve once this long passed since the last line


def _bounds(model, mip_gap: float, time_limit: float | None) -> tuple[float, float]:
    """(lower, upper) of one model within ``time_limit`` and what is left of the wall-clock limit."""
    left = seconds_left()
    if left is None:
        return solve_scenario(model, mip_gap, time_limit)  # raises the limit when no incumbent was found
    if left < MIN_SOLVE_S:
        raise NoIncumbentError(f"{model.name}: the wall-clock limit (--time-limit) ended before this solve")
    bounds = solve_with_bounds(model, mip_gap=mip_gap, time_limit=left if time_limit is None else min(time_limit, left))
    if not math.isfinite(bounds.upper_bound):
        raise NoIncumbentError(f"{model.name}: no feasible solution ({bounds.status}) within what was left of the "
                               f"wall-clock limit ({left:.1f} s)")
    return bounds.lower_bound, bounds.upper_bound


def _over_scenarios(module, scenario_names, creator_kwargs, mip_gap, time_limit, log: Progress, what: str,
                    first_stage=None) -> Evaluation:
    """Each scenario solved alone (with ``first_stage`` fixed when given): probability-weighted cost and bound."""
    total, bound, per = 0.0, 0.0, {}
    last = log.elapsed
    for k, name in enumerate(scenario_names):
        m = module.scenario_creator(name, **(creator_kwargs or {}))
        if first_stage is not None:
            fix_first_stage(m, first_stage)
        with log.heartbeat(f"{what}, scenario {k + 1} of {len(scenario_names)}"):
            lb, ub = _bounds(m, mip_gap, time_limit)
        p = m._mpisppy_probability
        total, bound, per[name] = total + p * ub, bound + p * lb, ub
        if log.elapsed - last >= SCENARIO_LINE_EVERY_S and k + 1 < len(scenario_names):
            log.message(f"{what}: {k + 1} of {len(scenario_names)} scenarios solved")
            last = log.elapsed
    return Evaluation(total, bound, per)


def wait_and_see(module, scenario_names, creator_kwargs, *, mip_gap=1e-4, time_limit=None,
                 log: Progress | None = None) -> tuple[float, float]:
    """(expected cost with perfect information, its dual bound)."""
    log = log or Progress("measures", enabled=False)
    ws = _over_scenarios(module, scenario_names, creator_kwargs, mip_gap, time_limit, log, "wait-and-see")
    return ws.expected_cost, ws.bound


def expected_value_solution(module, creator_kwargs, *, mip_gap=1e-4, time_limit=None, log: Progress | None = None):
    """(EV, its dual bound, the EV problem's first stage in nonant order)."""
    log = log or Progress("measures", enabled=False)
    m = module.average_scenario_creator("average0", **(creator_kwargs or {}))
    with log.heartbeat("EV, the expected-value problem"):
        lb, ub = _bounds(m, mip_gap, time_limit)
    return ub, lb, [v.value for v in nonant_vars(m)]


def stochastic_measures(module, scenario_names, creator_kwargs=None, rp: float | None = None, *,
                        mip_gap=1e-4, time_limit=None, with_ev_first_stage: bool = False,
                        progress: bool | Progress = False):
    """EV, EEV, VSS, WS, EVPI (and RP if given, else solved here by the extensive form); with
    ``with_ev_first_stage`` also the EV problem's first stage (nonant order): (measures, first stage).
    ``time_limit``: seconds per solve; ``progress``: True or a Progress log for the lines."""
    log = progress if isinstance(progress, Progress) else Progress("measures", enabled=bool(progress))
    n = len(scenario_names)
    if rp is None:
        res, _ = solve_ef(module, scenario_names, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit)
        rp = res.upper_bound
    start = log.elapsed
    log.message(f"EV, EEV and wait-and-see: {2 * n + 1} solves of at most "
                f"{'no limit' if time_limit is None else f'{time_limit:.3g} s'} each")
    ev, ev_bound, x_ev = expected_value_solution(module, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit,
                                                 log=log)
    log.message(f"EV {ev:,.2f} (bound {ev_bound:,.2f}) in {log.elapsed - start:.1f} s")
    start = log.elapsed
    eev = _over_scenarios(module, scenario_names, creator_kwargs, mip_gap, time_limit, log, "EEV", first_stage=x_ev)
    log.message(f"EEV {eev.expected_cost:,.2f} (bound {eev.bound:,.2f}) over {n} scenarios in "
                f"{log.elapsed - start:.1f} s; VSS = EEV - RP = {eev.expected_cost - rp:,.2f}")
    start = log.elapsed
    ws, ws_bound = wait_and_see(module, scenario_names, creator_kwargs, mip_gap=mip_gap, time_limit=time_limit,
                                log=log)
    log.message(f"wait-and-see {ws:,.2f} (bound {ws_bound:,.2f}) over {n} scenarios in {log.elapsed - start:.1f} s; "
                f"EVPI = RP - WS = {rp - ws:,.2f}")
    measures = {"RP": rp, "EV": ev, "EEV": eev.expected_cost, "VSS": eev.expected_cost - rp, "WS": ws,
                "EVPI": rp - ws, "EV_bound": ev_bound, "EEV_bound": eev.bound, "WS_bound": ws_bound}
    return (measures, x_ev) if with_ev_first_stage else measures
