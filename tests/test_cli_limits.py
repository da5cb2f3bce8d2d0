"""The planner command under a wall-clock --time-limit: every subcommand stops within 10 % of the limit
plus the solver call under way, and then either returns its best answer (exit 0, bounds and gap printed,
a warning when the gap target was missed) or says clearly that no answer exists (exit 3, no output);
the EV / EEV / wait-and-see measures show progress while they run."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

from planner.dayahead import module
from planner.progress import Progress, seconds_left, wall_clock_limit
from planner.case import load_case
from planner.scenario_inputs import case_scenarios
from planner.stochastic.measures import stochastic_measures

CASES = Path(__file__).parent / "cases"
REPO = Path(__file__).resolve().parents[1]
Captured = namedtuple("Captured", "out err")
SOLVER_CALL_S = 4.0  # the solver call under way at the hard stop, on a small case and a shared machine
BOUNDS = re.compile(r"lower bound (-?[\d,.]+) EUR, upper bound (-?[\d,.]+) EUR, gap (-?[\d.e-]+|infinite) %?")


@pytest.fixture(scope="module")
def start_up_s():
    """Seconds a fresh interpreter needs to import the command (not part of what --time-limit limits)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import planner.cli"], check=True, cwd=REPO)
    return time.perf_counter() - start


def run_limited(argv, limit_s, out, start_up_s):
    """The command in its own process, as a user runs it: a stop that lands inside a library (e.g. Pyomo's
    output capture) cannot leave state behind in the test process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "planner.cli", argv[0], str(CASES / "base.toml"), "--output",
                           str(out), "--time-limit", str(limit_s), *argv[1:]],
                          capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    captured = Captured(done.stdout, done.stderr)
    assert elapsed <= 1.1 * limit_s + SOLVER_CALL_S + start_up_s, (elapsed, start_up_s, captured.err[-2000:])
    assert "Traceback" not in captured.err + captured.out
    return done.returncode, captured


def assert_answer_or_clear_stop(code, captured, out, limit_s, target=None):
    """Exit 0: an answer with its bounds and gap, and a warning when the gap is above the target; exit 3:
    the message names the limit and the output folder is gone."""
    assert code in (0, 3), (code, captured.err[-2000:])
    if code == 3:
        assert f"no certified answer: --time-limit {limit_s:g} s: stopped after" in captured.err
        assert not out.exists()
        return None
    # the report, or (hard stop while it was written) the answer's tables and a warning saying so
    assert (out / "report.md").exists() or ("the report is incomplete" in captured.err and out.exists())
    found = BOUNDS.search(captured.out)
    if target is not None and found:
        gap = float("inf") if found.group(3) == "infinite" else float(found.group(3)) / 100
        lower, upper = (float(found.group(k).replace(",", "")) for k in (1, 2))
        assert gap == float("inf") or abs(upper - lower) <= (abs(gap) + 1e-3) * max(abs(upper), abs(lower))
        assert ("stopped at a gap of" in captured.err) == (gap > target + 1e-9), captured.err[-1500:]
    return found


@pytest.mark.parametrize("argv, limit_s, target", [
    (["plan", "--scenarios", "3", "--no-measures"], 8.0, 0.005),
    (["policy", "--iterations", "50", "--simulations", "10"], 6.0, 0.01),
    (["size", "--years", "2", "--days", "2", "--scenarios", "1", "--years-per-block", "1"], 8.0, 1e-3),
    (["decompose", "--iterations", "20"], 6.0, 0.01),
], ids=lambda v: v[0] if isinstance(v, list) else str(v))
def test_a_solving_subcommand_returns_its_answer_with_the_gap_or_stops_clearly(argv, limit_s, target, tmp_path,
                                                                                start_up_s):
    out = tmp_path / "out"
    code, captured = run_limited(argv, limit_s, out, start_up_s)
    found = assert_answer_or_clear_stop(code, captured, out, limit_s, target)
    if code == 0:
        assert found, captured.out[-1500:]  # the answer is printed with both bounds and the gap


@pytest.mark.parametrize("argv, limit_s", [
    (["study", "--scenarios", "2,3", "--seeds", "1", "--out-of-sample", "10"], 4.0),
    (["run", "--quick"], 10.0),
    (["scenarios", "--scenarios", "500"], 2.0),
], ids=lambda v: v[0] if isinstance(v, list) else str(v))
def test_a_job_of_several_solves_keeps_what_it_finished_or_stops_clearly(argv, limit_s, tmp_path, start_up_s):
    out = tmp_path / "out"
    code, captured = run_limited(argv, limit_s, out, start_up_s)
    assert_answer_or_clear_stop(code, captured, out, limit_s)
    if code == 0 and argv[0] == "run":  # the plan is the answer; stages that did not fit are caveats
        md = (out / "report.md").read_text()
        assert "## Summary" in md and "certified gap" in md
        for line in captured.err.splitlines():
            if line.startswith("warning:") and ("skipped" in line or "stopped by the hard stop" in line):
                assert line.removeprefix("warning: ").split(";")[0] in md


def test_a_tiny_limit_stops_every_solving_subcommand_clearly(tmp_path, start_up_s):
    # 1 s cannot hold building and solving the model: no answer exists, exit 3, nothing left behind
    for argv in (["plan", "--scenarios", "3"], ["study", "--scenarios", "2,3", "--seeds", "1"]):
        out = tmp_path / argv[0]
        code, captured = run_limited(argv, 1.0, out, start_up_s)
        assert_answer_or_clear_stop(code, captured, out, 1.0)


def test_policy_stopped_by_its_iteration_limit_warns_that_the_gap_target_was_missed(tmp_path, start_up_s):
    out = tmp_path / "out"
    # one SDDP iteration: its lower bound lies far below the simulated cost (a statistical upper bound)
    code, captured = run_limited(["policy", "--iterations", "1", "--simulations", "30", "--gap", "0.0001"], 60.0,
                                 out, start_up_s)
    assert code == 0
    found = assert_answer_or_clear_stop(code, captured, out, 60.0, target=0.0001)
    assert found and "warning: the battery policy (SDDP) stopped at a gap of" in captured.err


def test_replay_under_a_tiny_limit_keeps_its_finished_days_and_says_how_to_resume(shared_data, tmp_path, start_up_s):
    out = tmp_path / "replay"
    code, captured = run_limited(["replay", "--start", "2021-03-01", "--end", "2021-03-03", "--scenarios", "2"],
                                 3.0, out, start_up_s)
    assert code in (0, 3)
    if code == 3:
        assert "--time-limit 3 s: stopped after" in captured.err
        assert f"the days finished are kept in {out} and the same command resumes after them" in captured.err
    else:
        assert (out / "savings.csv").exists()


def test_the_measures_report_each_measure_with_its_elapsed_time_and_stop_at_the_wall_clock_limit(tmp_path):
    case = load_case(CASES / "base.toml")
    scen = case_scenarios(case, 3, 0)
    names = module.scenario_names_creator(3)
    kwargs = {"case": case, "scenarios": scen, "schedule_first_stage": False}
    stream = io.StringIO()
    m = stochastic_measures(module, names, kwargs, rp=3000.0, mip_gap=0.01, time_limit=20,
                            progress=Progress("plan", stream=stream))
    lines = stream.getvalue().splitlines()
    for measure in ("EV ", "EEV ", "wait-and-see "):
        line = next(x for x in lines if f"plan: {measure}" in x)
        assert re.search(r"in \d+\.\d s", line), line
    # every line carries its elapsed time, and no stretch between two lines is longer than 10 s
    stamps = [float(re.match(r"\[\s*([\d.]+)s\]", x).group(1)) for x in lines]
    assert max(b - a for a, b in zip([0.0] + stamps, stamps)) <= 10.0
    assert m["VSS"] == pytest.approx(m["EEV"] - 3000.0) and m["EV_bound"] <= m["EV"] + 1e-6
    # within a wall-clock limit that has passed, no measure solve starts: the measures are not computed
    with wall_clock_limit(0.0):
        assert seconds_left() <= 0
        with pytest.raises(Exception, match="wall-clock limit"):
            stochastic_measures(module, names, kwargs, rp=3000.0, mip_gap=0.01, time_limit=20)


def test_a_heartbeat_line_appears_during_a_long_silent_block():
    stream = io.StringIO()
    log = Progress("measures", stream=stream)
    with log.heartbeat("EEV, scenario 2 of 5", every_s=0.2):
        time.sleep(0.7)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and all(x.endswith("measures: EEV, scenario 2 of 5: still running") for x in lines)
