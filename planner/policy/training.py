"""Training of the SDDP battery policy: in this process, on several MPI ranks (the ranks run
``planner.policy.mpi_worker``), or loading the cuts of an earlier run without retraining."""

from __future__ import annotations

import json
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sddp
from planner.case import Case
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import PolicyModel
from planner.progress import Progress
from planner.solvers.mpi import run_mpi


@dataclass
class Training:
    """The trained (or loaded) SDDP policy: bound, bound per iteration, iterations, time, cut file."""

    bound: float
    history: list
    iterations: int
    time_s: float
    cut_file: Path


def train_policy(model: PolicyModel, case: Case, schedule: FixedSchedule, scenarios, *, n_states: int,
                 random_state: int, iterations: int, n_ranks: int, cut_file, target_cuts: Path,
                 progress: Progress, time_limit: float | None = None) -> Training:
    """Load the cuts of ``cut_file`` without retraining, or train (on ``n_ranks`` MPI ranks when more
    than one) and write the cuts to ``target_cuts``; serial training also stops after ``time_limit``
    seconds (checked between iterations)."""
    if cut_file is not None:
        try:
            sddp.read_cuts(model.graph, cut_file)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"cut_file = {cut_file!s} does not fit this policy graph ({exc}); it was written "
                             f"for another case, lattice (n_states, random_state, scenarios) or schedule") from None
        bound = sddp.calculate_bound(model.graph)
        progress.message(f"loaded cuts from {cut_file}: bound {bound:,.2f} EUR (no retraining)")
        return Training(bound, [bound], 0, 0.0, Path(cut_file))
    if n_ranks > 1:
        log = train_mpi(case, schedule, scenarios, n_states, random_state, iterations, n_ranks, target_cuts,
                        progress.enabled)
        sddp.read_cuts(model.graph, target_cuts)
        return Training(sddp.calculate_bound(model.graph), log["bounds"], log["iterations"], log["time"],
                        target_cuts)
    res = sddp.train(model.graph, iteration_limit=iterations, time_limit=time_limit,
                     print_level=1 if progress.enabled else 0, random_state=random_state)
    bound = sddp.calculate_bound(model.graph)
    sddp.write_cuts(model.graph, target_cuts, only_active=False)
    return Training(bound, res.bound_history, res.iterations, res.time, target_cuts)


def train_mpi(case, schedule, scenarios, n_states: int, random_state: int, iterations: int, n_ranks: int,
              cut_file, progress: bool = False) -> dict:
    """Train under ``mpiexec -n n_ranks`` and write the cut file; returns the rank-0 log
    (``bounds``, ``time``, ``iterations``, ``ranks``)."""
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.pkl"
        with open(job, "wb") as f:
            pickle.dump(dict(case=case, schedule=schedule, scenarios=scenarios, n_states=n_states,
                             random_state=random_state, iterations=iterations, cut_file=str(cut_file),
                             log=str(Path(tmp) / "log.json")), f)
        run_mpi(n_ranks, "planner.policy.mpi_worker", [str(job)], capture=not progress)
        return json.loads((Path(tmp) / "log.json").read_text())
