"""Variable handles and linear expressions: arithmetic, constants and quicksum."""

from __future__ import annotations

import sddp


def test_linear_expressions():
    x, y = sddp.Variable(0), sddp.Variable(1)
    e = 2 * x + y * 3 - 4 + x
    assert e.terms == {0: 3.0, 1: 3.0} and e.constant == -4.0
    e = 10 - (x - y) / 2
    assert e.terms == {0: -0.5, 1: 0.5} and e.constant == 10.0
    assert sddp.quicksum([x, y, 2 * x, 1.0]).terms == {0: 3.0, 1: 1.0}
    assert sum([x, y]).terms == {0: 1.0, 1: 1.0}
