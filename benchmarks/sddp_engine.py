"""Speed benchmark of the sddp engine on a hydro-thermal case: train and simulate times, bound, share of
time inside HiGHS, and the MPI speed-up at 2 ranks against the serial run measured here."""

# On a shared, loaded machine a single timing is noise: every measurement is repeated (--repeats,
# default 3) and the best wall time is reported with the CPU time of the same run (CPU per rank under
# MPI), so the speed-up can be read both on wall and on CPU time.
# Usage: python benchmarks/sddp_engine.py [--stages 24] [--noise 20] [--iterations 200]
#        [--simulations 1000] [--repeats 3] [--no-mpi]

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import highspy

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sddp  # noqa: E402
from planner.solvers.mpi import MPIUnavailable, run_mpi  # noqa: E402
from sddp.examples import hydro_thermal  # noqa: E402


def build(stages, noise):
    costs = [50.0 + 10.0 * t for t in range(1, stages + 1)]
    inflows = [100.0 * i / (noise - 1) for i in range(noise)] if noise > 1 else [0.0]
    return hydro_thermal(stages, costs=costs, inflows=inflows)


def run_serial(args):
    """One serial train + simulate; times are wall (perf_counter) and CPU (process_time)."""
    model = build(args.stages, args.noise)
    t0, c0 = time.perf_counter(), time.process_time()
    res = sddp.train(model, iteration_limit=args.iterations, print_level=0, random_state=1)
    t_train, c_train = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    sim = sddp.simulate(model, args.simulations, random_state=2)
    t_sim, c_sim = time.perf_counter() - t0, time.process_time() - c0
    return {
        "train_s": t_train,
        "train_cpu_s": c_train,
        "simulate_s": t_sim,
        "simulate_cpu_s": c_sim,
        "bound": res.bound,
        "sim_mean": sim.mean,
        "sim_ci": sim.ci,
        "run_s": res.solve_time,
        "run_share": res.solve_time / res.time,
        "cuts": model.num_cuts(),
        "solves": res.log[-1].solves,
    }


def run_mpi_worker(args):
    """Executed under mpiexec: every rank does iterations/size trajectories."""
    from mpi4py import MPI  # only on the MPI ranks: importing mpi4py initialises MPI

    comm = MPI.COMM_WORLD
    size = comm.Get_size()
    model = build(args.stages, args.noise)
    comm.Barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    res = sddp.train(model, iteration_limit=max(1, args.iterations // size), print_level=0,
                     random_state=1, parallel="mpi")
    comm.Barrier()
    t_train = time.perf_counter() - t0
    cpu = comm.gather(time.process_time() - c0, root=0)
    if comm.Get_rank() == 0:
        print("RESULT " + json.dumps({"train_s": t_train, "bound": res.bound, "ranks": size,
                                      "iterations_per_rank": res.iterations,
                                      "cpu_s": cpu}), flush=True)


def run_parallel(args, n_ranks=2):
    """Train on ``n_ranks`` MPI ranks (this script's worker, launched by the one mpiexec launcher);
    None when MPI is not available or the run failed."""
    worker_args = ["--mpi-worker", "--stages", args.stages, "--noise", args.noise,
                   "--iterations", args.iterations]
    try:
        out = run_mpi(n_ranks, "benchmarks.sddp_engine", worker_args, timeout=1800)
    except MPIUnavailable:
        return None
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return None
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(out.stdout[-2000:], out.stderr[-2000:], file=sys.stderr)
    return None


def run_instrumented(args):
    """One serial train with every highspy.Highs method timed: the share of wall time inside any
    HiGHS call (solves, model changes, solution queries, cut rows). A separate run, because the
    timers add ~0.3 us per call (counted outside HiGHS, so the share is if anything understated)."""
    spent = [0.0]
    originals = {}
    for name in dir(highspy.Highs):
        if name.startswith("_"):
            continue
        attr = getattr(highspy.Highs, name)
        if not callable(attr) or isinstance(attr, type):
            continue
        originals[name] = attr

        def timed(*a, __f=attr, **kw):
            t = time.perf_counter()
            try:
                return __f(*a, **kw)
            finally:
                spent[0] += time.perf_counter() - t

        setattr(highspy.Highs, name, timed)
    try:
        model = build(args.stages, args.noise)
        t0 = time.perf_counter()
        sddp.train(model, iteration_limit=args.iterations, print_level=0, random_state=1)
        wall = time.perf_counter() - t0
    finally:
        for name, attr in originals.items():
            setattr(highspy.Highs, name, attr)
    return spent[0] / wall


def _best(runs, key):
    return min(runs, key=lambda r: r[key])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stages", type=int, default=24)
    p.add_argument("--noise", type=int, default=20)
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--simulations", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3, help="runs per measurement (best kept)")
    p.add_argument("--no-mpi", action="store_true")
    p.add_argument("--mpi-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.mpi_worker:
        run_mpi_worker(args)
        return
    repeats = max(1, args.repeats)
    print(f"hydro-thermal T={args.stages} K={args.noise}: {args.iterations} iterations, "
          f"{args.simulations} simulations; best of {repeats} runs")
    runs = []
    for k in range(repeats):
        r = run_serial(args)
        runs.append(r)
        print(f"  serial run {k + 1}: train {r['train_s']:.2f} s wall / {r['train_cpu_s']:.2f} s CPU, "
              f"HiGHS run() {100 * r['run_share']:.1f} %, simulate {r['simulate_s']:.2f} s wall / "
              f"{r['simulate_cpu_s']:.2f} s CPU, bound {r['bound']:.6f}", flush=True)
    r = _best(runs, "train_s")
    s = _best(runs, "simulate_s")
    print(f"train:     {r['train_s']:.2f} s wall, {r['train_cpu_s']:.2f} s CPU  "
          f"({r['solves']} LP solves, {r['cuts']} active cuts)")
    print(f"simulate:  {s['simulate_s']:.2f} s wall, {s['simulate_cpu_s']:.2f} s CPU")
    print(f"bound:     {r['bound']:.6f}")
    print(f"simulated: {r['sim_mean']:.2f}  95% CI [{r['sim_ci'][0]:.2f}, {r['sim_ci'][1]:.2f}]")
    shares = [100 * x["run_share"] for x in runs]
    print(f"share of train wall time inside HiGHS run(): {100 * r['run_share']:.1f} % "
          f"(all runs: {', '.join(f'{v:.1f}' for v in shares)})")
    inside = [run_instrumented(args) for _ in range(repeats)]
    print(f"share of train wall time inside any HiGHS call: {100 * sorted(inside)[len(inside) // 2]:.1f} % (median) "
          f"(all runs: {', '.join(f'{100 * v:.1f}' for v in inside)}; target >= 70 %)")
    if not args.no_mpi:
        ms = []
        for k in range(repeats):
            m = run_parallel(args)
            if m is None:
                break
            ms.append(m)
            print(f"  MPI run {k + 1}: train {m['train_s']:.2f} s wall, CPU per rank "
                  f"{', '.join(f'{c:.2f}' for c in m['cpu_s'])} s", flush=True)
        if not ms:
            print("MPI: not available")
        else:
            m = _best(ms, "train_s")
            cpu_max = max(m["cpu_s"])
            print(f"MPI {m['ranks']} ranks x {m['iterations_per_rank']} iterations: "
                  f"train {m['train_s']:.2f} s wall (CPU per rank "
                  f"{', '.join(f'{c:.2f}' for c in m['cpu_s'])} s), bound {m['bound']:.6f}")
            print(f"MPI speed-up vs serial (best of {repeats} each): "
                  f"{r['train_s'] / m['train_s']:.2f}x on wall time, "
                  f"{r['train_cpu_s'] / cpu_max:.2f}x on CPU time (serial CPU / busiest rank)")


if __name__ == "__main__":
    main()
