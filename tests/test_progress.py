"""The live log: a header once, one row per update with the gap of its bounds, rows kept, silence on demand."""

from __future__ import annotations

import io

from planner.progress import Progress


def test_rows_under_one_header_with_the_gap_of_the_bounds():
    out = io.StringIO()
    log = Progress("EF", stream=out)
    log.update(1, 90.0, 100.0)
    log.update(2, 95.0, 100.0, step=0.5)
    lines = out.getvalue().splitlines()
    assert lines[0] == "EF" and lines[1].split()[:3] == ["iter", "lower", "bound"]
    assert lines[2].split()[3] == "10.000%" and lines[3].split()[3] == "5.000%"
    assert [r[:3] for r in log.rows] == [(1, 90.0, 100.0), (2, 95.0, 100.0)]


def test_missing_bound_shows_a_dash_and_disabled_log_prints_nothing():
    out = io.StringIO()
    Progress("PH", stream=out).update(0, 90.0, float("inf"))
    assert out.getvalue().splitlines()[2].split()[2:4] == ["-", "-"]
    quiet = io.StringIO()
    log = Progress("PH", enabled=False, stream=quiet)
    log.update(0, 1.0, 2.0)
    log.message("hello")
    assert quiet.getvalue() == "" and len(log.rows) == 1
