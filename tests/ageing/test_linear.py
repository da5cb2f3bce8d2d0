"""The linear battery fade model by hand: SoH path and replacement year."""

from __future__ import annotations

import pytest

from planner.ageing import LinearBatteryAgeing


def test_linear_path_by_hand():
    lin = LinearBatteryAgeing(0.05, 1e-4, 0.8)
    p = lin.path([100, 100, 100, 100, 100])
    # 0.06 per year: 1 -> 0.94 -> 0.88 -> 0.82 -> 0.76 (< 0.8: replaced at the start of year 4)
    assert p.soh_end.iloc[:4].tolist() == pytest.approx([0.94, 0.88, 0.82, 0.76])
    assert lin.replacement_years([100] * 5) == [4]
    assert p.soh_start.iloc[4] == 1.0
