"""The forecast benchmark script (benchmarks/forecasts.py) runs end to end in its --quick mode."""

import importlib.util

import pytest


@pytest.mark.slow
def test_quick_benchmark_prints_every_target_and_writes_the_figures(shared_data, project_root, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("forecasts_benchmark", project_root / "benchmarks" / "forecasts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert out.count("target ") == 7  # 3 on the epftoolbox period, 4 on 2022
    assert "LEAR ensemble (published)" in out and "clim365" in out
    assert "multi-day paths" in out and "level-state paths" in out  # coverage of the daily mean by lead
    assert out.count("rank histograms of 5 ensemble draws") >= 2 and "unconditional model" in out
    assert "(d) intraday premium" in out and "coverage of the 90 % band" in out
    assert (tmp_path / "forecasts_epftoolbox_FR_quick.png").stat().st_size > 10_000
    assert (tmp_path / "forecasts_FR_2022_quick.png").stat().st_size > 10_000
