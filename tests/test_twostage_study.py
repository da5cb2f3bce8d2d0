"""Scenario-tree study and plots of the day-ahead plan on the default case's energy system."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import planner.twostage as ts
from planner.case import load_case
from planner.study import study
from test_twostage_default import energy_system_only
from twostage_fixtures import simple_test_scenarios

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_study_out_of_sample_and_plots(tmp_path):
    """Out-of-sample costs are evaluated on the same reference sample for every decision, so each is
    at least the reference problem's optimum; the in-sample optimum of the reference set is the best
    out-of-sample value attainable (checked with solve_reference via a size equal to the reference)."""
    case = energy_system_only(load_case(ROOT / "data" / "cases" / "default.toml"))

    def generate(n, seed):
        return simple_test_scenarios(case, n, seed)

    results, summary = study(case, sizes=[2, 4], seeds=[0, 1], reference_size=6, reference_seed=99,
                             rel_gap=1e-6, measures=True, generate=generate, output_dir=tmp_path)
    assert list(summary.index) == [2, 4]
    ref = ts.plan(case, 6, scenarios=generate(6, 99), rel_gap=1e-6, measures=False, progress=False)
    assert (results["out_of_sample_objective"] >= ref.upper_bound - 1e-6).all()
    assert (results["lower_bound"] <= results["upper_bound"] + 1e-9).all()
    assert (results["VSS"] >= -1e-6).all() and (results["EVPI"] >= -1e-6).all()
    assert (tmp_path / "study.png").exists() and (tmp_path / "study_summary.csv").exists()


def test_plots_written(tmp_path):
    from planner.plots_twostage import plot_day_ahead, plot_dispatch, plot_gantt
    from test_twostage_hand import _case_b, _prices

    case = _case_b()
    flat = np.full((2, 6), 50.0)
    res = ts.plan(case, 2, scenarios=_prices(flat, flat + 5, flat - 10), rel_gap=1e-9, measures=False,
                  progress=False)
    for fn, name in ((plot_gantt, "gantt.png"), (plot_day_ahead, "da.png"), (plot_dispatch, "dispatch.png")):
        path = fn(res, tmp_path / name)
        assert path.stat().st_size > 1000
