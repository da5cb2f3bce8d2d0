"""Progressive hedging with mpi-sppy: hub and spokes on MPI ranks (a multiple of 3), or serial PH with
one rank.

Under MPI the run is warm-started by the L-shaped method (planner.dayahead.methods.lshaped: the LP
relaxation's bound, a common schedule and its evaluation, production schedule as recourse): its bounds
and plan are the start (when they already meet the gap, no PH iteration runs); its day-ahead volumes are
the first xhat the xhatshuffle spoke evaluates (``--xhat-from-file``); every subproblem starts from the
LP optimum with its schedule fixed (``--schedule-start-file``, so a time-limited MIP keeps an incumbent).
Subproblem MIP gaps and time limits tighten over the iterations (``subproblem_schedule``: iteration 0
loose), rho is set per variable from its cost coefficient (``--coeff-rho``). The result's lower bound is
the better of PH's and the LP's, the upper bound the better of PH's xhat evaluations (every scenario's
MIP with the first stage fixed) and the warm start's plan; the launcher stops PH as soon as the two
meet the gap. With ``schedule_first_stage`` (the separate model: the schedule decided day-ahead) there
is no L-shaped warm start and the fixer fixes binaries that agree across scenarios for a few iterations.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from planner.case import save_case
from planner.dayahead.methods.base import Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.dayahead.methods.lshaped import solve_lshaped
from planner.progress import Progress
from planner.results import SolveResult, relative_gap
from planner.stochastic.ph import CYLINDERS, check_ranks, solve_ph_mpi, solve_ph_serial

MODULE_NAME = "planner.dayahead.module"
DEFAULT_RHO = 0.05  # EUR per kW of deviation per period (the order of a day-ahead price per kW and hour)
LP_TIME_SHARE = 0.3  # at most this share of the time limit goes to the L-shaped warm start


def subproblem_schedule(rel_gap: float) -> dict:
    """mpi-sppy solver options by iteration: MIP gap (relative) and time limit (s) of each subproblem;
    the hub starts loose (iteration 0: 2 %, 3 s) and tightens; the Lagrangian spoke works at a quarter
    of the target gap from the start (its dual bounds are the certificate); mpi-sppy's xhat spokes
    evaluate with the options of iteration 1 onwards (they take no per-spoke options). Every
    subproblem is warm-started, so a time limit still leaves an incumbent."""
    return {
        0: {"mipgap": max(0.02, rel_gap), "time_limit": 3},
        1: {"mipgap": rel_gap / 2, "time_limit": 5},
        3: {"mipgap": rel_gap / 4, "time_limit": 10},
        "spokes": {"lagrangian": {0: {"mipgap": rel_gap / 4, "time_limit": 5}}},
    }


@dataclass
class WarmStart:
    """What the L-shaped method hands to PH: its bounds, its plan and the files mpi-sppy reads."""

    lower_bound: float          # the LP relaxation's bound (valid for the MIP)
    upper_bound: float          # the common schedule's expected cost with the day-ahead volumes below
    first_stage: dict           # day-ahead volumes by variable name
    schedule: dict              # binary name -> 0/1, the same in every scenario
    xhat_file: Path
    schedule_file: Path
    seconds: float


def lshaped_warm_start(problem: DayAheadProblem, work: Path, time_limit: float | None, log: Progress) -> WarmStart:
    """The L-shaped method (planner.dayahead.methods.lshaped.solve_lshaped): LP bound, common schedule
    and its evaluation; writes ``xhat.csv`` (its day-ahead volumes, mpi-sppy's node,variable,value rows)
    and ``schedule.json`` (the subproblems' start)."""
    t0 = time.perf_counter()
    solved = solve_lshaped(problem.case, problem.scenarios, rel_gap=problem.rel_gap, time_limit=time_limit,
                           progress=False)
    res = solved.result
    xhat = work / "xhat.csv"
    xhat.write_text("".join(f"ROOT,{name},{value!r}\n" for name, value in res.first_stage.items()))
    schedule_file = work / "schedule.json"
    schedule_file.write_text(json.dumps(solved.binaries))
    seconds = time.perf_counter() - t0
    log.message(f"L-shaped warm start: LP bound {res.lower_bound:,.2f}, common schedule {res.upper_bound:,.2f} "
                f"(gap {100 * res.gap:.3f} %) in {seconds:.1f} s")
    return WarmStart(res.lower_bound, res.upper_bound, dict(res.first_stage), dict(solved.binaries), xhat,
                     schedule_file, seconds)


class ProgressiveHedging(Method):
    name = "ph"
    description = f"progressive hedging (mpi-sppy; {CYLINDERS}k MPI ranks: hub and spokes, 1 rank: serial)"

    def solve(self, problem: DayAheadProblem) -> MethodOutcome:
        rho = problem.default_rho if problem.default_rho is not None else DEFAULT_RHO
        if problem.n_ranks > 1:
            check_ranks(problem.n_ranks)
            return self._solve_mpi(problem, rho)
        result = solve_ph_serial(problem.module, problem.names, problem.kwargs, rel_gap=problem.rel_gap,
                                 max_iterations=problem.max_iterations, default_rho=rho,
                                 subproblem_mip_gap=problem.rel_gap / 2, subproblem_time_limit=30,
                                 progress=problem.progress)
        incumbents = [Incumbent(result.upper_bound, result.first_stage, result.method)] \
            if math.isfinite(result.upper_bound) and result.first_stage else []
        return MethodOutcome(result, incumbents)

    @staticmethod
    def _solve_mpi(problem: DayAheadProblem, rho: float) -> MethodOutcome:
        """Hand the case, the scenarios and the warm start to mpi-sppy's generic driver through files."""
        t0 = time.perf_counter()
        log = Progress("PH", enabled=problem.progress)
        work = Path(problem.output_dir) / "ph" if problem.output_dir is not None \
            else Path(tempfile.mkdtemp(prefix="plan_ph_"))
        work.mkdir(parents=True, exist_ok=True)
        scen_path = problem.scenarios.to_parquet(work / "scenarios.parquet")
        case_path = problem.case.source
        if case_path is None or not Path(case_path).exists():
            case_path = str(save_case(problem.case, work / "case.toml"))
        extra = ["--case-file", str(Path(case_path).resolve()), "--scenarios-file", str(Path(scen_path).resolve()),
                 "--coeff-rho", "--warmstart-subproblems", "--max-solver-threads", "1"]
        warm = None
        if problem.schedule_first_stage:
            extra += ["--schedule-first-stage", "--fixer"]
        else:
            limit = None if problem.time_limit is None else LP_TIME_SHARE * problem.time_limit
            log.message(f"warm start: the L-shaped method on {len(problem.names)} scenarios")
            warm = lshaped_warm_start(problem, work, limit, log)
            extra += ["--xhat-from-file", str(warm.xhat_file), "--schedule-start-file", str(warm.schedule_file),
                      "--user-warmstart"]
        return ProgressiveHedging._run(problem, rho, work, extra, warm, log, t0)

    @staticmethod
    def _serial_incumbent(problem: DayAheadProblem, rho: float, hub: SolveResult, log: Progress) -> SolveResult:
        """The hub can stop (converged, or at its limit) before an xhat spoke has evaluated any first stage:
        then serial PH's candidates (xbar rounded, two scenarios' own) are evaluated here, and the best of
        both lower bounds is kept."""
        log.message("the hub stopped before any spoke found an incumbent: evaluating serial PH candidates")
        serial = solve_ph_serial(problem.module, problem.names, problem.kwargs, rel_gap=problem.rel_gap,
                                 max_iterations=problem.max_iterations, default_rho=rho,
                                 subproblem_mip_gap=problem.rel_gap / 2, subproblem_time_limit=30,
                                 progress=problem.progress)
        hub.lower_bound = max(hub.lower_bound, serial.lower_bound)
        hub.upper_bound, hub.first_stage = serial.upper_bound, serial.first_stage
        hub.method += "+serial-xhat"
        if relative_gap(hub.lower_bound, hub.upper_bound) <= problem.rel_gap:
            hub.status = "converged"
        return hub

    @staticmethod
    def _run(problem, rho, work, extra, warm, log, t0) -> MethodOutcome:
        """PH from the warm start (skipped when the warm start already meets the gap)."""
        incumbents = []
        if warm is not None:
            incumbents.append(Incumbent(warm.upper_bound, warm.first_stage, "L-shaped warm start",
                                        fixed=warm.schedule))
            if relative_gap(warm.lower_bound, warm.upper_bound) <= problem.rel_gap:
                log.message(f"the warm start meets the {100 * problem.rel_gap:g} % gap: no PH iteration needed")
                result = SolveResult(warm.lower_bound, warm.upper_bound, "converged (warm start)",
                                     time.perf_counter() - t0, "PH(L-shaped warm start)", warm.first_stage, 0,
                                     [(0, warm.lower_bound, warm.upper_bound, warm.seconds)])
                return MethodOutcome(result, incumbents)
        lp_bound, lp_seconds = (warm.lower_bound, warm.seconds) if warm is not None else (-math.inf, 0.0)
        result = solve_ph_mpi(MODULE_NAME, len(problem.names), n_ranks=problem.n_ranks, extra_args=extra,
                              rel_gap=problem.rel_gap, max_iterations=problem.max_iterations, default_rho=rho,
                              time_limit=problem.time_left(), integer=True, progress=problem.progress,
                              workdir=work / "mpisppy", subproblem_schedule=subproblem_schedule(problem.rel_gap),
                              bounds_at_start=(lp_bound, warm.upper_bound if warm is not None else math.inf))
        if math.isfinite(result.upper_bound) and result.first_stage:  # PH beat the warm start
            incumbents.append(Incumbent(result.upper_bound, result.first_stage, result.method))
        elif not incumbents:
            result = ProgressiveHedging._serial_incumbent(problem, rho, result, log)
            if math.isfinite(result.upper_bound) and result.first_stage:
                incumbents.append(Incumbent(result.upper_bound, result.first_stage, result.method))
        result.time_s = time.perf_counter() - t0
        # the log's seconds count from the method's start: the warm start's bounds first
        start = [(0, warm.lower_bound, warm.upper_bound, warm.seconds)] if warm is not None else []
        result.log = start + [(it, lb, ub, sec + lp_seconds) for it, lb, ub, sec in result.log]
        if warm is not None:
            result.method += "+L-shaped-warm-start"
            if not result.first_stage:  # PH did not beat the warm start's plan
                result.first_stage = warm.first_stage
        return MethodOutcome(result, incumbents)
