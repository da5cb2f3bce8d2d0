"""Progressive hedging with mpi-sppy: hub and spokes on MPI ranks (a multiple of 3), or serial PH with
one rank."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from planner.case import save_case
from planner.dayahead.methods.base import Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.stochastic.ph import CYLINDERS, check_ranks, solve_ph_mpi, solve_ph_serial

MODULE_NAME = "planner.dayahead.module"
DEFAULT_RHO = 0.05  # EUR per kW of deviation per period


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
        incumbents = [Incumbent(result.upper_bound, result.first_stage, result.method)] if math.isfinite(result.upper_bound) \
            else []
        return MethodOutcome(result, incumbents)

    @staticmethod
    def _solve_mpi(problem: DayAheadProblem, rho: float):
        """Hand the case and the scenarios to mpi-sppy's generic driver through files."""
        work = Path(problem.output_dir) if problem.output_dir is not None else Path(tempfile.mkdtemp(prefix="plan_ph_"))
        work.mkdir(parents=True, exist_ok=True)
        scen_path = problem.scenarios.to_parquet(work / "scenarios.parquet")
        case_path = problem.case.source
        if case_path is None or not Path(case_path).exists():
            case_path = str(save_case(problem.case, work / "case.toml"))
        extra = ["--case-file", str(Path(case_path).resolve()), "--scenarios-file", str(Path(scen_path).resolve())]
        if problem.schedule_first_stage:
            extra.append("--schedule-first-stage")
        return solve_ph_mpi(MODULE_NAME, len(problem.names), n_ranks=problem.n_ranks, extra_args=extra,
                            rel_gap=problem.rel_gap, max_iterations=problem.max_iterations, default_rho=rho,
                            time_limit=problem.time_limit, integer=True, progress=problem.progress,
                            workdir=work / "ph", subproblem_mip_gap=problem.rel_gap / 2)
