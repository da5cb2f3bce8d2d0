"""Benchmark of the site decompositions against the monolithic extensive form (HiGHS).

For each number of sites (generated cases, seeded) and each problem (deterministic day, S
scenarios): the monolithic EF's time and gap at its time limit, and for each method its
iterations, time, lower and upper bounds and gap; optionally the MPI speed-up of the price method
at 2 ranks. Example (short run):

    .venv/bin/python benchmarks/decomposition.py --sites 3 10 --scenarios 1 --time-limit 120 \
        --max-iterations 5 --methods price --mpi
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.dayahead import module  # noqa: E402
from planner.decomposition.generator import generate_case  # noqa: E402
from planner.decomposition.run import deterministic_day, run_decomposition  # noqa: E402
from planner.scenario_inputs import case_scenarios  # noqa: E402
from planner.stochastic.ef import solve_ef  # noqa: E402


def scenario_set(case, n, seed):
    scen = case_scenarios(case, max(n, 2), seed)
    return deterministic_day(scen) if n == 1 else scen.subset(range(n)) if hasattr(scen, "subset") else scen


def monolithic(case, scen, time_limit):
    t = time.perf_counter()
    try:
        res, _ = solve_ef(module, module.scenario_names_creator(scen.n_scenarios),
                          {"case": case, "scenarios": scen}, mip_gap=1e-4, time_limit=time_limit)
        return {"time_s": time.perf_counter() - t, "lb": res.lower_bound, "ub": res.upper_bound, "gap": res.gap,
                "status": res.status}
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        return {"time_s": time.perf_counter() - t, "error": str(exc)[:200]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, nargs="+", default=[3, 10, 30, 100])
    ap.add_argument("--scenarios", type=int, nargs="+", default=[1, 20], help="1 = deterministic day")
    ap.add_argument("--methods", nargs="+", default=["price", "quantity", "prediction"])
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds for the EF and for each method")
    ap.add_argument("--max-iterations", type=int, default=30)
    ap.add_argument("--rel-gap", type=float, default=0.01)
    ap.add_argument("--site-time-limit", type=float, default=10.0)
    ap.add_argument("--site-mip-gap", type=float, default=1e-3)
    ap.add_argument("--max-lines-per-site", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-ef", action="store_true", help="skip the monolithic solve")
    ap.add_argument("--mpi", action="store_true", help="also run the price method on 2 MPI ranks")
    ap.add_argument("--price-ranks", type=int, nargs="+", default=[1],
                    help="MPI ranks for the price method's main runs (e.g. 2 alone on large cases)")
    ap.add_argument("--json", default=None, help="append every row to this JSON-lines file")
    args = ap.parse_args(argv)

    rows = []
    for n in args.sites:
        case = generate_case(n, args.seed, max_lines_per_site=args.max_lines_per_site)
        for s in args.scenarios:
            scen = scenario_set(case, s, args.seed)
            head = f"N={n:3d} S={s:2d}"
            if not args.no_ef:
                ef = monolithic(case, scen, args.time_limit)
                row = {"sites": n, "scenarios": s, "method": "EF", **ef}
                rows.append(row)
                print(f"{head} EF        time {ef['time_s']:8.1f} s  LB {ef.get('lb', float('nan')):14,.2f}  "
                      f"UB {ef.get('ub', float('nan')):14,.2f}  gap {100 * ef.get('gap', float('nan')):7.3f} %  "
                      f"{ef.get('status', ef.get('error'))}", flush=True)
            runs = [(m, r) for m in args.methods for r in (args.price_ranks if m == "price" else [1])]
            runs += [("price", 2)] if args.mpi and 2 not in args.price_ranks else []
            for method, ranks in runs:
                t = time.perf_counter()
                res = run_decomposition(case, method, scen, n_ranks=ranks, max_iterations=args.max_iterations,
                                        rel_gap=args.rel_gap, progress=False, time_limit=args.time_limit,
                                        site_time_limit=args.site_time_limit, site_mip_gap=args.site_mip_gap)
                wall = time.perf_counter() - t
                row = {"sites": n, "scenarios": s, "method": method, "ranks": ranks, "iterations": res.iterations,
                       "time_s": wall, "lb": res.lower_bound, "ub": res.upper_bound, "gap": res.gap,
                       "status": res.status, "site_seconds": res.stats.get("site_seconds"),
                       "lp_bound": res.stats.get("lp_bound")}
                rows.append(row)
                print(f"{head} {method:10s} np={ranks} it {res.iterations:3d}  time {wall:8.1f} s  "
                      f"LB {res.lower_bound:14,.2f}  UB {res.upper_bound:14,.2f}  gap {100 * res.gap:7.3f} %  "
                      f"{res.status}", flush=True)
            if args.mpi and 1 in args.price_ranks:
                serial = next(r for r in rows[::-1] if r["method"] == "price" and r["ranks"] == 1
                              and r["sites"] == n and r["scenarios"] == s)
                par = next(r for r in rows[::-1] if r["method"] == "price" and r["ranks"] == 2
                           and r["sites"] == n and r["scenarios"] == s)
                print(f"{head} MPI speed-up at 2 ranks (price, time per iteration): "
                      f"{(serial['time_s'] / max(serial['iterations'], 1)) / (par['time_s'] / max(par['iterations'], 1)):.2f}",
                      flush=True)
            if args.json:
                with open(args.json, "a") as fh:
                    for r in rows:
                        fh.write(json.dumps(r, default=float) + "\n")
                rows.clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
