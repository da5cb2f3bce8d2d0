"""Benchmark of ``planner replay``: wall time per day, plan gaps, savings against the load-shedding rule
with 95 % week-block intervals, speed-up of 2 local processes and of 2 MPI ranks over 1 process (measured in
the same run), and an
extrapolation to a year.

Periods (out of sample for the 2022 one: the calibrated price model was fitted on 2015-01-05 .. 2020-12-31,
so 2019 is in sample): two weeks spanning two months (months run in parallel). Cases: the default
case's energy system without production lines (fast LP plans), and the full default case on a few days.

    .venv/bin/python -m benchmarks.replay [--quick]   (from the project root)
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

from planner.case import load_case
from planner.replay.data import load_real_days
from planner.replay.day import ReplayOptions
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one period, no full-case days")
    args = ap.parse_args()
    real = load_real_days()
    default = load_case(ROOT / "data" / "cases" / "default.toml")
    small = energy_system(default)
    opts = ReplayOptions(n_scenarios=5, time_limit_s=60.0, rel_gap=0.01)
    periods = [("2022", "2022-01-25", "2022-02-07")] + ([] if args.quick else [("2019", "2019-01-25", "2019-02-07")])
    for year, start, end in periods:
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
        full_opts = ReplayOptions(n_scenarios=5, time_limit_s=60.0, rel_gap=0.01)
        res, wall = timed(default, "2022-01-10", "2022-01-11", full_opts, 1, real)
        report(f"{default.name} (with production lines) 2022", res, wall, 1)
        per_day = wall / res.daily["date"].nunique()
        print(f"   extrapolated year: {365 * per_day / 3600:.1f} h on 1 process, {365 * per_day / 7200:.1f} h on 2 "
              "(months in parallel)")


if __name__ == "__main__":
    main()
