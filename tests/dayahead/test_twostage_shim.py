"""The old import path ``planner.twostage`` keeps working for one release, with a deprecation warning."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

from planner.dayahead import module


def test_old_module_warns_and_reexports_the_mpisppy_hooks():
    sys.modules.pop("planner.twostage", None)
    with pytest.warns(DeprecationWarning, match="planner.dayahead"):
        twostage = importlib.import_module("planner.twostage")
    for hook in ("scenario_creator", "scenario_names_creator", "kw_creator", "inparser_adder", "scenario_denouement",
                 "average_scenario_creator"):
        assert getattr(twostage, hook) is getattr(module, hook)
    assert twostage.mean_scenario_creator is module.average_scenario_creator


def test_old_plan_accepts_np_and_seed(hand_line_case, price_set):
    """``planner.twostage.plan(case, n, method, np=, seed=)`` reaches planner.dayahead.plan.plan."""
    with pytest.warns(DeprecationWarning):
        twostage = importlib.import_module("planner.twostage")
        flat = np.full((1, 6), 50.0)
        res = twostage.plan(hand_line_case(), 1, "ef", np=1, seed=0,
                            scenarios=price_set(flat, flat + 5, flat - 10), measures=False, progress=False)
    assert res.lower_bound <= res.upper_bound and res.gap <= 0.005
