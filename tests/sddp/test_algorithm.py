"""Training: random small problems (1 to 4 states, Markov or not, noise everywhere) reach the deterministic
equivalent to 1e-6 relative; the same random_state gives the same run."""

from __future__ import annotations

import pytest

import sddp
from sddp.examples import hydro_thermal, random_problem


class ReachValue(sddp.StoppingRule):
    name = "reached"

    def __init__(self, value):
        self.value = value

    def stop(self, log, problem):
        return abs(log[-1].bound - self.value) <= 1e-7 * max(1.0, abs(self.value))


CASES = [
    # seed, states, stages, markov states
    (0, 1, 6, 1), (0, 3, 4, 1), (0, 4, 4, 1), (1, 1, 6, 1), (3, 2, 5, 1),
    (0, 1, 3, 2), (0, 2, 3, 2), (0, 1, 4, 2), (2, 2, 3, 2), (3, 1, 4, 2), (2, 3, 3, 2), (0, 4, 3, 2),
]


@pytest.mark.parametrize("seed, states, stages, markov", CASES)
def test_random_problem_matches_deterministic_equivalent(seed, states, stages, markov):
    sense = "min" if seed % 2 else "max"
    model = random_problem(seed, states, stages, 3, markov, sense=sense)
    de = sddp.deterministic_equivalent(model)
    res = sddp.train(model, iteration_limit=400, stopping_rules=[ReachValue(de)],
                     print_level=0, random_state=0)
    assert res.status == "reached", (res.bound, de)
    assert abs(res.bound - de) <= 1e-6 * max(1.0, abs(de))
    # the bound is valid at every iteration (lower for min, upper for max)
    for b in res.bound_history:
        assert (b <= de + 1e-7 * abs(de) + 1e-9) if sense == "min" else (b >= de - 1e-7 * abs(de) - 1e-9)


def test_randomness_only_through_random_state():
    a = sddp.train(hydro_thermal(), iteration_limit=5, print_level=0, random_state=42)
    b = sddp.train(hydro_thermal(), iteration_limit=5, print_level=0, random_state=42)
    assert a.bound_history == b.bound_history
    assert [r.simulation_value for r in a.log] == [r.simulation_value for r in b.log]
