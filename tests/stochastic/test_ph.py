"""Progressive hedging (serial, and hub and spokes under MPI) brackets the farmer's published optimum;
the launcher's subproblem schedule is read back by mpi-sppy's own parser; its watchdog stops a run at
the time limit and still returns the bounds seen."""

from __future__ import annotations

import pytest
from mpisppy.utils import sputils

from planner.solvers.mpi import mpiexec_path
from planner.stochastic.ph import check_ranks, hub_rel_gap, solve_ph_mpi, solve_ph_serial, solver_options_file
from tests.examples import farmer

NAMES = farmer.scenario_names_creator(3)
KW = {"num_scens": 3}
FARMER_OPTIMUM = -108390.0  # Birge and Louveaux; KNOWN_VALUES.md


def test_farmer_serial_ph_bounds_bracket_optimum():
    res = solve_ph_serial(farmer, NAMES, KW, max_iterations=60, progress=False)
    assert res.lower_bound <= FARMER_OPTIMUM + 1e-6 <= res.upper_bound + 2e-6
    assert res.gap < 0.01


@pytest.mark.parametrize("n_ranks", [0, 1, 2, 4, 5])
def test_rank_counts_that_are_not_multiples_of_the_cylinders_are_refused(n_ranks):
    with pytest.raises(ValueError, match="multiple of 3"):
        check_ranks(n_ranks)


def test_rank_count_follows_the_number_of_spokes():
    check_ranks(8, cylinders=4)
    with pytest.raises(ValueError, match="multiple of 4 ranks"):
        check_ranks(6, cylinders=4)


def test_subproblem_schedule_is_folded_by_mpisppy_into_tightening_options(tmp_path):
    """The schedule file, read by mpi-sppy's loader and folded per iteration: loose at iteration 0,
    tighter from iterations 1 and 3; the Lagrangian spoke's own entry overrides from the start."""
    path = solver_options_file(tmp_path / "s.json", {
        0: {"mipgap": 0.02, "time_limit": 3}, 1: {"mipgap": 0.005, "time_limit": 5},
        3: {"mipgap": 0.0025, "time_limit": 10}, "spokes": {"lagrangian": {0: {"mipgap": 0.001}}}})
    data = sputils.load_solver_options_file(str(path))
    layers = sputils.options_file_section_to_layers(data)
    fold = [sputils.fold_solver_options_layers(layers, k) for k in (0, 1, 2, 3, 9)]
    assert fold == [{"mipgap": 0.02, "time_limit": 3}, {"mipgap": 0.005, "time_limit": 5},
                    {"mipgap": 0.005, "time_limit": 5}, {"mipgap": 0.0025, "time_limit": 10},
                    {"mipgap": 0.0025, "time_limit": 10}]
    spoke = layers + sputils.options_file_section_to_layers(data["spokes"]["lagrangian"])
    assert sputils.fold_solver_options_layers(spoke, 5) == {"mipgap": 0.001, "time_limit": 10}


@pytest.mark.parametrize("upper", [-108380.305, 108380.305])
def test_the_hubs_stop_meets_the_gap_as_this_project_measures_it(upper):
    """mpi-sppy divides by max(|LB|, |UB|), the project by |UB|: at the hub's stopping gap the project's
    gap is at most the target, for a negative objective (the farmer's, a CI failure at 0.0010001) too."""
    target = 0.001
    g = hub_rel_gap(target)
    # the hub stops when abs / max(|LB|, |UB|) <= g; the widest such gap for this UB:
    if upper < 0:  # |LB| = |UB| + abs: abs = g |UB| / (1 - g)
        widest = g * abs(upper) / (1 - g)
    else:  # |UB| the larger: abs = g |UB|
        widest = g * abs(upper)
    lower = upper - widest
    assert widest / max(abs(lower), abs(upper)) == pytest.approx(g)
    assert (upper - lower) / abs(upper) <= target
    assert (upper - lower) / abs(upper) > 0.999 * target  # and not needlessly tighter


@pytest.mark.mpi
@pytest.mark.skipif(mpiexec_path() is None, reason="mpiexec not available")
def test_farmer_mpi_ph_bounds_bracket_optimum(tmp_path):
    res = solve_ph_mpi("tests.examples.farmer", 3, n_ranks=3, integer=False, rel_gap=0.001, default_rho=1.0,
                       max_iterations=100, progress=False, workdir=tmp_path)
    assert res.lower_bound <= FARMER_OPTIMUM + 1e-6 <= res.upper_bound + 1e-6
    assert res.gap <= 0.001 + 1e-9
    assert res.gap == pytest.approx((res.upper_bound - res.lower_bound) / abs(res.upper_bound))
    assert [r[0] for r in res.log] == sorted(r[0] for r in res.log)  # one row per hub iteration
    assert res.first_stage  # the xhat written by mpi-sppy


@pytest.mark.mpi
@pytest.mark.slow
@pytest.mark.skipif(mpiexec_path() is None, reason="mpiexec not available")
def test_watchdog_terminates_a_run_past_its_time_limit_and_keeps_the_bounds(tmp_path):
    """mpi-sppy's own stopping rules are lifted (a later --time-limit wins; no convergence threshold, no
    stall limit; gap target 0): only the watchdog stops the run, a few seconds after the limit, and
    the bounds seen so far still bracket the optimum."""
    res = solve_ph_mpi("tests.examples.farmer", 3, n_ranks=3, integer=False, rel_gap=0.0, default_rho=1.0,
                       max_iterations=10**7, time_limit=10, grace_s=1, progress=False, workdir=tmp_path,
                       extra_args=["--time-limit", "3600", "--intra-hub-conv-thresh", "-1",
                                   "--max-stalled-iters", str(10**7)])
    assert res.status == "time limit (run terminated)"
    assert res.time_s < 30
    assert res.lower_bound <= FARMER_OPTIMUM + 1e-6 <= res.upper_bound + 1e-6


def test_farmer_serial_ph_gap_closes_with_iterations():
    """More PH iterations give better multipliers and a better xbar: the Lagrangian bound after 20
    iterations is at least the one after 1 (the trivial bound is its floor in both) and the certified gap
    is no larger; both still bracket the published optimum."""
    one = solve_ph_serial(farmer, NAMES, KW, max_iterations=1, progress=False)
    many = solve_ph_serial(farmer, NAMES, KW, max_iterations=20, progress=False)
    for res in (one, many):
        assert res.lower_bound <= FARMER_OPTIMUM + 1e-6 <= res.upper_bound + 2e-6
    assert many.lower_bound >= one.lower_bound - 1e-6
    assert many.gap <= one.gap + 1e-12
    assert one.gap > 1e-3  # one iteration does not close it: the comparison means something
