"""The extensive form of an mpi-sppy module: the farmer's published optimum (Birge and Louveaux)."""

from __future__ import annotations

import pytest

from planner.stochastic.ef import first_stage_values, solve_ef
from tests.examples import farmer

NAMES = farmer.scenario_names_creator(3)
KW = {"num_scens": 3}


def test_farmer_extensive_form_reaches_the_published_optimum():
    res, _ = solve_ef(farmer, NAMES, KW)
    assert res.upper_bound == pytest.approx(-108390.0, abs=1e-3)
    assert res.lower_bound <= res.upper_bound
    assert res.gap <= 1e-6
    acres = {k.split("[")[1].rstrip("]"): v for k, v in res.first_stage.items()}
    assert acres == pytest.approx({"wheat": 170.0, "corn": 80.0, "beets": 250.0}, abs=1e-6)


def test_first_stage_is_keyed_alike_for_one_scenario_and_many():
    """create_EF returns the scenario model itself for one scenario: the keys must not depend on it."""
    one, ef1 = solve_ef(farmer, NAMES[:1], {"num_scens": 1})
    many, _ = solve_ef(farmer, NAMES, KW)
    assert set(one.first_stage) == set(many.first_stage) == {"acres[wheat]", "acres[corn]", "acres[beets]"}
    assert first_stage_values(ef1) == one.first_stage
