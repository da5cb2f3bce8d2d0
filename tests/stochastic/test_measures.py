"""EV, EEV, VSS, WS and EVPI of the farmer problem: the published values (Birge and Louveaux)."""

from __future__ import annotations

import pytest

from planner.stochastic.measures import stochastic_measures
from tests.examples import farmer


def test_farmer_stochastic_measures():
    m, x_ev = stochastic_measures(farmer, farmer.scenario_names_creator(3), {"num_scens": 3},
                                  with_ev_first_stage=True)
    assert m["RP"] == pytest.approx(-108390.0, abs=1e-3)
    assert m["EV"] == pytest.approx(-118600.0, abs=1e-3)
    assert m["EEV"] == pytest.approx(-107240.0, abs=1e-3)
    assert m["VSS"] == pytest.approx(1150.0, abs=1e-3)
    assert m["WS"] == pytest.approx(-115405.56, abs=1e-2)
    assert m["EVPI"] == pytest.approx(7015.56, abs=1e-2)
    assert x_ev == pytest.approx([120.0, 80.0, 300.0], abs=1e-6)  # the EV problem's acres (B&L table 1.1)
