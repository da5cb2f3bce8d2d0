"""Progressive hedging with mpi-sppy for any model module: hub and spokes under MPI, or serial PH, each
ending with certified bounds.

MPI: ``python -m mpisppy.generic_cylinders --module-name <module> ... --lagrangian --xhatshuffle
--rel-gap g`` on K ranks (a multiple of the 3 cylinders: PH hub, Lagrangian outer bound, xhatshuffle
inner bound), launched by ``planner.solvers.mpi``; the hub's per-iteration bounds are parsed and shown
live; the first stage is read from the written solution. Serial: ``mpisppy.opt.ph.PH``, then a
Lagrangian bound with the final W's (``post_solve_bound``, from the subproblems' dual bounds) and an
upper bound from evaluating first-stage candidates (xbar, rounded where integer, and two scenarios' own).
Solvers: ``highs`` with a quadratic proximal term when every variable is continuous; with integer
variables (HiGHS has no MIQP) ``appsi_highs`` with linearised proximal terms.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from mpisppy.opt.ph import PH

from planner.progress import Progress
from planner.results import SolveResult, relative_gap
from planner.solvers.highs import has_integers, mpisppy_solver_name
from planner.solvers.mpi import popen_mpi
from planner.stochastic.ef import nonant_vars
from planner.stochastic.evaluate import NoIncumbentError, evaluate_first_stage

CYLINDERS = 3  # PH hub, Lagrangian spoke, xhatshuffle spoke
_ITER = re.compile(r"^\[\s*([\d.]+)\]\s+(\d+)\s+[*LXB ]*\s+(-?[\d.]+|-?inf)\s+(-?[\d.]+|-?inf)\s+([\d.]+|inf)%")


def check_ranks(n_ranks: int) -> None:
    """Hub and spokes need a rank count that is a positive multiple of the cylinder count."""
    if n_ranks < CYLINDERS or n_ranks % CYLINDERS:
        raise ValueError(f"ranks = {n_ranks}: progressive hedging under MPI needs a multiple of {CYLINDERS} ranks "
                         f"(PH hub, Lagrangian bound, xhatshuffle); use {CYLINDERS}, {2 * CYLINDERS}, ... "
                         "or 1 for serial PH")


def read_first_stage_csv(path: Path) -> dict:
    """The first stage mpi-sppy wrote (``name,value`` rows; names contain commas: split at the last)."""
    first = {}
    if path.exists():
        for row in path.read_text().splitlines():
            if row.strip():
                name, value = row.strip().rsplit(",", 1)
                first[name] = float(value)
    return first


def solve_ph_mpi(module_name: str, num_scens: int, *, n_ranks: int = 3, extra_args=(), rel_gap: float = 0.005,
                 max_iterations: int = 100, default_rho: float = 1.0, time_limit: float | None = None,
                 integer: bool = True, progress: bool = True, workdir=None, subproblem_mip_gap: float | None = None,
                 ) -> SolveResult:
    """Run mpi-sppy's generic_cylinders on ``n_ranks`` ranks; return its bounds (first stage from the xhat)."""
    check_ranks(n_ranks)
    work = Path(workdir or tempfile.mkdtemp(prefix="ph_"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "ph_solution"
    args = ["mpisppy.generic_cylinders", "--module-name", module_name, "--num-scens", str(num_scens),
            "--solver-name", mpisppy_solver_name(integer), "--max-iterations", str(max_iterations),
            "--default-rho", str(default_rho), "--lagrangian", "--xhatshuffle", "--rel-gap", str(rel_gap),
            "--solution-base-name", str(base)]
    if integer:
        args += ["--linearize-proximal-terms"]
    if time_limit is not None:
        args += ["--time-limit", str(max(1, int(time_limit)))]
    if subproblem_mip_gap is not None:
        args += ["--solver-options", f"mip_rel_gap={subproblem_mip_gap}"]
    args += list(extra_args)
    log = Progress(f"PH ({n_ranks} ranks)", enabled=progress)
    t0 = time.perf_counter()
    lines, rows, final, in_final = [], [], None, False
    proc = popen_mpi(n_ranks, args[0], args[1:])
    for line in proc.stdout:
        lines.append(line.rstrip())
        if "Statistics at termination" in line:
            in_final = True
        m = _ITER.match(line)
        if m:
            it, lb, ub = int(m.group(2)), float(m.group(3)), float(m.group(4))
            rows.append((it, lb, ub, time.perf_counter() - t0))
            if in_final:
                final = (it, lb, ub)
            else:
                log.update(it, lb, ub)
    proc.wait()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"mpi-sppy generic_cylinders failed (exit {proc.returncode}):\n" + "\n".join(lines[-30:]))
    if final is None and rows:
        final = rows[-1][:3]
    if final is None:
        raise RuntimeError("could not parse PH bounds from the mpi-sppy output:\n" + "\n".join(lines[-30:]))
    it, lb, ub = final
    status = "converged" if relative_gap(lb, ub) <= rel_gap + 1e-12 else "iteration/time limit"
    res = SolveResult(lower_bound=lb, upper_bound=ub, status=status, time_s=seconds, method=f"PH-mpi(ranks={n_ranks})",
                      first_stage=read_first_stage_csv(base.with_suffix(".csv")), iterations=it, log=rows)
    log.message(res.summary())
    return res


def solve_ph_serial(module, scenario_names, creator_kwargs=None, *, rel_gap: float = 0.005, max_iterations: int = 50,
                    default_rho: float = 1.0, subproblem_mip_gap: float = 1e-4, subproblem_time_limit=None,
                    progress: bool = True) -> SolveResult:
    """Serial PH (mpi-sppy's PH class) followed by a Lagrangian lower bound and an xhat upper bound."""
    t0 = time.perf_counter()
    log = Progress("PH serial", enabled=progress)
    probe = module.scenario_creator(scenario_names[0], **(creator_kwargs or {}))
    integer = has_integers(probe)
    solver_options = {"mip_rel_gap": subproblem_mip_gap} if integer else {}
    if subproblem_time_limit is not None:
        solver_options["time_limit"] = subproblem_time_limit
    options = {
        "solver_name": mpisppy_solver_name(integer),
        "PHIterLimit": max_iterations, "defaultPHrho": default_rho, "convthresh": 1e-4,
        "verbose": False, "display_progress": False, "display_timing": False,
        "iter0_solver_options": dict(solver_options), "iterk_solver_options": dict(solver_options),
        "linearize_proximal_terms": integer, "proximal_linearization_tolerance": 1e-1,
    }
    ph = PH(options, list(scenario_names), module.scenario_creator, module.scenario_denouement,
            scenario_creator_kwargs=creator_kwargs or {})
    conv, eobj, trivial = ph.ph_main()
    log.message(f"{ph._PHIter} iterations, conv {conv:.3g}, trivial bound {trivial:,.2f}")
    # candidate first stages: xbar (rounded for integer variables) and each scenario's own
    xs = [[v.value for v in nonant_vars(s)] for s in ph.local_scenarios.values()]
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
            ub = evaluate_first_stage(module, scenario_names, creator_kwargs, cand, mip_gap=subproblem_mip_gap,
                                      time_limit=subproblem_time_limit).expected_cost
        except NoIncumbentError:
            continue
        if ub < best[0]:
            best = (ub, cand)
    names = [v.getname(fully_qualified=True, relative_to=probe) for v in nonant_vars(probe)]
    first = {} if best[1] is None else dict(zip(names, map(float, best[1])))
    res = SolveResult(lower_bound=lb, upper_bound=best[0], status="done", time_s=time.perf_counter() - t0,
                      method="PH-serial", first_stage=first, iterations=ph._PHIter)
    log.message(res.summary())
    return res
