"""planner.solvers.workers.WorkerPool: shares dealt round-robin, answers merged, worker errors raised."""

from __future__ import annotations

import os

import pytest

from planner.solvers.workers import WorkerPool


class Owner:
    def __init__(self, share):
        self.share = list(share)

    def where(self):
        return {k: os.getpid() for k in self.share}

    def square(self, offset):
        return {k: k * k + offset for k in self.share}

    def fail(self):
        raise ValueError("bad share")


@pytest.mark.parametrize("n", [1, 2])
def test_pool_deals_round_robin_and_merges(n):
    with WorkerPool(Owner, range(5), n, "test worker") as pool:
        assert pool.n == n
        assert pool.call("square", 1) == {k: k * k + 1 for k in range(5)}
        pids = pool.call("where")
    if n == 2:  # item k lives on worker k % 2, in a process other than this one
        assert pids[0] == pids[2] == pids[4] != pids[1] == pids[3]
        assert os.getpid() not in pids.values()
    else:
        assert set(pids.values()) == {os.getpid()}


def test_worker_error_is_raised_with_its_traceback():
    pool = WorkerPool(Owner, range(4), 2, "test worker")
    with pytest.raises(RuntimeError, match="test worker failed:(.|\n)*ValueError: bad share"):
        pool.call("fail")
    assert pool.procs == []  # closed


def _inside_a_pool_worker(_):
    with WorkerPool(Owner, range(3), 2, "nested") as pool:
        return pool.n, pool.call("square", 0), set(pool.call("where").values()) == {os.getpid()}


def test_inside_a_daemonic_pool_worker_the_pool_works_in_process():
    """A multiprocessing pool's workers are daemonic and may not fork children (the replay runs months in
    such workers and each plan's L-shaped method asks for 2): the pool then works in that process."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as outer:
        n, squares, local = outer.map(_inside_a_pool_worker, [0])[0]
    assert n == 1 and squares == {0: 0, 1: 1, 2: 4} and local
