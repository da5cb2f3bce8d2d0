"""The energy-community sharing rules (planner.decomposition.baselines)."""

from __future__ import annotations

import numpy as np
import pytest

from planner.dayahead.data import synthetic_scenarios
from planner.decomposition.baselines import compare_sharing_rules, split_surplus
from planner.decomposition.generator import generate_case
from planner.decomposition.run import deterministic_day


def test_sharing_rules_by_hand():
    d = np.array([2.0, 4.0])
    assert np.allclose(split_surplus(3.0, d, "proportional"), [1.0, 2.0])
    assert np.allclose(split_surplus(9.0, d, "proportional"), [2.0, 4.0])
    assert np.allclose(split_surplus(5.0, d, "first_come"), [2.0, 3.0])
    assert np.allclose(split_surplus(5.0, np.array([1.0, 4.0, 4.0]), "equal"), [1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="rule"):
        split_surplus(1.0, d, "lottery")


@pytest.mark.slow
def test_optimised_exchange_never_loses_to_a_rule():
    case = generate_case(3, 4, max_lines_per_site=1)
    scen = deterministic_day(synthetic_scenarios(case, 3, random_state=0))
    table = compare_sharing_rules(case, scen, mip_gap=1e-2, time_limit=5.0)
    best = table.loc["optimised_exchange", "expected_cost_eur"]
    for rule in ("no_sharing", "first_come", "proportional", "equal"):
        assert table.loc[rule, "expected_cost_eur"] >= best - 1e-6 * abs(best)
