"""The case generator and the energy-community sharing rules."""

from __future__ import annotations

import numpy as np
import pytest

from planner.case import case_to_dict
from planner.decomposition.baselines import _split, community_flows, compare_sharing_rules
from planner.decomposition.generator import generate_case


def test_generator_is_seeded_valid_and_sparse():
    a = generate_case(12, 7)
    b = generate_case(12, 7)
    c = generate_case(12, 8)
    assert case_to_dict(a) == case_to_dict(b)
    assert case_to_dict(a) != case_to_dict(c)
    assert len(a.sites) == 12 and len(set(a.site_names)) == 12
    # connected sparse network: a spanning tree (n-1 links) plus a few extra
    assert 11 <= len(a.links) <= 11 + round(0.2 * 12)
    reached, frontier = {a.site_names[0]}, [a.site_names[0]]
    while frontier:
        s = frontier.pop()
        for l in a.links:
            for x, y in ((l.site_a, l.site_b), (l.site_b, l.site_a)):
                if x == s and y not in reached:
                    reached.add(y)
                    frontier.append(y)
    assert reached == set(a.site_names)
    # plans are within what the kept lines can make running all day
    for s in a.sites:
        for m, q in s.plan_t_per_day.items():
            assert q <= 24 * sum(l.rate_t_per_h.get(m, 0.0) for l in s.lines)
    assert max(len(s.lines) for s in generate_case(6, 1, max_lines_per_site=1).sites) == 1
    with pytest.raises(ValueError, match="n_sites"):
        generate_case(0)


def test_sharing_rules_by_hand():
    d = np.array([2.0, 4.0])
    assert np.allclose(_split(3.0, d, "proportional"), [1.0, 2.0])
    assert np.allclose(_split(9.0, d, "proportional"), [2.0, 4.0])
    assert np.allclose(_split(5.0, d, "first_come"), [2.0, 3.0])
    assert np.allclose(_split(5.0, np.array([1.0, 4.0, 4.0]), "equal"), [1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="rule"):
        _split(1.0, d, "lottery")


@pytest.mark.slow
def test_optimised_exchange_never_loses_to_a_rule():
    from planner.decomposition.base import deterministic_day
    from twostage_fixtures import simple_test_scenarios

    case = generate_case(3, 4, max_lines_per_site=1)
    scen = deterministic_day(simple_test_scenarios(case, 3, 0))
    table = compare_sharing_rules(case, scen, mip_gap=1e-2, time_limit=5.0)
    best = table.loc["optimised_exchange", "expected_cost_eur"]
    for rule in ("no_sharing", "first_come", "proportional", "equal"):
        assert table.loc[rule, "expected_cost_eur"] >= best - 1e-6 * abs(best)
