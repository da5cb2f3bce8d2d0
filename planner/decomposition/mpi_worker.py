"""The MPI entry point of the site decomposition: ``python -m planner.decomposition.mpi_worker job.pkl
result.pkl`` on N ranks (started by planner.decomposition.parallel.run_under_mpi through
planner.solvers.mpi); rank 0 runs the method and writes the result, the other ranks serve site solves."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from planner.decomposition.parallel import MPISiteMap
from planner.decomposition.run import run_decomposition
from planner.decomposition.subproblems import CoupledProblem


def main(job_path: str, out_path: str) -> None:
    """Run the pickled job (case, method, scenarios, options) with the site subproblems spread over the ranks."""
    from mpi4py import MPI  # imported here: mpi4py is an optional dependency, needed only under mpiexec

    comm = MPI.COMM_WORLD
    job = pickle.loads(Path(job_path).read_bytes())
    options = dict(job["options"])
    problem = CoupledProblem.from_case(job["case"], job["scenarios"])
    site_map = MPISiteMap(problem, comm, options.get("site_mip_gap", 1e-3), options.get("site_time_limit", 10.0))
    if comm.Get_rank() == 0:
        try:
            result = run_decomposition(job["case"], job["method"], job["scenarios"], site_map=site_map, **options)
        finally:
            site_map.close()
        Path(out_path).write_bytes(pickle.dumps(result))
    else:
        site_map.serve()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
