"""A fixed first stage evaluated in every scenario: the farmer's optimal acres cost the published optimum."""

from __future__ import annotations

import pytest

from planner.stochastic.evaluate import evaluate_first_stage
from tests.examples import farmer

NAMES = farmer.scenario_names_creator(3)
KW = {"num_scens": 3}
OPTIMAL_ACRES = {"acres[wheat]": 170.0, "acres[corn]": 80.0, "acres[beets]": 250.0}


def test_optimal_first_stage_costs_the_published_optimum():
    ev = evaluate_first_stage(farmer, NAMES, KW, OPTIMAL_ACRES, keep_models=True)
    assert ev.expected_cost == pytest.approx(-108390.0, abs=1e-3)
    assert ev.bound <= ev.expected_cost + 1e-6
    assert set(ev.models) == set(NAMES)


def test_first_stage_by_name_or_by_position_agree():
    by_name = evaluate_first_stage(farmer, NAMES, KW, OPTIMAL_ACRES).expected_cost
    by_position = evaluate_first_stage(farmer, NAMES, KW, [170.0, 80.0, 250.0]).expected_cost
    assert by_name == pytest.approx(by_position, abs=1e-9)


def test_missing_first_stage_value_is_named():
    with pytest.raises(KeyError, match="acres"):
        evaluate_first_stage(farmer, NAMES, KW, {"acres[wheat]": 170.0})
