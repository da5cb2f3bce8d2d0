"""The extensive form of an mpi-sppy model module (``mpisppy.utils.sputils.create_EF``) solved by HiGHS,
with the MIP dual bound as lower bound and the incumbent as upper bound."""

from __future__ import annotations

import math
import time

from mpisppy.utils import sputils

from planner.progress import Progress
from planner.results import SolveResult
from planner.solvers.highs import solve_with_bounds


def nonant_vars(scenario_model) -> list:
    """The first-stage (nonanticipative) variables of a scenario model, in mpi-sppy's order."""
    node = scenario_model._mpisppy_node_list[0]
    out = []
    for comp in node.nonant_list:
        out.extend(comp.values() if comp.is_indexed() else [comp])
    return out


def first_stage_values(scenario_model) -> dict:
    """{variable name relative to the scenario model: value} of its first stage: the one way first-stage
    dictionaries are keyed (the names a standalone scenario model gives its variables)."""
    return {v.getname(fully_qualified=True, relative_to=scenario_model): float(v.value)
            for v in nonant_vars(scenario_model) if v.value is not None}


def build_ef(module, scenario_names, creator_kwargs=None):
    """The extensive form of ``module`` over ``scenario_names`` (mpi-sppy's create_EF)."""
    return sputils.create_EF(scenario_names, module.scenario_creator,
                             scenario_creator_kwargs=creator_kwargs or {}, suppress_warnings=True)


def ef_scenarios(ef) -> list:
    """[(name, scenario model)] of an extensive form (create_EF returns the scenario model itself for one)."""
    if hasattr(ef, "_mpisppy_node_list"):
        return [(ef._ef_scenario_names[0], ef)]
    return list(sputils.ef_scenarios(ef))


def solve_ef(module, scenario_names, creator_kwargs=None, *, mip_gap: float = 1e-4,
             time_limit: float | None = None, progress: bool = False, ef=None):
    """Solve the extensive form (built here unless ``ef`` is given); return (SolveResult, ef model)."""
    t0 = time.perf_counter()
    log = Progress("EF", enabled=progress)
    if ef is None:
        ef = build_ef(module, scenario_names, creator_kwargs)
        log.message(f"built {len(scenario_names)} scenarios in {log.elapsed:.1f} s")
    left = None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - t0))
    bounds = solve_with_bounds(ef, mip_gap=mip_gap, time_limit=left, progress=progress)
    first = first_stage_values(ef_scenarios(ef)[0][1]) if math.isfinite(bounds.upper_bound) else {}
    result = SolveResult(lower_bound=bounds.lower_bound, upper_bound=bounds.upper_bound, status=bounds.status,
                         time_s=time.perf_counter() - t0, method="EF", first_stage=first)
    return result, ef
