"""Progressive hedging with mpi-sppy for any model module: hub and spokes under MPI, or serial PH, each
ending with certified bounds.

MPI: ``python -m mpisppy.generic_cylinders --module-name <module> ... --lagrangian --xhatshuffle
--rel-gap g`` on K ranks (a multiple of the cylinders: PH hub and one per spoke, 3 by default),
launched by ``planner.solvers.mpi``; subproblem options by iteration through mpi-sppy's
``--solver-options-file``; the hub's per-iteration bounds are parsed and shown live (with a heartbeat
before iteration 0); a watchdog terminates the run past its time limit and keeps the best bounds
seen; the first stage is the written solution or the last incumbent an xhat spoke wrote. Serial: ``mpisppy.opt.ph.PH``, then a
Lagrangian bound with the final W's (``post_solve_bound``, from the subproblems' dual bounds) and an
upper bound from evaluating first-stage candidates (xbar, rounded where integer, and two scenarios' own).
Solvers: ``highs`` with a quadratic proximal term when every variable is continuous; with integer
variables (HiGHS has no MIQP) ``appsi_highs`` with linearised proximal terms.
"""

from __future__ import annotations

import json
import math
import queue
import re
import subprocess
import tempfile
import threading
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

SPOKES = ("lagrangian", "xhatshuffle")  # the default spokes: Lagrangian outer bound, xhatshuffle inner bound
CYLINDERS = 1 + len(SPOKES)  # PH hub and one rank group per spoke
_ITER = re.compile(r"^\[\s*([\d.]+)\]\s+(\d+)\s+[*LXB ]*\s+(-?[\d.]+|-?inf)\s+(-?[\d.]+|-?inf)\s+([\d.]+|inf)%")
_SPOKE_FLAGS = {"lagrangian", "xhatshuffle", "xhatxbar", "xhatlooper", "subgradient", "reduced_costs", "ph_dual",
                "relaxed_ph", "fwph", "xhatlshaped", "ph_xfeas_spoke"}


def check_ranks(n_ranks: int, cylinders: int = CYLINDERS) -> None:
    """Hub and spokes need a rank count that is a positive multiple of the cylinder count."""
    if n_ranks < cylinders or n_ranks % cylinders:
        raise ValueError(f"ranks = {n_ranks}: progressive hedging under MPI needs a multiple of {cylinders} ranks "
                         f"(PH hub and {cylinders - 1} spokes); use {cylinders}, {2 * cylinders}, ... "
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


def latest_first_stage(work: Path, base: Path) -> dict:
    """The first stage of the best incumbent: the final solution file, else (a terminated run) the last
    snapshot an xhat spoke wrote on improving (its cost is at most the last upper bound the hub printed)."""
    first = read_first_stage_csv(base.with_suffix(".csv"))
    if first:
        return first
    snapshots = sorted(work.glob("incumbent_*.csv"))
    return read_first_stage_csv(snapshots[-1]) if snapshots else {}


def solver_options_file(path: Path, schedule: dict) -> Path:
    """Write mpi-sppy's ``--solver-options-file`` JSON: ``schedule`` maps an iteration (0, 1, 5, ...) to the
    subproblem options from then on (``mipgap``, ``time_limit`` in s, ...); key ``"spokes"`` may hold
    ``{spoke name: {iteration: options}}``. Iteration 0 is the file's ``default`` block, 1 its ``iterk``
    block (the options mpi-sppy's xhat spokes evaluate with), later ones ``starting_at_iter``."""
    def section(sched):
        out = {"default": {}, "iterk": {}, "starting_at_iter": {}}
        for it, opts in sorted(((int(k), v) for k, v in sched.items())):
            if it == 0:
                out["default"] = dict(opts)
            elif it == 1:
                out["iterk"] = dict(opts)
            else:
                out["starting_at_iter"][str(it)] = dict(opts)
        return out
    spokes = schedule.get("spokes", {})
    data = section({k: v for k, v in schedule.items() if k != "spokes"})
    if spokes:
        data["spokes"] = {name: section(s) for name, s in spokes.items()}
    path.write_text(json.dumps(data, indent=1))
    return path


def _terminate(proc) -> None:
    """Stop mpiexec (it forwards the signal to the ranks); kill it if it has not ended after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def hub_rel_gap(rel_gap: float) -> float:
    """The ``--rel-gap`` to give mpi-sppy's hub so that its stop meets ``rel_gap`` as this project measures it.

    The hub divides the absolute gap by max(|LB|, |UB|), this project by |UB| (``relative_gap``); for a
    negative objective |LB| = |UB| + gap, so the hub's gap g' and ours g = g' / (1 - g') differ: the hub
    stops at g' <= r / (1 + r) so that g <= r (a hair tighter for the printed bounds' rounding).
    """
    return rel_gap / (1.0 + rel_gap) * (1.0 - 1e-6)


def solve_ph_mpi(module_name: str, num_scens: int, *, n_ranks: int = 3, extra_args=(), rel_gap: float = 0.005,
                 max_iterations: int = 100, default_rho: float = 1.0, time_limit: float | None = None,
                 integer: bool = True, progress: bool = True, workdir=None, subproblem_mip_gap: float | None = None,
                 spokes=SPOKES, subproblem_schedule: dict | None = None, grace_s: float = 10.0,
                 heartbeat_s: float = 10.0, bounds_at_start=(-math.inf, math.inf)) -> SolveResult:
    """Run mpi-sppy's generic_cylinders on ``n_ranks`` ranks (hub + ``spokes``); return its bounds.

    ``subproblem_schedule``: {iteration: solver options} (see ``solver_options_file``), e.g. loose MIP gap
    and short time limit at iteration 0, tighter later. ``time_limit`` (s) is mpi-sppy's ``--time-limit``
    (checked by the hub between iterations) and a watchdog here: at ``time_limit + grace_s`` the run is
    terminated and the best bounds printed by the hub so far are returned. Progress: a line at start,
    one per hub iteration (iteration, both bounds, gap, elapsed) and a heartbeat every ``heartbeat_s``.
    ``bounds_at_start``: bounds known before the run (e.g. from a warm start); they are combined with
    the hub's, and the run is stopped as soon as the combined gap meets ``rel_gap``; the result's first
    stage is empty when the run did not beat the upper bound given at start (its plan is the caller's).
    """
    cylinders = 1 + len(spokes)
    check_ranks(n_ranks, cylinders)
    work = Path(workdir or tempfile.mkdtemp(prefix="ph_"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "ph_solution"
    args = ["mpisppy.generic_cylinders", "--module-name", module_name, "--num-scens", str(num_scens),
            "--solver-name", mpisppy_solver_name(integer), "--max-iterations", str(max_iterations),
            "--default-rho", str(default_rho), "--rel-gap", repr(hub_rel_gap(rel_gap)),
            "--solution-base-name", str(base),
            "--incumbent-on-improvement-filename-prefix", str(work / "incumbent")]
    for spoke in spokes:
        if spoke not in _SPOKE_FLAGS:
            raise ValueError(f"spoke {spoke!r}: use one of {sorted(_SPOKE_FLAGS)} (mpi-sppy's cylinder flags)")
        args.append("--" + spoke.replace("_", "-"))
    if integer:
        args += ["--linearize-proximal-terms"]
    if time_limit is not None:
        args += ["--time-limit", str(max(1, int(time_limit)))]
    if subproblem_schedule:
        args += ["--solver-options-file", str(solver_options_file(work / "solver_options.json", subproblem_schedule))]
    elif subproblem_mip_gap is not None:
        args += ["--solver-options", f"mip_rel_gap={subproblem_mip_gap}"]
    args += [str(a) for a in extra_args]
    log = Progress(f"PH ({n_ranks} ranks)", enabled=progress)
    t0 = time.perf_counter()
    proc = popen_mpi(n_ranks, args[0], args[1:])
    try:
        return _follow(proc, work, base, log, t0, time_limit, grace_s, heartbeat_s, bounds_at_start, rel_gap,
                       spokes, n_ranks, num_scens)
    finally:
        if proc.poll() is None:  # interrupted: leave no ranks behind
            proc.terminate()


def _follow(proc, work, base, log, t0, time_limit, grace_s, heartbeat_s, bounds_at_start, rel_gap, spokes, n_ranks,
            num_scens) -> SolveResult:
    """Read the hub's output live (progress rows and heartbeats), enforce the watchdog, return the bounds."""
    best_lb, best_ub = bounds_at_start
    own_ub = math.inf  # the best upper bound found in this run (the first stage belongs to it)
    lines, rows, final, in_final, killed = [], [], None, False, False
    raw = (work / "mpisppy_output.txt").open("w")  # the whole output of the run, kept for reading
    log.message(f"started: hub + {', '.join(spokes)} on {n_ranks} ranks, {num_scens} scenarios"
                + (f", time limit {time_limit:.0f} s" if time_limit is not None else ""))
    queued: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, queued), daemon=True).start()
    deadline = None if time_limit is None else t0 + time_limit + grace_s
    last_beat = time.perf_counter()
    while True:
        try:
            line = queued.get(timeout=1.0)
        except queue.Empty:
            line = ""
        if line is None:
            break
        now = time.perf_counter()
        if line:
            lines.append(line.rstrip())
            raw.write(line)
            raw.flush()
            if "Statistics at termination" in line:
                in_final = True
            m = _ITER.match(line)
            if m:
                it, lb, ub = int(m.group(2)), float(m.group(3)), float(m.group(4))
                best_lb, best_ub, own_ub = max(best_lb, lb), min(best_ub, ub), min(own_ub, ub)
                rows.append((it, best_lb, best_ub, now - t0))
                if in_final:
                    final = it
                else:
                    log.update(it, best_lb, best_ub)
                    last_beat = now
                    if relative_gap(best_lb, best_ub) <= rel_gap and proc.poll() is None:
                        # met with a bound the hub does not know (``bounds_at_start``): stop here
                        log.message(f"gap {100 * relative_gap(best_lb, best_ub):.3f} % <= {100 * rel_gap:g} % "
                                    "with the bounds given at start: stopping the run")
                        _terminate(proc)
                        break
        if now - last_beat >= heartbeat_s:
            waiting = "hub iteration 0" if not rows else f"hub iteration {rows[-1][0] + 1}"
            log.message(f"waiting for {waiting}; best bounds {best_lb:,.2f} / {best_ub:,.2f} "
                        f"(gap {100 * relative_gap(best_lb, best_ub):.3f} %)")
            last_beat = now
        if deadline is not None and now > deadline and proc.poll() is None:
            log.message(f"time limit {time_limit:.0f} s (+{grace_s:.0f} s grace) passed: terminating the run")
            _terminate(proc)
            killed = True
            break
    proc.wait()
    raw.close()
    seconds = time.perf_counter() - t0
    gap = relative_gap(best_lb, best_ub)
    if proc.returncode != 0 and not killed and gap > rel_gap:
        raise RuntimeError(f"mpi-sppy generic_cylinders failed (exit {proc.returncode}):\n" + "\n".join(lines[-30:]))
    if not rows and not (math.isfinite(best_lb) or math.isfinite(best_ub)):
        raise RuntimeError("no PH bounds before the end of the run (raise the time limit):\n" + "\n".join(lines[-30:]))
    it = final if final is not None else (rows[-1][0] if rows else 0)
    status = ("converged" if gap <= rel_gap + 1e-12 else
              "time limit (run terminated)" if killed else "iteration/time limit")
    # the first stage of this run's best xhat; none when the upper bound given at start was not beaten
    first = latest_first_stage(work, base) if own_ub <= best_ub else {}
    res = SolveResult(lower_bound=best_lb, upper_bound=best_ub, status=status, time_s=seconds,
                      method=f"PH-mpi(ranks={n_ranks})", first_stage=first, iterations=it, log=rows)
    log.message(res.summary())
    return res


def solve_ph_serial(module, scenario_names, creator_kwargs=None, *, rel_gap: float = 0.005, max_iterations: int = 50,
                    default_rho: float = 1.0, subproblem_mip_gap: float = 1e-4, subproblem_time_limit=None,
                    progress: bool = True, ph_options: dict | None = None, make_candidates=None,
                    evaluate=None) -> SolveResult:
    """Serial PH (mpi-sppy's PH class) followed by a Lagrangian lower bound and an xhat upper bound.
    ``ph_options`` override mpi-sppy's PH options; ``make_candidates(probe, xbar, xs)`` gives the first
    stages to evaluate (default: xbar rounded where integer, then two scenarios' own) and
    ``evaluate(first_stage)`` their expected cost (default: ``evaluate_first_stage``)."""
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
    options.update(ph_options or {})
    ph = PH(options, list(scenario_names), module.scenario_creator, module.scenario_denouement,
            scenario_creator_kwargs=creator_kwargs or {})
    conv, eobj, trivial = ph.ph_main()
    log.message(f"{ph._PHIter} iterations, conv {conv:.3g}, trivial bound {trivial:,.2f}")
    # candidate first stages: xbar (rounded for integer variables) and each scenario's own
    xs = [[v.value for v in nonant_vars(s)] for s in ph.local_scenarios.values()]
    probs = [s._mpisppy_probability for s in ph.local_scenarios.values()]
    xbar = list(np.average(np.array(xs, dtype=float), axis=0, weights=probs))
    if make_candidates is None:
        ints = [v.is_integer() or v.is_binary() for v in nonant_vars(probe)]
        candidates = [[round(x) if i else x for x, i in zip(xbar, ints)]] + xs[:2]
    else:
        candidates = make_candidates(probe, xbar, xs)
    # Lagrangian bound with the final W's (overwrites the variable values: after saving them)
    lb = ph.post_solve_bound(solver_options=solver_options)
    lb = max(lb, trivial) if math.isfinite(trivial) else lb
    best = (math.inf, None)
    for cand in candidates:
        try:
            ub = evaluate(cand) if evaluate is not None else evaluate_first_stage(
                module, scenario_names, creator_kwargs, cand, mip_gap=subproblem_mip_gap,
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
