"""`planner calibrate` reproduces the committed parameters from the real data."""

from __future__ import annotations

import json

import numpy as np

from planner.cli import main


def test_calibration_reproduces_the_committed_parameters(shared_data, project_root, tmp_path):
    assert main(["calibrate", "--data", str(shared_data), "--out", str(tmp_path), "--quiet"]) == 0
    committed = project_root / "data" / "calibrated"
    for name in ("pv_france.json", "wind_france.json", "joint_france.json", "price_france.json"):
        fresh = json.loads((tmp_path / name).read_text())
        kept = json.loads((committed / name).read_text())
        assert fresh.keys() == kept.keys(), name
    joint = json.loads((tmp_path / "joint_france.json").read_text())["fitted"]
    kept = json.loads((committed / "joint_france.json").read_text())["fitted"]
    assert np.allclose(joint["correlation"], kept["correlation"], atol=1e-9)
    # windy days are cheap in France: the fitted daily price-wind correlation is clearly negative
    columns = joint["columns"]
    rho = np.asarray(joint["correlation"])[columns.index("price:p0_level"), columns.index("wind:wind_level")]
    assert rho < -0.2


def test_calibration_without_data_names_the_missing_folder(tmp_path, capsys):
    assert main(["calibrate", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "nowhere" in capsys.readouterr().err
