"""The live training table: one row per iteration, the bound named after the sense, silence at level 0."""

from __future__ import annotations

import io

import sddp
from sddp.examples import hydro_thermal


def test_progress_table_and_silence(capsys):
    sddp.train(hydro_thermal(), iteration_limit=3, print_level=1, random_state=0)
    out = capsys.readouterr().out.splitlines()
    assert "iteration" in out[1] and "lower bound" in out[1] and "cuts" in out[1]
    rows = [line.split() for line in out[2:5]]
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    assert "stopped: iteration limit" in out[-1]
    sddp.train(hydro_thermal(), iteration_limit=3, print_level=0, random_state=0)
    assert capsys.readouterr().out == ""
    buf = io.StringIO()
    p = sddp.Progress(1, "max", stream=buf)
    p.header()
    assert "upper bound" in buf.getvalue()
