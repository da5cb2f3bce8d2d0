"""Sizing benchmarks: representative days against the full year (one site, one year), time to a
certified gap on the default case, and scaling with sites and scenarios.

    .venv/bin/python benchmarks/sizing.py days            # 12/24/48 tsam days vs 8760 h (LP relaxation and MILP)
    .venv/bin/python benchmarks/sizing.py gap --years 20 --days 16 --scenarios 10 --method ef
    .venv/bin/python benchmarks/sizing.py gap --years 20 --days 16 --scenarios 10 --method decomposed  # 2 processes
    .venv/bin/python benchmarks/sizing.py scaling --years 20 --days 16 [--method decomposed]
    .venv/bin/python benchmarks/sizing.py lines --days 8 --scenarios 3 --time-limit 720 --gap 0.001 \
        [--before output/size_average/sizing]  # one round with the lines' schedule (existing system) vs their
        # average power: subscribed power, and the typical day with the highest predicted peak planned with it
    .venv/bin/python -m benchmarks.sizing loop --days 4 --scenarios 2 --gap 0.001 [--rounds 4] [--time-limit S]
        # the default re-plan / re-size loop beside the lines at their average power (same days): rounds,
        # subscribed power per round, gaps, seconds, overrun in re-planned operation (the operation check)

Prints one row per run (seconds, bounds, gap, sizes) and writes CSV files in output/benchmarks/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/scenarios.py would shadow the scenarios package: put the project root first
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from planner.case import load_case  # noqa: E402  (after the path fix above)
from planner.sizing.apply import load_sizing, plan_typical_day, sized_case  # noqa: E402
from planner.sizing.inputs import build_scenarios, representative_days  # noqa: E402
from planner.sizing.loop import operation_summary, replan_days  # noqa: E402
from planner.sizing.methods import METHODS  # noqa: E402
from planner.sizing.methods.ef import solve_ef  # noqa: E402
from planner.sizing.model import SizingOptions  # noqa: E402
from planner.sizing.run import run_sizing  # noqa: E402

OUT = ROOT / "output" / "benchmarks"


def _case():
    return load_case(ROOT / "data" / "cases" / "default.toml")


def bench_days(site="electroplating", integer=False, random_state=3):
    case = _case()
    case = case.replace(sites=[case.site(site)], links=[])
    frame = build_scenarios(case, 1, random_state=random_state).frames[0]
    # one year of operation (one block) standing for the whole horizon's economics
    options = SizingOptions(years=case.economics.horizon_years, years_per_block=case.economics.horizon_years,
                            integer=integer)
    rows = []
    for days in (None, 12, 24, 48):
        t0 = time.perf_counter()
        table = representative_days(frame, days)
        m, info = solve_ef(case, [table], [1.0], options)
        rows.append({"days": "8760 h" if days is None else days, "typical_days": table.n_days,
                     "cost_eur": info["upper_eur"], "pv_kwp": m.pv_new_kwp[site](),
                     "battery_kwh": m.battery_new_kwh[site].value, "battery_kw": m.battery_new_kw[site].value,
                     "subscribed_kw": m.subscribed_kw.value, "seconds": time.perf_counter() - t0})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["cost_error_pct"] = 100 * (table.cost_eur / table.cost_eur.iloc[0] - 1)
    return table


def bench_gap(years=20, days=16, scenarios=10, method="ef", years_per_block=5, sites=None, gap=0.01,
              time_limit=None, ph_iterations=20):
    case = _case()
    if sites is not None:
        keep = case.sites[:sites]
        names = {s.name for s in keep}
        case = case.replace(sites=keep, links=[l for l in case.links if l.site_a in names and l.site_b in names])
    t0 = time.perf_counter()
    try:
        r = run_sizing(case, years=years, days=days, n_scenarios=scenarios, method=method,
                       years_per_block=years_per_block, mip_rel_gap=gap, time_limit=time_limit,
                       ph_options={"max_iterations": ph_iterations}, progress=True)
    except RuntimeError as exc:  # e.g. no incumbent within the time limit
        row = {"sites": len(case.sites), "scenarios": scenarios, "years": years, "days": days, "method": method,
               "seconds_total": time.perf_counter() - t0, "failed": str(exc)}
        print(row, flush=True)
        return pd.DataFrame([row])
    row = {"sites": len(case.sites), "scenarios": scenarios, "years": years, "days": days, "method": method,
           "seconds_total": time.perf_counter() - t0, "seconds_solve": r.info.get("seconds"),
           "lower_eur": r.lower_bound_eur, "upper_eur": r.upper_bound_eur, "gap_pct": 100 * r.gap,
           "pv_kwp": r.sizes.pv_total_kwp.sum(), "wind_kw": r.sizes.wind_total_kw.sum(),
           "battery_kwh": r.sizes.battery_total_kwh.sum(), "subscribed_kw": r.subscribed_power_kw,
           "lagrangian_iterations": r.info.get("lagrangian_iterations")}
    print(row, flush=True)
    return pd.DataFrame([row])


def plan_rows(label, system, table, d, soc, schedule, predicted, time_limit):
    """The typical day ``d`` planned with ``system``: lines at sizing's schedule or free (started from it),
    overrun at the month's rate or prorated by the day-ahead model (1 / billing_period_days)."""
    rows = []
    for lines, fixed in (("sizing's schedule", schedule), ("free", None)):
        for rate in (True, False):
            if fixed is None and lines == "sizing's schedule":
                continue
            t0 = time.perf_counter()
            r = plan_typical_day(system, table, d, soc_fraction=soc, schedule=fixed, start=schedule, month_rate=rate,
                                 mip_gap=1e-3, time_limit=time_limit)
            rows.append({"system": label, "lines": lines, "overrun_rate": "month" if rate else "prorated",
                         "subscribed_kw": system.contract.subscribed_power_kw, "threshold_kw": r["threshold_kw"],
                         "predicted_peak_kw": predicted.get("peak_kw"), "predicted_overrun_kw": predicted.get("overrun_kw"),
                         "planned_max_import_kw": r["max_import_kw"], "planned_overrun_kw": r["overrun_kw"],
                         "plan_lower_eur": r["lower_bound_eur"], "plan_upper_eur": r["upper_bound_eur"],
                         "plan_gap_pct": 100 * r["gap"], "seconds": time.perf_counter() - t0})
            print(rows[-1], flush=True)
    return rows


def bench_lines(days=8, scenarios=3, years=20, years_per_block=5, gap=1e-3, time_limit=None, before=None,
                plan_time_limit=120.0):
    """Sizing with the lines' scheduled profile (the default), then its typical day with the highest
    predicted peak planned by the day-ahead model with the sized system (battery starting at sizing's
    state of charge), beside a saved sizing (``before``, e.g. with the lines' average power) on that day."""
    case = _case()
    t0 = time.perf_counter()
    r = run_sizing(case, years=years, days=days, n_scenarios=scenarios, years_per_block=years_per_block,
                   mip_rel_gap=gap, time_limit=time_limit, progress=True, output_dir=OUT / "sizing_lines",
                   include_lines=True, max_rounds=1, check_operation=False)
    seconds = time.perf_counter() - t0
    summary = {"load": r.info["load"], "seconds_total": seconds, "lower_eur": r.lower_bound_eur,
               "upper_eur": r.upper_bound_eur, "gap_pct": 100 * r.gap, "subscribed_kw": r.subscribed_power_kw,
               "pv_kwp": r.sizes.pv_total_kwp.sum(), "wind_kw": r.sizes.wind_total_kw.sum(),
               "battery_kwh": r.sizes.battery_total_kwh.sum(),
               "schedule_sources": pd.Series([x["schedule_source"].split(" (")[0]
                                              for x in r.info["lines_schedule_days"]]).value_counts().to_dict()}
    print(summary, flush=True)
    peaks = r.typical_day_peaks
    top = peaks.loc[peaks.peak_kw.idxmax()]
    k = list(r.dispatch["_day_tables"]).index(top.scenario)
    d = int(top.typical_day)
    table = r.dispatch["_day_tables"][top.scenario]
    soc = {}
    for s in case.sites:
        e = r.sizes.loc[s.name, "battery_total_kwh"]
        if (top.scenario, s.name) in r.dispatch and e > 0:
            above = r.dispatch[(top.scenario, s.name)]["soc_kwh"][0, d, 23]
            soc[s.name] = (s.microgrid.battery.soc_min_fraction * e + above) / e
    schedule = r.dispatch["_lines_schedules"][(k, d)]
    rows = plan_rows("sized with the lines' schedule", sized_case(case, load_sizing(OUT / "sizing_lines")), table, d,
                     soc, schedule, top.to_dict(), plan_time_limit)
    if before is not None:
        rows += plan_rows(f"sized as in {before}", sized_case(case, load_sizing(before)), table, d, None, schedule, {},
                          plan_time_limit)
    table_out = pd.DataFrame(rows)
    table_out.attrs["summary"] = summary
    return table_out


def bench_loop(days=4, scenarios=2, years=20, years_per_block=5, gap=1e-3, time_limit=None, rounds=4,
               peak_charge=True, average=True):
    """The default sizing (the lines re-planned with the sized system until sizing and planning agree) and,
    on the same representative days, the lines at their average power (one solve); the average-lines
    system is then re-planned on the loop's final days (its overrun in operation with the lines free)."""
    case = _case()
    kw = dict(years=years, days=days, n_scenarios=scenarios, years_per_block=years_per_block, mip_rel_gap=gap,
              progress=True)
    t0 = time.perf_counter()
    label = "loop" if peak_charge else "loop_no_peak_charge"
    r = run_sizing(case, time_limit=time_limit, max_rounds=rounds, output_dir=OUT / f"sizing_{label}",
                   replan_peak_charge=peak_charge, **kw)
    loop_s = time.perf_counter() - t0
    rows = r.rounds.assign(mode=label)
    summary = {"load_average": os.getloadavg(), "loop_seconds": loop_s, "stop_reason": r.info["stop_reason"],
               "loop_subscribed_kw": r.subscribed_power_kw, "loop_operation_check": r.info.get("operation_check")}
    print(summary, flush=True)
    if not average:
        rows.attrs["summary"] = summary
        return rows
    t1 = time.perf_counter()
    avg = run_sizing(case, include_lines=False, output_dir=OUT / "sizing_average", **kw)
    avg_s = time.perf_counter() - t1
    tables, names = r.dispatch["_day_tables"], list(r.dispatch["_day_tables"])
    # the average-lines system planned on the loop's final days (base load, prices, weather; lines free)
    _, _, avg_days = replan_days(case, avg, [tables[n] for n in names], names, r.dispatch["_lines_schedules"],
                                 mip_gap=1e-3, time_limit_per_day=5.0)
    rows = pd.concat([rows, avg.rounds.assign(mode="lines at their average power")], ignore_index=True)
    summary.update({"load_average": os.getloadavg(), "average_seconds": avg_s,
                    "average_subscribed_kw": avg.subscribed_power_kw,
                    "average_system_on_loop_days": operation_summary(avg_days),
                    "average_system_overrun_eur_f3": float(case.contract.overrun_charge_eur_per_kw
                                                           * avg_days.planned_overrun_kw.fillna(0).max())})
    print(summary, flush=True)
    avg_days.to_csv(OUT / "sizing_loop_average_system_days.csv", index=False)
    rows.attrs["summary"] = summary
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("days", "gap", "scaling", "lines", "loop"))
    p.add_argument("--rounds", type=int, default=4, help="loop: rounds at most")
    p.add_argument("--no-peak-charge", action="store_true", help="loop: re-plans without the peak charge")
    p.add_argument("--no-average", action="store_true", help="loop: skip the average-lines sizing")
    p.add_argument("--before", default=None, help="lines: a saved sizing (folder) planned on the same day")
    p.add_argument("--years", type=int, default=20)
    p.add_argument("--days", type=int, default=16)
    p.add_argument("--scenarios", type=int, default=10)
    p.add_argument("--years-per-block", type=int, default=5)
    p.add_argument("--method", default="ef", choices=sorted(METHODS))
    p.add_argument("--integer", action="store_true", help="days: keep integer module counts")
    p.add_argument("--time-limit", type=float, default=None)
    p.add_argument("--gap", type=float, default=0.01, help="target relative gap (default 1 %%)")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    if args.what == "days":
        table = bench_days(integer=args.integer)
        table.to_csv(OUT / "sizing_days.csv", index=False)
    elif args.what == "lines":
        table = bench_lines(args.days, args.scenarios, args.years, args.years_per_block, args.gap, args.time_limit,
                            args.before)
        table.to_csv(OUT / "sizing_lines.csv", index=False)
    elif args.what == "loop":
        table = bench_loop(args.days, args.scenarios, args.years, args.years_per_block, args.gap, args.time_limit,
                           args.rounds, not args.no_peak_charge, not args.no_average)
        table.to_csv(OUT / f"sizing_loop{'_no_peak_charge' if args.no_peak_charge else ''}.csv", index=False)
    elif args.what == "gap":
        table = bench_gap(args.years, args.days, args.scenarios, args.method, args.years_per_block,
                          gap=args.gap, time_limit=args.time_limit)
        table.to_csv(OUT / f"sizing_gap_{args.method}.csv", index=False)
    else:
        # the extensive form on small scenario sets; the decomposed method up to 20 scenarios
        grid = ((1, 2), (2, 2), (3, 2), (3, 4)) if args.method == "ef" else (
            (1, 10), (2, 10), (3, 5), (3, 10), (3, 20))
        tables = [bench_gap(args.years, args.days, n, args.method, args.years_per_block, sites=k, gap=args.gap,
                            time_limit=args.time_limit) for k, n in grid]
        table = pd.concat(tables, ignore_index=True)
        table.to_csv(OUT / f"sizing_scaling_{args.method}.csv", index=False)
    print(table.to_string())


if __name__ == "__main__":
    main()
