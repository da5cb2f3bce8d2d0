"""Figures of a day-ahead plan are written."""

from __future__ import annotations

import numpy as np

from planner.dayahead.plan import plan
from planner.dayahead.plots import plot_day_ahead, plot_dispatch, plot_gantt


def test_plots_written(tmp_path, hand_line_case, price_set):
    case = hand_line_case()
    flat = np.full((2, 6), 50.0)
    res = plan(case, 2, scenarios=price_set(flat, flat + 5, flat - 10), rel_gap=1e-9, measures=False,
               progress=False)
    for fn, name in ((plot_gantt, "gantt.png"), (plot_day_ahead, "da.png"), (plot_dispatch, "dispatch.png")):
        path = fn(res, tmp_path / name)
        assert path.stat().st_size > 1000
