"""The L-shaped method for many scenarios: the LP relaxation's bound and a common-schedule incumbent.

Lower bound: the LP relaxation of the whole problem (every scenario, every binary relaxed), solved by
the multi-cut L-shaped method over the day-ahead volumes with scenario LPs kept warm in HiGHS
(planner.dayahead.lshaped); the master's bound without trust region is valid.

Upper bound: a production and generator schedule common to all scenarios, each site's best response
to the LP's probability-weighted supply prices on the expected day (one site MIP per site, links
closed: the prices carry what the links and the contract are worth), then the LP of every scenario
with those binaries fixed, again by the L-shaped method over the day-ahead volumes. Every binary of
the model is fixed, so the best evaluated point is a feasible plan of the full problem and its
expected cost an upper bound. The schedule is recourse in the model; fixing it common to all
scenarios is a restriction, never a relaxation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from planner.dayahead.data import mean_data
from planner.dayahead.lshaped import ScenarioPool, lshaped
from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.methods.base import Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem
from planner.progress import Progress
from planner.results import SolveResult, relative_gap


@dataclass
class LShapedPlan:
    """The bounds and the plan behind the upper bound."""

    result: SolveResult
    day_ahead_kw: np.ndarray          # (zones, T)
    binaries: dict                    # model binary name -> 0/1 (the same in every scenario)
    zones: list
    history: list = field(default_factory=list)  # (phase, iteration, LB, UB, seconds)
    stats: dict = field(default_factory=dict)
    frames: dict | None = None        # {scenario name: (dispatch frame, schedule frame)} of the plan, when asked


def common_schedule(problem, prices: np.ndarray, expected_day: dict, *, mip_gap: float = 1e-3,
                    time_limit: float = 10.0, start: dict | None = None) -> dict:
    """Each site's schedule minimising its own cost plus the probability-weighted mean of ``prices``
    ((n_sub, T), EUR/MWh) times its supply, on ``expected_day`` (planner.dayahead.data.mean_data):
    {binary name: 0/1}. ``start``: a schedule {binary name: 0/1} given to each site's MIP as its starting
    point (HiGHS completes it; a site whose binaries it does not all name starts from nothing)."""
    S, N, T = problem.n_scenarios, problem.n_sites, problem.n_periods
    p = np.asarray(problem.probabilities, dtype=float) / float(np.sum(problem.probabilities))
    mean_prices = np.einsum("s,sit->it", p, np.asarray(prices, dtype=float).reshape(S, N, T))
    case = problem.case
    expected = CoupledProblem(case, [expected_day], np.ones(1), ["expected day"])
    fixed = {}
    for i, site in enumerate(case.sites):
        sub = SiteSubproblem(expected, i, mip_gap=mip_gap, time_limit=time_limit)
        names = [v.name.split(".", 1)[1] for v in sub.price_model.binaries]
        keys = [f"site[{site.name}].{name}" for name in names]
        if start and all(k in start for k in keys):
            for v, k in zip(sub.price_model.binaries, keys):
                v.set_value(int(start[k]))
        sol = sub.solve_price(mean_prices[i])
        for name, value in zip(names, sol.schedule):
            fixed[f"site[{site.name}].{name}"] = int(value)
    return fixed


def solve_lshaped(case, scenarios, *, rel_gap: float = 0.005, time_limit: float | None = None,
                  lp_tol: float = 1e-4, site_mip_gap: float = 1e-3, site_time_limit: float = 10.0,
                  workers: int = 2, progress: bool = True, schedule: dict | None = None,
                  scenario_names: list | None = None) -> LShapedPlan:
    """Bounds and a plan for the day-ahead problem of ``case`` over ``scenarios`` (a ScenarioSet);
    the scenario LPs are spread over ``workers`` processes. ``schedule``: {binary name: 0/1}, e.g. the
    common schedule of a neighbouring problem (the same day's two-stage plan): evaluated first, and kept
    when it meets ``rel_gap`` against this problem's LP bound (the sites' MIPs are then skipped;
    ``stats["schedule_reused"]``); otherwise the sites' best responses are computed as usual.
    ``scenario_names``: the plan's dispatch and schedule frames of each scenario are read from the scenario LPs
    (``LShapedPlan.frames``, keyed by these names in scenario order)."""
    t0 = time.perf_counter()
    problem = CoupledProblem.from_case(case, scenarios)
    with ScenarioPool(problem, workers) as lps:
        solved = _solve(problem, lps, mean_data(case, scenarios), t0, rel_gap, time_limit, lp_tol, site_mip_gap,
                        site_time_limit, progress, schedule)
        if scenario_names is not None and math.isfinite(solved.result.upper_bound):
            lps.fix_binaries_all(solved.binaries)   # the plan's schedule (the LPs may hold another evaluated one)
            by_w = lps.frames(solved.day_ahead_kw, scenario_names)
            solved.frames = {scenario_names[w]: by_w[w] for w in sorted(by_w)}
        return solved


def _evaluate(problem, lps, lp, lower, fixed, rel_gap, lp_tol, left, progress, label):
    """The schedule ``fixed`` fixed in every scenario, the day-ahead volumes optimised by the L-shaped method from
    the LP's point; only the upper bound matters: it stops once the gap to the LP bound meets the target."""
    lps.fix_binaries_all(fixed)
    return lshaped(problem, lps, x0=lp.x, tol=lp_tol, time_limit=left(), progress=progress,
                   stop_upper=lower / (1 - 0.999 * rel_gap) if math.isfinite(lower) and lower > 0 else None,
                   label=label)


def _reuse(problem, lps, lp, lower, schedule, rel_gap, lp_tol, left, progress):
    """The given schedule evaluated: (evaluation, schedule), or None when it does not name every binary of this
    problem or is infeasible in a scenario with this problem's data."""
    if not schedule or not set(lps.binary_names) <= set(schedule):
        return None
    fixed = {name: int(schedule[name]) for name in lps.binary_names}
    lps.fix_binaries_all(fixed)
    if not all(lps.feasible_all().values()):  # the sites' MIPs decide
        return None
    return _evaluate(problem, lps, lp, lower, fixed, rel_gap, lp_tol, left, progress, "given schedule fixed"), fixed


def _solve(problem, lps, expected_day, t0, rel_gap, time_limit, lp_tol, site_mip_gap, site_time_limit, progress,
           schedule=None):
    log = Progress("L-shaped", enabled=progress)
    stats = {"build_s": time.perf_counter() - t0}
    log.message(f"{problem.n_scenarios} scenario LPs of {problem.n_sites} sites built in "
                f"{stats['build_s']:.1f} s")

    def left():
        return None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - t0))

    lp = lshaped(problem, lps, tol=lp_tol, time_limit=left(), progress=progress)
    stats.update(lp_s=lp.seconds, lp_iterations=lp.iterations, lp_bound=lp.lower_bound)
    # no integer plan during the LP phase: its upper values are the LP's, not bounds of the problem
    history = [("LP", it, lb, math.inf, t) for it, lb, _, t in lp.history]
    lower = lp.lower_bound
    log.message(f"LP relaxation: bound {lower:,.2f} after {lp.iterations} iterations "
                f"({time.perf_counter() - t0:.1f} s)")
    t1 = time.perf_counter()
    reused = _reuse(problem, lps, lp, lower, schedule, rel_gap, lp_tol, left, progress)
    stats["schedule_reused"] = reused is not None and relative_gap(lower, reused[0].upper_bound) <= rel_gap
    if stats["schedule_reused"]:
        ev, fixed = reused
        stats.update(schedule_s=0.0, evaluation_s=ev.seconds, evaluation_iterations=ev.iterations)
        log.message(f"the given schedule meets the gap: {ev.upper_bound:,.2f} against the LP bound {lower:,.2f} "
                    f"({time.perf_counter() - t1:.1f} s); the sites' MIPs are skipped")
        history += [("given schedule fixed", it, lower, ub, t + t1 - t0) for it, _, ub, t in ev.history]
    else:
        # the given schedule (when any) is the sites' MIP start
        fixed = common_schedule(problem, lp.prices, expected_day, mip_gap=site_mip_gap, time_limit=site_time_limit,
                                start=schedule)
        stats["schedule_s"] = time.perf_counter() - t1
        missing = set(lps.binary_names) - set(fixed)
        if missing:
            raise RuntimeError(f"common schedule: {len(missing)} binaries of the model not set, "
                               f"e.g. {sorted(missing)[:3]}")
        log.message(f"common schedule from the sites' best responses to the LP prices in "
                    f"{stats['schedule_s']:.1f} s; evaluating it in every scenario")
        t2 = time.perf_counter()
        ev = _evaluate(problem, lps, lp, lower, fixed, rel_gap, lp_tol, left, progress, "schedule fixed")
        stats.update(evaluation_s=ev.seconds, evaluation_iterations=ev.iterations)
        history += [("schedule fixed", it, lower, ub, t + t2 - t0) for it, _, ub, t in ev.history]
        if reused is not None and reused[0].upper_bound < ev.upper_bound:  # the given one was the cheaper
            ev, fixed = reused
    upper = ev.upper_bound
    seconds = time.perf_counter() - t0
    gap = relative_gap(lower, upper)
    status = "converged" if gap <= rel_gap else "gap above target"
    T = problem.n_periods
    first = {f"contract.day_ahead_kw[{z},{t}]": float(ev.x[zi, t]) for zi, z in enumerate(lps.zones) for t in range(T)}
    res = SolveResult(lower_bound=lower, upper_bound=upper, status=status, time_s=seconds, method="L-shaped",
                      first_stage=first, iterations=lp.iterations + ev.iterations,
                      log=[(h[1], h[2], h[3], h[4]) for h in history])
    log.message(f"LB {lower:,.2f}  UB {upper:,.2f}  gap {100 * gap:.3f} %  {seconds:.1f} s ({status})")
    return LShapedPlan(res, ev.x, fixed, lps.zones, history, stats)


class LShaped(Method):
    name = "lshaped"
    description = "L-shaped method (many scenarios: LP relaxation bound, common-schedule incumbent)"
    schedule_first_stage = False

    def __init__(self, workers: int = 2, schedule: dict | None = None, then_ef: bool = False,
                 site_mip_gap: float = 1e-3):
        self.workers = workers  # processes for the scenario LPs (1: in this process, e.g. inside a pool worker)
        self.site_mip_gap = site_mip_gap  # relative gap of each site's schedule MIP (solve_lshaped)
        self.schedule = schedule      # a schedule evaluated first (solve_lshaped's ``schedule``)
        # above the gap target with time left, the extensive form of the same problem follows (then_ef_outcome)
        self.then_ef = then_ef
        self.used_schedule = None     # the common schedule of the last solve's plan
        self.schedule_reused = False  # whether the last solve kept ``schedule`` without the sites' MIPs

    def solve(self, problem: DayAheadProblem) -> MethodOutcome:
        if problem.schedule_first_stage:
            raise ValueError("method = 'lshaped' keeps the production schedule as recourse; use 'ef' or 'ph' "
                             "with schedule_first_stage=True")
        solved = solve_lshaped(problem.case, problem.scenarios, rel_gap=problem.rel_gap,
                               time_limit=problem.time_left(), progress=problem.progress, workers=self.workers,
                               schedule=self.schedule, scenario_names=list(problem.names),
                               site_mip_gap=self.site_mip_gap)
        self.used_schedule, self.schedule_reused = solved.binaries, bool(solved.stats.get("schedule_reused"))
        res = solved.result
        incumbents = [Incumbent(res.upper_bound, res.first_stage, res.method, fixed=solved.binaries,
                                frames=solved.frames)] if math.isfinite(res.upper_bound) else []
        left = problem.time_left()
        if self.then_ef and res.gap > problem.rel_gap and (left is None or left >= 5.0):
            return then_ef_outcome(problem, res, incumbents)
        return MethodOutcome(res, incumbents)


def then_ef_outcome(problem: DayAheadProblem, res: SolveResult, incumbents: list) -> MethodOutcome:
    """The extensive form of the same problem after an L-shaped result above its gap target (its lower bound is
    the LP relaxation's: about 1 plan in 20 of the default case stays 1.2 % above it), within the time left,
    started from the L-shaped plan's schedule (no site heuristic).
    Both results bound the same problem: the higher lower bound, every incumbent (the plan picks the cheapest).
    An extensive form that fails leaves the L-shaped result, with the reason in its status."""
    t0 = time.perf_counter()
    given = incumbents[0].fixed if incumbents else None   # the L-shaped plan's schedule: the MIP start
    try:
        second = ExtensiveForm(binaries=given).solve(problem)
    except Exception as exc:
        res.status += f" (extensive form after it failed: {type(exc).__name__}: {exc})"[:300]
        return MethodOutcome(res, incumbents)
    upper = min(res.upper_bound, second.result.upper_bound)
    lower = min(max(res.lower_bound, second.result.lower_bound), upper)
    status = ("converged" if relative_gap(lower, upper) <= problem.rel_gap else "gap above target") + \
        f" (L-shaped {100 * res.gap:.2f} %, then extensive form {100 * second.result.gap:.2f} %)"
    combined = SolveResult(lower_bound=lower, upper_bound=upper, status=status,
                           time_s=res.time_s + time.perf_counter() - t0, method="L-shaped+EF",
                           first_stage=res.first_stage if res.upper_bound <= upper else second.result.first_stage,
                           iterations=res.iterations, log=res.log)
    return MethodOutcome(combined, list(incumbents) + list(second.incumbents))
