"""The main job: every stage of the planner on one case, each adding its section to one report.

Stages: scenarios (fans, reduction, lattice), day-ahead plan (extensive form, bounds, VSS/EVPI),
battery policy (SDDP bounds, policy comparison), sizing with ageing, decomposition across sites.
``quick=True`` shrinks every size so the whole job runs in tests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from planner.data_sources import metered_load_notes
from planner.dayahead.methods import METHODS
from planner.dayahead.plan import plan
from planner.dayahead.plots import PLAN_FIGURES
from planner.dayahead.study import study
from planner.decomposition import deterministic_day, plot_bounds, run_decomposition
from planner.errors import WallClockLimit
from planner.load_profiles import describe_base_load
from planner.policy.compare import run_policy
from planner.progress import catch_hard_stop, held_answer, hold_answer, seconds_left, wall_clock_limit
from planner.policy.fixed_schedule import FixedSchedule
from planner.report import Report
from planner.report.figures import plot_fan
from planner.scenario_inputs import case_scenarios
from planner.sizing import run_sizing
from planner.store import Store
from planner.sizing.results import plot_npv_breakdown, plot_sensitivity, plot_sizes, plot_soh
from scenarios.reduction import fast_forward_selection


MIN_STAGE_S = 3.0  # a stage after the plan is skipped when less than this is left of --time-limit
STAGE_SHARES = {"day-ahead plan": 0.25, "battery policy": 0.15, "sizing": 0.25, "decomposition": 0.15}
"""Shares of the main job's --time-limit (the rest: scenarios, report, and what a stage left unused)."""


def _site_variables(case, prefix):
    out = []
    for s in case.sites:
        if prefix == "pv" and s.microgrid.pv is not None:
            out.append(f"pv_kw_per_kwp:{s.name}")
        if prefix == "wind" and s.microgrid.wind:
            out.append(f"wind_kw_per_turbine:{s.name}")
    return out


def scenarios_stage(case, report: Report, n_scenarios: int = 200, seed: int = 0, n_reduced: int = 20):
    """Sample the case's scenarios, plot fans, reduce them and report the reduction's distance."""
    section = report.section("Scenarios: prices, PV and wind")
    start = time.perf_counter()
    full = case_scenarios(case, n_scenarios=n_scenarios, seed=seed)
    elapsed = time.perf_counter() - start
    section.paragraphs.append(
        f"{full.n_scenarios} joint scenarios of {full.n_periods} periods for {case.scenarios.day} "
        f"sampled in {elapsed:.1f} s from the calibrated models in {case.scenarios.parameters} "
        f"(day-ahead price with a Gaussian copula over hours, intraday and resale prices relative to it, "
        f"PV from pvlib and wind from windpowerlib power curves with stochastic weather; daily levels "
        f"correlated through a joint model)."
    )
    prices = ["p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"]
    path = plot_fan(full, prices, report.figure_path("fan_prices"), title=f"Prices, {case.scenarios.day}")
    section.figures.append(("Price scenarios: day-ahead p0, intraday p1, resale p2 (bands 5-95 % and 25-75 %)", path))
    if full.metadata.get("mode") == "procurement":
        before = case_scenarios(case, n_scenarios=n_scenarios, seed=seed, mode="unconditional")
        path = plot_fan(before, ["p0_eur_per_mwh"], report.figure_path("fan_day_ahead_before_auction"),
                        title="Day-ahead price before the auction (unconditional model)",
                        observed={"p0_eur_per_mwh": full["p0_eur_per_mwh"][0]},
                        observed_label="curve used for procurement")
        origin = ("the cleared prices given in the case" if case.scenarios.day_ahead_prices_eur_per_mwh is not None
                  else "the model's own hourly median, as the case gives no cleared prices: not an observation")
        section.figures.append(("Day-ahead price uncertainty before the auction; red: the curve assumed known "
                                f"for procurement ({origin})", path))
    renewables = _site_variables(case, "pv") + _site_variables(case, "wind")
    if renewables:
        path = plot_fan(full, renewables, report.figure_path("fan_renewables"), title="PV and wind per unit")
        section.figures.append(("PV output per kWp and wind output per turbine, per site", path))
    stats = pd.DataFrame(
        {
            "mean": [full[v].mean() for v in full.variables],
            "p5": [np.quantile(full[v], 0.05) for v in full.variables],
            "p95": [np.quantile(full[v], 0.95) for v in full.variables],
        },
        index=list(full.variables),
    )
    report.add_table(section, "Scenario statistics over all periods", stats.round(4), "scenario_statistics")
    reduced, rep = fast_forward_selection(full, min(n_reduced, full.n_scenarios))
    section.paragraphs.append(
        f"Fast forward selection kept {rep.n_kept} of {rep.n_original} scenarios in {rep.elapsed_seconds:.2f} s; "
        f"Wasserstein-2 distance to the full set (standardised variables) {rep.wasserstein_distance:.3f}."
    )
    full.to_parquet(report.output_dir / "tables" / "scenarios_full.parquet")
    reduced.to_parquet(report.output_dir / "tables" / "scenarios_reduced.parquet")
    return full, reduced


def plan_stage(case, report: Report, n_scenarios: int = 20, method: str = "ef", n_ranks: int = 1,
               random_state: int | None = None, rel_gap: float = 0.005, measures: bool = True, quick: bool = False,
               time_limit: float | None = 120.0, measures_time_limit: float | None = 20.0):
    """Two-stage day-ahead procurement: bounds, gap, day-ahead schedule, Gantt chart, VSS and EVPI."""
    section = report.section(f"Day-ahead procurement ({METHODS[method].description})")
    result = plan(case, n_scenarios=n_scenarios, method=method, n_ranks=n_ranks, random_state=random_state,
                  output_dir=report.output_dir / "plan", progress=True, rel_gap=rel_gap, measures=measures,
                  time_limit=time_limit, measures_time_limit=measures_time_limit)
    hold_answer("the day-ahead plan", result, report.output_dir / "plan")
    section.paragraphs.append(
        f"{result.n_scenarios} scenarios, solved by {result.method} in {result.time_s:.1f} s: "
        f"lower bound {result.lower_bound:,.2f} EUR, upper bound {result.upper_bound:,.2f} EUR, "
        f"gap {100 * result.gap:.3f} % ({plain_status(result.status)}; solver status {result.status})."
    )
    section.paragraphs.extend(metered_load_notes(case.sites, case.scenarios.day, case.horizon_hours,
                                                 case.period_minutes))
    if case.calibrated_fields:
        section.paragraphs.append(
            "Intraday top-up (p1) and resale (p2) spreads: the case leaves their ratio laws out, so they come from "
            "the calibrated spread law (a load-error proxy, no intraday prices in the data): "
            + "; ".join(case.calibrated_fields) + ".")
    step = resolution(result.lower_bound, result.upper_bound)  # no digit finer than the bounds' distance
    bounds = pd.DataFrame({"lower_bound_eur": [rounded(result.lower_bound, step)],
                           "upper_bound_eur": [rounded(result.upper_bound, step)],
                           "gap_pct": [f"{100 * result.gap:.2g}"], "time_s": [f"{result.time_s:.1f}"]},
                          index=[result.method])
    report.add_table(section, "Bounds of the expected daily cost", bounds, "plan_bounds")
    for note in result.log:
        if isinstance(note, str) and note.startswith("stochastic measures not computed"):
            section.paragraphs.append(note)
    if result.measures:
        report.add_table(section, "Stochastic-programming measures (EUR), each with the range its solves' bounds "
                         "certify, rounded to that range's resolution", measures_table(result.measures),
                         "plan_measures")
    if result.day_ahead is not None:
        report.add_table(section, "Day-ahead purchase per period (kW)", result.day_ahead.round(1), "plan_day_ahead")
    for stem, caption, draw in PLAN_FIGURES:
        path = draw(result, report.figure_path(stem))
        if path is not None:
            section.figures.append((caption, path))
    return result


def study_stage(case, report: Report, sizes=(10, 20, 50), seeds=(0, 1, 2), reference_size: int = 200,
                time_limit: float | None = 120.0, quick: bool = False, measures: bool = True):
    """Scenario-tree study: in- and out-of-sample cost, decision shifts, VSS and EVPI by size."""
    section = report.section("Scenario-tree study (in-sample and out-of-sample stability)")
    results, summary = study(case, sizes=list(sizes), seeds=list(seeds), reference_size=reference_size,
                             time_limit=time_limit, measures=measures, output_dir=report.output_dir / "study",
                             progress=True)
    section.paragraphs.append(
        f"Sizes {list(sizes)} with seeds {list(seeds)}; out-of-sample cost: the first stage of each solve "
        f"evaluated on an independent sample of {reference_size} scenarios (Kaut and Wallace)."
    )
    report.add_table(section, "Every solve", results.round(3), "study_results")
    report.add_table(section, "Per size", summary.round(3), "study_summary")
    path = report.output_dir / "study" / "study.png"  # drawn by study() beside its tables
    section.figures.append(("In- and out-of-sample cost and VSS/EVPI against the number of scenarios", path))
    return results, summary


def policy_stage(case, report: Report, iterations: int = 100, simulations: int = 100, random_state: int = 0,
                 n_ranks: int = 1, plan_result=None, quick: bool = False, time_limit: float | None = None):
    """The SDDP battery policy: bounds, convergence, SoC paths, comparison with other policies
    (``time_limit``: seconds of serial training, checked between iterations)."""
    schedule = FixedSchedule.from_plan(plan_result, case) if plan_result is not None else None
    section = report.section("Hour-by-hour battery policy (SDDP)")
    result = run_policy(case, iterations=iterations, simulations=simulations, random_state=random_state,
                        n_ranks=n_ranks, output_dir=report.output_dir / "policy", progress=True, schedule=schedule,
                        time_limit=time_limit)
    hold_answer("the battery policy (SDDP)", result, report.output_dir / "policy")
    lo, hi = result.upper_bound_ci
    section.paragraphs.append(
        f"State: state of charge of every battery and the running import peak; a Markov lattice of "
        f"intraday price, PV and wind. {result.iterations} iterations in {result.train_time_s:.1f} s: "
        f"lower bound {result.lower_bound:,.2f} EUR, statistical upper bound {result.upper_bound:,.2f} EUR "
        f"(95 % interval {lo:,.2f} .. {hi:,.2f}), gap {100 * result.gap:.2f} % "
        f"({100 * result.gap_ci:.2f} % at the top of the interval). Day-ahead purchases and the production "
        f"schedule are fixed {'from the two-stage plan' if plan_result is not None else 'by the rule schedule'}."
    )
    for note in result.notes:
        section.paragraphs.append(f"Note: {note}")
    section.paragraphs.append(NET_RECOURSE_TEXT)
    report.add_table(section, "Policies on the same out-of-sample paths (EUR per day)",
                     policy_table(result.comparison), "policy_comparison")
    if result.real_days is not None:
        report.add_table(section, "Policies on real 2019 and 2022 price days (EUR per day)",
                         policy_table(result.real_days), "policy_real_days")
        for caveat in real_day_caveats(result.real_days):
            section.paragraphs.append(f"Caveat: {caveat}.")
    captions = {"bound_convergence": "Lower bound by iteration and the simulated upper bound",
                "soc_spaghetti": "State of charge along simulated paths",
                "policy_comparison": "Cost of each policy on the same paths"}
    for key, path in result.figures.items():
        section.figures.append((captions.get(key, key), path))
    return result


NET_RECOURSE_TEXT = (
    "Net recourse cost: what the day costs after the day-ahead purchase is fixed: intraday top-ups, generator "
    "fuel and overrun charges minus the revenue of energy resold at p2; negative when resale earns more than "
    "those costs. Total: net recourse cost + the day-ahead purchase + the prorated demand charge f1 * P. "
    "Paired difference: the policy's cost minus the fixed schedule's on the same paths, with its 95 % half-width.")

POLICY_COLUMNS = {"policy": "policy", "paths": "paths", "n": "days", "mean_cost_eur": "net_recourse_cost",
                  "ci_low_eur": "ci_low", "ci_high_eur": "ci_high", "mean_total_eur": "total_cost",
                  "mean_peak_kw": "mean_peak_kw", "mean_overrun_eur": "overrun",
                  "vs_fixed_schedule_eur": "vs_fixed_schedule", "vs_fixed_schedule_ci_half_eur": "half_width_95"}


def policy_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """The policy comparison in the report: named for what the numbers are (the operating cost is net of
    resale revenue), the columns a reader needs (the CSV keeps them all), indexed by paths and policy."""
    table = comparison[[c for c in POLICY_COLUMNS if c in comparison]].rename(columns=POLICY_COLUMNS).round(2)
    index = [c for c in ("paths", "policy") if c in table]
    if "paths" in table and table["paths"].nunique() == 1:
        table, index = table.drop(columns="paths"), ["policy"]
    return table.set_index(index)


def real_day_caveats(real_days: pd.DataFrame, same_eur: float = 0.01) -> list[str]:
    """What the real-day comparison does not say: net recourse costs below zero (resale revenue above
    intraday, fuel and overrun costs) and policies whose costs agree to the cent (same decisions)."""
    caveats = []
    for label, rows in real_days.groupby("paths", sort=False):
        cost = rows.set_index("policy")["mean_cost_eur"]
        if (cost < 0).any():
            caveats.append(f"on {label} price days the net recourse cost is negative ({cost.min():,.0f} EUR per day "
                           "at the least): reselling at those prices earns more than intraday top-ups, generator "
                           "fuel and overruns cost; the total cost of the day stays positive "
                           f"({rows['mean_total_eur'].min():,.0f} EUR or more)")
        if {"SDDP", "look-ahead (expected values)"} <= set(cost.index) and abs(
                cost["SDDP"] - cost["look-ahead (expected values)"]) < same_eur:
            caveats.append(f"on {label} price days SDDP and the look-ahead cost the same to the cent: they take the "
                           "same decisions there, because those prices lie far outside the price lattice both "
                           "policies were fitted on (calibrated up to 2021), so both reach the same extreme decisions "
                           "(on the test case: empty the battery in the first hour, refill it for the end-of-day "
                           "target). These rows test robustness to a price shock, not which policy is better")
    return caveats


def sizing_stage(case, report: Report, years: int | None = None, days: int = 4, n_scenarios: int = 2,
                 method: str = "ef", seed: int = 0, years_per_block: int = 10, time_limit: float | None = 600.0,
                 sensitivity: bool = False, quick: bool = False, gap: float = 1e-3, rounds: int = 4,
                 check_operation: bool = True):
    """Microgrid sizing with ageing: sizes, NPV breakdown, LCOE, state of health, bounds (``gap``: the
    target relative gap). ``rounds``: re-plan / re-size rounds at most (``run_sizing(max_rounds=...)``);
    0 = the lines at their daily average power."""
    section = report.section("Microgrid sizing with ageing")
    result = run_sizing(case, years=years, days=days, n_scenarios=n_scenarios, method=method, random_state=seed,
                        progress=True, output_dir=report.output_dir / "sizing", years_per_block=years_per_block,
                        time_limit=time_limit, sensitivity=sensitivity, mip_rel_gap=gap, include_lines=rounds > 0,
                        max_rounds=max(1, rounds), check_operation=check_operation)
    hold_answer("the sizing", result, report.output_dir / "sizing")
    section.paragraphs.append(
        f"{result.info.get('n_scenarios')} price-and-weather scenarios, {result.info.get('n_typical_days')} "
        f"representative days, {years or case.economics.horizon_years} years in blocks of {years_per_block}: "
        f"NPV of cost {result.upper_bound_eur / 1e6:,.3f} MEUR (upper bound), lower bound "
        f"{result.lower_bound_eur / 1e6:,.3f} MEUR, gap {100 * result.gap:.2f} %; LCOE "
        f"{result.lcoe_eur_per_mwh:.1f} EUR/MWh; subscribed power {result.subscribed_power_kw:,.0f} kW."
    )
    section.paragraphs.append(f"Demand in sizing: {result.info.get('load')}.")
    if result.rounds is not None and result.info.get("lines_load") == "schedule":
        section.paragraphs.append(
            f"Re-plan / re-size rounds: {len(result.rounds)} ({result.info.get('stop_reason')})"
            + (": the main job sizes once with the lines as the existing system schedules them, within its time; "
               "`planner size` re-plans the days with the sized system until sizing and planning agree"
               if len(result.rounds) == 1 else "") + ".")
        report.add_table(section, "Rounds (sizes, subscribed power, bounds, seconds)",
                         result.rounds.round(4).set_index("round"), "sizing_rounds")
        check = result.info.get("operation_check")
        if check:
            section.paragraphs.append(
                f"The final system re-planned on {check['days_replanned']} representative days (lines free, overrun "
                f"charged at the month's rate): largest overrun {check['planned_overrun_kw_max']:,.0f} kW above "
                f"{case.contract.overrun_threshold:g} x P, sizing predicted {check['predicted_overrun_kw_max']:,.0f} "
                f"kW; largest plan gap {100 * check['plan_gap_max']:.2f} %.")
    report.add_table(section, "Sizes per site", result.sizes.round(1), "sizing_sizes")
    report.add_table(section, "NPV breakdown (EUR; costs > 0, revenues < 0)",
                     result.npv_breakdown.round(0).to_frame("eur"), "sizing_npv")
    if result.sensitivity is not None:
        report.add_table(section, "Sensitivity", result.sensitivity.round(2), "sizing_sensitivity")
    plots = [("sizing_sizes", plot_sizes, "Installed sizes per site"),
             ("sizing_npv", plot_npv_breakdown, "NPV breakdown"),
             ("sizing_soh", plot_soh, "Battery state of health by year (replacements reset it)")]
    if result.sensitivity is not None:
        plots.append(("sizing_sensitivity", plot_sensitivity, "Sensitivity of the NPV"))
    for name, fn, caption in plots:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        fn(result, ax=ax)
        fig.tight_layout()
        path = report.figure_path(name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        section.figures.append((caption, path))
    return result


def decomposition_stage(case, report: Report, method: str = "price", n_scenarios: int = 1, n_ranks: int = 1,
                        max_iterations: int = 10, time_limit: float | None = 120.0, seed: int | None = None,
                        site_time_limit: float = 5.0, quick: bool = False):
    """Decomposition across sites: bounds per iteration, feasible plan, gain over sharing rules."""
    seed = case.scenarios.seed if seed is None else seed
    scen = case_scenarios(case, max(n_scenarios, 1), seed)
    if n_scenarios <= 1:
        scen = deterministic_day(scen)
    section = report.section(f"Decomposition across sites ({method})")
    result = run_decomposition(case, method=method, scenarios=scen, n_ranks=n_ranks, max_iterations=max_iterations,
                               time_limit=time_limit, site_time_limit=site_time_limit, progress=True)
    hold_answer("the decomposition", result)
    section.paragraphs.append(
        f"{'Deterministic day' if scen.n_scenarios == 1 else f'{scen.n_scenarios} scenarios'}, "
        f"{len(case.sites)} sites, {result.iterations} iterations in {result.time_s:.1f} s: lower bound "
        f"{result.lower_bound:,.2f} EUR (dual), upper bound {result.upper_bound:,.2f} EUR (a feasible plan "
        f"of the full problem), gap {100 * result.gap:.2f} % (status {result.status})."
    )
    history = pd.DataFrame([{"iteration": r.iteration, "lower_bound_eur": r.lower_bound,
                             "upper_bound_eur": r.upper_bound} for r in result.history]).set_index("iteration")
    report.add_table(section, "Bounds by iteration", history.round(2), f"decomposition_{method}")
    path = report.figure_path(f"decomposition_{method}")
    plot_bounds(result, path)
    section.figures.append(("Lower and upper bounds by iteration", path))
    return result


def run_main_job(case, output_dir: Path, quick: bool = False, time_limit: float | None = None) -> Path:
    """Run every stage on ``case``; return the report's path.

    Sizes are chosen so that the default case runs in a few minutes on two cores; ``quick`` shrinks
    them further for tests.
    """
    report = Report(output_dir, f"Planner report: case {case.name}")
    overview = report.section("Case")
    overview.paragraphs.append(case.description or case.name)
    rows = []
    for s in case.sites:
        mg = s.microgrid
        rows.append({
            "site": s.name, "lines": len(s.lines),
            "plan_t_per_day": ", ".join(f"{m} {q:g}" for m, q in s.plan_t_per_day.items()),
            "generator_kw": s.generator.capacity_kw if s.generator else 0.0,
            "pv_kwp": mg.pv.kwp if mg.pv else 0.0,
            "wind": ", ".join(f"{w.count} x {w.turbine_type}" for w in mg.wind),
            "battery_kwh": mg.battery.energy_kwh if mg.battery else 0.0,
        })
    report.add_table(overview, "Sites", pd.DataFrame(rows).set_index("site"), "sites")
    timings, skipped = {}, []

    def timed(name, fn, *args, budget_s=None, **kwargs):
        """Run one stage within its share of the time limit; the stages after the plan are skipped (with a
        caveat) when too little is left, and a stage the hard stop interrupts keeps the stages before it."""
        left = seconds_left()
        if name != "day-ahead plan" and left is not None and left < MIN_STAGE_S:
            skipped.append(f"{name} skipped: {max(left, 0.0):.0f} s of --time-limit were left")
            print(f"warning: {skipped[-1]}", file=sys.stderr)
            return None
        t0, n_sections = time.perf_counter(), len(report.sections)
        try:
            with wall_clock_limit(budget_s if time_limit is not None else None):
                out = fn(*args, **kwargs)
        except WallClockLimit:
            held = held_answer()
            if held is None:
                raise  # no answer yet: no certified answer
            catch_hard_stop()  # the report of what is held is written without a further stop
            if name == "day-ahead plan":  # solved, stopped while its figures were drawn: keep the answer
                skipped.append("the day-ahead plan's figures are incomplete (hard stop of --time-limit)")
                print(f"warning: {skipped[-1]}", file=sys.stderr)
                return held[1]
            del report.sections[n_sections:]  # the interrupted stage's half-written section
            skipped.append(f"{name} stopped by the hard stop of --time-limit; its section is missing")
            print(f"warning: {skipped[-1]}", file=sys.stderr)
            return None
        timings[name] = time.perf_counter() - t0
        return out

    def share(name, default_s):
        """A stage's seconds: its default, within its share of --time-limit and what is left of it."""
        if time_limit is None:
            return default_s
        left = seconds_left()
        return max(1.0, min(default_s, STAGE_SHARES[name] * time_limit, default_s if left is None else left))

    # the embedded results database, planner.sqlite in the output folder (docs/store_schema.md): one run row for
    # the job ('failed' if it stops), each stage's rows written as soon as the stage ends, in one transaction
    store = Store.in_folder(output_dir)
    run_id, written = store.start_run("run", case), {}
    try:
        with wall_clock_limit(time_limit):
            seed = case.scenarios.seed
            timed("scenarios", scenarios_stage, case, report, n_scenarios=50 if quick else 500, seed=seed)
            # The recourse production schedule makes every scenario a MIP; sizes here keep the job to a few
            # minutes (the plan command takes larger sizes and longer limits).
            # VSS and EVPI need one MIP per scenario on top (EV, EEV, wait-and-see): `planner plan` computes
            # them; the main job reports the plan's bounds only, to stay within a few minutes.
            plan_s = share("day-ahead plan", 20 if quick else 60)
            plan_result = timed("day-ahead plan", plan_stage, case, report, n_scenarios=2 if quick else 5,
                                random_state=seed, measures=False, quick=quick, time_limit=plan_s)
            written.update(store_results(store, run_id, case, plan_result=plan_result))
            policy_s = share("battery policy", 60 if quick else 600)
            policy_result = timed("battery policy", policy_stage, case, report, iterations=20 if quick else 500,
                                  simulations=20 if quick else 100, random_state=seed, plan_result=plan_result,
                                  quick=quick,
                                  time_limit=None if time_limit is None else 0.5 * policy_s, budget_s=policy_s)
            # sizing over the full horizon is the heaviest stage: a small configuration with a time limit
            # (its bounds and gap are reported); `planner size` runs larger ones
            sizing_s = share("sizing", 30 if quick else 100)
            # one round (the lines scheduled with the existing system), no re-plans nor operation check: in 100 s
            # the re-plans get under 1 s a day and keep their start (measured: 2 rounds took 123 s, round 2 changed
            # nothing); `planner size` runs the loop (up to 4 rounds) and the check
            sizing_result = timed("sizing", sizing_stage, case, report, years=4 if quick else None,
                                  days=2 if quick else 3,
                                  n_scenarios=2, years_per_block=2 if quick else 10, rounds=1, check_operation=False,
                                  time_limit=sizing_s if time_limit is None else 0.6 * sizing_s, budget_s=sizing_s)
            written.update(store_results(store, run_id, case, sizing_result=sizing_result))
            decomposition_s = share("decomposition", 40 if quick else 90)
            decomposition_result = timed("decomposition", decomposition_stage, case, report, method="price",
                                         max_iterations=2 if quick else 6,
                                         time_limit=decomposition_s if time_limit is None else 0.8 * decomposition_s,
                                         site_time_limit=min(3 if quick else 5, 0.2 * decomposition_s),
                                         budget_s=decomposition_s)
        executive_summary(report, case, plan_result=plan_result, policy_result=policy_result,
                          sizing_result=sizing_result, decomposition_result=decomposition_result, notes=skipped)
        summary = report.section("Run times")
        report.add_table(summary, "Seconds per stage", pd.Series(timings, name="seconds").round(1).to_frame(),
                         "timings")
        summary.paragraphs.append(f"Results written to the database {store.describe()} (run {run_id}, schema in "
                                  f"docs/store_schema.md): {rows_text(written)} rows.")
        path = report.write()
    except BaseException:
        store.finish_run(run_id, status="failed", detail=rows_text(written))
        raise
    store.finish_run(run_id, detail=rows_text(written))
    return path


def rows_text(written: dict) -> str:
    """``"1 plan_days, 24 day_ahead_nominations, ..."``: the rows written per table."""
    return ", ".join(f"{n} {table}" for table, n in written.items()) or "no rows"


def base_load_text(case) -> str:
    """Which load each site's sizing rests on, as the sizing_results row records it."""
    return "; ".join(f"{s.name}: {describe_base_load(s.base_load)}" for s in case.sites)


def store_results(store: Store, run_id: str, case, plan_result=None, sizing_result=None) -> dict:
    """Write what the main job's stages produced into the results database: the plan's day (plan_days,
    day_ahead_nominations, dispatch) and the sizing (sizing_results, sizing_sizes, sizing_npv), each in one
    transaction replacing the case's earlier rows (of the same day for a plan); rows written per table."""
    counts = {}
    if plan_result is not None:
        counts.update(store.write_plan(case, plan_result, run_id))
    if sizing_result is not None:
        counts.update(store.write_sizing(case, sizing_result, run_id, base_load=base_load_text(case)))
    return counts


# ------------------------------------------------------------------------------------------------
# The one-screen summary at the top of the report, and numbers shown no finer than their bounds
# ------------------------------------------------------------------------------------------------
def resolution(lower: float, upper: float) -> float:
    """The rounding step of a value known only within [lower, upper]: the power of ten of the width."""
    width = abs(upper - lower)
    if not np.isfinite(width):
        return np.inf
    return 10.0 ** np.floor(np.log10(width)) if width > 1e-9 else 0.01


def rounded(value: float, step: float) -> str:
    """``value`` rounded to ``step`` (thousands separated, no decimals finer than the step)."""
    if not np.isfinite(step):
        return "unknown"
    decimals = max(0, int(-np.floor(np.log10(step))))
    return f"{round(value / step) * step:,.{decimals}f}"


def plain_status(status: str) -> str:
    """A solver status such as ``maxTimeLimit+schedule-heuristic-incumbent+EV-incumbent`` in words."""
    head, *sources = str(status).split("+")
    low = head.lower()
    if "optimal" in low:
        words = "solved to the gap target"
    elif "time" in low:
        words = "stopped at the time limit"
    elif "iteration" in low:
        words = "stopped at the iteration limit"
    else:
        words = f"stopped ({head})"
    labels = [src.removesuffix("-incumbent") for src in sources if src.endswith("-incumbent")]
    if labels:
        names = {"schedule-heuristic": "the schedule heuristic", "EV": "the expected-value plan"}
        words += "; incumbents kept from " + " and ".join(names.get(x, x) for x in labels)
    return words


def measure_ranges(measures: dict) -> dict:
    """(value, lower, upper) of EV, EEV, RP, WS, VSS, EVPI from the values and their solves' bounds:
    each MIP value is an upper bound and its ``*_bound`` a lower bound, so VSS = EEV - RP lies in
    [EEV_bound - RP, EEV - RP_bound] and EVPI = RP - WS in [RP_bound - WS, RP - WS_bound]."""
    lo = {k: measures.get(f"{k}_bound", measures.get(k)) for k in ("EV", "EEV", "RP", "WS")}
    out = {k: (measures[k], lo[k], measures[k]) for k in ("EV", "EEV", "RP", "WS") if k in measures}
    if {"EEV", "RP"} <= set(measures):
        out["VSS"] = (measures["EEV"] - measures["RP"], lo["EEV"] - measures["RP"], measures["EEV"] - lo["RP"])
    if {"RP", "WS"} <= set(measures):
        out["EVPI"] = (measures["RP"] - measures["WS"], lo["RP"] - measures["WS"], measures["RP"] - lo["WS"])
    return out


def measures_table(measures: dict) -> pd.DataFrame:
    """Value, certified lower and upper end of each measure, as text rounded to the range's resolution."""
    rows = {}
    for name, (value, lower, upper) in measure_ranges(measures).items():
        step = resolution(lower, upper)
        rows[name] = {"value_eur": rounded(value, step), "lower_eur": rounded(lower, step),
                      "upper_eur": rounded(upper, step)}
    return pd.DataFrame(rows).T


def hourly_purchases_table(day_ahead: pd.DataFrame, period_hours: float) -> pd.DataFrame:
    """Day-ahead purchase per hour (MWh), all zones together, as rows of 12 hours."""
    energy_mwh = day_ahead.sum(axis=1).to_numpy() * period_hours / 1000.0
    hours = np.arange(len(energy_mwh)) * period_hours
    per_hour = pd.Series(energy_mwh).groupby(np.floor(hours).astype(int)).sum()
    rows = {}
    for start in range(0, len(per_hour), 12):
        chunk = per_hour.iloc[start:start + 12]
        rows[f"hours {chunk.index[0]:02d}-{chunk.index[-1]:02d}"] = [f"{v:.1f}" for v in chunk]
    return pd.DataFrame.from_dict(rows, orient="index", columns=[f"+{k}" for k in range(12)][: len(per_hour.iloc[:12])])


def installation_lines(sizes: pd.DataFrame) -> list[str]:
    """What sizing installs beyond the existing equipment, one line per site."""
    lines = []
    for site, row in sizes.iterrows():
        parts = []
        if row.get("pv_new_kwp", 0) > 0.5:
            parts.append(f"{row['pv_new_kwp']:,.0f} kWp of PV ({int(row.get('pv_modules_new', 0)):,} modules)")
        if row.get("turbines_new", 0) > 0:
            parts.append(f"{int(row['turbines_new'])} x {row.get('turbine_type', 'turbine')} ({row['wind_new_kw']:,.0f} kW)")
        if row.get("battery_new_kwh", 0) > 0.5:
            parts.append(f"a {row['battery_new_kwh']:,.0f} kWh / {row.get('battery_new_kw', 0):,.0f} kW battery")
        if row.get("generator_new_kw", 0) > 0.5:
            parts.append(f"a {row['generator_new_kw']:,.0f} kW generator")
        lines.append(f"{site}: " + (", ".join(parts) if parts else "nothing new"))
    return lines


def executive_summary(report: Report, case, plan_result=None, policy_result=None, sizing_result=None,
                      decomposition_result=None, rel_gap_target: float = 0.01, notes=()):
    """The report's first section: what to buy per hour, what to install, the expected cost with its
    certified interval, and the caveats that apply (gaps above target, measures not computed)."""
    section = report.section("Summary")
    report.sections.insert(0, report.sections.pop())
    caveats = []
    if plan_result is not None:
        lb, ub = plan_result.lower_bound, plan_result.upper_bound
        step = resolution(lb, ub)
        section.paragraphs.append(
            f"Expected cost of the day {case.scenarios.day}: {rounded(ub, step)} EUR for the plan below; no plan "
            f"can cost less than {rounded(lb, step)} EUR in expectation over the {plan_result.n_scenarios} scenarios "
            f"(certified gap {100 * plan_result.gap:.2g} %).")
        if plan_result.day_ahead is not None:
            report.add_table(section, "Buy day-ahead (MWh per hour, all sites)",
                             hourly_purchases_table(plan_result.day_ahead, case.period_hours), "summary_day_ahead")
        if plan_result.gap > rel_gap_target:
            caveats.append(f"the day-ahead plan stopped at a {100 * plan_result.gap:.2g} % gap (time limit): its cost "
                           f"may be up to {rounded(ub - lb, step)} EUR above the best possible")
        if plan_result.n_scenarios < 20:
            caveats.append(f"the plan rests on {plan_result.n_scenarios} scenarios; the scenario-tree study "
                           "(planner study) shows how much the decision moves with more")
        if not plan_result.measures:
            caveats.append("VSS and EVPI were not computed (--no-measures, too little --time-limit for their "
                           "solves, or the main job, which skips them to stay within minutes)")
    if sizing_result is not None:
        section.paragraphs.append("Install: " + "; ".join(installation_lines(sizing_result.sizes)) + ".")
        step = resolution(sizing_result.lower_bound_eur, sizing_result.upper_bound_eur)
        section.paragraphs.append(
            f"Net present cost over the sizing horizon: {rounded(sizing_result.upper_bound_eur, step)} EUR (lower "
            f"bound {rounded(sizing_result.lower_bound_eur, step)} EUR, gap {100 * sizing_result.gap:.2g} %); "
            f"subscribed power {sizing_result.subscribed_power_kw:,.0f} kW.")
        if sizing_result.gap > rel_gap_target:
            caveats.append(f"the sizing stopped at a {100 * sizing_result.gap:.2g} % gap: other sizes may be cheaper "
                           "by up to that share")
    if policy_result is not None and policy_result.real_days is not None:
        caveats.extend(real_day_caveats(policy_result.real_days))
    if policy_result is not None and policy_result.gap > rel_gap_target:
        caveats.append(f"the battery policy (SDDP) stopped at a {100 * policy_result.gap:.2g} % gap between its lower "
                       "bound and its simulated cost")
    if decomposition_result is not None and decomposition_result.gap > rel_gap_target:
        caveats.append(f"the decomposition across sites stopped at a {100 * decomposition_result.gap:.2g} % gap")
    caveats.extend(notes)  # stages skipped or stopped by the time limit
    section.paragraphs.append("Caveats: " + ("; ".join(caveats) if caveats else "none beyond the model's "
                                                                                  "assumptions") + ".")
    return section
