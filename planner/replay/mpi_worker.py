"""What every MPI rank runs to replay months in parallel: ``python -m planner.replay.mpi_worker JOB.pkl``,
started by ``planner.replay.run.run_replay`` with ``n_ranks > 1``; rank r replays the months r, r + n, ...
(each finished day written atomically to the day files, which the parent then reads). Nothing imports this."""

from __future__ import annotations

import pickle
import sys

from planner.replay.run import run_month


def main(job_path) -> None:
    from mpi4py import MPI  # function level: mpi4py is optional and needed on MPI ranks only

    with open(job_path, "rb") as f:
        job = pickle.load(f)
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    for k, days in enumerate(job["months"]):
        if k % size == rank:
            run_month(job["case"], job["real"], days, job["options"], job["output_dir"], False)
    comm.Barrier()


if __name__ == "__main__":
    main(sys.argv[1])
