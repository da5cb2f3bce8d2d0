"""What every MPI rank runs to train the battery policy in parallel: ``python -m
planner.policy.mpi_worker JOB.pkl``, started by ``planner.policy.training.train_mpi`` (which writes
the job: case, schedule, scenarios, n_states, random_state, iterations, cut_file, log). Rank 0
writes the cuts and the log. Nothing imports this module."""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path

import sddp
from planner.policy.model import add_initial_cuts, build_policy_model, policy_inputs


def main(job_path) -> None:
    """One rank: build the policy model of the job, train in parallel, rank 0 writes cuts and log."""
    from mpi4py import MPI  # function level: mpi4py is optional and needed on MPI ranks only

    with open(job_path, "rb") as f:
        job = pickle.load(f)
    inp = policy_inputs(job["case"], job["schedule"], job["scenarios"])
    model = build_policy_model(inp, job["scenarios"], n_states=job["n_states"], random_state=job["random_state"])
    comm = MPI.COMM_WORLD
    add_initial_cuts(model, f"{job['cut_file']}.init{comm.Get_rank()}")
    res = sddp.train(model.graph, iteration_limit=job["iterations"], print_level=0,
                     random_state=job["random_state"], parallel="mpi")
    if comm.Get_rank() == 0:
        sddp.write_cuts(model.graph, job["cut_file"], only_active=False)
        Path(job["log"]).write_text(json.dumps({"bounds": res.bound_history, "time": res.time,
                                                "iterations": res.iterations, "ranks": comm.Get_size()}))
    os.remove(f"{job['cut_file']}.init{comm.Get_rank()}")


if __name__ == "__main__":
    main(sys.argv[1])
