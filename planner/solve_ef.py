"""Extensive form of an mpi-sppy-style two-stage module solved by HiGHS, with certified bounds.

``solve_ef(module, names, kwargs)`` builds the EF with ``mpisppy.utils.sputils.create_EF`` and solves it
with HiGHS (appsi interface); the MIP dual bound is the lower bound and the incumbent the upper
bound. With ``progress=True`` the HiGHS branch-and-bound log is summarised (a line every few seconds).
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import time

import pyomo.environ as pyo

from planner.results import SolveResult

_ROW = re.compile(r"^\s*[A-Z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%")


class _HighsLogSummary(logging.Handler):
    """Receives HiGHS log lines; prints the branch-and-bound rows at most every ``every_s`` seconds."""

    def __init__(self, label: str, every_s: float = 2.0, stream=None):
        super().__init__(logging.INFO)
        self.label, self.every_s = label, every_s
        if stream is None:
            # HiGHS output is captured at the file-descriptor level during the solve: write to a
            # duplicate of the current stdout so that the summary reaches the terminal live
            try:
                stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
            except (OSError, ValueError, AttributeError):
                stream = sys.stderr
        self.stream = stream
        self.last = -math.inf
        self.t0 = time.perf_counter()
        self.lines: list[str] = []

    def emit(self, record):
        for line in record.getMessage().splitlines():
            line = line.rstrip()
            self.lines.append(line)
            now = time.perf_counter()
            if (_ROW.match(line) and now - self.last >= self.every_s) or line.strip().startswith("Status"):
                self.last = now
                print(f"[{self.label} {now - self.t0:6.1f}s] {line.strip()}", file=self.stream, flush=True)


def highs_solve(model, *, mip_gap: float = 1e-4, time_limit: float | None = None, progress: bool = False,
                label: str = "EF", threads: int | None = None):
    """Solve a Pyomo model with HiGHS; return (lower_bound, upper_bound, status, seconds)."""
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.mip_gap = mip_gap
    if time_limit is not None:
        opt.config.time_limit = time_limit
    opt.config.load_solution = False
    if threads is not None:
        opt.highs_options["threads"] = threads
    handler = None
    if progress:
        logger = logging.getLogger(f"planner.highs.{label}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        handler = _HighsLogSummary(label)
        logger.handlers = [handler]
        opt.config.solver_output_logger = logger
        opt.config.log_level = logging.INFO
    t0 = time.perf_counter()
    try:
        res = opt.solve(model)
    finally:
        if handler is not None and handler.stream not in (sys.stderr, sys.stdout):
            handler.stream.close()
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
    return lb, ub, status, seconds


def nonant_vars(scenario_model) -> list:
    node = scenario_model._mpisppy_node_list[0]
    out = []
    for comp in node.nonant_list:
        out.extend(comp.values() if comp.is_indexed() else [comp])
    return out


def build_ef(module, scenario_names, creator_kwargs=None):
    """The extensive form of ``module`` over ``scenario_names`` (mpi-sppy's create_EF)."""
    from mpisppy.utils import sputils

    return sputils.create_EF(scenario_names, module.scenario_creator,
                             scenario_creator_kwargs=creator_kwargs or {}, suppress_warnings=True)


def ef_scenarios(ef):
    from mpisppy.utils import sputils

    if hasattr(ef, "_mpisppy_node_list"):  # create_EF returns the scenario model itself for one scenario
        return [(ef._ef_scenario_names[0], ef)]
    return list(sputils.ef_scenarios(ef))


def solve_ef(module, scenario_names, creator_kwargs=None, *, mip_gap: float = 1e-4,
             time_limit: float | None = None, progress: bool = False):
    """Solve the extensive form; return (SolveResult, ef_model)."""
    t0 = time.perf_counter()
    ef = build_ef(module, scenario_names, creator_kwargs)
    if progress:
        print(f"[EF] built {len(scenario_names)} scenarios in {time.perf_counter() - t0:.1f} s", flush=True)
    lb, ub, status, _ = highs_solve(ef, mip_gap=mip_gap, time_limit=time_limit, progress=progress)
    first = {}
    if math.isfinite(ub):
        _, model0 = ef_scenarios(ef)[0]
        first = {v.name.split(".", 1)[-1]: float(v.value) for v in nonant_vars(model0) if v.value is not None}
    result = SolveResult(lower_bound=lb, upper_bound=ub, status=status, time_s=time.perf_counter() - t0,
                         method="EF", first_stage=first)
    return result, ef
