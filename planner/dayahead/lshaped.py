"""The LP relaxation of the two-stage problem by the L-shaped method, scenario LPs kept warm in HiGHS.

The monolithic LP relaxation of a many-scenario case is large (50 scenarios of the default case:
120,000 rows, 85 s with HiGHS's interior point). Its first stage is small (the day-ahead volumes,
zones x periods), so it is solved here by Benders decomposition (the L-shaped method of Van Slyke and
Wets 1969, one cut per scenario, Birge and Louveaux 1988) with a trust region on the day-ahead volumes
(Linderoth and Wright 2003):

- ``ScenarioLPs`` builds one scenario's Pyomo model (planner.dayahead.model, every binary relaxed to
  [0, 1]) once, translates it to HiGHS, and derives every other scenario's LP from it by changing the
  scenario data in place (prices in the objective, available PV and wind in the right-hand sides, the
  grid-port bounds); each scenario keeps its own HiGHS instance, re-solved from its last basis when the
  day-ahead volumes move. The day-ahead columns are fixed at the trial point; their reduced costs are
  the subgradient of the scenario's value function.
- ``lshaped`` iterates master (day-ahead volumes, one epigraph variable per scenario) and scenario
  LPs until the master's bound (without trust region: a valid lower bound) meets the best evaluated
  point within ``tol``. On convergence the master's cut duals (a convex combination per scenario,
  weights y_sk / p_s) combine the scenario LPs' balance duals into site-supply prices whose
  Lagrangian (relaxed sites, the coordinator choosing the day-ahead volumes) equals the LP optimum:
  the prices the price decomposition starts from.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import highspy
import numpy as np
import pyomo.environ as pyo

from planner.blocks.site import grid_port_bound_kw
from planner.dayahead.data import zones_of
from planner.dayahead.model import build_day_ahead_model, dispatch_frame, schedule_frame
from planner.progress import Progress
from planner.results import relative_gap
from planner.solvers.highs import TIGHT_TOLERANCES, appsi_highs, column_of, highs_lp, highs_of, relax_binaries, row_of
from planner.solvers.workers import WorkerPool


class ScenarioLPs:
    """One LP per scenario (binaries relaxed), derived from a template model and changed in place.

    ``problem``: a CoupledProblem; ``owned``: the scenario indices held here (default all).
    ``solve(w, x)`` fixes the day-ahead volumes at ``x`` (zones x periods, kW) and returns the value,
    the subgradient with respect to ``x`` (EUR per kW) and the balance duals as supply prices
    (sites x periods, EUR/MWh).
    """

    TOL = 1e-9

    def __init__(self, problem, owned=None):
        self.problem = problem
        case = problem.case
        self.zones = list(zones_of(case))
        T = range(case.n_periods)
        m = build_day_ahead_model(case, problem.data[0], name="template")
        self.binary_names = [v.name for v in relax_binaries(m)]
        opt = appsi_highs(threads=None)
        opt.set_instance(m)
        col = partial(column_of, opt)
        row = partial(row_of, opt)
        self.x_cols = np.array([col(m.contract.day_ahead_kw[z, t]) for z in self.zones for t in T], dtype=np.int32)
        self.x_upper = np.array([m.contract.day_ahead_kw[z, t].ub for z in self.zones for t in T], dtype=float)
        names = case.site_names
        self.balance_rows = np.array([row(m.site[s].balance[t]) for s in names for t in T], dtype=np.int32)
        self.binary_cols = np.array([col(m.find_component(n)) for n in self.binary_names], dtype=np.int32)
        self._col_of = {n: c for n, c in zip(self.binary_names, self.binary_cols)}
        self.n_x = len(self.x_cols)
        self.template, self._opt = m, opt   # the template holds the data of the scenario set last (set_scenario)
        self._columns = None                # (variable, HiGHS column) of the template, listed by frames
        owned = range(problem.n_scenarios) if owned is None else owned
        self.h: dict[int, highspy.Highs] = {}
        for w in owned:
            self.set_scenario(w)
            h = highs_lp(TIGHT_TOLERANCES)
            h.passModel(highs_of(opt).getLp())
            self.h[w] = h
        self.solves = 0
        self.seconds = 0.0

    def set_scenario(self, w: int) -> None:
        """Put scenario ``w``'s data into the template model and its HiGHS instance: prices, available PV and
        wind, grid-port bounds (the only data that differ between scenarios)."""
        problem, case, m = self.problem, self.problem.case, self.template
        T = range(case.n_periods)
        d = problem.data[w]
        c = m.contract
        for t in T:
            c.p0_eur_per_mwh[t] = float(d["p0"][t])
            c.p1_eur_per_mwh[t] = float(d["p1"][t])
            c.p2_eur_per_mwh[t] = float(d["p2"][t])
        grid_vars = []
        for i, s in enumerate(case.sites):
            b = m.site[s.name]
            pv, wind = np.maximum(d["pv_kw"][s.name], 0.0), np.maximum(d["wind_kw"][s.name], 0.0)
            for t in T:
                b.renewables.pv_available_kw[t] = float(pv[t])
                b.renewables.wind_available_kw[t] = float(wind[t])
            lim = grid_port_bound_kw(s, problem.base_load(i), d["pv_kw"][s.name], d["wind_kw"][s.name])
            for t in T:
                b.grid_kw[t].setlb(-lim)
                b.grid_kw[t].setub(lim)
                grid_vars.append(b.grid_kw[t])
        self._opt.update_params()
        self._opt.update_variables(grid_vars)

    def frames(self, x: np.ndarray, names: list) -> dict:
        """{w: (dispatch frame, schedule frame)} of every owned scenario solved at the day-ahead volumes ``x``
        with its current binaries (``planner.dayahead.model.dispatch_frame`` / ``schedule_frame``, scenario
        ``names[w]``): the HiGHS solution loaded into the template model, so a plan's dispatch needs no
        second model of each scenario."""
        m = self.template
        if self._columns is None:
            cols = self._opt._pyomo_var_to_solver_var_map
            self._columns = [(v, cols[id(v)]) for v in m.component_data_objects(pyo.Var, descend_into=True)
                             if id(v) in cols]
        out = {}
        for w in self.h:
            self.solve(w, x)
            values = self.h[w].getSolution().col_value
            self.set_scenario(w)
            for v, col in self._columns:
                v.set_value(values[col], skip_validation=True)
            out[w] = (dispatch_frame(self.problem.case, m), schedule_frame(self.problem.case, m, names[w]))
        return out

    def fix_binaries(self, w: int, values: dict | None):
        """Fix binaries of scenario ``w`` by name ('site[foundry].line[x].on[M1,3]': 0/1), or free all."""
        h = self.h[w]
        if values is None:
            n = len(self.binary_cols)
            h.changeColsBounds(n, self.binary_cols, np.zeros(n), np.ones(n))
            return
        cols = np.array([self._col_of[k] for k in values], dtype=np.int32)
        vals = np.array([float(v) for v in values.values()])
        h.changeColsBounds(len(cols), cols, vals, vals)

    def solve_free(self, w: int):
        """Scenario ``w`` with its day-ahead volumes free (wait-and-see LP): (value, volumes,
        subgradient, prices). The reduced costs of the volumes are a subgradient of the scenario's
        value function at its own optimum (the LP's dual stays feasible when the volumes are fixed)."""
        t0 = time.perf_counter()
        h = self.h[w]
        if not self.feasible(w):
            raise RuntimeError(f"scenario LP {w}: HiGHS status {h.modelStatusToString(h.getModelStatus())}")
        sol = h.getSolution()
        x = np.asarray(sol.col_value)[self.x_cols]
        grad = np.asarray(sol.col_dual)[self.x_cols]
        lam = (np.asarray(sol.row_dual)[self.balance_rows] / self.problem.kappa).reshape(self.problem.n_sites, -1)
        self.solves += 1
        self.seconds += time.perf_counter() - t0
        return float(h.getInfo().objective_function_value), x, grad, lam

    def solve(self, w: int, x: np.ndarray):
        """(value EUR, subgradient (n_x,), supply prices (sites, T) EUR/MWh) of scenario ``w`` at ``x``."""
        t0 = time.perf_counter()
        h = self.h[w]
        xv = np.clip(np.asarray(x, dtype=float).ravel(), 0.0, self.x_upper)
        h.changeColsBounds(self.n_x, self.x_cols, xv, xv)
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"scenario LP {w}: HiGHS status {h.modelStatusToString(status)} at the trial "
                               "day-ahead volumes")
        sol = h.getSolution()
        value = float(h.getInfo().objective_function_value)
        grad = np.asarray(sol.col_dual)[self.x_cols]
        kappa = self.problem.kappa
        lam = (np.asarray(sol.row_dual)[self.balance_rows] / kappa).reshape(self.problem.n_sites, -1)
        self.solves += 1
        self.seconds += time.perf_counter() - t0
        return value, grad, lam

    def feasible(self, w: int) -> bool:
        """Whether scenario ``w`` has a solution with its current binaries and free day-ahead volumes."""
        h = self.h[w]
        h.changeColsBounds(self.n_x, self.x_cols, np.zeros(self.n_x), self.x_upper)
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    # ---- every owned scenario at once (the interface ScenarioPool shares) -------------------
    def feasible_all(self):
        return {w: self.feasible(w) for w in self.h}

    def solve_all(self, x):
        """{w: (value, subgradient, prices)} for every owned scenario at ``x``."""
        return {w: self.solve(w, x) for w in self.h}

    def solve_free_all(self):
        return {w: self.solve_free(w) for w in self.h}

    def fix_binaries_all(self, values: dict | None):
        for w in self.h:
            self.fix_binaries(w, values)


class ScenarioPool:
    """The scenario LPs spread over ``workers`` forked processes (planner.solvers.workers.WorkerPool; scenario
    w on worker w % workers), with the interface of ScenarioLPs."""

    def __init__(self, problem, workers: int = 2):

        self.problem = problem
        self.pool = WorkerPool(partial(ScenarioLPs, problem), range(problem.n_scenarios), workers,
                               "scenario LP worker")
        # the LPs' layout: from the LPs themselves when they live in this process, else from a template
        template = self.pool.local if self.pool.local is not None else ScenarioLPs(problem, owned=[])
        for name in ("zones", "x_cols", "x_upper", "n_x", "binary_names"):
            setattr(self, name, getattr(template, name))

    def solve_all(self, x):
        return self.pool.call("solve_all", np.asarray(x, dtype=float))

    def solve_free_all(self):
        return self.pool.call("solve_free_all")

    def fix_binaries_all(self, values):
        self.pool.call("fix_binaries_all", values)

    def feasible_all(self):
        return self.pool.call("feasible_all")

    def frames(self, x, names):
        return self.pool.call("frames", np.asarray(x, dtype=float), list(names))

    def close(self):
        self.pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class LShapedResult:
    lower_bound: float      # master bound without trust region (valid for the LP, hence the MIP)
    upper_bound: float      # best evaluated expected LP cost
    x: np.ndarray           # day-ahead volumes of the best point (zones x periods)
    prices: np.ndarray      # (n_sub, T) supply prices (EUR/MWh) combined by the master's duals
    iterations: int
    seconds: float
    history: list

    @property
    def gap(self) -> float:
        """Relative gap of the LP's bounds (planner.results.relative_gap)."""
        return relative_gap(self.lower_bound, self.upper_bound)


def lshaped(problem, lps: ScenarioLPs, *, x0=None, tol: float = 1e-6, max_iterations: int = 200,
            time_limit: float | None = None, stop_upper: float | None = None, label: str = "LP/L-shaped",
            progress: bool = False) -> LShapedResult:
    """Solve the LP relaxation by the multi-cut L-shaped method with a box trust region.

    Stops when the master's bound is within ``tol`` (relative) of the best point, at
    ``time_limit``, or as soon as a point costs at most ``stop_upper`` (when only an upper bound
    is wanted)."""
    t0 = time.perf_counter()
    S, nx = problem.n_scenarios, lps.n_x
    N, T = problem.n_sites, problem.n_periods
    p = np.asarray(problem.probabilities, dtype=float)
    ub = lps.x_upper
    inf = highspy.kHighsInf
    master = highs_lp()
    master.addVars(nx + S, np.concatenate([np.zeros(nx), np.full(S, -inf)]), np.concatenate([ub, np.full(S, inf)]))
    master.changeColsCost(nx + S, np.arange(nx + S, dtype=np.int32), np.concatenate([np.zeros(nx), p]))
    cut_scenario, cut_prices = [], []

    def add_cut(w, value, grad, lam, x):
        # theta_w - grad . x >= value - grad . x_k
        idx = np.concatenate([[nx + w], np.arange(nx)]).astype(np.int32)
        master.addRow(value - float(grad @ x), inf, nx + 1, idx, np.concatenate([[1.0], -grad]))
        cut_scenario.append(w)
        cut_prices.append(lam)

    def evaluate(x):
        total = 0.0
        answers = lps.solve_all(x)
        for w in range(S):
            value, grad, lam = answers[w]
            total += p[w] * value
            add_cut(w, value, grad, lam, x)
        return total

    def solve_master(lo, hi):
        master.changeColsBounds(nx, np.arange(nx, dtype=np.int32), lo, hi)
        master.run()
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"L-shaped master: HiGHS status {master.modelStatusToString(master.getModelStatus())}")
        sol = master.getSolution()
        return np.asarray(sol.col_value)[:nx].copy(), float(master.getInfo().objective_function_value)

    if x0 is None:  # the probability-weighted mean of the wait-and-see volumes (also warms each LP)
        free = lps.solve_free_all()
        xs = np.array([free[w][1] for w in range(S)])
        for w in range(S):  # each scenario's own optimum gives a cut too
            value, xw, grad, lam = free[w]
            add_cut(w, value, grad, lam, xw)
        x0 = p @ xs
        delta = max(1.0, float(np.max(np.sqrt(p @ (xs - x0) ** 2))))
    else:
        delta = 0.05 * float(np.max(ub))
    centre = np.clip(np.asarray(x0, dtype=float).ravel(), 0.0, ub)
    f_centre = evaluate(centre)
    best_x, best_f = centre.copy(), f_centre
    lower = -math.inf
    history = []
    log = Progress(label, enabled=progress)
    it = 0
    for it in range(1, max_iterations + 1):
        _, lower = solve_master(np.zeros(nx), ub)
        history.append((it, lower, best_f, time.perf_counter() - t0))
        log.update(it, lower, best_f, trust_region_kw=delta)
        if best_f - lower <= tol * max(1.0, abs(best_f)):
            break
        if stop_upper is not None and best_f <= stop_upper:
            break
        if time_limit is not None and time.perf_counter() - t0 >= time_limit:
            break
        x, model = solve_master(np.maximum(centre - delta, 0.0), np.minimum(centre + delta, ub))
        predicted = f_centre - model
        if predicted <= tol * max(1.0, abs(f_centre)):
            delta = min(4 * delta, float(np.max(ub)))  # no descent seen in the box: widen it
            continue
        f = evaluate(x)
        if f < best_f:
            best_x, best_f = x.copy(), f
        if f_centre - f >= 0.1 * predicted:
            if f_centre - f >= 0.5 * predicted and np.max(np.abs(x - centre)) >= 0.99 * delta:
                delta = min(2 * delta, float(np.max(ub)))
            centre, f_centre = x, f
        else:
            delta = max(0.5 * delta, 1e-3)
    # combined prices: the master (no trust region) duals on each scenario's cuts
    solve_master(np.zeros(nx), ub)
    y = np.asarray(master.getSolution().row_dual)
    prices = np.zeros((S * N, T))
    weight = np.zeros(S)
    for k, w in enumerate(cut_scenario):
        if y[k] > 1e-12:
            prices[w * N:(w + 1) * N] += y[k] * cut_prices[k]
            weight[w] += y[k]
    for w in range(S):
        if weight[w] > 0:
            prices[w * N:(w + 1) * N] /= weight[w]
    return LShapedResult(lower, best_f, best_x.reshape(len(lps.zones), T), prices, it,
                         time.perf_counter() - t0, history)
