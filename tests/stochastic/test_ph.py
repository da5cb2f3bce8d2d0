"""Progressive hedging (serial, and hub and spokes under MPI) brackets the farmer's published optimum."""

from __future__ import annotations

import pytest

from planner.solvers.mpi import mpiexec_path
from planner.stochastic.ph import check_ranks, solve_ph_mpi, solve_ph_serial
from tests.examples import farmer

NAMES = farmer.scenario_names_creator(3)
KW = {"num_scens": 3}


def test_farmer_serial_ph_bounds_bracket_optimum():
    res = solve_ph_serial(farmer, NAMES, KW, max_iterations=60, progress=False)
    assert res.lower_bound <= -108390.0 + 1e-6 <= res.upper_bound + 2e-6
    assert res.gap < 0.01


@pytest.mark.parametrize("n_ranks", [0, 1, 2, 4, 5])
def test_rank_counts_that_are_not_multiples_of_the_cylinders_are_refused(n_ranks):
    with pytest.raises(ValueError, match="multiple of 3"):
        check_ranks(n_ranks)


@pytest.mark.mpi
@pytest.mark.skipif(mpiexec_path() is None, reason="mpiexec not available")
def test_farmer_mpi_ph_bounds_bracket_optimum(tmp_path):
    res = solve_ph_mpi("tests.examples.farmer", 3, n_ranks=3, integer=False, rel_gap=0.001, default_rho=1.0,
                       max_iterations=100, progress=False, workdir=tmp_path)
    assert res.lower_bound <= -108390.0 + 1e-6 <= res.upper_bound + 1e-6
    assert res.gap <= 0.001 + 1e-9
    assert res.gap == pytest.approx((res.upper_bound - res.lower_bound) / abs(res.upper_bound))
