"""The case file format: the default case loads, and bad input fails early naming field and fix."""

from __future__ import annotations

import copy
import math
import tomllib

import numpy as np
import pytest

from planner.case import CaseError, case_from_dict, load_case, save_case
from planner.load_profiles import base_load_kw, day_type, derive_load_shapes, shape


@pytest.fixture()
def default_dict(project_root):
    return tomllib.loads((project_root / "data" / "cases" / "default.toml").read_text())


def problems_of(data) -> list[str]:
    with pytest.raises(CaseError) as info:
        case_from_dict(data)
    return info.value.problems


def test_default_case_has_three_sites_with_lines_and_microgrids(default_case):
    assert default_case.site_names == ("foundry", "metal_processing", "electroplating")
    assert default_case.n_periods == 24 and default_case.period_hours == 1.0
    for site in default_case.sites:
        assert 2 <= len(site.lines) <= 4
        assert site.microgrid.pv is not None and site.microgrid.battery is not None
    assert sum(s.no_m1_m2_together for s in default_case.sites) == 1
    assert default_case.site("foundry").generator.capacity_kw == 1500.0
    assert default_case.contract.demand_charge_eur_per_kw_month == 10.95
    assert default_case.contract.energy_charge_eur_per_kwh == 0.0242
    assert default_case.contract.overrun_charge_eur_per_kw == 25.0


def test_unknown_field_is_named_with_a_suggestion(default_dict):
    default_dict["sites"][0]["lines"][0]["chngeover_hours"] = 2
    (problem,) = problems_of(default_dict)
    assert "sites[0].lines[0].chngeover_hours" in problem and "changeover_hours" in problem


def test_unknown_material_lists_the_allowed_ones(default_dict):
    default_dict["sites"][1]["lines"][0]["power_kw"]["M4"] = 100.0
    problems = problems_of(default_dict)
    assert any("sites[1].lines[0].power_kw.M4" in p and "M1, M2, M3" in p for p in problems)


def test_negative_capacity_is_rejected_with_its_unit(default_dict):
    default_dict["sites"][0]["generator"]["capacity_kw"] = -5.0
    problems = problems_of(default_dict)
    assert any("sites[0].generator.capacity_kw = -5.0 kW: must be > 0" in p for p in problems)


def test_every_problem_is_reported_at_once(default_dict):
    default_dict["contract"]["subscribed_power_kw"] = 0
    default_dict["links"][0]["site_b"] = "metal_procesing"
    default_dict["sites"][2]["microgrid"]["battery"]["soc_min_fraction"] = 0.99
    problems = problems_of(default_dict)
    assert len(problems) >= 3
    assert any("links[0].site_b" in p and "did you mean 'metal_processing'" in p for p in problems)
    assert any("contract.subscribed_power_kw" in p for p in problems)
    assert any("soc_min_fraction" in p for p in problems)


def test_impossible_plan_names_site_material_and_shortfall(default_dict):
    # electroplating can make at most (0.8 + 0.6) t/h * 24 h = 33.6 t of M1 per day
    default_dict["sites"][2]["plan_t_per_day"]["M1"] = 40.0
    (problem,) = problems_of(default_dict)
    assert "electroplating" in problem and "M1" in problem
    assert "at most 33.6 t/day" in problem and "shortfall 6.4" in problem


def test_latency_must_be_whole_periods(default_dict):
    default_dict["period_minutes"] = 60
    default_dict["sites"][0]["lines"][0]["changeover_hours"] = 1.5
    (problem,) = problems_of(default_dict)
    assert "changeover_hours = 1.5 h" in problem and "period_minutes" in problem


def test_unknown_turbine_lists_close_windpowerlib_types(default_dict):
    default_dict["sites"][1]["microgrid"]["wind"][0]["turbine_type"] = "E-53/801"
    (problem,) = problems_of(default_dict)
    assert "E-53/801" in problem and "E-53/800" in problem


def test_missing_required_field_says_what_to_add(default_dict):
    del default_dict["sites"][0]["latitude"]
    (problem,) = problems_of(default_dict)
    assert problem.startswith("sites[0].latitude: required field missing")


def test_wrong_type_is_reported(default_dict):
    default_dict["horizon_hours"] = "24"
    problems = problems_of(default_dict)
    assert any("horizon_hours: expected a number" in p for p in problems)


def test_save_and_load_round_trip_keeps_every_value(default_case, tmp_path):
    path = save_case(default_case, tmp_path / "case.toml")
    again = load_case(path)
    assert again.replace(name="x") == default_case.replace(name="x")
    storage = again.site("metal_processing").storage["M1"]
    assert storage.max_t == 40.0 and storage.min_t == 0.0


def test_infinite_defaults_survive_round_trip(default_dict, tmp_path):
    del default_dict["sites"][0]["grid_connection_kw"]
    case = case_from_dict(copy.deepcopy(default_dict))
    assert math.isinf(case.site("foundry").grid_connection_kw)
    again = load_case(save_case(case, tmp_path / "c.toml"))
    assert again.site("foundry").grid_connection_kw >= 1e300


def test_day_types_follow_the_french_calendar():
    assert day_type("2019-06-12") == "weekday"
    assert day_type("2019-06-15") == "saturday"
    assert day_type("2019-06-16") == "sunday"
    assert day_type("2019-07-14") == "sunday"  # Bastille Day (a Sunday anyway)
    assert day_type("2019-04-22") == "sunday"  # Easter Monday 2019
    assert day_type("2019-05-30") == "sunday"  # Ascension 2019


def test_base_load_shapes_have_mean_one_over_a_week(default_case):
    week = [shape("metal_processing", f"2019-06-{d:02d}", 60, 24).mean() for d in range(17, 24)]
    # 5 weekdays (no holiday), a Saturday and a Sunday: year-mean normalisation gives a week mean ~1
    assert abs(np.mean(week) - 1.0) < 0.05
    site = default_case.site("electroplating")
    load = base_load_kw(site.base_load, "2019-06-12", 60, 24)
    assert load.shape == (24,) and np.all(load > 0)


def test_quarter_hour_periods_average_to_the_hourly_shape():
    hourly = shape("steel_plant", "2019-06-12", 60, 24)
    quarterly = shape("steel_plant", "2019-06-12", 15, 96)
    assert np.allclose(quarterly.reshape(24, 4).mean(axis=1), hourly)


def test_committed_shapes_match_a_fresh_derivation(shared_data, project_root):
    import pandas as pd

    fresh = derive_load_shapes(shared_data)
    committed = pd.read_csv(project_root / "data" / "profiles" / "base_load_shapes.csv")
    assert len(fresh) == len(committed)
    assert np.allclose(fresh["factor"].to_numpy(), committed["factor"].to_numpy(), atol=1e-5)


def test_format_documentation_is_up_to_date(project_root):
    from planner.case import case_format_markdown

    committed = (project_root / "docs" / "case_format.md").read_text()
    assert committed == case_format_markdown(), "run: python -m planner.case > docs/case_format.md"


def test_spread_laws_left_out_come_from_the_calibrated_file_and_given_ones_are_kept(default_dict, project_root):
    """The default case leaves the p1 / p2 ratio laws out: they are read from data/calibrated/intraday_france.json
    and listed in case.calibrated_fields; a value the case gives is kept as given and not listed."""
    law = __import__("json").loads((project_root / "data" / "calibrated" / "intraday_france.json").read_text())
    case = case_from_dict(copy.deepcopy(default_dict))
    assert case.contract.intraday.premium_ratio_mean == law["premium_ratio_mean"]
    assert case.contract.intraday.hourly_correlation == law["hourly_correlation"]
    assert case.contract.resale.discount_ratio_std == law["resale_discount_ratio_std"]
    assert case.contract.intraday.min_premium_eur_per_mwh == 5.0  # a contract term, not calibrated
    assert len(case.calibrated_fields) == 5
    given = copy.deepcopy(default_dict)
    given["contract"]["intraday"]["premium_ratio_mean"] = 0.3
    given["contract"]["resale"]["discount_ratio_mean"] = 0.2
    case = case_from_dict(given)
    assert case.contract.intraday.premium_ratio_mean == 0.3
    assert case.contract.resale.discount_ratio_mean == 0.2
    assert not any("premium_ratio_mean" in f or "discount_ratio_mean" in f for f in case.calibrated_fields)
    assert len(case.calibrated_fields) == 3
    again = case_from_dict(copy.deepcopy(default_dict)).replace(description="again")  # filling is idempotent
    assert again.contract.intraday.premium_ratio_mean == law["premium_ratio_mean"]
