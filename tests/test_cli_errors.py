"""The planner command on bad input: every broken case of tests/cases/bad through ``planner validate``
(exit 2 or 3 and the expected message), option checks before any work, no traceback, --debug."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from planner.cli import main

CASES = Path(__file__).parent / "cases"
BAD = sorted((CASES / "bad").glob("*.toml"))


def expectation(path: Path) -> tuple[str, int]:
    """The ``# expect: <regex>`` and ``# exit: <code>`` header lines of a broken case."""
    head = dict(line[2:].split(": ", 1) for line in path.read_text().splitlines()[:3])
    return head["expect"], int(head["exit"])


def test_the_catalogue_holds_every_variant_of_the_issue():
    names = {p.stem for p in BAD}
    assert len(names) >= 50
    for listed in ("subscribed_power_infinite", "pv_module_unknown", "sizing_pv_module_unknown",
                   "price_level_negative", "peak_cap_too_low", "horizon_48_hours", "delivery_above_storage",
                   "grid_connection_too_small", "period_90_minutes", "base_load_mean_missing"):
        assert listed in names


def test_the_base_of_the_catalogue_is_valid(capsys):
    assert main(["validate", str(CASES / "base.toml")]) == 0
    assert capsys.readouterr().out.strip().endswith("valid")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_validate_rejects_each_broken_case_with_its_message(path, capsys):
    pattern, code = expectation(path)
    assert main(["validate", str(path)]) == code
    out = capsys.readouterr()
    assert re.search(pattern, out.err, flags=re.DOTALL), out.err
    assert "Traceback" not in out.err + out.out and "valid\n" not in out.out


def test_overrun_charge_below_demand_charge_is_a_warning(tmp_path, capsys):
    text = (CASES / "base.toml").read_text().replace("overrun_charge_eur_per_kw = 25.0", "overrun_charge_eur_per_kw = 5.0")
    path = tmp_path / "cheap_overrun.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    # 1.1 * 5 = 5.5 EUR/kW <= f1 = 10.95 EUR/kW/month: subscribing never pays; f3 must exceed 10.95 / 1.1 = 9.955
    assert "warning: contract.overrun_charge_eur_per_kw = 5 EUR/kW" in out and "above 9.955 EUR/kW" in out


@pytest.mark.parametrize("argv, message", [
    (["plan", "--scenarios", "-3"], "argument --scenarios: -3 is below 1"),
    (["plan", "--scenarios", "0"], "argument --scenarios: 0 is below 1"),
    (["study", "--scenarios", "10,x"], "argument --scenarios: '10,x': give comma-separated whole numbers"),
    (["size", "--years", "0"], "argument --years: 0 is below 1"),
    (["policy", "--simulations", "0"], "argument --simulations: 0 is below 2"),
    (["plan", "--gap", "-1"], "argument --gap: -1: a relative gap lies in [0, 1)"),
    (["plan", "--method", "ph", "--np", "2"], "argument --np: 2 ranks; progressive hedging under MPI needs a multiple of 3"),
    (["plan", "--np", "3"], "argument --np: 3 MPI ranks only serve --method ph"),
    (["decompose", "--time-limit", "-5"], "argument --time-limit: -5 s: give a finite number of seconds > 0"),
    (["size", "--days", "x"], "argument --days: 'x' is not a whole number"),
])
def test_options_are_checked_before_any_work(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([argv[0], str(CASES / "base.toml"), "--output", str(out), *argv[1:]]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_infeasible_case_fails_before_solving_and_leaves_no_output_folder(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["plan", str(CASES / "bad" / "peak_cap_too_low.toml"), "--output", str(out)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("no certified answer: infeasible case") and "peak cap family" in err
    assert "Traceback" not in err and not out.exists()


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(Exception, match="peak cap family"):
        main(["--debug", "validate", str(CASES / "bad" / "peak_cap_too_low.toml")])


def test_every_option_has_help_and_the_help_shows_defaults(capsys):
    for command in ("validate", "plan", "study", "policy", "size", "decompose", "run", "scenarios", "calibrate",
                    "ingest", "replay"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        options = re.findall(r"^  (--[a-z-]+)", text, flags=re.MULTILINE)
        for option in options:  # every option line carries a help text after its name
            assert re.search(rf"^  {option}[^\n]*\s{{2,}}\S", text, flags=re.MULTILINE), (command, option)
    assert main(["plan", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: ef)" in text and "(default: 0.005)" in text and "scenarios.n_scenarios" in text
    assert main(["ingest", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: output/ingest)" in text and "(default: timestamp)" in text and "(default: Europe/Paris)" in text
    assert main(["--help"]) == 0
    assert not re.search(r"``|:func:|:class:|\\n", capsys.readouterr().out)  # no raw docstring markup


def test_plan_takes_the_scenario_count_and_seed_of_the_case_and_opens_with_a_summary(tmp_path, capsys):
    case = tmp_path / "two.toml"
    case.write_text((CASES / "base.toml").read_text().replace("n_scenarios = 5", "n_scenarios = 2")
                    .replace("seed = 0", "seed = 7"))
    runs = {}
    for name, extra in (("case_seed", []), ("seed_0", ["--seed", "0"])):
        out = tmp_path / name
        assert main(["plan", str(case), "--output", str(out), "--no-measures", "--time-limit", "120", *extra]) == 0
        runs[name] = (out / "report.md").read_text(), (out / "tables" / "plan_day_ahead.csv").read_text()
    md = runs["case_seed"][0]
    assert "\n2 scenarios, solved by EF" in md  # the case's n_scenarios, not the option's old default 20
    # the case's seed 7 is used when --seed is not given: other scenarios than seed 0, another purchase
    assert runs["case_seed"][1] != runs["seed_0"][1]
    assert md.index("## Summary") < md.index("## Day-ahead procurement")
    assert "Buy day-ahead (MWh per hour, all sites)" in md and "no plan can cost less than" in md


def test_a_stop_raised_in_a_weakref_callback_prints_no_traceback():
    """The hard stop can fire inside a weakref callback, where Python prints 'Exception ignored' with a
    traceback: the CLI's hook drops that stop (the next alarm raises it again) and passes anything else on."""
    import weakref

    from planner.cli import quiet_stop_hook
    from planner.errors import WallClockLimit

    seen, previous = [], sys.unraisablehook
    sys.unraisablehook = quiet_stop_hook(lambda unraisable: seen.append(unraisable.exc_type))
    try:
        class Owner:
            pass

        def stop(_):
            raise WallClockLimit("stop")

        def other(_):
            raise ValueError("other")

        a, b = Owner(), Owner()
        refs = [weakref.ref(a, stop), weakref.ref(b, other)]
        del a, b
    finally:
        sys.unraisablehook = previous
    assert seen == [ValueError] and len(refs) == 2
