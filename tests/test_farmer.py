"""The farmer problem (Birge & Louveaux, published values) through the same EF / PH / VSS / EVPI code
path as the day-ahead model."""

from __future__ import annotations

import pytest

import planner.farmer as farmer
from planner.solve_ef import solve_ef
from planner.solve_ph import mpiexec_path, solve_ph_mpi, solve_ph_serial
from planner.stochastic_measures import stochastic_measures

NAMES = farmer.scenario_names_creator(3)
KW = {"num_scens": 3}


def test_farmer_extensive_form():
    res, _ = solve_ef(farmer, NAMES, KW)
    assert res.upper_bound == pytest.approx(-108390.0, abs=1e-3)
    assert res.lower_bound <= res.upper_bound
    assert res.gap <= 1e-6
    acres = {k.split("[")[1].rstrip("]"): v for k, v in res.first_stage.items()}
    assert acres == pytest.approx({"wheat": 170.0, "corn": 80.0, "beets": 250.0}, abs=1e-6)


def test_farmer_stochastic_measures():
    m = stochastic_measures(farmer, NAMES, KW)
    assert m["RP"] == pytest.approx(-108390.0, abs=1e-3)
    assert m["EV"] == pytest.approx(-118600.0, abs=1e-3)
    assert m["EEV"] == pytest.approx(-107240.0, abs=1e-3)
    assert m["VSS"] == pytest.approx(1150.0, abs=1e-3)
    assert m["WS"] == pytest.approx(-115405.56, abs=1e-2)
    assert m["EVPI"] == pytest.approx(7015.56, abs=1e-2)


def test_farmer_serial_ph_bounds_bracket_optimum():
    res = solve_ph_serial(farmer, NAMES, KW, max_iterations=60, progress=False)
    assert res.lower_bound <= -108390.0 + 1e-6 <= res.upper_bound + 2e-6
    assert res.gap < 0.01


@pytest.mark.mpi
@pytest.mark.skipif(mpiexec_path() is None, reason="mpiexec not available")
def test_farmer_mpi_ph_bounds_bracket_optimum(tmp_path):
    res = solve_ph_mpi("planner.farmer", 3, np=3, integer=False, rel_gap=0.001, default_rho=1.0,
                       max_iterations=100, progress=False, workdir=tmp_path)
    assert res.lower_bound <= -108390.0 + 1e-6 <= res.upper_bound + 1e-6
    assert res.gap <= 0.001 + 1e-9
    assert res.gap == pytest.approx((res.upper_bound - res.lower_bound) / abs(res.upper_bound))
