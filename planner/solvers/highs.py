"""The one place where HiGHS is created: raw highspy instances for LPs changed in place, Pyomo's
persistent (appsi) HiGHS for models, the mpi-sppy solver names, and ``relax_binaries``.

Every HiGHS instance of the planner runs on one thread, quietly, unless the caller asks otherwise:
the planner parallelises over processes (workers, MPI ranks), not inside HiGHS.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import time
from dataclasses import dataclass

import highspy
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs as AppsiHighs

#: Feasibility tolerances for LPs whose duals become cuts (loose tolerances give invalid cuts).
TIGHT_TOLERANCES = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}


def highs_lp(options: dict | None = None, *, threads: int = 1) -> highspy.Highs:
    """A quiet single-thread ``highspy.Highs`` for an LP built and changed in place."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    return h


def appsi_highs(*, mip_gap: float | None = None, time_limit: float | None = None, threads: int | None = 1,
                stream: bool = False, options: dict | None = None) -> AppsiHighs:
    """Pyomo's persistent HiGHS: solutions are loaded by the caller (``load_solution`` off) so that a
    time limit without an incumbent does not raise; ``mip_gap`` is the relative MIP gap."""
    opt = AppsiHighs()
    opt.config.load_solution = False
    opt.config.stream_solver = bool(stream)
    if mip_gap is not None:
        opt.config.mip_gap = float(mip_gap)
    if time_limit is not None:
        opt.config.time_limit = max(float(time_limit), 1e-3)
    if threads is not None:
        opt.highs_options["threads"] = int(threads)
    for key, value in (options or {}).items():
        opt.highs_options[key] = value
    return opt


def track_variable_bounds_only(opt: AppsiHighs) -> AppsiHighs:
    """Make a persistent solver's update between two solves of the same model look only at the variables
    (fixed or freed, bounds): no new or removed constraints, parameters, expressions or objective are
    searched for, and fixing a variable changes its column's bounds instead of re-processing every row it
    is in (the defaults cost far more than the solve itself on a model of tens of thousands of rows).
    Linear models only; call before the first solve."""
    cfg = opt.update_config
    cfg.check_for_new_or_removed_constraints = False
    cfg.check_for_new_or_removed_vars = False
    cfg.check_for_new_or_removed_params = False
    cfg.check_for_new_objective = False
    cfg.update_constraints = False
    cfg.update_params = False
    cfg.update_named_expressions = False
    cfg.update_objective = False
    cfg.update_vars = True
    cfg.treat_fixed_vars_as_params = False  # a fixed variable is a column with equal bounds (set before set_instance)
    return opt


def mpisppy_solver_name(integer: bool) -> str:
    """The solver name mpi-sppy gets: ``appsi_highs`` for MIPs (with linearised proximal terms: HiGHS
    has no MIQP), ``highs`` for a continuous first stage."""
    return "appsi_highs" if integer else "highs"


def has_integers(model) -> bool:
    """Whether a Pyomo model has an integer or binary variable."""
    return any(v.is_integer() or v.is_binary() for v in model.component_data_objects(pyo.Var, descend_into=True))


def relax_binaries(model) -> list:
    """Relax every binary variable of ``model`` to the interval [0, 1]; return the relaxed variables."""
    relaxed = [v for v in model.component_data_objects(pyo.Var, descend_into=True) if v.is_binary()]
    for v in relaxed:
        v.domain = pyo.Reals
        v.setlb(0.0)
        v.setub(1.0)
    return relaxed


def column_of(opt: AppsiHighs, var) -> int:
    """The HiGHS column of a Pyomo variable in a persistent solver's instance."""
    return opt._pyomo_var_to_solver_var_map[id(var)]


def row_of(opt: AppsiHighs, con) -> int:
    """The HiGHS row of a Pyomo constraint in a persistent solver's instance."""
    return opt._pyomo_con_to_solver_con_map[con]


def highs_of(opt: AppsiHighs) -> highspy.Highs:
    """The highspy instance behind a persistent solver (after ``set_instance``)."""
    return opt._solver_model


def is_optimal(results) -> bool:
    return results.termination_condition == TerminationCondition.optimal


_ROW = re.compile(r"^\s*[A-Z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%")


class HighsLogSummary(logging.Handler):
    """Receives HiGHS log lines; prints its column header once and the branch-and-bound rows at most
    every ``every_s`` seconds, each prefixed with the label and the elapsed time."""

    def __init__(self, label: str, every_s: float = 2.0, stream=None):
        super().__init__(logging.INFO)
        self.label, self.every_s = label, every_s
        self._own_stream = stream is None
        if stream is None:
            # HiGHS output is captured at the file-descriptor level during the solve: write to a
            # duplicate of the current stdout so that the summary reaches the terminal live
            try:
                stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
            except (OSError, ValueError, AttributeError):
                stream = sys.stderr
                self._own_stream = False
        self.stream = stream
        self.last = -math.inf
        self.t0 = time.perf_counter()
        self.header: str | None = None
        self.header_shown = False
        self.lines: list[str] = []

    def emit(self, record):
        for line in record.getMessage().splitlines():
            line = line.rstrip()
            self.lines.append(line)
            stripped = line.strip()
            if stripped.startswith("Src") or stripped.startswith("Proc."):
                self.header = (self.header + "\n" if self.header else "") + stripped
            now = time.perf_counter()
            if (_ROW.match(line) and now - self.last >= self.every_s) or stripped.startswith("Status"):
                if self.header and not self.header_shown:
                    print(f"[{self.label}] HiGHS branch and bound columns:\n{self.header}", file=self.stream,
                          flush=True)
                    self.header_shown = True
                self.last = now
                print(f"[{self.label} {now - self.t0:6.1f}s] {stripped}", file=self.stream, flush=True)

    def close(self):
        if self._own_stream:
            self.stream.close()
        super().close()


@dataclass
class Bounds:
    """A solve's certificate: ``lower_bound <= optimum <= upper_bound`` (minimisation)."""

    lower_bound: float
    upper_bound: float
    status: str
    seconds: float


def solve_with_bounds(model, *, mip_gap: float = 1e-4, time_limit: float | None = None, progress: bool = False,
                      label: str = "EF", threads: int | None = None, solver: AppsiHighs | None = None,
                      warm_start: bool = False) -> Bounds:
    """Solve a Pyomo minimisation with HiGHS; the MIP dual bound is the lower bound, the incumbent the
    upper bound (loaded into the model when there is one).

    ``solver``: a persistent solver (``appsi_highs``) to reuse: a model solved before by it is updated in
    place (fixed or freed variables, changed parameters) instead of translated again; ``warm_start``: the
    model's current variable values are given to HiGHS as a MIP start (a feasible start is an incumbent
    from the first second, so the solve stops as soon as its dual bound is within ``mip_gap``)."""
    opt = solver if solver is not None else appsi_highs(threads=threads)
    opt.config.mip_gap = float(mip_gap)
    opt.config.time_limit = math.inf if time_limit is None else max(float(time_limit), 1e-3)
    opt.config.warmstart = bool(warm_start)
    if threads is not None:
        opt.highs_options["threads"] = int(threads)
    handler = None
    if progress:
        logger = logging.getLogger(f"planner.highs.{label}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        handler = HighsLogSummary(label)
        logger.handlers = [handler]
        opt.config.solver_output_logger = logger
        opt.config.log_level = logging.INFO
    t0 = time.perf_counter()
    try:
        res = opt.solve(model)
    finally:
        if handler is not None:
            handler.close()
    seconds = time.perf_counter() - t0
    status = str(res.termination_condition).split(".")[-1]
    ub = res.best_feasible_objective
    lb = res.best_objective_bound
    if ub is not None:
        res.solution_loader.load_vars()
    ub = math.inf if ub is None else float(ub)
    lb = -math.inf if lb is None else float(lb)
    if progress:
        print(f"[{label}] {status}: LB {lb:,.2f} UB {ub:,.2f} in {seconds:.1f} s", flush=True)
    return Bounds(lb, ub, status, seconds)
