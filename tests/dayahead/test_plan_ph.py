"""Progressive hedging on the day-ahead model (planner.dayahead.methods.ph): hub and spokes warm-started
from the L-shaped LP bracket the hand-derived optimum of a case with a production line, agree with the
extensive form and the L-shaped method on the default case's energy system, and the separate model with
the schedule as first stage gets its own bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.case import save_case
from planner.dayahead import module
from planner.dayahead.data import synthetic_scenarios
from planner.dayahead.methods import METHODS
from planner.dayahead.methods.lshaped import solve_lshaped
from planner.dayahead.methods.ph import subproblem_schedule
from planner.dayahead.plan import prepare
from planner.solvers.mpi import mpiexec_path
from planner.stochastic.ef import solve_ef
from planner.stochastic.ph import solve_ph_mpi

pytestmark = [pytest.mark.mpi, pytest.mark.skipif(mpiexec_path() is None, reason="mpiexec not available")]

LINE_OPTIMUM = 210.0 + 0.0242 * 4200  # test_plan_hand: the only feasible schedule, flat prices p0 = 50


def _ph(case, scen, out, **kw):
    problem = prepare(case, scen.n_scenarios, "ph", 3, scenarios=scen, progress=False, output_dir=out,
                      **{"rel_gap": 1e-3, "time_limit": 90, **kw})
    return METHODS["ph"].solve(problem).result


@pytest.mark.slow
@pytest.mark.parametrize("schedule_first_stage", [False, True])
def test_ph_brackets_the_hand_optimum_of_the_line_case(price_set, hand_line_case, tmp_path, schedule_first_stage):
    """One press whose plan forces a single schedule (test_plan_hand): optimum 311.64 EUR whether the
    schedule is recourse (warm start from the L-shaped LP) or first stage (fixer, no LP warm start)."""
    flat = np.full((2, 6), 50.0)
    res = _ph(hand_line_case(), price_set(flat, flat + 5, flat - 10), tmp_path,
              schedule_first_stage=schedule_first_stage)
    assert res.lower_bound <= LINE_OPTIMUM + 1e-6 <= res.upper_bound + 1e-6
    assert res.gap <= 1e-3 + 1e-9
    assert ("L-shaped" in res.method) == (not schedule_first_stage)
    assert res.first_stage


@pytest.mark.slow
def test_ph_bounds_agree_with_ef_and_lshaped_on_the_energy_system(energy_system_case, tmp_path):
    """Same scenarios, three methods: every lower bound is below every upper bound. PH runs twice: its
    own hub and spokes without warm start (0.5 % target), and the day-ahead method (L-shaped warm start)."""
    case = energy_system_case
    scen = synthetic_scenarios(case, 3, random_state=1)
    ef, _ = solve_ef(module, module.scenario_names_creator(3), {"case": case, "scenarios": scen}, mip_gap=1e-4,
                     progress=False)
    ls = solve_lshaped(case, scen, rel_gap=1e-3, progress=False).result
    files = ["--case-file", str(save_case(case, tmp_path / "case.toml")),
             "--scenarios-file", str(scen.to_parquet(tmp_path / "scen.parquet"))]
    own = solve_ph_mpi("planner.dayahead.module", 3, n_ranks=3, extra_args=files + ["--coeff-rho"], rel_gap=0.005,
                       default_rho=0.05, time_limit=60, progress=False, workdir=tmp_path / "own",
                       subproblem_schedule=subproblem_schedule(0.005))
    method = _ph(case, scen, tmp_path / "method", rel_gap=0.01)
    assert own.gap <= 0.005 + 1e-9 and method.gap <= 0.01 + 1e-9
    tol = 1e-6 * abs(ef.upper_bound)
    for lower in (ef.lower_bound, ls.lower_bound, own.lower_bound, method.lower_bound):
        for upper in (ef.upper_bound, ls.upper_bound, own.upper_bound, method.upper_bound):
            assert lower <= upper + tol
    assert all(math.isfinite(r[1]) for r in method.log)  # the LP bound from the first row on
