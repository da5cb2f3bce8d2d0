"""Decision value of the replayed policies: saving of each against the load-shedding rule on the same
realised days with 95 % week-block paired intervals, and the share of the month-in-hindsight saving
captured. Two weeks of 2022 (out of sample: the calibrated models were fitted before 2021) and the
same dates of 2019 (calm prices). Case: the default case's energy system without production lines
(LP plans; the month in hindsight is then a lower bound of every policy).

    .venv/bin/python -m benchmarks.replay_policies [--period 2022|2019] [--start MM-DD --end MM-DD]
        [--scenarios 5] [--recalibrate-every 0] [--sddp-iterations 100] [--output DIR]   (from the project root)

Wall time is printed per period; on a loaded machine it is inflated. The figures and report.html are
written into ``DIR/<year>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from planner.case import load_case
from planner.replay.data import load_real_days
from planner.replay.compare import paired_difference
from planner.replay.day import FIXED, LOOKAHEAD, RULE, ReplayOptions
from planner.replay.policies import DETERMINISTIC, SDDP_OPERATION
from planner.replay.run import run_replay

ROOT = Path(__file__).resolve().parents[1]


def energy_system(case):
    sites = [dataclasses.replace(s, lines=[], plan_t_per_day={}, storage={}, deliveries=[]) for s in case.sites]
    return dataclasses.replace(case, name=case.name + "-no-lines", sites=sites, source=None)


def show(label, res, wall):
    days = res.daily["date"].nunique()
    s = res.summary()
    print(f"\n== {label}: {days} days, wall {wall:.0f} s ({wall / days:.1f} s/day, loaded machine); plan gap mean "
          f"{100 * s['mean_gap']:.3f} %, max {100 * s['max_gap']:.3f} %; fallback days {s['fallback_days']}")
    print(f"   {'policy':<34s}{'EUR/day':>9s}  {'95 % interval':>21s}  {'period EUR':>10s}  {'share of PF-month':>24s}")
    for r in res.savings.sort_values("saving_eur").itertuples():
        share = getattr(r, "share_of_perfect_foresight_saving", float("nan"))
        lo, hi = getattr(r, "share_ci_low", float("nan")), getattr(r, "share_ci_high", float("nan"))
        print(f"   {r.policy:<34s}{r.saving_eur_per_day:9.1f}  [{r.saving_ci_low_eur_per_day:8.1f}, "
              f"{r.saving_ci_high_eur_per_day:8.1f}]  {r.saving_eur:10.0f}  {100 * share:6.1f} % [{100 * lo:5.1f}, "
              f"{100 * hi:5.1f}] %")
    rule = res.daily[res.daily["policy"] == RULE]
    print(f"   rule cost {rule['cost_eur'].sum():,.0f} EUR over the period (energy, intraday, overrun; f1*P excluded)")
    for policy, reference in ((SDDP_OPERATION, DETERMINISTIC), (SDDP_OPERATION, FIXED), (LOOKAHEAD, DETERMINISTIC)):
        d = paired_difference(res.daily, policy, reference)
        print(f"   {policy} against {reference}: {d['saving_eur_per_day']:+.1f} EUR/day, 95 % "
              f"[{d['saving_ci_low_eur_per_day']:+.1f}, {d['saving_ci_high_eur_per_day']:+.1f}]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", choices=("2022", "2019", "both"), default="both")
    ap.add_argument("--start", default="01-10")
    ap.add_argument("--end", default="01-23")
    ap.add_argument("--scenarios", type=int, default=5)
    ap.add_argument("--recalibrate-every", type=int, default=0)
    ap.add_argument("--sddp-iterations", type=int, default=ReplayOptions.sddp_iterations)
    ap.add_argument("--output", default=None)
    args = ap.parse_args()
    real = load_real_days()
    case = energy_system(load_case(ROOT / "data" / "cases" / "default.toml"))
    opts = ReplayOptions(n_scenarios=args.scenarios, time_limit_s=60.0, rel_gap=0.01,
                         recalibrate_every=args.recalibrate_every, sddp_iterations=args.sddp_iterations)
    years = ("2022", "2019") if args.period == "both" else (args.period,)
    out = Path(args.output or ROOT / "output" / "bench_replay_policies")
    for year in years:
        t0 = time.perf_counter()
        res = run_replay(case, f"{year}-{args.start}", f"{year}-{args.end}", opts, out / year, real=real,
                         progress=False)
        show(f"{case.name} {year}-{args.start}..{year}-{args.end}", res, time.perf_counter() - t0)
        pd.set_option("display.width", 200)
        print(res.monthly[["policy", "month", "days", "total_eur", "overrun_eur", "month_peak_kw"]].to_string(index=False))
        print(f"   figures: {out / year / 'report.html'}")


if __name__ == "__main__":
    main()
