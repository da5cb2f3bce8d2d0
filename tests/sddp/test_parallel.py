"""Parallel training under MPI (mpiexec -np 2): cuts shared across ranks, the
bound equals the serial one; serial fallback without MPI."""

from __future__ import annotations

import sys

import pytest

import sddp
from sddp.examples import hydro_thermal, hydro_valley

SCRIPT = """
import json
from mpi4py import MPI
import sddp
from sddp.examples import hydro_thermal, hydro_valley
comm = MPI.COMM_WORLD
h1 = hydro_thermal()
r1 = sddp.train(h1, iteration_limit=15, print_level=0, random_state=5, parallel="mpi")
h2 = hydro_valley(True, True)
r2 = sddp.train(h2, iteration_limit=15, print_level=0, random_state=5, parallel="mpi")
sim = sddp.simulate(h1, 40, variables=["stage_objective"], random_state=1, parallel="mpi")
per_rep = sim.data.groupby("replication").value.sum()
out = dict(rank=comm.Get_rank(), size=comm.Get_size(), h1=r1.bound, h2=r2.bound,
           cuts=h1.num_cuts(), sims=len(sim.costs), bound_again=sddp.calculate_bound(h1),
           reps=sorted(set(sim.data.replication.tolist())),
           rows_match_costs=bool(abs(per_rep.to_numpy() - sim.costs).max() < 1e-6))
print("RESULT " + json.dumps(out), flush=True)
"""


@pytest.mark.mpi
def test_mpi_two_ranks_match_serial(two_ranks):
    results = two_ranks(SCRIPT)
    assert sorted(r["rank"] for r in results) == [0, 1]
    serial_h1 = sddp.train(hydro_thermal(), iteration_limit=30, print_level=0, random_state=5)
    serial_h2 = sddp.train(hydro_valley(True, True), iteration_limit=30, print_level=0,
                           random_state=5)
    for r in results:
        assert r["size"] == 2
        assert r["h1"] == pytest.approx(serial_h1.bound, rel=1e-9)
        assert r["h1"] == pytest.approx(25000 / 3, rel=1e-6)
        assert r["h2"] == pytest.approx(serial_h2.bound, rel=1e-9)
        assert r["h2"] == pytest.approx(855.0, rel=1e-6)
        assert r["bound_again"] == pytest.approx(r["h1"], rel=1e-9)
        assert r["sims"] == 40  # replications split over ranks, gathered on each
        assert r["reps"] == list(range(40)) and r["rows_match_costs"]


def test_parallel_falls_back_to_serial_with_one_rank():
    assert sddp.parallel.resolve_parallel(None) is None
    res = sddp.train(hydro_thermal(), iteration_limit=10, print_level=0, random_state=1,
                     parallel="mpi")
    assert res.bound == pytest.approx(25000 / 3, rel=1e-6)


def test_parallel_falls_back_to_serial_without_mpi4py(monkeypatch):
    # a None entry in sys.modules makes "from mpi4py import MPI" raise ImportError
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    assert sddp.parallel.resolve_parallel("mpi") is None
    assert not sddp.mpi_available()
    res = sddp.train(hydro_thermal(), iteration_limit=10, print_level=0, random_state=1,
                     parallel="mpi")
    assert res.bound == pytest.approx(25000 / 3, rel=1e-6)
