"""Progressive hedging with mpi-sppy: hub and spokes on MPI ranks (a multiple of 3), or serial PH with
one rank.

Under MPI the run is warm-started from the L-shaped LP (planner.dayahead.lshaped, production schedule
as recourse): its day-ahead volumes are the first xhat the xhatshuffle spoke evaluates
(``--xhat-from-file``), and W_s = sum_k p_k g_k - g_s from the scenario LPs' subgradients g_s at that
point (sum_s p_s W_s = 0: a valid Lagrangian multiplier, optimal for the LP when the subgradients are)
start the Lagrangian spoke (``--lagrangian-init-W-fname``). Subproblem MIP gaps and time limits
tighten over the iterations (``SCHEDULE``: iteration 0 loose), subproblems are warm-started from their
previous solution, rho is set per variable from its cost coefficient (``--coeff-rho``). The result's
lower bound is the better of PH's and the LP's (both valid), the upper bound PH's (its xhat spoke
evaluates every scenario's MIP with the first stage fixed). With ``schedule_first_stage`` (the separate,
faster model: the schedule decided day-ahead) there is no L-shaped warm start and the fixer fixes
binaries that agree across scenarios for a few iterations.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from planner.case import save_case
from planner.dayahead.data import mean_data
from planner.dayahead.lshaped import ScenarioPool, lshaped
from planner.dayahead.methods.base import Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.dayahead.methods.lshaped import common_schedule
from planner.decomposition.subproblems import CoupledProblem
from planner.progress import Progress
from planner.results import SolveResult
from planner.stochastic.ph import CYLINDERS, check_ranks, solve_ph_mpi, solve_ph_serial

MODULE_NAME = "planner.dayahead.module"
DEFAULT_RHO = 0.05  # EUR per kW of deviation per period (the order of a day-ahead price per kW and hour)
LP_TIME_SHARE = 0.3  # at most this share of the time limit goes to the L-shaped LP warm start


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


def lp_warm_start(problem: DayAheadProblem, work: Path, time_limit: float | None, log: Progress):
    """L-shaped LP of the problem; writes ``xhat.csv`` (its day-ahead volumes), ``W.csv`` (W from the
    scenario LPs' subgradients there) and ``schedule.json`` (the common schedule of the sites' best
    responses to the LP's prices, planner.dayahead.methods.lshaped.common_schedule: the subproblems'
    start). Returns (LP lower bound, xhat path, W path, schedule path, seconds)."""
    t0 = time.perf_counter()
    coupled = CoupledProblem.from_case(problem.case, problem.scenarios)
    with ScenarioPool(coupled, 2) as lps:
        lp = lshaped(coupled, lps, tol=1e-4, time_limit=time_limit, progress=False)
        at_x = lps.solve_all(lp.x)
        zones = list(lps.zones)
    schedule = common_schedule(coupled, lp.prices, mean_data(problem.case, problem.scenarios))
    schedule_file = work / "schedule.json"
    schedule_file.write_text(json.dumps(schedule))
    T = problem.case.n_periods
    names = [f"contract.day_ahead_kw[{z},{t}]" for z in zones for t in range(T)]
    x = np.asarray(lp.x, dtype=float).reshape(-1)
    p = np.asarray(problem.scenarios.probabilities, dtype=float)
    p = p / p.sum()
    grads = np.array([np.asarray(at_x[w][1], dtype=float).reshape(-1) for w in range(len(problem.names))])
    mean_grad = p @ grads
    xhat = work / "xhat.csv"
    xhat.write_text("".join(f"ROOT,{n},{v!r}\n" for n, v in zip(names, x)))
    w_file = work / "W.csv"
    w_file.write_text("".join(f"{s},{n},{mean_grad[i] - grads[k, i]!r}\n"
                              for k, s in enumerate(problem.names) for i, n in enumerate(names)))
    seconds = time.perf_counter() - t0
    log.message(f"L-shaped LP warm start: bound {lp.lower_bound:,.2f} in {lp.iterations} iterations, "
                f"{seconds:.1f} s; xhat, W and the start schedule written")
    return lp.lower_bound, xhat, w_file, schedule_file, seconds


class ProgressiveHedging(Method):
    name = "ph"
    description = f"progressive hedging (mpi-sppy; {CYLINDERS}k MPI ranks: hub and spokes, 1 rank: serial)"

    def solve(self, problem: DayAheadProblem) -> MethodOutcome:
        rho = problem.default_rho if problem.default_rho is not None else DEFAULT_RHO
        if problem.n_ranks > 1:
            check_ranks(problem.n_ranks)
            result = self._solve_mpi(problem, rho)
        else:
            result = solve_ph_serial(problem.module, problem.names, problem.kwargs, rel_gap=problem.rel_gap,
                                     max_iterations=problem.max_iterations, default_rho=rho,
                                     subproblem_mip_gap=problem.rel_gap / 2, subproblem_time_limit=30,
                                     progress=problem.progress)
        incumbents = [Incumbent(result.upper_bound, result.first_stage, result.method)] \
            if math.isfinite(result.upper_bound) and result.first_stage else []
        return MethodOutcome(result, incumbents)

    @staticmethod
    def _solve_mpi(problem: DayAheadProblem, rho: float) -> SolveResult:
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
        lp_bound, lp_seconds = -math.inf, 0.0
        if problem.schedule_first_stage:
            extra += ["--schedule-first-stage", "--fixer"]
        else:
            lp_limit = None if problem.time_limit is None else LP_TIME_SHARE * problem.time_limit
            log.message(f"warm start: L-shaped LP of {len(problem.names)} scenarios, then the start schedule")
            lp_bound, xhat, w_file, schedule, lp_seconds = lp_warm_start(problem, work, lp_limit, log)
            extra += ["--xhat-from-file", str(xhat), "--lagrangian-init-W-fname", str(w_file),
                      "--schedule-start-file", str(schedule), "--user-warmstart"]
        result = solve_ph_mpi(MODULE_NAME, len(problem.names), n_ranks=problem.n_ranks, extra_args=extra,
                              rel_gap=problem.rel_gap, max_iterations=problem.max_iterations, default_rho=rho,
                              time_limit=problem.time_left(), integer=True, progress=problem.progress,
                              workdir=work / "mpisppy", subproblem_schedule=subproblem_schedule(problem.rel_gap),
                              bounds_at_start=(lp_bound, math.inf))
        result.time_s = time.perf_counter() - t0
        # the log's seconds count from the method's start: the warm start's LP bound first
        result.log = ([(0, lp_bound, math.inf, lp_seconds)] if math.isfinite(lp_bound) else []) + \
            [(it, lb, ub, sec + lp_seconds) for it, lb, ub, sec in result.log]
        if math.isfinite(lp_bound):
            result.method += "+LP-warm-start"
        return result
