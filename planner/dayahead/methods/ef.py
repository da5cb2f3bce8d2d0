"""The extensive form solved by HiGHS, preceded (when the case has production lines) by a site-by-site
schedule heuristic whose plan is a first incumbent and the extensive form's MIP start.

One persistent HiGHS instance serves both solves (the model is translated once; fixing and freeing the
schedule is an in-place update). Started from the heuristic's plan, HiGHS holds an incumbent from its
first second and stops as soon as its dual bound certifies the gap (often right after the root LP),
instead of spending the time limit on the root node's cuts before it finds any plan of its own.
"""

from __future__ import annotations

import math
import time

from planner.dayahead.data import mean_data
from planner.dayahead.methods.base import Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.dayahead.model import line_blocks, schedule_values, site_schedule_heuristic
from planner.progress import Progress
from planner.results import SolveResult
from planner.solvers.highs import appsi_highs, solve_with_bounds, track_variable_bounds_only
from planner.stochastic.ef import build_ef, ef_scenarios, first_stage_values


def heuristic_incumbent(problem: DayAheadProblem, ef, solver=None, schedule=None) -> Incumbent | None:
    """The schedule found site by site on the expected day, fixed in every scenario of the extensive form,
    which is solved for the rest: a feasible plan (a restriction of the problem), or None. The solution
    stays loaded in ``ef`` (a MIP start for the full solve); ``solver``: a persistent solver to reuse.
    ``schedule``: a schedule to fix instead (same form as :func:`site_schedule_heuristic`'s, e.g. found for
    a neighbouring problem); when the extensive form is infeasible with it, the site-by-site one is used.
    The schedule used is ``incumbent.schedule``."""
    case = problem.case
    if not any(s.lines for s in case.sites) or problem.schedule_first_stage:
        return None
    if schedule is not None:
        incumbent = incumbent_of_schedule(problem, ef, solver, schedule)
        if incumbent is not None:
            return incumbent
    budget = 20.0 if problem.time_limit is None else max(3.0, min(20.0, problem.time_limit / 4))
    schedule = site_schedule_heuristic(case, mean_data(case, problem.scenarios), budget, mip_gap=0.02)
    if schedule is None:
        return None
    return incumbent_of_schedule(problem, ef, solver, schedule)


def solved_with_fixed(problem: DayAheadProblem, ef, solver, pairs):
    """The extensive form solved with each (variable, value) of ``pairs`` fixed, then freed again (the solution
    stays loaded: the MIP start of the full solve): its bounds."""
    fixed = []
    try:
        for var, value in pairs:
            var.fix(value)
            fixed.append(var)
        return solve_with_bounds(ef, mip_gap=problem.rel_gap / 2, time_limit=problem.time_left(5.0), solver=solver)
    finally:
        for v in fixed:
            v.unfix()


def incumbent_of_schedule(problem: DayAheadProblem, ef, solver, schedule) -> Incumbent | None:
    """The extensive form solved with ``schedule`` fixed in every scenario (then freed again): a feasible
    plan, or None."""
    case = problem.case
    pairs = ef_scenarios(ef)
    fixed = [(b.on[key], val) for _, model in pairs for site, line, b in line_blocks(model, case)
             for key, val in schedule[site][line]["on"].items()]
    fixed += [(b.run[key], val) for _, model in pairs for site, line, b in line_blocks(model, case)
              for key, val in schedule[site][line]["run"].items()]
    bounds = solved_with_fixed(problem, ef, solver, fixed)
    if not math.isfinite(bounds.upper_bound):
        return None
    model0 = pairs[0][1]
    return Incumbent(bounds.upper_bound, first_stage_values(model0), "schedule-heuristic",
                     fixed=schedule_values(model0, case), schedule=schedule)


def incumbent_of_binaries(problem: DayAheadProblem, ef, solver, binaries: dict) -> Incumbent | None:
    """The extensive form solved with ``binaries`` ({variable name in a scenario model: 0/1}, e.g. an L-shaped
    plan's common schedule) fixed in every scenario (then freed again; the solution stays loaded as the MIP
    start): a feasible plan, or None when a name is not in the model or the plan is infeasible."""
    pairs = [(model.find_component(name), value) for _, model in ef_scenarios(ef) for name, value in binaries.items()]
    if any(var is None for var, _ in pairs):
        return None
    bounds = solved_with_fixed(problem, ef, solver, pairs)
    if not math.isfinite(bounds.upper_bound):
        return None
    return Incumbent(bounds.upper_bound, first_stage_values(ef_scenarios(ef)[0][1]), "given schedule",
                     fixed=dict(binaries))


class ExtensiveForm(Method):
    """``warm_start=False``: the extensive form solved from scratch (the heuristic's plan is then only a
    candidate incumbent, not a MIP start): the reference the warm-started path is compared with."""

    name = "ef"
    description = "extensive form (every scenario in one MIP, HiGHS)"

    def __init__(self, warm_start: bool = True, schedule=None, binaries: dict | None = None):
        self.warm_start = warm_start
        self.schedule = schedule   # a schedule tried first as the heuristic's (heuristic_incumbent)
        # {binary name: 0/1} (e.g. an L-shaped plan's): fixed first instead of the heuristic (incumbent_of_binaries)
        self.binaries = binaries
        self.used_schedule = None  # the schedule of the heuristic's incumbent of the last solve (None: none)

    def solve(self, problem: DayAheadProblem) -> MethodOutcome:
        t0 = time.perf_counter()
        log = Progress("EF", enabled=problem.progress)
        ef = build_ef(problem.module, problem.names, problem.kwargs)
        log.message(f"built {len(problem.names)} scenarios in {time.perf_counter() - t0:.1f} s")
        # one persistent instance for both solves (between them the schedule is freed in place)
        solver = track_variable_bounds_only(appsi_highs(threads=1)) if self.warm_start else None
        heuristic = incumbent_of_binaries(problem, ef, solver, self.binaries) if self.binaries else None
        if heuristic is None:
            heuristic = heuristic_incumbent(problem, ef, solver, self.schedule)
        self.used_schedule = None if heuristic is None else heuristic.schedule
        if heuristic is not None:
            log.message(f"{heuristic.label}: incumbent {heuristic.upper_bound:,.2f}"
                        + ("; MIP start of the extensive form" if self.warm_start else ""))
        bounds = solve_with_bounds(ef, mip_gap=problem.rel_gap, time_limit=problem.time_left(5.0),
                                   progress=problem.progress, solver=solver,
                                   warm_start=self.warm_start and heuristic is not None)
        first = first_stage_values(ef_scenarios(ef)[0][1]) if math.isfinite(bounds.upper_bound) else {}
        result = SolveResult(lower_bound=bounds.lower_bound, upper_bound=bounds.upper_bound, status=bounds.status,
                             time_s=time.perf_counter() - t0, method="EF", first_stage=first)
        incumbents = []
        if math.isfinite(result.upper_bound):  # first: on a tie with the heuristic (its MIP start) it has the models
            incumbents.append(Incumbent(result.upper_bound, result.first_stage, result.method,
                                        models=dict(ef_scenarios(ef))))
        if heuristic is not None:
            incumbents.append(heuristic)
        if heuristic is not None and math.isfinite(result.lower_bound):
            result.lower_bound = min(result.lower_bound, heuristic.upper_bound)
        return MethodOutcome(result, incumbents)
