"""The planner command: validation messages, and the scenarios job writing a report with fan charts."""

from __future__ import annotations

from planner.cli import main


def test_validate_summarises_a_good_case(project_root, capsys):
    assert main(["validate", str(project_root / "data" / "cases" / "default.toml")]) == 0
    out = capsys.readouterr().out
    assert "3 sites, 2 links, 24 periods of 60 min" in out and out.strip().endswith("valid")


def test_validate_lists_every_problem_and_exits_2(tmp_path, project_root, capsys):
    text = (project_root / "data" / "cases" / "default.toml").read_text()
    text = text.replace("capacity_kw = 1500.0", "capacity_kw = -1.0").replace('turbine_type = "E-53/800"',
                                                                              'turbine_type = "E53"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "sites[0].generator.capacity_kw = -1.0 kW: must be > 0" in err
    assert "sites[1].microgrid.wind[0].turbine_type = 'E53'" in err


def test_missing_case_file_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_scenarios_job_writes_a_report_with_fans(project_root, tmp_path):
    out = tmp_path / "run"
    assert main(["scenarios", str(project_root / "data" / "cases" / "default.toml"),
                 "--output", str(out), "--scenarios", "30"]) == 0
    html = (out / "report.html").read_text()
    assert "Scenarios: prices, PV and wind" in html and "data:image/png;base64" in html
    for name in ("fan_prices", "fan_renewables", "fan_day_ahead_before_auction"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
    assert (out / "tables" / "scenarios_reduced.parquet").exists()
