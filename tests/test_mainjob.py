"""The main job (the README's `make run`) on the default case, shrunk: every stage reports its bounds."""

from __future__ import annotations

import re

import pytest

from planner.cli import main


@pytest.mark.slow
def test_main_job_writes_every_stage_with_bounds(project_root, tmp_path):
    out = tmp_path / "default"
    assert main(["run", str(project_root / "data" / "cases" / "default.toml"), "--output", str(out), "--quick"]) == 0
    md = (out / "report.md").read_text()
    for title in ("Scenarios: prices, PV and wind", "Day-ahead procurement", "Hour-by-hour battery policy",
                  "Microgrid sizing with ageing", "Decomposition across sites", "Run times"):
        assert f"## {title}" in md, title
    # every optimisation stage states a lower bound, an upper bound and a gap
    # the one-screen summary opens the report: what to buy, what to install, the cost and its interval
    summary = re.split(r"\n## ", md)[1]
    assert summary.startswith("Summary") and "Buy day-ahead" in summary and "Install:" in summary
    assert "no plan can cost less than" in summary and "Caveats:" in summary
    for section in re.split(r"\n## ", md)[3:-1]:
        if section.startswith("Scenarios"):
            continue
        assert "lower bound" in section and "upper bound" in section and "gap" in section, section[:60]
    figures = {p.stem for p in (out / "figures").glob("*.png")}
    assert {"fan_prices", "plan_gantt", "sizing_soh", "decomposition_price"} <= figures
    assert (out / "policy" / "cuts.json").exists()
