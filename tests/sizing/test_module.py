"""The sizing mpi-sppy module: hook names, scenario models with their root node, and the
expected-value problem of identical scenarios equal to one scenario's optimum."""

from __future__ import annotations

import pytest

import planner.sizing.module as sizing_module
from planner.sizing.inputs import build_scenarios, full_year
from planner.sizing.model import SizingOptions, first_stage_vars
from planner.sizing.solve import solve_model
from planner.stochastic.ef import nonant_vars


def test_module_has_the_mpisppy_hooks():
    for hook in ("scenario_creator", "scenario_names_creator", "kw_creator", "inparser_adder",
                 "scenario_denouement", "average_scenario_creator"):
        assert callable(getattr(sizing_module, hook))
    assert sizing_module.scenario_names_creator(3) == ["scen0", "scen1", "scen2"]
    assert sizing_module.scenario_names_creator(2, start=4) == ["scen4", "scen5"]


def test_average_of_identical_scenarios_is_each_scenario(default_case):
    """Two scenarios with the same days (each its own typical day, here the first week of January): the
    expected-value days are those days, so the expected-value problem has either scenario's optimum."""
    case = default_case.replace(sites=[default_case.site("electroplating")], links=[])
    table = full_year(build_scenarios(case, 1, random_state=0).frames[0].iloc[:7 * 24])
    data = sizing_module.SizingData(case, SizingOptions(years=1, years_per_block=1, integer=False),
                                    {"scen0": table, "scen1": table}, {"scen0": 0.5, "scen1": 0.5}, days=None)
    scenario = sizing_module.scenario_creator("scen1", data=data)
    assert scenario._mpisppy_probability == 0.5
    assert [v.name for v in nonant_vars(scenario)] == [v.name for v in first_stage_vars(scenario)]
    average = sizing_module.average_scenario_creator(data=data)
    assert average._mpisppy_probability == 1.0
    assert len(average.scen["average0"].T) == 7 * 24
    assert solve_model(average, None, 1e-9)["upper_eur"] == pytest.approx(
        solve_model(scenario, None, 1e-9)["upper_eur"], rel=1e-7)
