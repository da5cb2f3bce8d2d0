"""Work shared within a replayed day and across days (``ReplayOptions.reuse_within_day``,
``reuse_across_days``) against the reference path (every plan from its own site heuristic, every policy
fitting its own lattice): the same decisions' costs within the plans' certified gaps, on two days of a case
with production lines (metal processing's only: fast plans); the carried schedule survives a resume."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from planner.replay.day import DETERMINISTIC, FIXED, LOOKAHEAD, PERFECT, RULE, ReplayOptions
from planner.replay.policies import SDDP_OPERATION
from planner.replay.run import run_replay

START, END = "2022-01-10", "2022-01-11"
POLICIES = (RULE, FIXED, LOOKAHEAD, DETERMINISTIC, PERFECT)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ef", "lshaped"])
def test_shared_work_gives_the_reference_plans_within_their_gaps(one_line_site_case, real_days, tmp_path, method):
    """Extensive form: the later plans start from the first plan's schedule; L-shaped: they keep it without
    their own sites' MIPs when it meets the gap against their LP bound (here on both days)."""
    base = ReplayOptions(method=method, n_scenarios=2, time_limit_s=30.0, policies=POLICIES, lattice_paths=0)
    runs = {}
    for reuse in (False, True):
        runs[reuse] = run_replay(one_line_site_case, START, END, dataclasses.replace(base, reuse_within_day=reuse),
                                 tmp_path / str(reuse), real=real_days, progress=False, figures=False).daily
    ref, new = (runs[k].sort_values(["date", "policy"]).reset_index(drop=True) for k in (False, True))
    assert list(ref[["date", "policy"]].itertuples(index=False)) == list(new[["date", "policy"]].itertuples(index=False))
    planned = ref["policy"] != RULE
    # each plan's optimum lies in both runs' [lower, upper]: the intervals overlap
    assert (new.loc[planned, "upper_bound_eur"] >= ref.loc[planned, "lower_bound_eur"] - 1e-6).all()
    assert (ref.loc[planned, "upper_bound_eur"] >= new.loc[planned, "lower_bound_eur"] - 1e-6).all()
    assert (new.loc[planned, "gap"] <= base.rel_gap + 1e-9).all() and not new["fallback"].any()
    # the later plans of each day started from the two-stage plan's schedule (a real reuse, not a no-op)
    later = new[new["policy"].isin([DETERMINISTIC, PERFECT])]
    assert later["plan_schedule_reused"].astype(bool).all()
    first = new[new["policy"] == FIXED].set_index("date")["plan_schedule_reused"].astype(bool)
    assert not first[START]          # nothing carried into the replay's first day
    # L-shaped: the second day's first plan kept the first day's schedule (it meets the gap here)
    assert first[END] == (method == "lshaped")
    # the rule is not planned: identical in both runs
    pd.testing.assert_series_equal(ref.loc[~planned, "cost_eur"], new.loc[~planned, "cost_eur"])


@pytest.mark.slow
def test_one_lattice_fit_gives_the_same_operation(small_case, real_days, tmp_path):
    # without production lines the plans are LPs (no schedule to share): only the lattice is shared, and the
    # look-ahead and SDDP operations must be identical to those fitting their own lattice
    opts = ReplayOptions(n_scenarios=3, policies=(RULE, FIXED, LOOKAHEAD, SDDP_OPERATION, DETERMINISTIC),
                         sddp_iterations=5, lattice_paths=30)
    runs = [run_replay(small_case, START, START, dataclasses.replace(opts, reuse_within_day=r), tmp_path / str(r),
                       real=real_days, progress=False, figures=False).daily.sort_values("policy")
            for r in (False, True)]
    np.testing.assert_allclose(runs[1]["cost_eur"].to_numpy(), runs[0]["cost_eur"].to_numpy(), rtol=1e-9)


@pytest.mark.slow
def test_a_resumed_replay_tries_the_same_carried_schedule(one_line_site_case, real_days, tmp_path):
    """The previous day's schedule is saved with the day: a replay resumed after the first day makes the same
    second day as an uninterrupted one, its first plan keeping the carried schedule."""
    opts = ReplayOptions(n_scenarios=2, time_limit_s=30.0, policies=(RULE, FIXED), lattice_paths=0)
    whole = run_replay(one_line_site_case, START, END, opts, tmp_path / "whole", real=real_days, progress=False,
                       figures=False).daily
    run_replay(one_line_site_case, START, START, opts, tmp_path / "resumed", real=real_days, progress=False,
               figures=False)
    resumed = run_replay(one_line_site_case, START, END, opts, tmp_path / "resumed", real=real_days,
                         progress=False, figures=False)
    assert resumed.days_computed == 1
    second = resumed.daily[(resumed.daily["date"] == END) & (resumed.daily["policy"] == FIXED)].iloc[0]
    assert bool(second["plan_schedule_reused"]) and second["gap"] <= opts.rel_gap + 1e-9
    cols = ["date", "policy", "cost_eur", "lower_bound_eur", "upper_bound_eur", "plan_schedule_reused"]
    pd.testing.assert_frame_equal(resumed.daily[cols].sort_values(["date", "policy"], ignore_index=True),
                                  whole[cols].sort_values(["date", "policy"], ignore_index=True))
