"""Site subproblems solved in parallel under MPI (mpi4py), or serially without it.

A *site map* owns the site subproblems and answers ``solve_prices(lam)`` and
``solve_allocations(targets, penalty)`` with one SiteSolution per subproblem, in order. Under MPI,
rank 0 runs the decomposition; every rank owns the subproblems ``j`` with ``j % size == rank``
(built once, kept warm) and the answers are gathered on rank 0. ``run_under_mpi`` starts
``mpiexec -n np python -m planner.decomposition.parallel job.pkl result.pkl`` from a plain process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem

MPIEXEC = Path(sys.executable).parent / "mpiexec"


class SerialSiteMap:
    """Every subproblem in this process."""

    size = 1

    def __init__(self, problem: CoupledProblem, mip_gap: float = 1e-3, time_limit: float = 10.0, owned=None):
        self.problem = problem
        owned = range(problem.n_sub) if owned is None else owned
        self.subs = {j: SiteSubproblem(problem, j, mip_gap, time_limit) for j in owned}

    def _local(self, command: str, args):
        if command == "price":
            lam, tl = args
            return [self.subs[j].solve_price(lam[j], tl) for j in self.subs]
        if command == "alloc":
            targets, penalty, tl = args
            return [self.subs[j].solve_allocation(targets[j], penalty, tl) for j in self.subs]
        raise ValueError(command)

    def solve_prices(self, lam, time_limit: float | None = None):
        """Every site's Lagrangian subproblem at prices ``lam`` (n_sub, T); ``time_limit`` per site MIP."""
        return self._local("price", (lam, time_limit))

    def solve_allocations(self, targets, penalty_eur_per_mwh: float, time_limit: float | None = None):
        return self._local("alloc", (targets, penalty_eur_per_mwh, time_limit))

    def close(self):
        pass


class MPISiteMap(SerialSiteMap):
    """Rank 0 broadcasts the command, every rank solves its own subproblems, rank 0 gathers."""

    def __init__(self, problem: CoupledProblem, comm, mip_gap: float = 1e-3, time_limit: float = 10.0):
        self.comm, self.rank, self.size = comm, comm.Get_rank(), comm.Get_size()
        super().__init__(problem, mip_gap, time_limit,
                         owned=[j for j in range(problem.n_sub) if j % self.size == self.rank])

    def _round(self, command: str, args):
        command, args = self.comm.bcast((command, args), root=0)
        if command == "stop":
            return None
        mine = self._local(command, args)
        parts = self.comm.gather(mine, root=0)
        if self.rank != 0:
            return []
        out = [s for part in parts for s in part]
        return sorted(out, key=lambda s: s.j)

    def solve_prices(self, lam, time_limit: float | None = None):
        return self._round("price", (lam, time_limit))

    def solve_allocations(self, targets, penalty_eur_per_mwh: float, time_limit: float | None = None):
        return self._round("alloc", (targets, penalty_eur_per_mwh, time_limit))

    def serve(self):
        """Worker ranks: answer rank 0's commands until it sends 'stop'."""
        while self._round(None, None) is not None:
            pass

    def close(self):
        if self.rank == 0:
            self.comm.bcast(("stop", None), root=0)


def mpi_environment() -> dict:
    env = dict(os.environ)
    env.setdefault("OMPI_MCA_osc", "^ucx")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2])] + (
        [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_under_mpi(case, method, scenarios, n_ranks: int, options: dict):
    """Run ``run_decomposition`` on ``n_ranks`` MPI ranks and return rank 0's result."""
    if not MPIEXEC.exists():
        raise RuntimeError(f"np = {n_ranks}: mpiexec not found at {MPIEXEC}; use np=1 (serial)")
    with tempfile.TemporaryDirectory(prefix="decomposition_") as tmp:
        job, out = Path(tmp) / "job.pkl", Path(tmp) / "result.pkl"
        job.write_bytes(pickle.dumps({"case": case, "method": method, "scenarios": scenarios, "options": options}))
        cmd = [str(MPIEXEC), "-n", str(n_ranks)]
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        if n_ranks > 2:
            cmd.append("--oversubscribe")
        cmd += [sys.executable, "-m", "planner.decomposition.parallel", str(job), str(out)]
        proc = subprocess.run(cmd, env=mpi_environment(), stdout=None if options.get("progress") else subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"mpiexec failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return pickle.loads(out.read_bytes())


def _main(job_path: str, out_path: str) -> None:
    from mpi4py import MPI

    from planner.decomposition.base import run_decomposition

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
    _main(sys.argv[1], sys.argv[2])
