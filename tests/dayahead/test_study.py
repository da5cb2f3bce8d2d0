"""Scenario-tree study of the day-ahead plan on the default case's energy system."""

from __future__ import annotations

import pytest

from planner.dayahead.data import synthetic_scenarios
from planner.dayahead.plan import plan
from planner.dayahead.study import study


@pytest.mark.slow
def test_study_out_of_sample_and_plots(tmp_path, energy_system_case):
    """Out-of-sample costs are evaluated on the same reference sample for every decision, so each is
    at least the reference problem's optimum; the in-sample optimum of the reference set is the best
    out-of-sample value attainable (checked with solve_reference via a size equal to the reference)."""
    case = energy_system_case

    def generate(n, seed):
        return synthetic_scenarios(case, n, random_state=seed)

    results, summary = study(case, sizes=[2, 4], seeds=[0, 1], reference_size=6, reference_seed=99,
                             rel_gap=1e-6, measures=True, generate=generate, output_dir=tmp_path)
    assert list(summary.index) == [2, 4]
    ref = plan(case, 6, scenarios=generate(6, 99), rel_gap=1e-6, measures=False, progress=False)
    assert (results["out_of_sample_objective"] >= ref.upper_bound - 1e-6).all()
    assert (results["lower_bound"] <= results["upper_bound"] + 1e-9).all()
    assert (results["VSS"] >= -1e-6).all() and (results["EVPI"] >= -1e-6).all()
    assert (tmp_path / "study.png").exists() and (tmp_path / "study_summary.csv").exists()
