"""The main job: every stage of the planner on one case, each adding its section to one report.

Stages: scenarios (fans, reduction, lattice), day-ahead plan (extensive form, bounds, VSS/EVPI),
battery policy (SDDP bounds, policy comparison), sizing with ageing, decomposition across sites.
``quick=True`` shrinks every size so the whole job runs in tests.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from planner.plots import plot_fan
from planner.report import Report


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
    from planner.scenario_inputs import case_scenarios
    from scenarios.reduction import fast_forward_selection

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
                        observed={"p0_eur_per_mwh": full["p0_eur_per_mwh"][0]})
        section.figures.append(("Day-ahead price uncertainty before the auction; red: the known curve used "
                                "for procurement", path))
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


def run_main_job(case, output_dir: Path, quick: bool = False) -> Path:
    """Run every available stage on ``case``; return the report's path."""
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
    timings = {}
    t0 = time.perf_counter()
    scenarios_stage(case, report, n_scenarios=50 if quick else 500, seed=case.scenarios.seed)
    timings["scenarios"] = time.perf_counter() - t0
    for name, stage in _optional_stages():
        t0 = time.perf_counter()
        stage(case, report, quick=quick)
        timings[name] = time.perf_counter() - t0
    summary = report.section("Run times")
    report.add_table(summary, "Seconds per stage", pd.Series(timings, name="seconds").round(1).to_frame(), "timings")
    return report.write()


def _optional_stages():
    """Stages wired into the main job, in order (each a function (case, report, quick))."""
    return [(name, fn) for name, fn in _STAGES]


_STAGES: list = []
