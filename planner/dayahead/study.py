"""Scenario-tree studies: in- and out-of-sample stability of the day-ahead plan by number of scenarios.

``study(case, sizes, seeds)`` runs ``scenarios.stability.stability_study`` (Kaut & Wallace): for each
size and seed it generates a scenario set, solves the two-stage problem (in-sample cost), evaluates
the first-stage decision on a large independent reference sample by fixing it and solving every
scenario (out-of-sample cost), and records how the day-ahead decision moves and VSS / EVPI by size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.case import Case, load_case
from planner.dayahead import module
from planner.dayahead.data import check_scenarios
from planner.dayahead.plan import plan
from planner.dayahead.plots import plot_study
from planner.scenario_inputs import case_scenarios
from planner.stochastic.evaluate import evaluate_first_stage
from scenarios.stability import stability_study


def study(case, sizes=(10, 20, 50), seeds=(0, 1, 2), *, reference_size: int = 200, reference_seed: int = 10_000,
          method: str = "ef", n_ranks: int = 1, rel_gap: float = 0.005, time_limit: float | None = 120.0,
          measures: bool = True, generate=None, output_dir=None, progress: bool = False):
    """Return (results, summary): one row per (size, seed), and the per-size summary.

    ``generate(n, seed) -> ScenarioSet`` defaults to ``planner.scenario_inputs.case_scenarios``.
    Results columns: size, seed, in_sample_objective, out_of_sample_objective, lower_bound,
    upper_bound, gap, solve_seconds, VSS, EVPI, day_ahead_mwh, decision_shift_kw (mean absolute
    difference of the day-ahead volumes from the mean decision of the largest size).
    """
    if not isinstance(case, Case):
        case = load_case(case)
    if generate is None:
        def generate(n, seed):
            return case_scenarios(case, n, seed)

    reference = generate(reference_size, reference_seed)
    check_scenarios(case, reference)
    records = {}

    def solve(scen):
        res = plan(case, scen.n_scenarios, method=method, n_ranks=n_ranks, scenarios=scen, rel_gap=rel_gap,
                      time_limit=time_limit, measures=measures, progress=progress)
        key = len(records)
        records[key] = res
        return key, res.upper_bound

    ref_names = module.scenario_names_creator(reference.n_scenarios)
    ref_kwargs = {"case": case, "scenarios": reference}

    def evaluate(key, ref):
        return evaluate_first_stage(module, ref_names, ref_kwargs, records[key].first_stage, mip_gap=rel_gap,
                                    time_limit=time_limit).expected_cost

    results, summary = stability_study(generate, solve, evaluate, sizes, seeds, reference, keep_decisions=True)
    res_list = [records[k] for k in results["decision"]]
    results["lower_bound"] = [r.lower_bound for r in res_list]
    results["upper_bound"] = [r.upper_bound for r in res_list]
    results["gap"] = [r.gap for r in res_list]
    results["VSS"] = [r.measures.get("VSS", np.nan) for r in res_list]
    results["EVPI"] = [r.measures.get("EVPI", np.nan) for r in res_list]
    da = np.array([r.day_ahead.sum(axis=1).to_numpy() for r in res_list])
    results["day_ahead_mwh"] = da.sum(axis=1) * case.period_hours / 1000.0
    largest = results["size"] == results["size"].max()
    target = da[largest.to_numpy()].mean(axis=0)
    results["decision_shift_kw"] = np.abs(da - target).mean(axis=1)
    results = results.drop(columns=["decision"])
    extra = results.groupby("size")[["VSS", "EVPI", "decision_shift_kw", "gap", "solve_seconds"]].mean()
    summary = summary.join(extra)
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        results.to_csv(out / "study_results.csv", index=False)
        summary.to_csv(out / "study_summary.csv")
        plot_study(results.rename(columns={"size": "n_scenarios", "in_sample_objective": "in_sample_eur",
                                           "out_of_sample_objective": "out_of_sample_eur"}), out / "study.png")
    return results, summary
