"""The month-long demand-charge policy: train the SDDP month model (``planner.policy.month_model``)
to a statistical gap or a time limit, warm-start it from a cut file, and compare it with the daily
look-ahead, the fixed schedule, the seed rule and perfect foresight on the same generated and real
months (``planner.policy.month_baselines``); figures of the bill breakdown, the peak path, the state
of charge across the month and the policy comparison with paired differences.

``run_month(case, ...)`` returns a :class:`MonthResult`; ``month_stage(case, report, ...)`` adds it to
a report (``planner policy CASE --horizon month``).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import sddp
from planner.case import Case
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.month_baselines import (
    COMPONENTS,
    LOOKAHEAD,
    MONTH_POLICIES,
    generated_month_paths,
    month_comparison,
    real_month_paths,
    simulate_month_policies,
)
from planner.policy.month_model import MonthModel, build_month_model, month_inputs
from planner.policy.month_price import load_price_level
from planner.progress import Progress, seconds_left
from planner.results import relative_gap



def new_figure(*args, **kwargs):
    """A new figure, drawn off screen (Agg) unless inline in a notebook."""
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    return plt.subplots(*args, **kwargs)


@dataclass
class MonthTraining:
    """Training of the month policy: bounds, the statistical upper bound with its 95 % interval, gap."""

    lower_bound: float
    upper_bound: float
    upper_bound_ci: tuple
    gap: float
    iterations: int
    time_s: float
    bound_history: list
    cut_file: str | None
    initial_bound: float
    plain_upper_bound: tuple = (float("nan"), (float("nan"), float("nan")))  # sample mean and CI, no control variate

    @property
    def gap_ci(self) -> float:
        return relative_gap(self.lower_bound, self.upper_bound_ci[1])


def expected_level_sum(model: MonthModel) -> float:
    """E[sum_d y_d] of the training graph's level process from its initial level (exact: the level
    innovations of the graph have mean 1, so E[y_d] = a + phi E[y_{d-1}])."""
    inp = model.inputs
    y, total = inp.initial_level, 0.0
    for _ in range(inp.n_days):
        y = inp.level.intercept_eur_per_mwh + inp.level.persistence * y
        total += y
    return float(total)


def statistical_upper_bound(model: MonthModel, replications: int, random_state: int):
    """In-sample simulation of the policy: (mean, 95 % interval) of the operating cost (no f1), and the
    plain sample (mean, interval).

    The month's cost moves with its price levels far more than with anything the policy decides (the
    plain 95 % half-width is about 5 % of the mean on 100 months), so the estimate uses the month's
    level sum ``L = sum_d y_d`` as a control variate: ``cost - b (L - E[L])``, ``b`` the least-squares
    slope, ``E[L]`` known exactly (:func:`expected_level_sum`). It estimates the same mean (unbiased up
    to O(1/n) from the fitted ``b``) with the variance of the residual, about 1/100 of the plain one."""
    sim = sddp.simulate(model.graph, replications, variables=["objective_state"], random_state=random_state)
    costs = np.asarray(sim.costs, dtype=float)
    plain = (float(costs.mean()), tuple(sim.ci))
    data = sim.data[sim.data["stage"] % 2 == 1]
    level_sum = data.groupby("replication")["value"].sum().reindex(range(len(costs))).to_numpy(dtype=float)
    if len(costs) < 3 or not np.all(np.isfinite(level_sum)) or np.var(level_sum) <= 0.0:
        return plain[0], plain[1], plain
    slope = float(np.cov(costs, level_sum)[0, 1] / np.var(level_sum, ddof=1))
    adjusted = costs - slope * (level_sum - expected_level_sum(model))
    mean = float(adjusted.mean())
    half = float(1.96 * adjusted.std(ddof=2) / np.sqrt(len(adjusted)))
    return mean, (mean - half, mean + half), plain


def train_month(model: MonthModel, iterations: int = 500, time_limit: float | None = 600.0, gap: float = 0.01,
                check_every: int = 25, replications: int = 100, random_state: int = 0, cut_file=None,
                target_cuts=None, progress: Progress | None = None) -> MonthTraining:
    """Train in chunks of ``check_every`` iterations until the statistical gap ``(UB - LB) / UB`` (UB: the
    top of the 95 % interval of the in-sample mean of ``replications`` simulated months, control-variate
    estimate of :func:`statistical_upper_bound`) is at most ``gap``, ``iterations`` are done or
    ``time_limit`` seconds (wall clock, checked between chunks and inside them) have passed.
    ``cut_file``: cuts of an earlier month loaded first (warm start)."""
    log = progress or Progress("month policy", enabled=False)
    if cut_file is not None:
        try:
            sddp.read_cuts(model.graph, cut_file)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"cut_file = {cut_file!s} does not fit this month model ({exc}); it was written "
                             "for another case, number of days or schedule") from None
    start = time.perf_counter()
    history, done = [], 0
    initial = None
    ub, ci, g = float("nan"), (float("nan"), float("nan")), float("inf")
    plain = (ub, ci)
    chunk = 0
    while done < iterations:
        left = None if time_limit is None else time_limit - (time.perf_counter() - start)
        outer = seconds_left()
        if outer is not None:
            left = outer if left is None else min(left, outer)
        if left is not None and left <= 0:
            break
        n = min(check_every, iterations - done)
        res = sddp.train(model.graph, iteration_limit=n, time_limit=left, print_level=0,
                         random_state=random_state + chunk)
        if initial is None:
            initial = res.bound_history[0]
        chunk += 1
        history += list(res.bound_history)
        done += res.iterations
        ub, ci, plain = statistical_upper_bound(model, replications, random_state + 10_000 + chunk)
        g = relative_gap(history[-1], ci[1])
        log.message(f"{done:5d} iterations  {time.perf_counter() - start:7.1f} s  lower bound {history[-1]:,.1f} EUR  "
                    f"simulated {ub:,.1f} EUR (95 % CI {ci[0]:,.1f} .. {ci[1]:,.1f}; plain sample "
                    f"{plain[1][0]:,.1f} .. {plain[1][1]:,.1f})  gap {100 * relative_gap(history[-1], ub):.2f} % "
                    f"({100 * g:.2f} % at the top of the CI)")
        if g <= gap:
            break
    bound = sddp.calculate_bound(model.graph) if history else float("nan")
    if target_cuts is not None:
        sddp.write_cuts(model.graph, target_cuts, only_active=False)
    return MonthTraining(float(bound), float(ub), tuple(ci), float(relative_gap(bound, ub)), done,
                         time.perf_counter() - start, history, None if target_cuts is None else str(target_cuts),
                         float("nan") if initial is None else float(initial), plain)


@dataclass
class MonthResult:
    """What :func:`run_month` returns (EUR per month)."""

    case_name: str
    n_days: int
    training: MonthTraining
    comparisons: pd.DataFrame            # one block of rows per path set (generated, real <year>)
    outcomes: dict                       # label -> {policy: MonthOutcome}
    battery_sites: tuple
    threshold_kw: float
    figures: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def lower_bound(self) -> float:
        return self.training.lower_bound

    @property
    def upper_bound(self) -> float:
        return self.training.upper_bound

    @property
    def gap(self) -> float:
        return self.training.gap

    def summary(self) -> dict:
        t = self.training
        return {"case": self.case_name, "days": self.n_days, "lower_bound_eur": t.lower_bound,
                "upper_bound_eur": t.upper_bound, "upper_bound_ci_eur": list(t.upper_bound_ci), "gap": t.gap,
                "gap_ci": t.gap_ci, "iterations": t.iterations, "train_time_s": t.time_s, "cut_file": t.cut_file,
                "notes": self.notes, "figures": {k: str(v) for k, v in self.figures.items()}}

    def save(self, output_dir) -> Path:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "month_summary.json").write_text(json.dumps(self.summary(), indent=2, default=float))
        self.comparisons.to_csv(out / "month_comparison.csv", index=False)
        return out


def run_month(case: Case, n_days: int = 30, iterations: int = 500, simulations: int = 50, random_state: int = 0,
              time_limit: float | None = 600.0, gap: float = 0.01, output_dir=None, progress: bool = True,
              training_days: int = 20, purchase_points: int = 5, real_years=(2019, 2022),
              schedule: FixedSchedule | None = None, cut_file=None, policies=MONTH_POLICIES,
              check_every: int = 25, replications: int = 100, purchase_blocks: int = 4,
              purchase_band: float | None = 0.3) -> MonthResult:
    """Train the month policy of ``case`` and compare the policies on ``simulations`` generated months
    and on the real months of ``real_years`` (skipped without the price data)."""
    for name, value, low in (("n_days", n_days, 1), ("iterations", iterations, 0), ("simulations", simulations, 2),
                             ("training_days", training_days, 1), ("purchase_points", purchase_points, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} = {value!r}: must be a whole number >= {low}")
    if not isinstance(case, Case):
        raise TypeError(f"case must be a planner.case.Case; got {type(case).__name__}")
    if cut_file is not None and not Path(cut_file).exists():
        raise FileNotFoundError(f"cut_file = {cut_file!s}: no such file; train once with output_dir= to write it")
    log = Progress("month policy", enabled=progress)
    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="month_"))
    out.mkdir(parents=True, exist_ok=True)
    inp = month_inputs(case, load_price_level(), n_days, training_days, schedule, random_state,
                       purchase_blocks=purchase_blocks, purchase_band=purchase_band)
    model = build_month_model(inp, purchase_points)
    log.message(f"case {case.name!r}: {n_days} days, {len(model.graph.nodes)} stages, {len(model.state_names)} "
                f"states, {len(model.operation_support)} training days x {purchase_points} level innovations; "
                f"initial level {inp.initial_level:.1f} EUR/MWh")
    training = train_month(model, iterations, time_limit, gap, check_every, replications, random_state, cut_file,
                           out / "month_cuts.json", log)
    frames, outcomes = [], {}
    sets = [generated_month_paths(inp, case, simulations, random_state + 1)]
    for year in real_years:
        paths = real_month_paths(inp, case, year)
        if paths is not None:
            sets.append(paths)
    for paths in sets:
        outcomes[paths.label] = simulate_month_policies(model, paths, policies, log)
        frames.append(month_comparison(outcomes[paths.label], paths.label))
    result = MonthResult(case.name, n_days, training, pd.concat(frames, ignore_index=True), outcomes,
                         tuple(inp.day.site_names[i] for i in inp.day.battery_sites), inp.day.overrun_threshold_kw,
                         notes=list(inp.day.notes) + [
                             f"price level: AR(1) {inp.level.fitted_on}; one policy serves every level (objective state)",
                             "production schedule: " + inp.schedule.source + " (the same every day)",
                             f"day-ahead purchases of SDDP: {purchase_blocks} block(s) of {inp.n_periods // purchase_blocks} "
                             f"period(s) around the expected net load, band "
                             + ("none" if purchase_band is None else f"{100 * purchase_band:.0f} %")
                             + "; the row 'daily look-ahead, SDDP's purchase blocks' uses the same purchase options",
                             "within a day the operation LP sees the whole day's intraday prices, PV and wind "
                             "(every policy alike); purchases are decided before them"])
    if output_dir is not None:
        result.figures = {"month_policy": plot_month(result, out / "month_policy.png"),
                          "month_bounds": plot_month_bounds(result, out / "month_bounds.png")}
        result.save(out)
    log.message(f"done in {log.elapsed:.1f} s")
    return result


# ---------------------------------------------------------------------------------------------
def plot_month(result: MonthResult, path) -> Path:
    """Four panels: bill breakdown per policy, running peak across the month, SoC across the month
    (SDDP, generated months), paired difference to the daily look-ahead with 95 % intervals."""
    label = "generated"
    outcomes = result.outcomes[label]
    fig, axes = new_figure(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    names = list(outcomes)
    above, below = np.zeros(len(names)), np.zeros(len(names))
    for k, comp in enumerate(COMPONENTS):  # costs stacked up from 0, revenues (negative parts) down from 0
        vals = np.array([outcomes[n].bill[:, k].mean() for n in names]) / 1000.0
        bottom = np.where(vals >= 0, above, below)
        ax.bar(range(len(names)), vals, bottom=bottom, label=comp.replace("_eur", ""), color=f"C{k}")
        above += np.maximum(vals, 0.0)
        below += np.minimum(vals, 0.0)
    totals = np.array([outcomes[n].total_eur.mean() for n in names]) / 1000.0
    ax.plot(range(len(names)), totals, "k_", markersize=30, label="total")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)), [n.replace(" (expected values)", "") for n in names], rotation=20, fontsize=8)
    ax.set_ylabel("mean monthly bill (kEUR)")
    ax.set_title("bill breakdown (generated months; resale revenue below 0)")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    days = np.arange(1, result.n_days + 1)
    for n in names:
        ax.plot(days, outcomes[n].peak_kw.mean(axis=0), label=n)
    ax.axhline(result.threshold_kw, color="k", ls="--", label="overrun threshold")
    ax.set_xlabel("day of the month")
    ax.set_ylabel("running monthly peak (kW, mean over months)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    sddp_out = outcomes.get("SDDP month") or outcomes[names[0]]
    for j, site in enumerate(result.battery_sites):
        soc = sddp_out.soc_kwh[:, :, j]
        ax.plot(np.arange(result.n_days + 1), soc.mean(axis=0), label=f"{site} (mean)")
        ax.fill_between(np.arange(result.n_days + 1), soc.min(axis=0), soc.max(axis=0), alpha=0.2)
    ax.set_xlabel("end of day")
    ax.set_ylabel("state of charge (kWh)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{sddp_out.policy}: state of charge across the month (min-max band)")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    table = result.comparisons
    table = table[table["policy"] != LOOKAHEAD]
    ylabels = [f"{r.paths}: {r.policy}" for r in table.itertuples()]
    ax.errorbar(table["vs_lookahead_eur"], range(len(table)), xerr=table["vs_lookahead_ci_half_eur"], fmt="o")
    ax.axvline(0.0, color="k")
    ax.set_yticks(range(len(table)), ylabels, fontsize=7)
    ax.set_xlabel("bill minus the daily look-ahead's on the same months (EUR, 95 % interval)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_month_bounds(result: MonthResult, path) -> Path:
    """Lower bound per iteration and the simulated upper bound with its 95 % interval."""
    t = result.training
    fig, ax = new_figure(figsize=(7, 4))
    ax.plot(np.arange(1, len(t.bound_history) + 1), t.bound_history, label="lower bound (SDDP)")
    if np.isfinite(t.upper_bound):
        ax.axhspan(*t.upper_bound_ci, color="tab:orange", alpha=0.25, label="simulated mean, 95 % CI")
        ax.axhline(t.upper_bound, color="tab:orange")
    ax.set_xlabel("iteration")
    ax.set_ylabel("operating cost of the month (EUR, without f1)")
    ax.set_title(f"{result.case_name}: gap {100 * t.gap:.2f} % after {t.iterations} iterations")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def month_stage(case, report, n_days: int = 30, iterations: int = 500, simulations: int = 50, random_state: int = 0,
                time_limit: float | None = 600.0, gap: float = 0.01, plan_result=None):
    """The month policy as a report section (``planner policy CASE --horizon month``)."""
    schedule = FixedSchedule.from_plan(plan_result, case) if plan_result is not None else None
    section = report.section("Month-long demand-charge policy (SDDP)")
    result = run_month(case, n_days=n_days, iterations=iterations, simulations=simulations,
                       random_state=random_state, time_limit=time_limit, gap=gap,
                       output_dir=report.output_dir / "month", schedule=schedule)
    t = result.training
    section.paragraphs.append(
        f"One billing month of {n_days} days: each day a purchase node (day-ahead volumes, before the day's "
        f"intraday prices, PV and wind) then an operation node (the day's hours as one LP); states: state of "
        f"charge, running monthly peak and overrun; the daily price level is an objective state. "
        f"{t.iterations} iterations in {t.time_s:.1f} s: lower bound {t.lower_bound:,.0f} EUR, statistical "
        f"upper bound {t.upper_bound:,.0f} EUR (95 % interval {t.upper_bound_ci[0]:,.0f} .. "
        f"{t.upper_bound_ci[1]:,.0f}), gap {100 * t.gap:.2f} %. Bills include f1 x subscribed power.")
    for note in result.notes:
        section.paragraphs.append(f"Note: {note}")
    cols = ["paths", "policy", "n", "mean_bill_eur", "ci_low_eur", "ci_high_eur", "vs_lookahead_eur",
            "vs_lookahead_ci_half_eur", "pf_saving_share_vs_fixed", "mean_peak_kw", *COMPONENTS]
    report.add_table(section, "Monthly bill per policy on the same months (EUR; paired difference to the daily "
                     "look-ahead with its 95 % half-width)", result.comparisons[cols].round(2), "month_comparison")
    captions = {"month_policy": "Bill breakdown, running peak, state of charge across the month, paired "
                                "differences to the daily look-ahead",
                "month_bounds": "Lower bound by iteration and the simulated upper bound"}
    for key, path in result.figures.items():
        section.figures.append((captions.get(key, key), path))
    return result
