"""The planner command: validation messages, and the scenarios job writing a report with fan charts."""

from __future__ import annotations

import shutil

from planner.case import case_format_markdown, field_docs, load_case
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


def test_relative_paths_resolve_against_the_case_files_folder(tmp_path, project_root, capsys, monkeypatch):
    # a copy of the calibrated parameters beside a case that names them relatively: found there from any cwd
    shutil.copytree(project_root / "data" / "calibrated", tmp_path / "cases" / "fitted")
    text = (project_root / "tests" / "cases" / "base.toml").read_text().replace(
        "[scenarios]\n", '[scenarios]\nparameters = "fitted"\n')
    (tmp_path / "cases" / "mine.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    case = load_case("cases/mine.toml")
    assert case.scenarios.parameters == str((tmp_path / "cases" / "fitted").resolve()) and case.notes == ()
    # not beside the case file: the repository root's folder, with a note saying so
    (tmp_path / "cases" / "root.toml").write_text(text.replace('parameters = "fitted"', 'parameters = "data/calibrated"'))
    assert main(["validate", "cases/root.toml"]) == 0
    out = capsys.readouterr().out
    assert f"using {(project_root / 'data' / 'calibrated').resolve()} from the repository root" in out
    # the default case works from any directory, without a note
    assert main(["validate", str(project_root / "data" / "cases" / "default.toml")]) == 0
    assert "warning" not in capsys.readouterr().out


def test_the_case_format_reference_gives_every_field_a_default_and_a_unit_when_its_name_has_one():
    suffixes = {"_kw": "kW", "_kwh": "kWh", "_kwp": "kWp", "_t": "t", "_hours": "h", "_minutes": "min", "_deg": "deg",
                "_eur": "EUR", "_per_mwh": "EUR/MWh", "_years": "year", "_m": "m", "_m2": "m2"}
    rows = field_docs()
    assert len(rows) > 100
    for path, _type, unit, default, bounds, _doc in rows:
        name = path.rstrip("[]").split(".")[-1]
        assert default, path  # 'required', a value, or 'none'
        for suffix, expected in suffixes.items():
            if name.endswith(suffix) and not name.startswith("n_"):
                assert expected in unit, (path, unit)
    text = case_format_markdown()
    assert "Materials are fixed to M1, M2 and M3" in text and "no_m1_m2_together" in text
    assert "resolve against the folder of the case file" in text and "90 minutes is refused" in text
