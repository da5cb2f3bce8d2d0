"""The ``planner`` command: one entry point with a subcommand per job.

    planner validate CASE                 check a case file and summarise it
    planner calibrate [--data DIR]        fit the scenario models on real data, write data/calibrated
    planner scenarios CASE                sample and plot the case's scenarios
    planner plan CASE --scenarios N --method ef|ph|lshaped [--np K]
    planner study CASE --scenarios 10,20,50
    planner policy CASE ...               train and simulate the hour-by-hour battery policy (SDDP)
    planner size CASE ...                 microgrid sizing with ageing
    planner decompose CASE --method price|quantity|prediction
    planner run CASE --output DIR         the main job: every stage, one report
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from planner.case import CaseError, load_case

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _case_summary(case) -> str:
    lines = [f"case {case.name!r}: {len(case.sites)} sites, {len(case.links)} links, "
             f"{case.n_periods} periods of {case.period_minutes:g} min"]
    for s in case.sites:
        mg = s.microgrid
        parts = [f"{len(s.lines)} lines"]
        if s.generator:
            parts.append(f"generator {s.generator.capacity_kw:g} kW")
        if mg.pv:
            parts.append(f"PV {mg.pv.kwp:g} kWp")
        for w in mg.wind:
            parts.append(f"{w.count} x {w.turbine_type}")
        if mg.battery:
            parts.append(f"battery {mg.battery.energy_kwh:g} kWh / {mg.battery.power_kw:g} kW")
        plan = ", ".join(f"{m} {q:g} t" for m, q in s.plan_t_per_day.items())
        lines.append(f"  {s.name}: {'; '.join(parts)}; plan {plan}")
    c = case.contract
    lines.append(f"  contract: P = {c.subscribed_power_kw:g} kW, f1 = {c.demand_charge_eur_per_kw_month}, "
                 f"f2 = {c.energy_charge_eur_per_kwh}, f3 = {c.overrun_charge_eur_per_kw}")
    return "\n".join(lines)


def cmd_validate(args) -> int:
    case = load_case(args.case)
    print(_case_summary(case))
    print("valid")
    return 0


def cmd_calibrate(args) -> int:
    from planner.calibrate import calibrate

    written = calibrate(Path(args.data), Path(args.out), progress=not args.quiet)
    for path in written:
        print(f"wrote {path}")
    return 0


def _run_stage(args, title: str, stage: str, **kwargs) -> int:
    """Load the case, run one stage of the main job into its own report, print the report's path."""
    from planner import mainjob
    from planner.report import Report

    case = load_case(args.case)
    report = Report(args.output, f"{title} for case {case.name}")
    getattr(mainjob, stage)(case, report, **kwargs)
    print(f"report: {report.write()}")
    return 0


def cmd_scenarios(args) -> int:
    return _run_stage(args, "Scenarios", "scenarios_stage", n_scenarios=args.scenarios, seed=args.seed)


def cmd_plan(args) -> int:
    return _run_stage(args, "Day-ahead plan", "plan_stage", n_scenarios=args.scenarios, method=args.method,
                      n_ranks=args.np, random_state=args.seed, rel_gap=args.gap, time_limit=args.time_limit,
                      measures=not args.no_measures)


def cmd_study(args) -> int:
    return _run_stage(args, "Scenario-tree study", "study_stage",
                      sizes=[int(v) for v in args.scenarios.split(",")], seeds=list(range(args.seeds)),
                      reference_size=args.out_of_sample, time_limit=args.time_limit)


def cmd_policy(args) -> int:
    return _run_stage(args, "Battery policy", "policy_stage", iterations=args.iterations,
                      simulations=args.simulations, random_state=args.seed, n_ranks=args.np)


def cmd_size(args) -> int:
    return _run_stage(args, "Microgrid sizing", "sizing_stage", years=args.years, days=args.days,
                      n_scenarios=args.scenarios, method=args.method, seed=args.seed,
                      years_per_block=args.years_per_block, time_limit=args.time_limit,
                      sensitivity=args.sensitivity, gap=args.gap)


def cmd_decompose(args) -> int:
    return _run_stage(args, "Decomposition", "decomposition_stage", method=args.method,
                      n_scenarios=args.scenarios, np=args.np, max_iterations=args.iterations,
                      time_limit=args.time_limit, seed=args.seed)


def cmd_run(args) -> int:
    from planner.mainjob import run_main_job

    case = load_case(args.case)
    print(_case_summary(case))
    start = time.perf_counter()
    path = run_main_job(case, Path(args.output), quick=args.quick)
    print(f"main job done in {time.perf_counter() - start:.1f} s; report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_case(name, help_text, func):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("case", help="case file (TOML)")
        p.add_argument("--output", default=None, help="output folder (default: output/<case>-<command>)")
        p.add_argument("--seed", type=int, default=0)
        p.set_defaults(func=func)
        return p

    p = sub.add_parser("validate", help="check a case file")
    p.add_argument("case")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("calibrate", help="fit scenario models on real data")
    p.add_argument("--data", default=str(PROJECT_ROOT.parent / "shared" / "data"))
    p.add_argument("--out", default=str(PROJECT_ROOT / "data" / "calibrated"))
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_calibrate)

    p = with_case("scenarios", "sample and plot scenarios", cmd_scenarios)
    p.add_argument("--scenarios", type=int, default=200)

    p = with_case("plan", "two-stage day-ahead procurement", cmd_plan)
    p.add_argument("--scenarios", type=int, default=20)
    p.add_argument("--method", choices=("ef", "ph", "lshaped"), default="ef")
    p.add_argument("--np", type=int, default=1, help="MPI ranks for PH (a multiple of 3 for hub + 2 spokes)")
    p.add_argument("--gap", type=float, default=0.005, help="relative gap to stop at")
    p.add_argument("--time-limit", type=float, default=120.0, help="seconds for the solve")
    p.add_argument("--no-measures", action="store_true",
                   help="skip EV, EEV, VSS, wait-and-see and EVPI (one MIP per scenario each)")

    p = with_case("study", "scenario-tree stability study", cmd_study)
    p.add_argument("--scenarios", default="10,20,50", help="comma-separated sizes")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out-of-sample", type=int, default=200, help="scenarios of the reference sample")
    p.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")

    p = with_case("policy", "SDDP battery policy", cmd_policy)
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--simulations", type=int, default=200)
    p.add_argument("--np", type=int, default=1)

    p = with_case("size", "microgrid sizing with ageing", cmd_size)
    p.add_argument("--years", type=int, default=None, help="default: economics.horizon_years")
    p.add_argument("--days", type=int, default=8, help="representative days (tsam) per scenario year")
    p.add_argument("--scenarios", type=int, default=3)
    p.add_argument("--method", choices=("ef", "ph", "decomposed"), default="ef")
    p.add_argument("--years-per-block", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=1800.0)
    p.add_argument("--gap", type=float, default=1e-3, help="target relative gap (default 0.1 %%)")
    p.add_argument("--sensitivity", action="store_true")

    p = with_case("decompose", "decomposition across sites", cmd_decompose)
    p.add_argument("--method", choices=("price", "quantity", "prediction"), default="price")
    p.add_argument("--scenarios", type=int, default=1, help="1 = the deterministic day")
    p.add_argument("--np", type=int, default=1, help="MPI ranks for the site subproblems")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--time-limit", type=float, default=600.0)

    p = with_case("run", "the main job on a case", cmd_run)
    p.add_argument("--quick", action="store_true", help="small sizes, for tests")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "output", "unset") is None:
        args.output = str(Path("output") / f"{Path(args.case).stem}-{args.command}")
    try:
        return args.func(args)
    except CaseError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
