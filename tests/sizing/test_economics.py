"""Sizing economics by hand: discounting, annuities, salvage, year blocks, derating."""

from __future__ import annotations

import pytest

from planner.sizing import economics as eco


def test_discounting_by_hand():
    assert eco.annuity_factor(2, 0.1) == pytest.approx(1 / 1.1 + 1 / 1.21)
    assert eco.capital_recovery_factor(20, 0.06) == pytest.approx(0.06 / (1 - 1.06 ** -20))
    assert eco.linear_salvage_fraction(30, 20) == pytest.approx(1 / 3)
    assert eco.year_blocks(7, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert eco.derate_by_block([[0, 1]], 0.005)[0] == pytest.approx((1 + 0.995) / 2)
