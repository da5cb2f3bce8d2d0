"""Benchmark of the day-ahead model: EF (HiGHS) and PH (mpi-sppy, np 3) times and gaps.

Rows: the default case, and cases replicating the default case's sites (3, 10, 30 sites; a simple
seeded replicator: copies of the three sites with loads and line powers scaled by a random factor
in [0.8, 1.2], linked in a chain). Scenarios from planner.scenario_inputs.case_scenarios.
Usage: python benchmarks/twostage.py [--rows default:50,3:10,...] [--time-limit 120] [--no-ph] [--no-ef]
[--decomposition [--np 2]] (adds the site-and-scenario price decomposition's time, bounds and gap)
[--lshaped] (adds the L-shaped method: the LP bound and a common-schedule incumbent)
[--ph [--ph-np 3] [--ph-plots DIR]] (EF, L-shaped and PH in one run on the same scenarios: bounds, gap, time,
iterations; PH's bounds against time as a plot and a CSV per row in DIR)
The issue's targets: ``--rows default:50 --lshaped --no-ef --no-ph --rel-gap 0.005 --time-limit 120``
and ``--rows 10:200 --lshaped --no-ef --no-ph --rel-gap 0.01 --time-limit 600``; progressive hedging:
``--rows default:10,default:50 --ph --rel-gap 0.01 --time-limit 300`` and ``--rows 10:200 --ph --no-ef
--rel-gap 0.02 --time-limit 900``; scaling: ``--rows default:50 --ph --no-ef --ph-np 6`` (3, 6, 12).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.case import Link, load_case  # noqa: E402
from planner.dayahead.methods.lshaped import solve_lshaped  # noqa: E402
from planner.dayahead.methods import METHODS  # noqa: E402
from planner.dayahead.plan import plan, prepare  # noqa: E402
from planner.dayahead.plots import plot_bounds  # noqa: E402
from planner.decomposition import run_decomposition  # noqa: E402
from planner.results import relative_gap  # noqa: E402
from planner.scenario_inputs import case_scenarios  # noqa: E402


def replicate_case(case, n_sites: int, seed: int = 0):
    """n_sites copies of the case's sites (scaled loads and line powers), linked in a chain."""
    rng = np.random.default_rng(seed)
    sites = []
    for i in range(n_sites):
        base = case.sites[i % len(case.sites)]
        k = float(rng.uniform(0.8, 1.2))
        lines = [dataclasses.replace(l, power_kw={m: p * k for m, p in l.power_kw.items()}) for l in base.lines]
        load = dataclasses.replace(base.base_load, mean_kw=base.base_load.mean_kw * k)
        sites.append(dataclasses.replace(base, name=f"{base.name}_{i}", lines=lines, base_load=load))
    links = [Link(site_a=sites[i].name, site_b=sites[i + 1].name, capacity_kw=1500.0, loss_fraction=0.02)
             for i in range(n_sites - 1)]
    contract = dataclasses.replace(case.contract, subscribed_power_kw=case.contract.subscribed_power_kw * n_sites / 3)
    return dataclasses.replace(case, name=f"replica_{n_sites}", sites=sites, links=links, contract=contract,
                               source=None)


def run_row(case, n, time_limit, ph, rel_gap, decomposition=False, np_dec=1, ef=True, lshaped=False, ph_np=3,
            ph_plots=None):
    scen = case_scenarios(case, n, 0)
    row = {"case": case.name, "sites": len(case.sites), "scenarios": n}
    if lshaped:
        t = time.perf_counter()
        r = solve_lshaped(case, scen, rel_gap=rel_gap, time_limit=time_limit, progress=False).result
        row.update(ls_time_s=time.perf_counter() - t, ls_lb=r.lower_bound, ls_ub=r.upper_bound,
                   ls_gap=relative_gap(r.lower_bound, r.upper_bound), ls_iterations=r.iterations)
    t = time.perf_counter()
    try:
        if not ef:
            raise RuntimeError("EF not run (--no-ef)")
        r = plan(case, n, method="ef", scenarios=scen, rel_gap=rel_gap, time_limit=time_limit, measures=False,
                    progress=False)
        row.update(ef_time_s=time.perf_counter() - t, ef_lb=r.lower_bound, ef_ub=r.upper_bound, ef_gap=r.gap)
    except RuntimeError as exc:  # NoPlanError included
        row.update(ef_time_s=time.perf_counter() - t, ef_lb=math.nan, ef_ub=math.inf, ef_gap=math.inf,
                   ef_note=str(exc).splitlines()[0][:80])
    if ph:
        t = time.perf_counter()
        try:
            # the method alone (plan() would add one evaluation of the plan in every scenario)
            r = METHODS["ph"].solve(prepare(case, n, "ph", ph_np, scenarios=scen, rel_gap=rel_gap,
                                            time_limit=time_limit, progress=True)).result
            rows = [x for x in r.log if isinstance(x, tuple) and len(x) == 4]
            its = [x[0] for x in rows]
            row.update(ph_time_s=time.perf_counter() - t, ph_lb=r.lower_bound, ph_ub=r.upper_bound, ph_gap=r.gap,
                       ph_iterations=r.iterations, ph_ranks=ph_np)
            if its and max(its) > 0:  # seconds per hub iteration after the hub's iteration 0
                t_iter0 = [x[3] for x in rows if x[0] == 0][-1]
                row["ph_s_per_iteration"] = (rows[-1][3] - t_iter0) / rows[-1][0]
            if ph_plots is not None:
                out = Path(ph_plots)
                out.mkdir(parents=True, exist_ok=True)
                stem = f"ph_{case.name}_{n}_np{ph_np}"
                pd.DataFrame(rows, columns=["iteration", "lower_bound", "upper_bound", "seconds"]).to_csv(
                    out / f"{stem}.csv", index=False)
                plot_bounds(r, out / f"{stem}.png")
        except RuntimeError as exc:
            row.update(ph_time_s=time.perf_counter() - t, ph_gap=math.inf, ph_note=str(exc).splitlines()[0][:80])
    if decomposition:  # site-and-scenario price decomposition (planner.decomposition), same scenarios
        t = time.perf_counter()
        r = run_decomposition(case, "price", scenarios=scen, n_ranks=np_dec, rel_gap=rel_gap, time_limit=time_limit,
                              max_iterations=50, site_mip_gap=rel_gap / 2, progress=False)
        row.update(dec_time_s=time.perf_counter() - t, dec_lb=r.lower_bound, dec_ub=r.upper_bound, dec_gap=r.gap,
                   dec_iterations=r.iterations)
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="default:50,3:10,3:50,10:10,10:50,10:200,30:10",
                   help="comma list of <sites or 'default'>:<scenarios>")
    p.add_argument("--time-limit", type=float, default=120.0)
    p.add_argument("--rel-gap", type=float, default=0.005)
    p.add_argument("--no-ph", action="store_true")
    p.add_argument("--ph", action="store_true", help="EF, L-shaped and PH in one run on the same scenarios")
    p.add_argument("--ph-np", type=int, default=3, help="MPI ranks of PH (a multiple of 3)")
    p.add_argument("--ph-plots", default=None, help="folder for PH's bounds-against-time plots and CSVs")
    p.add_argument("--decomposition", action="store_true",
                   help="also solve by price decomposition over sites and scenarios (planner.decomposition)")
    p.add_argument("--np", type=int, default=1, help="MPI ranks of the decomposition")
    p.add_argument("--no-ef", action="store_true", help="skip the extensive form")
    p.add_argument("--lshaped", action="store_true",
                   help="also solve by the L-shaped method (LP bound, common-schedule incumbent)")
    args = p.parse_args(argv)

    default = load_case(ROOT / "data" / "cases" / "default.toml")
    rows = []
    for spec in args.rows.split(","):
        sites, n = spec.split(":")
        case = default if sites == "default" else replicate_case(default, int(sites))
        row = run_row(case, int(n), args.time_limit, not args.no_ph, args.rel_gap, args.decomposition, args.np,
                      ef=not args.no_ef, lshaped=args.lshaped or args.ph, ph_np=args.ph_np, ph_plots=args.ph_plots)
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False))
    return table


if __name__ == "__main__":
    main()
