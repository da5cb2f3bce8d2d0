"""MPI parallelism with mpi4py: each rank samples its own trajectories and all
new cuts are shared with allgather; serial when MPI is absent or has 1 rank."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["MPIParallel", "resolve_parallel", "mpi_available"]


def mpi_available():
    """True if mpi4py imports and the world has more than one rank."""
    try:
        from mpi4py import MPI  # here, not at the top: mpi4py is optional and initialises MPI on import
    except Exception:  # noqa: BLE001 - no MPI at all
        return False
    return MPI.COMM_WORLD.Get_size() > 1


class MPIParallel:
    """Synchronous parallel SDDP over ``comm`` (default ``MPI.COMM_WORLD``)."""

    def __init__(self, comm=None, poll_interval=5e-5):
        if comm is None:
            from mpi4py import MPI  # optional dependency, imported only when MPI is used

            comm = MPI.COMM_WORLD
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.poll_interval = poll_interval

    def rendezvous(self):
        """Wait for all ranks sleeping, not spinning (MPI busy-waits otherwise,
        which steals the CPU from the other ranks on a shared machine)."""
        if self.poll_interval is None:
            return
        req = self.comm.Ibarrier()
        wait = self.poll_interval
        while not req.Test():
            time.sleep(wait)
            wait = min(2 * wait, 2e-3)  # back off: fewer wake-ups on long waits

    def exchange(self, cuts, cost):
        """Share this rank's new cuts; return (cuts of the other ranks in rank
        order, forward-pass costs of all ranks)."""
        # a cut is (node, cut set, intercept, coefficients, state[, objective state])
        if cuts and len(cuts[0]) > 5:
            packed = [(i, j, a, np.asarray(c, dtype=float).tolist(), np.asarray(x, dtype=float).tolist(),
                       np.asarray(y, dtype=float).tolist()) for i, j, a, c, x, y in cuts]
        else:
            packed = [(i, j, a, np.asarray(c, dtype=float).tolist(),
                       None if x is None else np.asarray(x, dtype=float).tolist())
                      for i, j, a, c, x in cuts]
        self.rendezvous()
        everything = self.comm.allgather((packed, cost))
        others = []
        costs = []
        for r, (cs, c) in enumerate(everything):
            costs.append(c)
            if r != self.rank:
                others.extend(cs)
        return others, costs

    def bcast(self, value):
        self.rendezvous()
        return self.comm.bcast(value, root=0)

    def gather_list(self, items):
        """Concatenate lists from all ranks (in rank order) on every rank."""
        out = []
        for part in self.comm.allgather(items):
            out.extend(part)
        return out


def resolve_parallel(parallel):
    """``None``/``False`` -> serial; ``'mpi'``/``True`` -> MPI if more than one
    rank (else serial); an :class:`MPIParallel` is used as is."""
    if parallel is None or parallel is False:
        return None
    if isinstance(parallel, MPIParallel):
        return parallel if parallel.size > 1 else None
    if parallel in ("mpi", True):
        try:
            par = MPIParallel()
        except Exception:  # noqa: BLE001 - mpi4py missing or MPI broken
            return None
        return par if par.size > 1 else None
    raise ValueError(f"unknown parallel setting {parallel!r}")
