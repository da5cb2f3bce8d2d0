"""The ``planner`` command: one entry point with a subcommand per job; errors by family, no traceback.

Every numeric option is checked before any work starts; our error families map to exit codes
(``planner.errors``: 2 bad input, 3 no certified answer; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import math
import shutil
import signal
import sys
import time
import traceback
from datetime import date
from pathlib import Path

from planner.case import load_case
from planner.data_sources import cached_meter_data, load_meter_data, source_from_dict
from planner.store import Store, check_recordable_url, record_output_store
from planner.errors import EXIT_BAD_INPUT, EXIT_NO_ANSWER, BadInputError, NoCertifiedAnswerError, WallClockLimit
from planner.progress import catch_hard_stop, hard_stop_was_caught, held_answer, release_answer, wall_clock_limit
from planner.policy.month import month_stage

with contextlib.redirect_stdout(io.StringIO()):  # mpi-sppy prints a banner when it is first imported
    from planner import mainjob
    from planner.calibrate import calibrate, calibrate_from_sources
    from planner.dayahead.feasibility import InfeasiblePlanError
    from planner.dayahead.plan import NoPlanError
    from planner.prechecks import presolve_warnings, require_presolve_checks
    from planner.report import Report
    from planner.replay.day import POLICY_KEYS, ReplayOptions
    from planner.replay.run import run_replay
    from planner.sizing.apply import load_sizing, sized_case, sizing_check
    from planner.solvers.mpi import MPIUnavailable
    from planner.stochastic.evaluate import NoIncumbentError

DESCRIPTION = """\
Plans electricity for interconnected industrial sites under one global contract.
planner SUBCOMMAND --help lists a subcommand's options and their defaults.

exit codes: 0 done (also when --time-limit stopped a solve that holds an answer: its bounds and gap are
printed, with a warning when the gap target was missed); 1 internal error (rerun with --debug for the
traceback); 2 bad input (a case field or an option: the message names it, its unit and the fix); 3 no
certified answer (an infeasible case, or no feasible answer within the time limit).
"""

MIN_MEASURE_SOLVE_S = 2.0  # below this per solve, EV / EEV / wait-and-see MIPs rarely find an incumbent
NO_ANSWER_ERRORS = (NoCertifiedAnswerError, InfeasiblePlanError, NoPlanError, NoIncumbentError)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless its help text already says what the default is."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default:" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


class SubcommandParser(argparse.ArgumentParser):
    """Every subcommand's parser shows the defaults in ``--help``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


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
    """Every check that plan, size, policy and decompose run before solving; the first failing family
    decides the exit code (names unknown to the libraries: 2; a case that cannot be operated: 3)."""
    case = load_case(args.case)
    require_presolve_checks(case)
    print(_case_summary(case))
    for note in presolve_warnings(case):
        print(f"warning: {note}")
    print("valid")
    return 0


def cmd_calibrate(args) -> int:
    if args.source is not None:  # the user's own price / PV history
        written = calibrate_from_sources(Path(args.source), Path(args.out or Path("output") / "calibrated"),
                                         base_dir=args.base, progress=not args.quiet)
    else:
        written = calibrate(Path(args.data), Path(args.out or PROJECT_ROOT / "data" / "calibrated"),
                            progress=not args.quiet)
    for path in written:
        print(f"wrote {path}")
    return 0


def load_checked_case(args):
    """The case of ``args.case``, through every pre-solve check (the same as ``planner validate``)."""
    case = load_case(args.case)
    require_presolve_checks(case)
    for note in presolve_warnings(case):
        print(f"warning: {note}", file=sys.stderr)
    return case


def case_seed(args, case) -> int:
    """``--seed``, or the case's ``scenarios.seed`` when the option is not given."""
    return case.scenarios.seed if args.seed is None else args.seed


def remaining_s(args) -> float | None:
    """Seconds left of ``--time-limit`` (None: no limit)."""
    limit = getattr(args, "time_limit", None)
    if limit is None:
        return None
    return max(1.0, limit - (time.perf_counter() - args.started_at))


def share_s(args, fraction: float, solves: int = 1) -> float | None:
    """Seconds per solve when ``solves`` solves share ``fraction`` of what is left of ``--time-limit`` (the
    rest covers data preparation and reporting, which take no limit)."""
    left = remaining_s(args)
    return None if left is None else max(1.0, fraction * left / solves)


def warn_gap(result, target: float | None, what: str) -> None:
    """The result's bounds and gap on one line, and a warning line when it stopped above its gap target
    (time or iteration limit reached): the best answer found, certified within that gap."""
    gap = getattr(result, "gap", None)
    lower = getattr(result, "lower_bound", getattr(result, "lower_bound_eur", None))
    upper = getattr(result, "upper_bound", getattr(result, "upper_bound_eur", None))
    if gap is not None and lower is not None and upper is not None:
        # a statistical upper bound (SDDP's simulated cost) may lie below the lower bound: a negative gap
        shown = f"{100 * (gap if abs(gap) > 1e-9 else 0.0):.3g} %" if math.isfinite(gap) else "infinite"
        print(f"{what}: lower bound {lower:,.2f} EUR, upper bound {upper:,.2f} EUR, gap {shown}")
    if target is None or gap is None:
        return
    if not math.isfinite(gap) or gap > target + 1e-12:
        shown = "infinite" if not math.isfinite(gap) else f"{100 * gap:.3g} %"
        print(f"warning: {what} stopped at a gap of {shown}, above the target {100 * target:.3g} %; the answer is "
              "certified only within that gap; raise --time-limit (or the iteration limit) to close it",
              file=sys.stderr)


def _run_stage(args, title: str, stage, case=None, summary=None, **kwargs):
    """Run one stage of the main job on the checked case into its own report, print the report's path;
    return the stage's result. The output folder is removed again if the command fails before writing."""
    case = load_checked_case(args) if case is None else case
    existed = Path(args.output).exists()
    try:
        report = Report(args.output, f"{title} for case {case.name}")
        result = stage(case, report, **kwargs)
        if summary is not None:  # the one-screen summary opens the report
            mainjob.executive_summary(report, case, **{summary: result}, rel_gap_target=args.gap)
        print(f"report: {report.write()}")
    except BaseException:
        if not existed and held_answer() is None:  # an answer held is reported from its folder
            shutil.rmtree(args.output, ignore_errors=True)
        raise
    return result


def cmd_scenarios(args) -> int:
    case = load_case(args.case)
    _run_stage(args, "Scenarios", mainjob.scenarios_stage, case=case, n_scenarios=args.scenarios,
               seed=case_seed(args, case))
    return 0


def cmd_plan(args) -> int:
    case = load_checked_case(args)
    n_scenarios = case.scenarios.n_scenarios if args.scenarios is None else args.scenarios
    # the wall-clock limit covers the solve and the measures (EV, EEV and one wait-and-see MIP per
    # scenario): half for the solve, the rest shared by the measure solves
    limit = remaining_s(args)
    solve_s = None if limit is None else 0.5 * limit
    measure_s = 20.0 if limit is None else 0.4 * limit / (n_scenarios + 2)
    measures = not args.no_measures
    if measures and measure_s < MIN_MEASURE_SOLVE_S:
        measures = False
        needed_s = args.time_limit - limit + MIN_MEASURE_SOLVE_S * (n_scenarios + 2) / 0.4
        print(f"warning: EV, EEV, VSS, wait-and-see and EVPI skipped: --time-limit {args.time_limit:g} s leaves "
              f"{measure_s:.2f} s for each of their {n_scenarios + 2} solves (at least {MIN_MEASURE_SOLVE_S:g} s "
              f"needed); raise --time-limit to {10 * math.ceil(needed_s / 10):.0f} s or more",
              file=sys.stderr)
    # the measures stop by 80 % of the limit (they are dropped, not the plan, when they cannot finish),
    # which leaves the report its time before the hard stop at 110 %
    with wall_clock_limit(None if limit is None else 0.8 * args.time_limit, started=args.started_at):
        result = _run_stage(args, "Day-ahead plan", mainjob.plan_stage, case=case, summary="plan_result",
                            n_scenarios=n_scenarios, method=args.method, n_ranks=args.np,
                            random_state=case_seed(args, case), rel_gap=args.gap, time_limit=solve_s,
                            measures=measures, measures_time_limit=measure_s)
    warn_gap(result, args.gap, "the day-ahead plan")
    store_plan(args, case, result)
    return 0


def open_store(args) -> Store:
    """The results database: ``--store`` URL, default planner.sqlite in the output folder."""
    return Store(args.store) if args.store else Store.in_folder(args.output)


def store_plan(args, case, result) -> None:
    """Write the plan's day into the store (``--store`` URL, default: planner.sqlite in the output folder)."""
    store = open_store(args)
    run_id = store.start_run("plan", case)
    counts = store.write_plan(case, result, run_id)
    store.finish_run(run_id)
    print(f"store: {store.describe()} run {run_id}: " + ", ".join(f"{n} {t} rows" for t, n in counts.items()))
    # the nominations as read back from the store: each period's start on the site's clock with its offset,
    # in UTC, and the units in the column names (23 or 25 rows when the clocks change)
    nominations = store.read("day_ahead_nominations", case_name=case.name,
                             day_local=date.fromisoformat(case.scenarios.day))
    path = Path(args.output) / "day_ahead_nominations.csv"
    nominations[["zone", "period", "start_local", "start_utc", "end_utc", "power_kw", "energy_kwh"]].sort_values(
        ["zone", "period"]).to_csv(path, index=False)
    print(f"day-ahead nominations with timestamps: {path}")
    for site in case.sites:  # the repair report of every metered load and PV output the plan used
        if site.base_load.source is not None:
            path = Path(args.output) / f"repairs_{site.name}.csv"
            cached_meter_data(site.base_load.source).repair_frame().to_csv(path, index=False)
            print(f"repair report of site {site.name}'s readings: {path}")
        if site.microgrid.pv is not None and site.microgrid.pv.source is not None:
            path = Path(args.output) / f"repairs_{site.name}_pv.csv"
            cached_meter_data(site.microgrid.pv.source).repair_frame().to_csv(path, index=False)
            print(f"repair report of site {site.name}'s PV readings: {path}")


def cmd_ingest(args) -> int:
    """Load a meter export (CSV, Parquet, or a SQL table/query) into the store with its repair report."""
    is_url = "://" in args.source
    options = {"url" if is_url else "path": args.source, "table": args.table, "query": args.query,
               "timestamp_column": args.timestamp_column, "value_column": args.value_column, "unit": args.unit,
               "unit_column": args.unit_column, "meter_column": args.meter_column, "meter": args.meter,
               "timezone": args.timezone, "interval_minutes": args.interval_minutes}
    data = load_meter_data(source_from_dict({k: v for k, v in options.items() if v is not None}), progress=True)
    print(data.summary())
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    repairs = data.repair_frame()
    repairs.to_csv(out / "repairs.csv", index=False)
    store = Store(args.store) if args.store else Store.in_folder(out)
    run_id = store.start_run("ingest", detail=data.source)
    rows = store.write_meter_data(data, run_id)
    store.finish_run(run_id)
    print(f"store: {store.describe()} run {run_id}: {rows} readings, {len(repairs)} repairs; "
          f"repair report: {out / 'repairs.csv'}")
    return 0


def cmd_study(args) -> int:
    case = load_checked_case(args)
    solves = len(args.scenarios) * args.seeds
    limit = remaining_s(args)
    # VSS and EVPI of every solve take one MIP per scenario and two more, each within what is left of
    # the limit; they are skipped (with a warning) when a third of the limit cannot hold them
    measure_solves = args.seeds * sum(n + 2 for n in args.scenarios)
    measures = limit is None or MIN_MEASURE_SOLVE_S * measure_solves <= 0.3 * limit
    if not measures:
        print(f"warning: VSS and EVPI per size skipped: their {measure_solves} solves need at least "
              f"{MIN_MEASURE_SOLVE_S * measure_solves:.0f} s, more than 30 % of --time-limit {args.time_limit:g} s",
              file=sys.stderr)
    _run_stage(args, "Scenario-tree study", mainjob.study_stage, case=case, sizes=args.scenarios,
               seeds=[case_seed(args, case) + k for k in range(args.seeds)], reference_size=args.out_of_sample,
               time_limit=None if limit is None else max(1.0, 0.5 * limit / solves), measures=measures)
    return 0


def cmd_policy(args) -> int:
    case = load_checked_case(args)
    if args.horizon == "month":  # planner.policy.month: one billing month, demand charge, price level
        result = _run_stage(args, "Month-long demand-charge policy", month_stage, case=case, n_days=args.days,
                            iterations=args.iterations, simulations=args.simulations or 30,
                            random_state=case_seed(args, case), time_limit=share_s(args, 0.5), gap=args.gap)
        warn_gap(result, args.gap, "the month policy (SDDP)")
        return 0
    result = _run_stage(args, "Battery policy", mainjob.policy_stage, case=case, iterations=args.iterations,
                        simulations=args.simulations or 200, random_state=case_seed(args, case), n_ranks=args.np,
                        time_limit=share_s(args, 0.5))
    warn_gap(result, args.gap, "the battery policy (SDDP)")
    return 0


def cmd_size(args) -> int:
    case = load_checked_case(args)
    store = Store(args.store) if args.store else None  # a database given: reached before the work starts
    result = _run_stage(args, "Microgrid sizing", mainjob.sizing_stage, case=case, summary="sizing_result",
                        years=args.years, days=args.days,
                        n_scenarios=args.scenarios, method=args.method, seed=case_seed(args, case),
                        years_per_block=args.years_per_block, time_limit=share_s(args, 0.6, 7 if args.sensitivity else 1),
                        sensitivity=args.sensitivity, gap=args.gap, rounds=args.rounds)
    warn_gap(result, args.gap, "the sizing")
    store = store or open_store(args)
    run_id = store.start_run("size", case)
    counts = store.write_sizing(case, result, run_id, base_load=mainjob.base_load_text(case))
    store.finish_run(run_id)
    print(f"store: {store.describe()} run {run_id}: " + ", ".join(f"{n} {t} rows" for t, n in counts.items()))
    return 0


def cmd_decompose(args) -> int:
    case = load_checked_case(args)
    result = _run_stage(args, "Decomposition", mainjob.decomposition_stage, case=case, method=args.method,
                        n_scenarios=args.scenarios, n_ranks=args.np, max_iterations=args.iterations,
                        time_limit=share_s(args, 0.8), seed=case_seed(args, case))
    warn_gap(result, args.gap, "the decomposition")
    return 0


def cmd_replay(args) -> int:
    """Replay real history day by day (planner.replay): forecast, plan, operate, settle, carry the state."""
    case = load_checked_case(args)
    sizing = None
    if args.sizing is not None:  # the sized system replayed: its PV, wind, batteries, generators, subscribed power
        sizing = load_sizing(args.sizing)
        case = sized_case(case, sizing)
    options = ReplayOptions(method=args.method, n_scenarios=args.scenarios, time_limit_s=args.plan_time_limit,
                            rel_gap=args.gap, day_ahead_known=not args.day_ahead_unknown, seed=case_seed(args, case),
                            max_plan_gap=args.max_plan_gap, sddp_iterations=args.sddp_iterations,
                            recalibrate_every=args.recalibrate_every, carry_stocks=args.carry_stocks,
                            reuse_across_days=not args.fresh_schedules,
                            policies=tuple(POLICY_KEYS[k] for k in dict.fromkeys(["rule", *args.policies])))
    if args.store:
        check_recordable_url(args.store)  # before connecting: the URL is recorded for the worker processes
    store = open_store(args)  # each finished day is written by the process that finished it
    run_id = store.start_run("replay", case, detail=f"{args.start}..{args.end}")
    record_output_store(args.output, store.url, run_id)
    try:
        result = run_replay(case, args.start, args.end, options, args.output, n_workers=args.workers, data=args.data,
                            n_ranks=args.np)
    except BaseException:
        store.finish_run(run_id, status="failed")
        raise
    rows = store.write_replay_days(case, result.daily, run_id)  # days resumed from an earlier run too
    store.finish_run(run_id)
    print(f"store: {store.describe()} run {run_id}: {rows} replay_days rows")
    print(result.savings.to_string(index=False))
    if len(result.planner):
        print("the planner (two-stage plan + SDDP) against each policy, EUR/day saved [95 % week-block interval]:")
        for r in result.planner.itertuples():
            print(f"  vs {r.reference}: {r.saving_eur_per_day:+,.1f} [{r.saving_ci_low_eur_per_day:+,.1f}, "
                  f"{r.saving_ci_high_eur_per_day:+,.1f}] over {r.days} days")
    print(f"realised data: {result.realised_data}")
    print(f"replay: {args.output}/daily.parquet, monthly_bills.csv, savings.csv, planner_against.csv, summary.json, "
          f"report.html, figures/")
    if sizing is not None:  # sizing's predicted operating cost for the replayed days beside the replayed one
        check = sizing_check(sizing, case, result.monthly, result.daily["date"].unique())
        check.to_csv(Path(args.output) / "sizing_check.csv", index=False)
        print("sizing held? replayed operating cost beside sizing's prediction for the same days (EUR; energy by "
              "each date's typical day, overrun and demand charges by the share of the month replayed):")
        print(check[["policy", "days", "replayed_eur", "predicted_eur", "difference_pct", "replayed_peak_kw",
                     "overrun_threshold_kw", "predicted_yearly_eur", "replayed_yearly_eur"]].round(1).to_string(index=False))
        print(f"sizing check: {args.output}/sizing_check.csv")
    return 0


def cmd_run(args) -> int:
    case = load_checked_case(args)
    if args.seed is not None:  # the main job draws every sample from the case's seed
        case = case.replace(scenarios=dataclasses.replace(case.scenarios, seed=args.seed))
    print(_case_summary(case))
    start = time.perf_counter()
    existed = Path(args.output).exists()
    try:
        path = mainjob.run_main_job(case, Path(args.output), quick=args.quick, time_limit=remaining_s(args))
    except BaseException:
        if not existed:
            shutil.rmtree(args.output, ignore_errors=True)
        raise
    print(f"main job done in {time.perf_counter() - start:.1f} s; report: {path}")
    return 0


# ------------------------------------------------------------------------------------------------
# Option types: every number checked by argparse before any work starts
# ------------------------------------------------------------------------------------------------
def whole_number(low: int):
    """An argparse type: a whole number >= ``low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give one >= {low}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}; give a whole number >= {low}")
        return value
    parse.__name__ = f"whole number >= {low}"
    return parse


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} s: give a finite number of seconds > 0")
    return value


def relative_gap_target(text: str) -> float:
    """An argparse type: a relative gap in [0, 1) (0.01 = 1 %)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a relative gap such as 0.01 (1 %)") from None
    if not (math.isfinite(value) and 0 <= value < 1):
        raise argparse.ArgumentTypeError(f"{text}: a relative gap lies in [0, 1), e.g. 0.01 for 1 %")
    return value


def iso_day(text: str) -> str:
    """An argparse type: a calendar day YYYY-MM-DD."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day; give YYYY-MM-DD, e.g. 2022-01-01") from None


def scenario_counts(text: str) -> list[int]:
    """An argparse type: comma-separated whole numbers >= 1 (``10,20,50``)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give comma-separated whole numbers of scenarios >= 1, e.g. 10,20,50") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every scenario count must be >= 1, e.g. 10,20,50")
    return values


def check_options(parser: argparse.ArgumentParser, args) -> None:
    """Relations between options that argparse types cannot see (exit 2 through the subcommand's
    ``parser.error``, which prints its usage and the message)."""
    parser = getattr(parser, "subcommands", {}).get(args.command, parser)
    method, n_ranks = getattr(args, "method", None), getattr(args, "np", 1)
    if args.command == "plan" and n_ranks > 1:
        if method != "ph":
            parser.error(f"argument --np: {n_ranks} MPI ranks only serve --method ph; {method} runs in one "
                         "process (drop --np)")
        if n_ranks % 3:
            parser.error(f"argument --np: {n_ranks} ranks; progressive hedging under MPI needs a multiple of 3 "
                         "(PH hub, Lagrangian bound, xhatshuffle): use 3, 6, ... or 1 for serial PH")
    if args.command == "size" and args.years is not None and args.years_per_block > args.years:
        parser.error(f"argument --years-per-block: {args.years_per_block} exceeds --years {args.years}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND",
                                parser_class=SubcommandParser)

    def debug(p):
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the Python traceback of an error")

    def time_limit(p, default, what):
        p.add_argument("--time-limit", type=positive_seconds, default=default,
                       help=f"wall-clock seconds for the whole command ({what}); a solve it stops returns its "
                            "best answer with its gap; hard stop at 110 %% of it plus the solver call under way "
                            "(exit code 3 when no answer exists yet)" + ("" if default else
                                                                                   " (default: no limit)"))

    def with_case(name, help_text, func):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("case", help="case file (TOML)")
        debug(p)
        p.add_argument("--output", default=None, help="output folder (default: output/<case>-<subcommand>)")
        p.add_argument("--seed", type=whole_number(0), default=None,
                       help="seed of every random draw (default: the case's scenarios.seed)")
        p.set_defaults(func=func)
        return p

    p = sub.add_parser("validate", help="check a case with every pre-solve check of plan, size, policy and "
                       "decompose", description="Check a case file: fields, units, bounds, names, and the "
                       "pre-solve bounds (production plan, grid connections, peak cap).")
    p.add_argument("case", help="case file (TOML)")
    debug(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("calibrate", help="fit the scenario models on real data, write data/calibrated",
                       description="Fit the price, PV and wind models on ../shared/data (up to 2021).")
    p.add_argument("--data", default=str(PROJECT_ROOT.parent / "shared" / "data"), help="folder of the real data")
    p.add_argument("--out", default=None, help="folder written (default: data/calibrated; with --source: "
                                               "output/calibrated)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--source", default=None, metavar="SPEC",
                   help="fit on your own history instead: a TOML file with [price] and/or [pv] data sources "
                        "(CSV, Parquet or SQL with a column mapping); the other models are copied from --base")
    p.add_argument("--base", default=None,
                   help="with --source: folder of the models not fitted (default: data/calibrated)")
    p.set_defaults(func=cmd_calibrate)

    p = with_case("scenarios", "sample and plot the case's scenarios", cmd_scenarios)
    p.add_argument("--scenarios", type=whole_number(1), default=200, help="scenarios sampled")
    time_limit(p, None, "sampling, reduction and figures")

    p = with_case("plan", "two-stage day-ahead procurement", cmd_plan)
    p.add_argument("--scenarios", type=whole_number(1), default=None,
                   help="scenarios of the two-stage problem (default: the case's scenarios.n_scenarios)")
    p.add_argument("--method", choices=("ef", "ph", "lshaped"), default="ef",
                   help="ef: extensive form (HiGHS); ph: progressive hedging (mpi-sppy); lshaped: L-shaped LP bound")
    p.add_argument("--np", type=whole_number(1), default=1,
                   help="MPI ranks for --method ph (a multiple of 3: hub + 2 spokes; 1 = serial)")
    p.add_argument("--gap", type=relative_gap_target, default=0.005, help="relative gap to stop at (0.005 = 0.5 %%)")
    time_limit(p, 120.0, "half for the solve, the rest for EV, EEV and wait-and-see")
    p.add_argument("--no-measures", action="store_true",
                   help="skip EV, EEV, VSS, wait-and-see and EVPI (one MIP per scenario each)")
    p.add_argument("--store", default=None,
                   help="SQLAlchemy URL of the results database (default: planner.sqlite in the output folder)")

    p = sub.add_parser("ingest", help="load a meter export into the results database, with its repair report",
                       description="Read a meter export (CSV, Parquet, or a SQL table or query), convert it to kW "
                                   "per interval in the site's time zone, repair gaps and spikes, and write the "
                                   "readings and the repair report into the results database.")
    p.add_argument("source", help="CSV or Parquet file, or a SQLAlchemy URL (then --table or --query)")
    debug(p)
    p.add_argument("--table", default=None, help="table of readings, with a SQLAlchemy URL (or give --query)")
    p.add_argument("--query", default=None, help="SELECT statement whose columns hold the readings, with a URL")
    p.add_argument("--timestamp-column", default="timestamp",
                   help="column of timestamps (without an offset: the site's wall clock in --timezone)")
    p.add_argument("--value-column", default="value", help="column of readings")
    p.add_argument("--unit", default=None, choices=("W", "kW", "MW", "Wh", "kWh", "MWh"),
                   help="unit of every reading: power, or energy per interval (default: --unit-column)")
    p.add_argument("--unit-column", default=None, help="column holding each reading's unit (instead of --unit)")
    p.add_argument("--meter-column", default=None,
                   help="column of meter ids; several meters are summed (default: one meter)")
    p.add_argument("--meter", default=None, help="keep only this meter id, with --meter-column (default: all)")
    p.add_argument("--timezone", default="Europe/Paris", help="IANA time zone of the site")
    p.add_argument("--interval-minutes", type=int, choices=(5, 10, 15, 30, 60), default=None,
                   help="reading interval in minutes (default: inferred from the timestamps)")
    p.add_argument("--store", default=None,
                   help="SQLAlchemy URL of the results database (default: planner.sqlite in --output)")
    p.add_argument("--output", default="output/ingest", help="folder of repairs.csv (and of the database "
                                                             "when --store is not given)")
    p.set_defaults(func=cmd_ingest)

    p = with_case("study", "scenario-tree stability study", cmd_study)
    p.add_argument("--scenarios", type=scenario_counts, default=[10, 20, 50],
                   help="comma-separated scenario counts, e.g. 10,20,50")
    p.add_argument("--seeds", type=whole_number(1), default=3, help="samples per scenario count")
    p.add_argument("--out-of-sample", type=whole_number(1), default=200,
                   help="scenarios of the independent reference sample")
    time_limit(p, 600.0, "shared by the solves")

    p = with_case("policy", "hour-by-hour battery policy (SDDP)", cmd_policy)
    p.add_argument("--iterations", type=whole_number(1), default=100, help="SDDP training iterations")
    p.add_argument("--simulations", type=whole_number(2), default=None,
                   help="simulated paths for the statistical upper bound and the comparison (default: 200 days; "
                        "with --horizon month 30 generated months)")
    p.add_argument("--horizon", choices=("day", "month"), default="day",
                   help="day: the hour-by-hour battery policy of one day; month: one billing month (purchase "
                        "and operation node per day, running peak and price level as states; docs/policy_month.md)")
    p.add_argument("--days", type=whole_number(1), default=30, help="days of the month with --horizon month")
    p.add_argument("--np", type=whole_number(1), default=1, help="MPI ranks for training (1 = in this process)")
    p.add_argument("--gap", type=relative_gap_target, default=0.01,
                   help="gap target: a warning says when training stops above it")
    time_limit(p, None, "50 %% for serial training, checked between iterations; the rest for simulation")

    p = with_case("size", "microgrid sizing with ageing", cmd_size)
    p.add_argument("--years", type=whole_number(1), default=None,
                   help="horizon in years (default: the case's economics.horizon_years)")
    p.add_argument("--days", type=whole_number(1), default=8, help="representative days (tsam) per scenario year")
    p.add_argument("--scenarios", type=whole_number(1), default=3, help="price-year x weather-year scenarios")
    p.add_argument("--method", choices=("ef", "ph", "decomposed"), default="ef",
                   help="ef: extensive form; ph: progressive hedging; decomposed: scenarios apart + evaluation")
    p.add_argument("--years-per-block", type=whole_number(1), default=5,
                   help="years operated on the same representative days")
    time_limit(p, 1800.0, "60 %% shared by the solve and the --sensitivity re-solves, the rest for data and "
                          "reporting")
    p.add_argument("--gap", type=relative_gap_target, default=1e-3, help="target relative gap (0.001 = 0.1 %%)")
    p.add_argument("--sensitivity", action="store_true",
                   help="also re-solve for discount rate, capital costs and price level changes")
    p.add_argument("--rounds", type=whole_number(0), default=4,
                   help="re-plan / re-size rounds at most: the lines scheduled by the day-ahead model, re-planned "
                        "with the sized system until sizing and planning agree; 0 = the lines at their daily "
                        "average power (no day-ahead solves)")
    p.add_argument("--store", default=None,
                   help="SQLAlchemy URL of the results database (default: planner.sqlite in the output folder)")

    p = with_case("decompose", "decomposition across sites", cmd_decompose)
    p.add_argument("--method", choices=("price", "quantity", "prediction"), default="price",
                   help="how the sites are coordinated")
    p.add_argument("--scenarios", type=whole_number(1), default=1, help="1 = the deterministic day")
    p.add_argument("--np", type=whole_number(1), default=1, help="MPI ranks for the site subproblems")
    p.add_argument("--iterations", type=whole_number(1), default=20, help="coordination iterations at most")
    p.add_argument("--gap", type=relative_gap_target, default=0.01,
                   help="gap target: a warning says when the decomposition stops above it")
    time_limit(p, 600.0, "80 %% for the coordination, checked between iterations")

    p = with_case("replay", "replay real history day by day: plan, operate, settle; savings against the rule",
                  cmd_replay)
    p.add_argument("--start", type=iso_day, required=True, help="first day replayed (YYYY-MM-DD)")
    p.add_argument("--end", type=iso_day, required=True, help="last day replayed (YYYY-MM-DD, inclusive)")
    p.add_argument("--method", choices=("ef", "lshaped"), default="lshaped",
                   help="two-stage method of each day's plan (lshaped: LP bound and a common-schedule plan, "
                        "faster on the full case)")
    p.add_argument("--scenarios", type=whole_number(2), default=5, help="scenarios of each day's plan")
    p.add_argument("--plan-time-limit", type=positive_seconds, default=60.0, help="seconds per day's plan")
    p.add_argument("--gap", type=relative_gap_target, default=0.01, help="relative gap of each plan (0.01 = 1 %%)")
    p.add_argument("--max-plan-gap", type=relative_gap_target, default=0.5,
                   help="a plan stopped above this gap counts as failed: the day is operated by the rule")
    p.add_argument("--day-ahead-unknown", action="store_true",
                   help="the contract does not buy at the day-ahead auction: p0 of D is forecast, not known at D-1")
    p.add_argument("--policies", nargs="+", choices=list(POLICY_KEYS), default=list(POLICY_KEYS),
                   help="policies replayed (the rule always: the reference and the fallback); default: all")
    p.add_argument("--sddp-iterations", type=whole_number(1), default=100,
                   help="SDDP iterations of each day's operating policy (policy sddp)")
    p.add_argument("--recalibrate-every", type=whole_number(0), default=0,
                   help="refit the price model every N days on the year of realised prices before the refit day "
                        "(never including the replayed day); 0 = keep the calibrated models")
    p.add_argument("--carry-stocks", action="store_true",
                   help="carry material stocks into the next day (off: each day starts from the case's stocks; "
                        "see planner/replay/stocks.py for why)")
    p.add_argument("--fresh-schedules", action="store_true",
                   help="each day's first plan computes its schedule by the sites' MIPs (default: it first tries "
                        "the previous day's schedule and keeps it when it meets --gap; faster, plans still "
                        "certified)")
    p.add_argument("--workers", type=whole_number(1), default=1, help="local processes (months in parallel)")
    p.add_argument("--np", type=whole_number(1), default=1,
                   help="MPI ranks (months in parallel through mpiexec; give --workers or --np, not both)")
    p.add_argument("--data", default=None,
                   help="realised hourly data (default: ../shared/data/prices/entsoe_FR_2015_2023.csv, "
                        "2015-01-05 .. 2023-06-30; a file like fr_hourly_2019_2022.csv is accepted too)")
    time_limit(p, None, "the whole replay; finished days are kept and the same command resumes after them")
    p.add_argument("--sizing", default=None, metavar="RESULT",
                   help="replay the sized system: the --output folder of `planner size` (or its sizing_summary.json); "
                        "writes sizing_check.csv, sizing's predicted operating cost beside the replayed one")
    p.add_argument("--store", default=None,
                   help="SQLAlchemy URL of the results database, each finished day written to it (default: "
                        "planner.sqlite in the output folder; a password goes in PGPASSWORD or ~/.pgpass)")

    p = with_case("run", "the main job: every stage, one report", cmd_run)
    p.add_argument("--quick", action="store_true", help="small sizes, for tests")
    time_limit(p, None, "every stage")
    parser.subcommands = sub.choices  # name -> parser, for errors that name the subcommand
    return parser


def alarm(args) -> None:
    """Stop the command at 110 % of ``--time-limit`` (Python runs the handler between solver calls)."""
    limit = getattr(args, "time_limit", None)
    if limit is None or not hasattr(signal, "SIGALRM"):
        return

    def stop(signum, frame):
        if hard_stop_was_caught():  # a job caught the stop and reports what it holds: let it finish
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        raise WallClockLimit(f"--time-limit {limit:g} s: stopped after {time.perf_counter() - args.started_at:.1f} s "
                             f"(110 % of the limit), before the {args.command} command finished; raise --time-limit")

    args.previous_alarm_handler = signal.signal(signal.SIGALRM, stop)
    args.previous_unraisablehook = sys.unraisablehook
    sys.unraisablehook = quiet_stop_hook(sys.unraisablehook)
    # repeated every 0.5 s: a stop raised where Python ignores exceptions (a weakref or __del__ callback)
    # is raised again at the next alarm
    signal.setitimer(signal.ITIMER_REAL, 1.1 * limit, 0.5)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        check_options(parser, args)
    except SystemExit as exc:  # argparse printed the usage and the message naming the option
        return int(exc.code or 0)
    args.started_at = time.perf_counter()
    if getattr(args, "output", "unset") is None:
        args.output = str(Path("output") / f"{Path(args.case).stem}-{args.command}")
    alarm(args)
    release_answer()
    try:
        with wall_clock_limit(getattr(args, "time_limit", None), started=args.started_at):
            return args.func(args)
    except (WallClockLimit, Exception) as caught:
        catch_hard_stop()  # no further stop while the outcome is printed
        if args.debug:
            raise
        exc = stop_inside(caught)
        if exc is None:
            code, text = error_family(caught)
            print(text, file=sys.stderr)
            return code
        if held_answer() is not None:  # solved, stopped while writing: the answer stands, the report is partial
            what, result, folder = held_answer()
            warn_gap(result, getattr(args, "gap", None), what)
            print(f"warning: {exc}; {what} was solved before the stop: the bounds above are its answer"
                  + (f", its tables are in {folder}" if folder is not None and Path(folder).exists() else "")
                  + "; the report is incomplete", file=sys.stderr)
            return 0
        kept = (f"; the days finished are kept in {args.output} and the same command resumes after them"
                if args.command == "replay" else "")
        print(f"no certified answer: {exc}{kept}", file=sys.stderr)
        return EXIT_NO_ANSWER
    finally:
        if hasattr(args, "previous_alarm_handler"):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, args.previous_alarm_handler)
            sys.unraisablehook = args.previous_unraisablehook


def quiet_stop_hook(default):
    """An unraisable-exception hook that drops the wall-clock stop (raised where Python cannot propagate it, in a
    weakref or ``__del__`` callback: it is raised again at the next alarm, 0.5 s later) instead of printing its
    traceback; anything else goes to ``default``."""
    def hook(unraisable):
        if isinstance(unraisable.exc_value, WallClockLimit):
            return
        default(unraisable)
    return hook


def stop_inside(exc: BaseException):
    """The wall-clock stop behind ``exc``: itself, its cause or context, or a library error that wraps it
    in its message (Pyomo's output capture turns a stop raised in its reader threads into a RuntimeError)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, WallClockLimit):
            return seen
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "WallClockLimit" in text:
        return WallClockLimit(text.split("WallClockLimit:", 1)[-1].strip().splitlines()[0])
    return None


def error_family(exc: BaseException) -> tuple[int, str]:
    """Exit code and message of an error: bad input 2, no certified answer 3, anything else 1."""
    if isinstance(exc, (BadInputError, FileNotFoundError, MPIUnavailable)):
        return EXIT_BAD_INPUT, f"error: {exc}" if not str(exc).startswith("invalid case") else str(exc)
    if isinstance(exc, NO_ANSWER_ERRORS):
        return EXIT_NO_ANSWER, f"no certified answer: {exc}"
    if isinstance(exc, ValueError):  # our input checks below the command line (one per option or field)
        return EXIT_BAD_INPUT, f"error: {exc}"
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
    return 1, (f"internal error: {type(exc).__name__}: {exc}{at}; this is a bug in the planner, not in your "
               "input: rerun with --debug for the traceback and report it")


if __name__ == "__main__":
    sys.exit(main())
