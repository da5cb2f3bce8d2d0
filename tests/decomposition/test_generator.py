"""The seeded case generator (planner.decomposition.generator)."""

from __future__ import annotations

import pytest

from planner.case import case_to_dict
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
