"""Site subproblems solved in parallel under MPI (mpi4py), or serially without it.

A *site map* owns the site subproblems and answers ``solve_prices(lam)`` and
``solve_allocations(targets, penalty)`` with one SiteSolution per subproblem, in order. Under MPI,
rank 0 runs the decomposition; every rank owns the subproblems ``j`` with ``j % size == rank``
(built once, kept warm) and the answers are gathered on rank 0. ``run_under_mpi`` starts
``python -m planner.decomposition.mpi_worker job.pkl result.pkl`` on N ranks (planner.solvers.mpi).
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem
from planner.solvers.mpi import run_mpi


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


def run_under_mpi(case, method, scenarios, n_ranks: int, options: dict):
    """Run ``run_decomposition`` on ``n_ranks`` MPI ranks (planner.decomposition.mpi_worker, started by
    planner.solvers.mpi) and return rank 0's result."""
    with tempfile.TemporaryDirectory(prefix="decomposition_") as tmp:
        job, out = Path(tmp) / "job.pkl", Path(tmp) / "result.pkl"
        job.write_bytes(pickle.dumps({"case": case, "method": method, "scenarios": scenarios, "options": options}))
        run_mpi(n_ranks, "planner.decomposition.mpi_worker", [str(job), str(out)],
                capture=not options.get("progress"))
        if not out.exists():
            raise RuntimeError(f"MPI run of the {method} decomposition on {n_ranks} ranks wrote no result")
        return pickle.loads(out.read_bytes())
