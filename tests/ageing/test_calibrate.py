"""BLAST-Lite replay agreeing with the recalibrated linear fade."""

from __future__ import annotations

import warnings

import pytest

from planner.ageing.calibrate import recalibrate_sizing


@pytest.mark.slow
def test_blast_replay_agrees_with_recalibrated_linear_fade(default_case, shared_data):
    case = default_case.replace(sites=[default_case.site("foundry")], links=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, rounds = recalibrate_sizing(case, "foundry", rounds=3, years=10, days=2, n_scenarios=1,
                                          years_per_block=10, progress=False, random_state=2,
                                          include_lines=False)  # the battery's fade, not the lines, is tested
    last = rounds.iloc[-1]
    assert abs(last["soh_linear_10y"] - last["soh_blast_10y"]) < 0.02
    assert 0.5 < last["soh_blast_10y"] < 1.0
