"""Benchmark of the SDDP battery policy: iterations and time to a 1 % statistical gap for N = 1, 3,
10, 30 sites (the default case's sites replicated by a seeded generator), and the MPI speed-up.

Usage::

    .venv/bin/python benchmarks/sddp_battery.py [--sites 1 3 10 30] [--time-limit 600] [--mpi]
        [--target 0.01] [--criterion mean|ci] [--chunk 20]

Replicated sites: site i copies default site ``i mod 3`` with its load (base load plus the rule
schedule's line load), PV, wind and battery scaled by a factor drawn in [0.6, 1.4]; it keeps the
original site's weather (PV/wind scenario variables); each new site is linked to a random earlier
one (1,000-2,000 kW, 2 % losses); the subscribed power scales with the total mean load.

Gap: every ``--chunk`` iterations the policy is simulated ``--replications`` times in sample;
gap = (simulated mean - lower bound) / simulated mean, reached when <= 1 % (the upper end of the
95 % interval is reported too; ``--criterion ci`` stops on it instead). Scenario paths: ``planner.scenario_inputs.case_scenarios`` when it
exists, else the seeded synthetic input ``planner.dayahead.data.synthetic_scenarios`` (printed in the output).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scenario_source():
    try:
        from planner.scenario_inputs import case_scenarios

        return case_scenarios, "planner.scenario_inputs.case_scenarios"
    except ImportError:
        from planner.dayahead.data import synthetic_scenarios

        return synthetic_scenarios, "planner.dayahead.data.synthetic_scenarios (TEST INPUT)"


def replicated_case(base_case, n_sites: int, seed: int = 0):
    """A case of ``n_sites`` sites replicated from the base case (module docstring)."""
    from planner.case import case_from_dict, case_to_dict
    from planner.load_profiles import base_load_kw
    from planner.policy.fixed_schedule import FixedSchedule

    rng = np.random.default_rng(seed)
    rule = FixedSchedule.from_rule(base_case)
    T = base_case.n_periods
    data = case_to_dict(base_case)
    sites, weather, mean_load = [], {}, 0.0
    for i in range(n_sites):
        j = i % len(base_case.sites)
        src = base_case.sites[j]
        k = 1.0 if i < len(base_case.sites) else float(rng.uniform(0.6, 1.4))
        load = k * (base_load_kw(src.base_load, base_case.scenarios.day, base_case.period_minutes, T)
                    + rule.line_load_kw[:, j])
        mean_load += load.mean()
        d = copy.deepcopy(data["sites"][j])
        d["name"] = f"{src.name}_{i}"
        d["base_load"] = {"mean_kw": float(load.mean()), "values_kw": [float(x) for x in load]}
        for key in ("lines", "storage", "plan_t_per_day", "deliveries", "sizing"):
            d.pop(key, None)
        d["grid_connection_kw"] = float(src.grid_connection_kw * k)
        mg = d.get("microgrid", {})
        if "pv" in mg:
            mg["pv"]["kwp"] *= k
        if "battery" in mg:
            mg["battery"]["energy_kwh"] *= k
            mg["battery"]["power_kw"] *= k
        if "generator" in d:
            d["generator"]["capacity_kw"] *= k
            d["generator"]["min_load_kw"] = min(d["generator"]["min_load_kw"] * k, d["generator"]["capacity_kw"])
        sites.append(d)
        weather[d["name"]] = src.name
    links = []
    for i in range(1, n_sites):
        links.append({"site_a": sites[int(rng.integers(0, i))]["name"], "site_b": sites[i]["name"],
                      "capacity_kw": float(rng.uniform(1000, 2000)), "loss_fraction": 0.02})
    data["name"] = f"default_x{n_sites}"
    data["sites"] = sites
    data["links"] = links
    base_mean = sum(base_load_kw(s.base_load, base_case.scenarios.day, base_case.period_minutes, T).mean()
                    + rule.line_load_kw[:, j].mean() for j, s in enumerate(base_case.sites))
    data["contract"]["subscribed_power_kw"] = base_case.contract.subscribed_power_kw * mean_load / base_mean
    return case_from_dict(data), weather


def time_to_gap(case, weather, scenarios, target=0.01, chunk=10, replications=200, time_limit=600.0,
                n_states=5, seed=0, criterion="mean", out=print):
    import sddp

    from planner.policy.fixed_schedule import FixedSchedule
    from planner.policy.model import add_initial_cuts, build_policy_model, policy_inputs
    from planner.results import relative_gap

    t0 = time.perf_counter()
    schedule = FixedSchedule.from_rule(case, _renamed(scenarios, weather, case))
    inp = policy_inputs(case, schedule, scenarios, site_weather=weather)
    model = build_policy_model(inp, scenarios, n_states=n_states, random_state=seed)
    add_initial_cuts(model, f"/tmp/sddp_battery_init_{len(case.sites)}.json")
    t_build = time.perf_counter() - t0
    iterations, t_train, t_sim = 0, 0.0, 0.0
    rows = []
    while True:
        res = sddp.train(model.graph, iteration_limit=chunk, print_level=0, random_state=seed + iterations)
        iterations += res.iterations
        t_train += res.time
        ts = time.perf_counter()
        sim = sddp.simulate(model.graph, replications, random_state=10_000 + iterations)
        t_sim += time.perf_counter() - ts
        lb = sddp.calculate_bound(model.graph)
        gap = relative_gap(lb, sim.mean)
        gap_ci = relative_gap(lb, sim.ci[1])
        rows.append((iterations, lb, sim.mean, sim.half_width, gap, gap_ci, t_train, t_sim))
        out(f"  N={len(case.sites):>2} it {iterations:>4}  LB {lb:12,.1f}  sim {sim.mean:12,.1f} +- "
            f"{sim.half_width:8,.1f}  gap {100 * gap:6.2f} %  (CI end {100 * gap_ci:6.2f} %)  "
            f"train {t_train:6.1f} s  sim {t_sim:6.1f} s")
        if (gap_ci if criterion == "ci" else gap) <= target or t_train + t_sim > time_limit:
            break
    return dict(sites=len(case.sites), states=len(model.state_names), build_s=t_build, iterations=iterations,
                train_s=t_train, simulate_s=t_sim, lower_bound=rows[-1][1], simulated=rows[-1][2],
                half_width=rows[-1][3], gap=rows[-1][4], gap_ci=rows[-1][5],
                reached=(rows[-1][5] if criterion == "ci" else rows[-1][4]) <= target)


def _renamed(scenarios, weather, case):
    """The scenario variables under the replicated site names (for the rule's expected net load)."""
    from scenarios.scenario_set import ScenarioSet

    cols, names = [scenarios[v] for v in scenarios.variables[:3]], list(scenarios.variables[:3])
    for site in case.sites:
        for kind in ("pv_kw_per_kwp", "wind_kw_per_turbine"):
            src = f"{kind}:{weather[site.name]}"
            if src in scenarios.variables:
                cols.append(scenarios[src])
                names.append(f"{kind}:{site.name}")
    return ScenarioSet(np.stack(cols, axis=2), scenarios.probabilities, tuple(names),
                       period_hours=scenarios.period_hours)


def mpi_speedup(case, weather, scenarios, iterations=40, seed=0, out=print):
    """Wall time of ``2 * iterations`` serial iterations vs ``iterations`` on 2 ranks (same number
    of forward/backward passes) and the bounds reached."""
    import tempfile

    import sddp

    from planner.policy.fixed_schedule import FixedSchedule
    from planner.policy.model import add_initial_cuts, build_policy_model, policy_inputs
    from planner.policy.training import train_mpi

    renamed = _renamed(scenarios, weather, case)
    schedule = FixedSchedule.from_rule(case, renamed)
    inp = policy_inputs(case, schedule, renamed)
    model = build_policy_model(inp, renamed, random_state=seed)
    add_initial_cuts(model, "/tmp/sddp_battery_mpi_init.json")
    res = sddp.train(model.graph, iteration_limit=2 * iterations, print_level=0, random_state=seed)
    serial = res.time
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        log = train_mpi(case, schedule, renamed, 5, seed, iterations, 2, Path(tmp) / "cuts.json", False)
        wall = time.perf_counter() - t0
    out(f"  MPI: serial {2 * iterations} iterations {serial:.1f} s (bound {res.bound:,.1f}); "
        f"2 ranks x {iterations} iterations {log['time']:.1f} s in training ({wall:.1f} s with start-up; "
        f"bound {log['bounds'][-1]:,.1f}); speed-up {serial / log['time']:.2f}")
    return dict(serial_s=serial, mpi_s=log["time"], mpi_wall_s=wall, speedup=serial / log["time"],
                serial_bound=res.bound, mpi_bound=log["bounds"][-1])


def main(argv=None):
    from planner.case import load_case

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[1, 3, 10, 30])
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=10)
    parser.add_argument("--paths", type=int, default=300, help="day paths the lattice is fitted on")
    parser.add_argument("--mpi", action="store_true", help="also measure the 2-rank MPI speed-up (N=3)")
    parser.add_argument("--target", type=float, default=0.01, help="gap to reach (fraction)")
    parser.add_argument("--criterion", choices=("mean", "ci"), default="mean",
                        help="gap from the simulated mean, or from the upper end of its 95 %% interval")
    args = parser.parse_args(argv)
    base = load_case(ROOT / "data" / "cases" / "default.toml")
    source, label = scenario_source()
    print(f"scenario paths: {label}")
    scenarios = source(base, args.paths, 0)
    results = []
    for n in args.sites:
        case, weather = replicated_case(base, n, seed=n)
        results.append(time_to_gap(case, weather, scenarios, target=args.target, chunk=args.chunk,
                                   replications=args.replications, time_limit=args.time_limit,
                                   criterion=args.criterion))
    print(f"\ntarget: gap <= {100 * args.target:g} % ({args.criterion} criterion)")
    print("\n| sites | states | iterations | train (s) | simulate (s) | lower bound | simulated mean +- 95 % | gap | gap (CI end) | target reached |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['sites']} | {r['states']} | {r['iterations']} | {r['train_s']:.1f} | {r['simulate_s']:.1f} | "
              f"{r['lower_bound']:,.1f} | {r['simulated']:,.1f} +- {r['half_width']:,.1f} | {100 * r['gap']:.2f} % | "
              f"{100 * r['gap_ci']:.2f} % | {'yes' if r['reached'] else 'no'} |")
    if args.mpi:
        case, weather = replicated_case(base, 3, seed=3)
        mpi_speedup(case, weather, scenarios)
    return results


if __name__ == "__main__":
    main()
