"""The sizing extensive form solved by HiGHS, after a relax-and-fix certificate: the LP relaxation's
bound and its rounded sizes evaluated scenario by scenario; the full MIP only when that gap is too wide."""

from __future__ import annotations

import time

import pyomo.environ as pyo

from planner.progress import Progress
from planner.results import relative_gap
from planner.sizing.model import build_extensive_form, first_stage_vars
from planner.sizing.solve import (block_state, clip_to_bounds, evaluate_first_stage, round_sizes, set_block_state,
                                  solve_model)
from planner.solvers.highs import has_integers


def run(case, day_tables, probabilities, options, names, *, time_limit=None, mip_rel_gap=1e-3, method_options=None,
        progress=None):
    """The ``ef`` entry of ``planner.sizing.methods.METHODS``."""
    return solve_ef(case, day_tables, probabilities, options, names, time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                    progress=progress)


def solve_ef(case, day_tables, probabilities, options, names=None, time_limit=None, mip_rel_gap=1e-3, stream=False,
             relax_and_fix=True, progress: Progress | None = None):
    """Build and solve the extensive form; returns (model, info).

    With integer decisions and ``relax_and_fix`` (default), a cheap certificate comes first: the LP
    relaxation gives a lower bound, its sizes rounded (``round_sizes``) and fixed give an upper bound
    (each scenario's remaining MIP, e.g. battery replacements, solved on its own); when their gap is
    within ``mip_rel_gap`` that answer is returned, otherwise the full MIP is solved from the rounded
    sizes as a warm start and the LP bound is kept if it is the better one.
    """
    t0 = time.perf_counter()
    log = progress or Progress("sizing", enabled=False)
    m = build_extensive_form(case, day_tables, probabilities, options, names)
    build_s = time.perf_counter() - t0
    lp_info = None
    if has_integers(m) and relax_and_fix:
        try:
            lp_info = relax_and_fix_certificate(case, day_tables, probabilities, options, names, m, mip_rel_gap, log,
                                                time_limit)
        except RuntimeError as exc:  # a rounded size left a scenario without a plan in its time: full MIP
            log.message(f"relax-and-fix gave no certificate ({exc}); solving the MIP")
            lp_info = None
    if lp_info is not None:
        gap = relative_gap(lp_info["lower_eur"], lp_info["upper_eur"])
        log.message(f"relax-and-fix: LP bound {lp_info['lower_eur'] / 1e6:.4f} MEUR, rounded sizes "
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
        load_fixed_solution(m, lp_info)
        info = dict(lp_info, status="time limit: relax-and-fix answer kept", optimal=False)
        lp_info = dict(info)
    if lp_info is not None:
        if lp_info["upper_eur"] < info["upper_eur"]:
            load_fixed_solution(m, lp_info)
            info["upper_eur"] = lp_info["upper_eur"]
        info["lower_eur"] = max(info["lower_eur"], lp_info["lower_eur"])
        info["relax_and_fix"] = True
        info.pop("_models", None)
    info["build_seconds"] = build_s
    info["method"] = "ef"
    return m, info


def solve_relaxation(m, mip_rel_gap) -> dict:
    """The LP relaxation of a sizing model (every integer relaxed, binaries to [0, 1]; domains restored
    afterwards), solved by the interior point method. ``planner.solvers.highs.relax_binaries`` relaxes
    binaries only and for good: here the integer sizes are relaxed too, for one solve."""
    ints = [v for v in m.component_data_objects(pyo.Var) if (v.is_integer() or v.is_binary()) and not v.fixed]
    domains = [(v, v.domain) for v in ints]
    for v in ints:  # the relaxation keeps the domains' implicit bounds
        v.domain = pyo.UnitInterval if v.is_binary() else (
            pyo.NonNegativeReals if (v.domain.bounds()[0] or 0) >= 0 else pyo.Reals)
    try:
        return solve_model(m, None, mip_rel_gap, lp_method="ipm")
    finally:
        for v, d in domains:
            v.domain = d


def relax_and_fix_certificate(case, day_tables, probabilities, options, names, m, mip_rel_gap, log: Progress,
                              time_limit=None) -> dict:
    """LP bound of the extensive form ``m`` and the cost of its rounded sizes (evaluated scenario by
    scenario), loaded into ``m``."""
    lp = solve_relaxation(m, mip_rel_gap)
    log.message(f"LP relaxation: {lp['lower_eur'] / 1e6:.4f} MEUR ({lp['seconds']:.0f} s)")
    fixed = round_sizes(m)
    variables = first_stage_vars(m)
    values = clip_to_bounds([fixed.get(v, float(v.value)) for v in variables], variables)
    # each scenario's remaining MIP (battery replacements) to a quarter of the target gap, within half
    # of the time limit shared among the scenarios (its incumbent is what counts: an upper bound)
    per = None if time_limit is None else max(5.0, 0.5 * time_limit / max(1, len(day_tables)))
    upper, models = evaluate_first_stage(case, day_tables, probabilities, options, values, names,
                                         mip_rel_gap=max(1e-4, mip_rel_gap / 4), time_limit=per)
    # load the fixed solution into the EF so that it can warm-start the MIP and be reported
    info = {"lower_eur": lp["lower_eur"], "upper_eur": upper, "seconds": lp["seconds"], "status": "relax_and_fix",
            "first_stage": values, "optimal": False, "lp_seconds": lp["seconds"], "_models": models}
    load_fixed_solution(m, info)
    return info


def load_fixed_solution(m, info) -> None:
    """Put the relax-and-fix answer (sizes and each scenario's operation) into the EF's variables."""
    for v, x in zip(first_stage_vars(m), info["first_stage"]):
        v.set_value(x, skip_validation=True)
    for sm in info.get("_models", []):
        for name in sm.SCEN:
            set_block_state(m.scen[name], block_state(sm.scen[name]))
