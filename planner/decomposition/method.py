"""The common part of the site decompositions: the abstract method (Lagrangian lower bound, column pool
and recovery for the upper bound, site time limits, stopping) and its result and iteration types."""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from planner.dayahead.lshaped import ScenarioLPs, lshaped
from planner.decomposition.coordinator import Coordinator
from planner.decomposition.recovery import ColumnPool, Plan, lp_prices, polish_plan, select_columns
from planner.decomposition.subproblems import CoupledProblem
from planner.progress import Progress
from planner.results import SolveResult, relative_gap


@dataclass
class IterationRecord:
    """The bounds (EUR) after one iteration, the time since the start and what the iteration did."""

    iteration: int
    lower_bound: float
    upper_bound: float
    time_s: float
    note: str = ""

    @property
    def gap(self) -> float:
        return relative_gap(self.lower_bound, self.upper_bound)


@dataclass
class DecompositionResult:
    """Bounds of the optimum (EUR), the best feasible plan and the per-iteration history."""

    method: str
    lower_bound: float
    upper_bound: float
    time_s: float
    iterations: int
    plan: Plan | None
    history: list = field(default_factory=list)
    prices: np.ndarray | None = None  # (n_sub, T) EUR/MWh at the best lower bound
    n_sites: int = 0
    n_scenarios: int = 0
    ranks: int = 1
    status: str = ""
    stats: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return relative_gap(self.lower_bound, self.upper_bound)

    def summary(self) -> str:
        return (f"{self.method}: {self.n_sites} sites x {self.n_scenarios} scenarios, {self.iterations} iterations, "
                f"LB {self.lower_bound:,.2f}  UB {self.upper_bound:,.2f}  gap {100 * self.gap:.3f} %  "
                f"time {self.time_s:.1f} s ({self.ranks} rank{'s' if self.ranks > 1 else ''}, {self.status})")

    def to_solve_result(self) -> SolveResult:
        return SolveResult(self.lower_bound, self.upper_bound, self.status, self.time_s,
                           method=f"decomposition-{self.method}", iterations=self.iterations,
                           log=[(r.iteration, r.lower_bound, r.upper_bound, r.time_s) for r in self.history])


class DecompositionMethod(ABC):
    """Shared machinery: Lagrangian evaluation (lower bound), column pool and recovery (upper bound).
    A method sets ``name`` and implements ``run`` (iterate, ``record`` each iteration, return ``result``)."""

    name = "base"

    def __init__(self, problem: CoupledProblem, site_map, *, max_iterations: int = 30, rel_gap: float = 0.01,
                 progress: bool = True, time_limit: float | None = None, recover_every: int = 1,
                 recovery_time_limit: float = 60.0, polish_max_sub: int = 300, site_time_limit: float = 10.0,
                 site_time_limit_max: float | None = None, **options):
        self.problem, self.sites = problem, site_map
        self.max_iterations, self.rel_gap = int(max_iterations), float(rel_gap)
        self.time_limit = time_limit
        self.recover_every, self.recovery_time_limit = max(1, int(recover_every)), recovery_time_limit
        self.options = options
        self.polish_max_sub = int(polish_max_sub)
        # inexact oracle made exact progressively: the site MIP time limit doubles whenever an
        # iteration fails to raise the lower bound *and* some site MIP stopped on its time limit
        # (up to site_time_limit_max, default 8x); null steps of an exact oracle change nothing
        self.site_time_limit = float(site_time_limit)
        self.site_time_limit_max = float(site_time_limit_max or 8 * site_time_limit)
        self._lb_before = -math.inf
        self._timed_out = 0
        self.coordinator = Coordinator(problem)
        self.pool = ColumnPool(problem.n_sub)
        self.lower_bound, self.upper_bound = -math.inf, math.inf
        self.best_prices = None
        self.plan: Plan | None = None
        self.history: list[IterationRecord] = []
        self.progress = Progress(f"{self.name} decomposition", progress)
        self.t0 = time.perf_counter()
        self.stats = {"site_solves": 0, "site_seconds": 0.0, "recovery_seconds": 0.0}
        self._pool_size_at_recovery = -1

    # ---- building bricks -------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def lagrangian(self, lam: np.ndarray):
        """Dual value at ``lam`` (valid lower bound) and the site answers and coordinator plan."""
        sols = self.sites.solve_prices(lam, self.site_time_limit)
        self.count_site_solves(sols)
        for s in sols:
            self.pool.add(s)
        value, supply, info = self.coordinator.solve_prices(lam)
        bound = sum(s.bound for s in sols) + value
        if bound > self.lower_bound:
            self.lower_bound, self.best_prices = bound, np.array(lam, copy=True)
        return bound, sols, value, supply, info

    def warm_start(self):
        """Starting prices and supplies (n_sub, T). Option ``start`` = "lshaped" (default with several
        scenarios): the LP relaxation by the L-shaped method (planner.dayahead.lshaped), its
        bound and the supply prices combined from its master's duals (no supplies); "lp" (default
        for one scenario): the full
        problem's LP relaxation (its optimum a valid lower bound, recorded), its balance duals as
        prices and its supplies (a consistent allocation of the coupling quantities); "day_ahead":
        the day-ahead price plus the energy charge and no supplies. ``lp_time_limit`` (300 s): on
        failure the day-ahead start."""
        p = self.problem
        start = self.options.get("start", "lshaped" if p.n_scenarios > 1 else "lp")
        if start == "lshaped":
            t = time.perf_counter()
            lps = ScenarioLPs(p)
            left = None if self.time_limit is None else max(1.0, self.time_limit - self.elapsed())
            r = lshaped(p, lps, tol=float(self.options.get("lp_tol", 1e-4)), time_limit=left,
                        progress=self.progress.enabled)
            self.stats["lp_seconds"], self.stats["lp_bound"] = time.perf_counter() - t, r.lower_bound
            self.stats["lp_iterations"] = r.iterations
            if r.lower_bound > self.lower_bound:
                self.lower_bound, self.best_prices = r.lower_bound, np.array(r.prices, copy=True)
            self.progress.message(f"LP relaxation (L-shaped, {r.iterations} iterations): bound {r.lower_bound:,.2f}, "
                                  f"best point {r.upper_bound:,.2f} in {time.perf_counter() - t:.1f} s; the method "
                                  f"starts from its prices")
            return r.prices, None
        if start == "lp":
            lp = lp_prices(p, time_limit=float(self.options.get("lp_time_limit", 300.0)))
            if lp is not None:
                bound, lam, supply, seconds = lp
                self.stats["lp_seconds"], self.stats["lp_bound"] = seconds, bound
                if bound > self.lower_bound:
                    self.lower_bound, self.best_prices = bound, np.array(lam, copy=True)
                self.progress.message(f"LP relaxation: bound {bound:,.2f} in {seconds:.1f} s; the method starts "
                                      f"from its prices and supplies")
                return lam, supply
        elif start != "day_ahead":
            raise ValueError(f"start = {start!r}: use 'lshaped', 'lp' or 'day_ahead'")
        return p.initial_prices(), None

    def count_site_solves(self, sols):
        """Book the site solves of one round (their number, seconds and how many hit the time limit)."""
        self.stats["site_solves"] += len(sols)
        self.stats["site_seconds"] += sum(s.seconds for s in sols)
        self._timed_out = sum(s.seconds >= 0.95 * self.site_time_limit for s in sols)

    def offer_plan(self, plan: Plan | None):
        if plan is not None and plan.cost_eur < self.upper_bound:
            self.upper_bound, self.plan = plan.cost_eur, plan

    def recover(self, force: bool = False):
        """Column selection over every site plan seen so far (skipped when no new column arrived)."""
        if not force and len(self.pool) == self._pool_size_at_recovery:
            return
        self._pool_size_at_recovery = len(self.pool)
        t = time.perf_counter()
        plan = select_columns(self.problem, self.pool, time_limit=self.recovery_time_limit)
        self.offer_plan(plan)
        if plan is not None and self.problem.n_sub <= self.polish_max_sub:
            self.offer_plan(polish_plan(self.problem, plan))
        self.stats["recovery_seconds"] += time.perf_counter() - t

    def record(self, iteration: int, note: str = "") -> IterationRecord:
        if (iteration > 0 and self._timed_out and
                self.lower_bound <= self._lb_before + 1e-9 * abs(self.lower_bound)):
            self.site_time_limit = min(2 * self.site_time_limit, self.site_time_limit_max)
        self._lb_before = self.lower_bound
        note = f"{note}; site limit {self.site_time_limit:g} s" if note else f"site limit {self.site_time_limit:g} s"
        rec = IterationRecord(iteration, self.lower_bound, self.upper_bound, self.elapsed(), note)
        self.history.append(rec)
        self.progress.update(iteration, self.lower_bound, self.upper_bound, note=note)
        return rec

    def done(self) -> bool:
        if relative_gap(self.lower_bound, self.upper_bound) <= self.rel_gap:
            return True
        return self.time_limit is not None and self.elapsed() >= self.time_limit

    def result(self, iterations: int) -> DecompositionResult:
        gap = relative_gap(self.lower_bound, self.upper_bound)
        status = "converged" if gap <= self.rel_gap else (
            "time_limit" if self.time_limit is not None and self.elapsed() >= self.time_limit else "max_iterations")
        return DecompositionResult(self.name, self.lower_bound, self.upper_bound, self.elapsed(), iterations,
                                   self.plan, list(self.history), self.best_prices, self.problem.n_sites,
                                   self.problem.n_scenarios, getattr(self.sites, "size", 1), status, dict(self.stats))

    @abstractmethod
    def run(self) -> DecompositionResult:
        """Iterate until ``done()`` or the iteration limit; the result with its bounds and plan."""
