"""Common interface of the site decompositions: the result with its bounds, progress, the driver.

``run_decomposition(case, method='price'|'quantity'|'prediction', scenarios=None, np=1, ...)`` solves
the day-ahead problem of ``case`` by splitting it into one subproblem per site (and scenario) and a
coordinator (contract and links). Every iteration reports a valid lower bound (a Lagrangian dual
value with the site MIPs' dual bounds) and, when a feasible plan is known, an upper bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from planner.decomposition.recovery import ColumnPool, Plan, polish_plan, select_columns
from planner.decomposition.subproblems import Coordinator, CoupledProblem
from planner.results import SolveResult, relative_gap

METHODS = ("price", "quantity", "prediction")


@dataclass
class IterationRecord:
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


class Progress:
    """One line per iteration: bounds and gap (printed only when enabled)."""

    def __init__(self, method: str, enabled: bool = True):
        self.method, self.enabled = method, enabled

    def __call__(self, rec: IterationRecord):
        if not self.enabled:
            return
        gap = rec.gap
        g = f"{100 * gap:7.3f} %" if math.isfinite(gap) else "      - "
        ub = f"{rec.upper_bound:14,.2f}" if math.isfinite(rec.upper_bound) else f"{'-':>14}"
        print(f"[{self.method}] it {rec.iteration:3d}  LB {rec.lower_bound:14,.2f}  UB {ub}  gap {g}  "
              f"{rec.time_s:7.1f} s  {rec.note}", flush=True)


class DecompositionMethod:
    """Shared machinery: Lagrangian evaluation (lower bound), column pool and recovery (upper bound)."""

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
        self.progress = Progress(self.name, progress)
        self.t0 = time.perf_counter()
        self.stats = {"site_solves": 0, "site_seconds": 0.0, "recovery_seconds": 0.0}
        self._pool_size_at_recovery = -1

    # ---- building bricks -------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def lagrangian(self, lam: np.ndarray):
        """Dual value at ``lam`` (valid lower bound) and the site answers and coordinator plan."""
        sols = self.sites.solve_prices(lam, self.site_time_limit)
        self._count(sols)
        for s in sols:
            self.pool.add(s)
        value, supply, info = self.coordinator.solve_prices(lam)
        bound = sum(s.bound for s in sols) + value
        if bound > self.lower_bound:
            self.lower_bound, self.best_prices = bound, np.array(lam, copy=True)
        return bound, sols, value, supply, info

    def warm_start(self):
        """Starting prices and supplies (n_sub, T). Option ``start`` = "lshaped" (default with several
        scenarios): the LP relaxation by the L-shaped method (planner.decomposition.scenario_lp), its
        bound and the supply prices combined from its master's duals (no supplies); "lp" (default
        for one scenario): the full
        problem's LP relaxation (its optimum a valid lower bound, recorded), its balance duals as
        prices and its supplies (a consistent allocation of the coupling quantities); "day_ahead":
        the day-ahead price plus the energy charge and no supplies. ``lp_time_limit`` (300 s): on
        failure the day-ahead start."""
        p = self.problem
        start = self.options.get("start", "lshaped" if p.n_scenarios > 1 else "lp")
        if start == "lshaped":
            from planner.decomposition.scenario_lp import ScenarioLPs, lshaped

            t = time.perf_counter()
            lps = ScenarioLPs(p)
            left = None if self.time_limit is None else max(1.0, self.time_limit - self.elapsed())
            r = lshaped(p, lps, tol=float(self.options.get("lp_tol", 1e-4)), time_limit=left,
                        progress=self.progress.enabled)
            self.stats["lp_seconds"], self.stats["lp_bound"] = time.perf_counter() - t, r.lower_bound
            self.stats["lp_iterations"] = r.iterations
            if r.lower_bound > self.lower_bound:
                self.lower_bound, self.best_prices = r.lower_bound, np.array(r.prices, copy=True)
            if self.progress.enabled:
                print(f"[{self.name}] LP relaxation (L-shaped, {r.iterations} iterations): bound {r.lower_bound:,.2f}, "
                      f"best point {r.upper_bound:,.2f} in {time.perf_counter() - t:.1f} s; the method starts from "
                      f"its prices", flush=True)
            return r.prices, None
        if start == "lp":
            from planner.decomposition.recovery import lp_prices

            lp = lp_prices(p, time_limit=float(self.options.get("lp_time_limit", 300.0)))
            if lp is not None:
                bound, lam, supply, seconds = lp
                self.stats["lp_seconds"], self.stats["lp_bound"] = seconds, bound
                if bound > self.lower_bound:
                    self.lower_bound, self.best_prices = bound, np.array(lam, copy=True)
                if self.progress.enabled:
                    print(f"[{self.name}] LP relaxation: bound {bound:,.2f} in {seconds:.1f} s; the method starts "
                          f"from its prices and supplies", flush=True)
                return lam, supply
        elif start != "day_ahead":
            raise ValueError(f"start = {start!r}: use 'lshaped', 'lp' or 'day_ahead'")
        return p.initial_prices(), None

    def _count(self, sols):
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
        self.progress(rec)
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

    def run(self) -> DecompositionResult:  # pragma: no cover - abstract
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------
def deterministic_day(scenarios):
    """A one-row ScenarioSet: the probability-weighted mean path (the deterministic day)."""
    from scenarios.scenario_set import ScenarioSet

    return ScenarioSet(scenarios.mean()[None, :, :], np.ones(1), scenarios.variables, ("mean0",),
                       scenarios.period_hours, scenarios.start, dict(scenarios.metadata))


def _default_scenarios(case):
    try:
        from planner.scenario_inputs import case_scenarios
    except ImportError:
        raise ValueError("scenarios: none given and planner.scenario_inputs is not available; pass a ScenarioSet "
                         "(one row for a deterministic day)") from None
    return deterministic_day(case_scenarios(case, case.scenarios.n_scenarios, case.scenarios.seed))


def method_class(method: str):
    if method == "price":
        from planner.decomposition.price import PriceDecomposition as cls
    elif method == "quantity":
        from planner.decomposition.quantity import QuantityDecomposition as cls
    elif method == "prediction":
        from planner.decomposition.prediction import PredictionDecomposition as cls
    else:
        raise ValueError(f"method = {method!r}: allowed values are {', '.join(map(repr, METHODS))}")
    return cls


def run_decomposition(case, method: str = "price", scenarios=None, np: int = 1, max_iterations: int = 30,
                      rel_gap: float = 0.01, progress: bool = True, *, time_limit: float | None = None,
                      site_mip_gap: float = 1e-3, site_time_limit: float = 10.0, site_map=None,
                      **options) -> DecompositionResult:
    """Solve ``case`` by site decomposition.

    ``scenarios``: a ScenarioSet (one row = deterministic day; several rows = two-stage problem, the
    day-ahead volumes shared, everything else per scenario); None = the deterministic day of the
    case's default scenarios. ``np`` > 1 runs the site subproblems on that many MPI ranks (mpiexec);
    ``site_mip_gap``/``site_time_limit`` control each site MIP (its dual bound keeps the lower bound
    valid); the time limit doubles after an iteration that does not raise the lower bound while
    some site MIP stopped on that limit, up to
    ``site_time_limit_max`` (default 8 x). Other options go to the method (e.g. ``start``: "lshaped"
    (default with several scenarios) or "lp" (default for one) starts from the LP relaxation's bound
    and prices, "day_ahead" from the day-ahead price;
    ``recover_every``, ``delta0``, ``polish_max_sub``:
    up to this many site-scenario subproblems the recovered plan is polished by re-optimising every
    continuous decision of the full model with its integer schedules fixed, an LP).
    """
    method_class(method)  # validates the name
    if not isinstance(np, int) or np < 1:
        raise ValueError(f"np = {np!r}: give a positive number of MPI ranks")
    if scenarios is None:
        scenarios = _default_scenarios(case)
    if np > 1 and site_map is None:
        from planner.decomposition.parallel import run_under_mpi

        return run_under_mpi(case, method, scenarios, np, dict(
            max_iterations=max_iterations, rel_gap=rel_gap, progress=progress, time_limit=time_limit,
            site_mip_gap=site_mip_gap, site_time_limit=site_time_limit, **options))
    problem = CoupledProblem.from_case(case, scenarios)
    if site_map is None:
        from planner.decomposition.parallel import SerialSiteMap

        site_map = SerialSiteMap(problem, mip_gap=site_mip_gap, time_limit=site_time_limit)
    algo = method_class(method)(problem, site_map, max_iterations=max_iterations, rel_gap=rel_gap,
                                progress=progress, time_limit=time_limit, site_time_limit=site_time_limit, **options)
    return algo.run()


def plot_bounds(result: DecompositionResult, path=None, ax=None):
    """Lower and upper bounds per iteration (and the gap on a second axis); saved to ``path`` if given."""
    import matplotlib.pyplot as plt

    it = [r.iteration for r in result.history]
    lb = [r.lower_bound for r in result.history]
    ub = [r.upper_bound if math.isfinite(r.upper_bound) else np.nan for r in result.history]
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(it, lb, "o-", label="lower bound (dual)")
    ax.plot(it, ub, "s-", label="upper bound (feasible plan)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("expected cost (EUR)")
    ax.set_title(f"{result.method} decomposition: {result.n_sites} sites, {result.n_scenarios} scenario(s)")
    ax.legend(loc="lower right")
    ax2 = ax.twinx()
    gaps = [100 * r.gap if math.isfinite(r.gap) else np.nan for r in result.history]
    ax2.plot(it, gaps, ":", color="grey", label="gap %")
    ax2.set_ylabel("gap (%)")
    ax2.set_yscale("log")
    fig = ax.figure
    if path is not None:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    if own and path is not None:
        plt.close(fig)
    return fig
