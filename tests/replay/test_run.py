"""The period runner: a killed replay resumes with the same result; data coverage named; the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import main
from planner.replay.day import FIXED, RULE, ReplayOptions
from planner.replay.policies import PERFECT_MONTH
from planner.replay.run import TIME_COLUMNS, run_replay
from planner.solvers.mpi import mpiexec_path

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED))
START, END = "2022-01-30", "2022-02-02"     # 4 days over two months

SCRIPT = """
import dataclasses, sys
from planner.case import load_case
from planner.replay.day import ReplayOptions, RULE, FIXED
from planner.replay.run import run_replay
sys.path.insert(0, {tests!r})
from replay.conftest import energy_system
case = energy_system(load_case({case!r}))
run_replay(case, {start!r}, {end!r}, ReplayOptions(n_scenarios=2, time_limit_s=20.0, policies=(RULE, FIXED)),
           {out!r}, progress=False)
"""


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=list(TIME_COLUMNS)).sort_values(["date", "policy"]).reset_index(drop=True)


@pytest.mark.slow
def test_killed_replay_resumes_to_the_same_result(small_case, real_days, tmp_path, shared_data):
    # uninterrupted, its two months in two processes; the killed one resumes in one process
    whole = run_replay(small_case, START, END, OPTIONS, tmp_path / "whole", n_workers=2, real=real_days,
                       progress=False)
    assert not whole.daily["fallback"].any()  # every day planned in the pool's workers (no nested-fork failure)
    out = tmp_path / "killed"
    code = SCRIPT.format(tests=str(ROOT / "tests"), case=str(ROOT / "data" / "cases" / "default.toml"),
                         start=START, end=END, out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "days").glob("*.json"))) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    written = sorted(p.name for p in (out / "days").glob("*.json"))
    assert 1 <= len(written) < 4, f"the kill should land after the first days: {written}"
    resumed = run_replay(small_case, START, END, OPTIONS, out, real=real_days, progress=False)
    assert resumed.days_computed == 4 - len(written)
    pd.testing.assert_frame_equal(comparable(resumed.daily), comparable(whole.daily))
    pd.testing.assert_frame_equal(resumed.monthly, whole.monthly)
    assert pd.read_parquet(out / "daily.parquet").shape == whole.daily.shape
    # the month's state: 1 February starts from the stated level with the peak at 0
    feb1 = whole.daily[(whole.daily["date"] == "2022-02-01") & (whole.daily["policy"] == FIXED)].iloc[0]
    jan31 = whole.daily[(whole.daily["date"] == "2022-01-31") & (whole.daily["policy"] == FIXED)].iloc[0]
    assert feb1["month_peak_kw"] == pytest.approx(feb1["day_peak_kw"])
    assert jan31["month_peak_kw"] >= jan31["day_peak_kw"]


def test_other_options_in_the_same_folder_are_refused(small_case, real_days, tmp_path):
    (tmp_path / "days").mkdir()
    (tmp_path / "replay_options.json").write_text(json.dumps({"case": "other"}))
    with pytest.raises(ValueError, match="other options"):
        run_replay(small_case, START, END, OPTIONS, tmp_path, real=real_days, progress=False)


def test_a_period_past_the_data_names_the_data(real_days, small_case, tmp_path):
    with pytest.raises(ValueError, match="entsoe_FR_2015_2023.csv covers 2015-01-05 .. 2023-06-30"):
        run_replay(small_case, "2023-06-29", "2023-07-02", OPTIONS, tmp_path, real=real_days, progress=False)


def test_cli_replay_past_the_data_exits_2_naming_the_data(shared_data, tmp_path, capsys):
    code = main(["replay", str(ROOT / "data" / "cases" / "default.toml"), "--start", "2023-07-01", "--end",
                 "2023-07-07", "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert "entsoe_FR_2015_2023.csv" in err and "2023-07-01" in err


def test_cli_bad_day_is_refused(capsys):
    assert main(["replay", str(ROOT / "data" / "cases" / "default.toml"), "--start", "2022-13-01", "--end",
                 "2022-12-31"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_replay_help_shows_every_option_with_its_help(capsys):
    assert main(["replay", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--start", "--end", "--method", "--scenarios", "--plan-time-limit", "--max-plan-gap",
                   "--day-ahead-unknown", "--workers", "--data", "--time-limit", "--policies", "--sddp-iterations",
                   "--recalibrate-every", "--carry-stocks", "--fresh-schedules"):
        assert option in text
    assert "(default: lshaped)" in " ".join(text.split())


@pytest.mark.slow
def test_months_over_two_mpi_ranks_give_the_serial_result(small_case, real_days, tmp_path):
    pytest.importorskip("mpi4py")
    if mpiexec_path() is None:
        pytest.skip("no mpiexec")
    serial = run_replay(small_case, "2022-01-31", "2022-02-01", OPTIONS, tmp_path / "serial", real=real_days,
                        progress=False)
    ranks = run_replay(small_case, "2022-01-31", "2022-02-01", OPTIONS, tmp_path / "mpi", real=real_days,
                       progress=False, n_ranks=2)
    assert ranks.days_computed == 2
    pd.testing.assert_frame_equal(comparable(ranks.daily), comparable(serial.daily))


def test_month_bound_rows_and_figures_are_written_and_read_back(small_case, real_days, tmp_path):
    opts = ReplayOptions(n_scenarios=2, policies=(RULE, PERFECT_MONTH))
    first = run_replay(small_case, "2022-01-10", "2022-01-11", opts, tmp_path, real=real_days, progress=False)
    assert (tmp_path / "months" / "2022-01.json").exists()
    assert sorted(first.daily["policy"].unique()) == sorted([RULE, PERFECT_MONTH])
    assert len(first.daily) == 4
    for name in ("cumulative_saving", "monthly_bills", "state", "forecast_coverage"):
        assert (tmp_path / "figures" / f"{name}.png").exists()
    again = run_replay(small_case, "2022-01-10", "2022-01-11", opts, tmp_path, real=real_days, progress=False)
    assert again.days_computed == 0
    pd.testing.assert_frame_equal(comparable(again.daily), comparable(first.daily))
