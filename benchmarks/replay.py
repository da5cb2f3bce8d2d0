"""Benchmark of ``planner replay``: wall time per day, plan gaps, savings against the load-shedding rule
with 95 % week-block intervals, speed-up of 2 local processes and of 2 MPI ranks over 1 process (measured in
the same run), and an
extrapolation to a year.

Periods (out of sample for the 2022 one: the calibrated price model was fitted on 2015-01-05 .. 2020-12-31,
so 2019 is in sample): two weeks spanning two months (months run in parallel). Cases: the default
case's energy system without production lines (fast LP plans), and the full default case on a few days.

Full default case (``--full-days N``, default 5, spanning two months): the day's two-stage plan by the
warm-started extensive form against the reference path in the same process (the same extensive form
solved from scratch, the heuristic's plan only a candidate: ``ExtensiveForm(warm_start=False)``) on two
days (``--reference-days``); then the replay of N days with the replay's default plan method (L-shaped,
followed by the extensive form when it misses the gap) on 1 process and on 2 MPI ranks: seconds per day (wall and CPU), the
share of the plans in it, every plan's gap, the projected year on 1 and 2 processes, the 2-rank speed-up.
The machine may be shared: the load average is printed beside the times; CPU seconds are less sensitive.

Work shared (``--reuse-days N``, run alone): N days of the full default case from ``--reuse-start`` (default
2022-01-10) with nothing shared (the reference: every plan from its own site heuristic, every policy fitting
its own lattice), shared within the day (``reuse_within_day``), and within and across days
(``reuse_across_days``: the day's first plan tries the previous day's schedule), in this process: s/day, the
ratio, the projected year on 1 and 2 processes, how many first plans kept the previous day's schedule, whether
every plan's [lower, upper] bounds overlap with the reference's, and the planner's realised cost against the
reference's (paired, 95 % week-block interval).

    .venv/bin/python -m benchmarks.replay [--quick] [--full-only] [--full-days 5] [--reuse-days 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from planner.case import load_case
from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.plan import plan
from planner.replay.data import load_real_days
from planner.replay.compare import paired_difference
from planner.replay.day import RULE, SHARED_PLAN, ReplayOptions, forecast, initial_state
from planner.replay.policies import SDDP_OPERATION
from planner.replay.run import run_replay

ROOT = Path(__file__).resolve().parents[1]


def energy_system(case):
    sites = [dataclasses.replace(s, lines=[], plan_t_per_day={}, storage={}, deliveries=[]) for s in case.sites]
    return dataclasses.replace(case, name=case.name + "-no-lines", sites=sites, source=None)


def timed(case, start, end, options, workers, real, n_ranks=1):
    folder = Path(tempfile.mkdtemp(prefix="replay_bench_"))
    try:
        t0 = time.perf_counter()
        res = run_replay(case, start, end, options, folder, n_workers=workers, real=real, progress=False,
                         n_ranks=n_ranks)
        return res, time.perf_counter() - t0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(label, res, wall, n_workers):
    days = res.daily["date"].nunique()
    s = res.summary()
    print(f"\n== {label}: {days} days, {n_workers} process(es): wall {wall:.1f} s = {wall / days:.2f} s/day; "
          f"plan gap mean {100 * s['mean_gap']:.3f} %, max {100 * s['max_gap']:.3f} %; fallback days "
          f"{s['fallback_days']}")
    for r in res.savings.itertuples():
        print(f"   {r.policy:<30s} saving {r.saving_eur_per_day:9.1f} EUR/day  95 % [{r.saving_ci_low_eur_per_day:9.1f},"
              f" {r.saving_ci_high_eur_per_day:9.1f}] ({r.weeks} week blocks); {100 * r.saving_share:.1f} % of the "
              f"rule's {r.rule_cost_eur:,.0f} EUR"
              + (f"; {100 * r.share_of_perfect_foresight_saving:.0f} % of the perfect-foresight saving"
                 if hasattr(r, "share_of_perfect_foresight_saving") else ""))
    print(res.monthly[["policy", "month", "days", "total_eur", "overrun_eur", "month_peak_kw"]].to_string(index=False))


def load() -> str:
    return "load average (1 min) {:.1f} on {} cores".format(os.getloadavg()[0], os.cpu_count())


def plan_reference(case, real, days, options):
    """The day's plan by the warm-started extensive form and by the reference path (solved from scratch),
    in this process, on ``days`` (from the month's start state): seconds (wall, CPU), bounds, gaps."""
    print(f"\n== plan of the full default case: warm-started EF vs reference (EF from scratch); {load()}")
    for day in days:
        known = real.known_before(day, options.day_ahead_known)
        cd, scen = forecast(case, known, pd.Timestamp(day), initial_state(case), options)
        out = {}
        for label, method in (("reference", ExtensiveForm(warm_start=False)), ("warm-started", "ef")):
            w0, c0 = time.perf_counter(), time.process_time()
            res = plan(cd, scen.n_scenarios, method, scenarios=scen, time_limit=options.time_limit_s,
                       rel_gap=options.rel_gap, measures=False, progress=False)
            out[label] = (time.perf_counter() - w0, time.process_time() - c0, res)
            print(f"   {day} {label:<13s} wall {out[label][0]:6.1f} s  CPU {out[label][1]:6.1f} s  LB {res.lower_bound:10,.1f}"
                  f"  UB {res.upper_bound:10,.1f}  gap {100 * res.gap:.3f} %  ({res.status})")
        (wr, cr, ref), (ww, cw, new) = out["reference"], out["warm-started"]
        print(f"   {day} ratio reference / warm-started: wall {wr / ww:.1f}x, CPU {cr / cw:.1f}x; plan costs differ by "
              f"{100 * abs(ref.upper_bound - new.upper_bound) / ref.upper_bound:.3f} % (gaps {100 * ref.gap:.2f} / "
              f"{100 * new.gap:.2f} %)")


def day_plans(daily):
    """The rows of each day's plans (each distinct plan once; the month-in-hindsight bound is not a day's plan)."""
    rows = daily[(daily["policy"] != RULE) & ~daily["policy"].str.contains("month")]
    return rows.drop_duplicates(["date", "plan_time_s"])


def plan_share(daily) -> tuple[float, float]:
    """(mean seconds of the day's plans, mean seconds of the day): wall time of the replay's own records."""
    per_day = daily.groupby("date")["day_time_s"].max().mean()
    return float(day_plans(daily).groupby("date")["plan_time_s"].sum().mean()), float(per_day)


def full_case(case, real, n_days, options):
    start = pd.Timestamp("2022-02-01") - pd.Timedelta(days=(n_days + 1) // 2)
    end = start + pd.Timedelta(days=n_days - 1)       # half in January, half in February: two months in parallel
    print(f"\n== {case.name} (with production lines) 2022, {n_days} days from {start.date()}; {load()}")
    c0 = time.process_time()
    res1, wall1 = timed(case, start, end, options, 1, real)
    cpu1 = time.process_time() - c0
    days = res1.daily["date"].nunique()
    report(f"{case.name} 1 process", res1, wall1, 1)
    plans_s, day_s = plan_share(res1.daily)
    planned = day_plans(res1.daily)
    gaps = planned["gap"].dropna()
    missed = planned[~(planned["gap"] <= options.rel_gap + 1e-12)]
    print(f"   per day: wall {wall1 / days:.1f} s, CPU {cpu1 / days:.1f} s (this process); plans {plans_s:.1f} s of "
          f"{day_s:.1f} s per day (wall, the month bound and settlement excluded); {len(planned)} plans, gap max {100 * gaps.max():.3f} %, above "
          f"{100 * options.rel_gap:g} %: {len(missed)} " + " ".join(
              f"[{r.date} {r.policy}: {100 * r.gap:.2f} %]" for r in missed.itertuples()))
    print(f"   projected year from wall time: {365 * wall1 / days / 60:.1f} min on 1 process, "
          f"{365 * wall1 / days / 120:.1f} min on 2 (12 months over 2 processes); from CPU time: "
          f"{365 * cpu1 / days / 60:.1f} min / {365 * cpu1 / days / 120:.1f} min (target: 30 min on 2)")
    res2, wall2 = timed(case, start, end, options, 1, real, n_ranks=2)
    same = (res1.daily["cost_eur"].round(4).tolist() == res2.daily["cost_eur"].round(4).tolist())
    print(f"   2 MPI ranks: wall {wall2:.1f} s = {wall2 / days:.1f} s/day; speed-up {wall1 / wall2:.2f} against 1 rank "
          f"(1 process in this run; months of {', '.join(str(n) for n in res1.daily.drop_duplicates('date').groupby('month').size())} "
          f"days); same daily costs: {same}; {load()}")


#: the shared-work settings compared by ``--reuse-days`` (the first is the reference path)
SHARING = {"none (reference)": dict(reuse_within_day=False, reuse_across_days=False),
           "within the day": dict(reuse_within_day=True, reuse_across_days=False),
           "within and across days": dict(reuse_within_day=True, reuse_across_days=True)}


def shared_work(case, real, n_days, options, start="2022-01-10"):
    start = pd.Timestamp(start)
    end = start + pd.Timedelta(days=n_days - 1)
    print(f"\n== {case.name} 2022, {n_days} days from {start.date()}: work shared within and across days off "
          f"(reference) and on, 1 process; {load()}")
    out = {}
    for label, flags in SHARING.items():
        res, wall = timed(case, start, end, dataclasses.replace(options, **flags), 1, real)
        out[label] = (res.daily.sort_values(["date", "policy"]).reset_index(drop=True), wall)
        plans = day_plans(res.daily)
        first = res.daily[res.daily["policy"] == SHARED_PLAN[0]]
        kept = int(first["plan_schedule_reused"].eq(True).sum()) \
            if "plan_schedule_reused" in first else 0      # the column exists when something is shared
        print(f"   {label}: wall {wall:.1f} s = {wall / n_days:.1f} s/day; projected year {365 * wall / n_days / 60:.1f} "
              f"min on 1 process, {365 * wall / n_days / 120:.1f} min on 2; plan gap max {100 * plans['gap'].max():.3f} %; "
              f"first plans keeping the previous day's schedule {kept} of {len(first)}; {load()}")
    (ref, wr) = out["none (reference)"]
    planned = ref["policy"] != RULE
    for label, (new, wn) in list(out.items())[1:]:
        overlap = ((new.loc[planned, "upper_bound_eur"] >= ref.loc[planned, "lower_bound_eur"] - 1e-6)
                   & (ref.loc[planned, "upper_bound_eur"] >= new.loc[planned, "lower_bound_eur"] - 1e-6))
        both = pd.concat([ref.assign(policy=ref["policy"] + " [ref]"), new])
        diff = paired_difference(both, SDDP_OPERATION, SDDP_OPERATION + " [ref]")
        print(f"   {label}: speed-up against the reference {wr / wn:.2f}x; plan bounds overlap in "
              f"{int(overlap.sum())} of {len(overlap)} plans; the planner's realised cost, reference - this "
              f"{diff['saving_eur_per_day']:+.1f} [{diff['saving_ci_low_eur_per_day']:+.1f}, "
              f"{diff['saving_ci_high_eur_per_day']:+.1f}] EUR/day (95 % week blocks)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one period, no full-case days")
    ap.add_argument("--full-only", action="store_true", help="only the full default case")
    ap.add_argument("--full-days", type=int, default=5, help="days of the full default case (around 2022-02-01)")
    ap.add_argument("--reference-days", type=int, default=2,
                    help="days (of 2022-01-10, 2022-06-15) the plan is compared with the reference path on")
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="wall-clock seconds per plan of the full case (raise it on a shared, loaded machine)")
    ap.add_argument("--reuse-days", type=int, default=0,
                    help="only compare work shared within the day (off, on) on this many full-case days")
    ap.add_argument("--reuse-start", default="2022-01-10", help="first day of --reuse-days (2022)")
    args = ap.parse_args()
    real = load_real_days()
    default = load_case(ROOT / "data" / "cases" / "default.toml")
    if args.reuse_days:
        shared_work(default, real, args.reuse_days,
                         ReplayOptions(n_scenarios=5, time_limit_s=args.time_limit, rel_gap=0.01), args.reuse_start)
        return
    small = energy_system(default)
    opts = ReplayOptions(n_scenarios=5, time_limit_s=60.0, rel_gap=0.01)
    periods = [("2022", "2022-01-25", "2022-02-07")] + ([] if args.quick else [("2019", "2019-01-25", "2019-02-07")])
    for year, start, end in ([] if args.full_only else periods):
        res1, wall1 = timed(small, start, end, opts, 1, real)
        report(f"{small.name} {year}", res1, wall1, 1)
        res2, wall2 = timed(small, start, end, opts, 2, real)
        same = res1.daily["cost_eur"].round(6).tolist() == res2.daily["cost_eur"].round(6).tolist()
        print(f"   2 processes: wall {wall2:.1f} s; speed-up {wall1 / wall2:.2f} (reference: 1 process in this run); "
              f"same daily costs as 1 process: {same}")
        res3, wall3 = timed(small, start, end, opts, 1, real, n_ranks=2)
        same = res1.daily["cost_eur"].round(6).tolist() == res3.daily["cost_eur"].round(6).tolist()
        print(f"   2 MPI ranks: wall {wall3:.1f} s; speed-up {wall1 / wall3:.2f} (reference: 1 process in this run); "
              f"same daily costs as 1 process: {same}")
        per_day = wall2 / res2.daily["date"].nunique()
        print(f"   extrapolated year with 2 processes: {365 * per_day / 60:.1f} min")
    if not args.quick:
        full_opts = ReplayOptions(n_scenarios=5, time_limit_s=args.time_limit, rel_gap=0.01)
        print(f"\nfull default case: 5 scenarios, 1 % target gap, time limit {args.time_limit:g} s per plan")
        plan_reference(default, real, ["2022-01-10", "2022-06-15"][:args.reference_days], full_opts)
        full_case(default, real, args.full_days, full_opts)


if __name__ == "__main__":
    main()
