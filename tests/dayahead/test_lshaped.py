"""The L-shaped LP bound and the common-schedule incumbent (planner.dayahead.lshaped and
planner.dayahead.methods.lshaped), checked against
the project's Pyomo models: the monolithic LP relaxation, the extensive form, and each scenario's
model with the plan fixed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

from planner.dayahead import module
from planner.dayahead.data import synthetic_scenarios
from planner.dayahead.lshaped import ScenarioLPs, ScenarioPool, lshaped
from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.methods.lshaped import LShaped, solve_lshaped
from planner.dayahead.model import build_day_ahead_model
from planner.dayahead.plan import plan, plan_frames, prepare
from planner.dayahead.plots import plot_bounds
from planner.decomposition.generator import generate_case
from planner.decomposition.recovery import lp_prices
from planner.decomposition.coordinator import Coordinator
from planner.decomposition.subproblems import CoupledProblem, SiteSubproblem
from planner.results import relative_gap
from planner.solvers.highs import appsi_highs, relax_binaries
from planner.stochastic.ef import solve_ef
from planner.stochastic.evaluate import evaluate_first_stage


@pytest.fixture(scope="module")
def small():
    case = generate_case(2, 1, max_lines_per_site=1)
    scen = synthetic_scenarios(case, 3, random_state=1)
    return case, scen, CoupledProblem.from_case(case, scen)


def _relaxed_scenario_model(case, data, x):
    m = build_day_ahead_model(case, data)
    relax_binaries(m)
    for t in range(case.n_periods):
        m.contract.day_ahead_kw["grid", t].fix(float(x[t]))
    return m


def test_template_lps_equal_the_pyomo_scenario_models(small):
    """Each scenario's LP, derived from one template by changing prices, PV/wind and grid bounds in
    place, has the optimum and balance duals of that scenario's own Pyomo model."""
    case, scen, problem = small
    lps = ScenarioLPs(problem)
    x = np.linspace(200.0, 900.0, case.n_periods)
    for w in range(problem.n_scenarios):
        value, grad, lam = lps.solve(w, x)
        m = _relaxed_scenario_model(case, problem.data[w], x)
        opt = appsi_highs()
        res = opt.solve(m)
        assert value == pytest.approx(res.best_feasible_objective, rel=1e-8)
        rows = [m.site[s].balance[t] for s in case.site_names for t in range(case.n_periods)]
        duals = opt.get_duals(rows)
        expected = np.array([duals[r] for r in rows]).reshape(problem.n_sites, -1) / problem.kappa
        assert np.allclose(lam, expected, atol=1e-6)
        assert grad.shape == (case.n_periods,)


def test_pool_answers_as_the_serial_lps(small):
    case, scen, problem = small
    x = np.full(case.n_periods, 400.0)
    serial = ScenarioLPs(problem).solve_all(x)
    with ScenarioPool(problem, workers=2) as pool:
        assert pool.pool.n == 2 and len(pool.pool.procs) == 2
        parallel = pool.solve_all(x)
    assert sorted(parallel) == list(range(problem.n_scenarios))
    for w in serial:
        assert parallel[w][0] == pytest.approx(serial[w][0], rel=1e-9)
        assert np.allclose(parallel[w][2], serial[w][2])


def test_lshaped_reaches_the_monolithic_lp_and_its_prices_are_dual_optimal(small):
    """LB <= LP optimum <= UB within the tolerance; at the prices combined from the master's duals
    the relaxed sites plus the coordinator reach the L-shaped bound (LP duality), and no more than
    the LP optimum (weak duality)."""
    case, scen, problem = small
    lp_opt, *_ = lp_prices(problem)
    r = lshaped(problem, ScenarioLPs(problem), tol=1e-7)
    tol = 1e-6 * abs(lp_opt)
    assert r.lower_bound <= lp_opt + tol <= r.upper_bound + 2 * tol
    assert r.upper_bound - r.lower_bound <= 1e-6 * abs(r.upper_bound)
    assert r.gap == pytest.approx((r.upper_bound - r.lower_bound) / abs(r.upper_bound))
    coord, *_ = Coordinator(problem).solve_prices(r.prices)
    relaxed = 0.0
    for j in range(problem.n_sub):
        sub = SiteSubproblem(problem, j)
        relax_binaries(sub.price_model)
        relaxed += sub.solve_price(r.prices[j]).value
    assert relaxed + coord >= r.lower_bound - 1e-5 * abs(lp_opt)
    assert relaxed + coord <= lp_opt + 1e-5 * abs(lp_opt)


def test_solve_lshaped_brackets_the_extensive_form(small):
    """The bounds bracket the EF optimum; the plan, fixed in each scenario's Pyomo model, costs
    exactly the upper bound; the gap is the one of the bounds."""
    case, scen, problem = small
    names = module.scenario_names_creator(scen.n_scenarios)
    ef, _ = solve_ef(module, names, {"case": case, "scenarios": scen}, mip_gap=1e-6, time_limit=60)
    solved = solve_lshaped(case, scen, rel_gap=1e-3, progress=False)
    res = solved.result
    tol = 1e-6 * abs(ef.upper_bound)
    assert res.lower_bound <= ef.upper_bound + tol
    assert res.upper_bound >= ef.lower_bound - tol
    assert res.lower_bound <= res.upper_bound
    assert solved.stats["lp_bound"] == res.lower_bound
    evaluation = evaluate_first_stage(module, names, {"case": case, "scenarios": scen}, res.first_stage, mip_gap=1e-9,
                                      fixed=solved.binaries, keep_models=True)
    assert evaluation.expected_cost == pytest.approx(res.upper_bound, rel=1e-6)
    for m in evaluation.models.values():  # every binary of the plan is integral and the same in every scenario
        for v in m.component_data_objects(pyo.Var, descend_into=True):
            if v.is_binary():
                assert v.fixed and v.value in (0, 1)
    assert relative_gap(res.lower_bound, res.upper_bound) == pytest.approx(
        (res.upper_bound - res.lower_bound) / abs(res.upper_bound))


def test_plan_lshaped_method_reports_bounds_and_dispatch(small, tmp_path):
    case, scen, _ = small
    result = plan(case, method="lshaped", scenarios=scen, measures=False, progress=False)
    assert result.method == "L-shaped"
    assert result.lower_bound <= result.upper_bound
    assert all(lb <= result.lower_bound + 1e-9 for _, lb, _, _ in result.log)  # the bound only rises
    assert min(ub for _, _, ub, _ in result.log) == pytest.approx(result.upper_bound)
    assert plot_bounds(result, tmp_path / "bounds.png").stat().st_size > 0
    assert set(result.dispatch) == set(module.scenario_names_creator(scen.n_scenarios))
    assert result.day_ahead.shape == (case.n_periods, 1)
    with pytest.raises(ValueError, match="lshaped"):
        plan(case, method="lshaped", scenarios=scen, schedule_first_stage=True, progress=False)


def test_a_given_schedule_is_kept_when_it_meets_the_gap_and_ignored_otherwise(small):
    """Its own plan's schedule given back: kept without the sites' MIPs, the same LP bound and upper bound
    (the same schedule evaluated); a schedule not naming every binary: the sites' MIPs decide, as without it;
    a target it cannot meet: evaluated, then the sites' schedule, the cheaper of the two kept."""
    case, scen, _ = small
    first = solve_lshaped(case, scen, rel_gap=0.1, progress=False)
    assert first.result.gap <= 0.1 and not first.stats["schedule_reused"]   # 7.3 % on this case
    again = solve_lshaped(case, scen, rel_gap=0.1, progress=False, schedule=first.binaries)
    assert again.stats["schedule_reused"] and again.stats["schedule_s"] == 0.0
    assert again.binaries == first.binaries
    assert again.result.lower_bound == pytest.approx(first.result.lower_bound, rel=1e-9)
    assert again.result.upper_bound == pytest.approx(first.result.upper_bound, rel=1e-6)
    partial = dict(list(first.binaries.items())[:-1])
    third = solve_lshaped(case, scen, rel_gap=0.1, progress=False, schedule=partial)
    assert not third.stats["schedule_reused"] and third.stats["schedule_s"] > 0.0
    assert third.result.upper_bound == pytest.approx(first.result.upper_bound, rel=1e-6)
    flipped = {k: 1 - v for k, v in first.binaries.items()}  # infeasible in every scenario (checked by feasible_all)
    tight = solve_lshaped(case, scen, rel_gap=1e-9, progress=False, schedule=flipped)
    assert not tight.stats["schedule_reused"]
    assert tight.result.upper_bound <= first.result.upper_bound * (1 + 1e-6)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_plans_frames_from_the_scenario_lps_equal_the_evaluated_models(small, workers):
    """The L-shaped plan's dispatch and schedule, read from its scenario LPs (in this process or in workers),
    equal those of each scenario's own Pyomo model solved with the plan fixed (the path of methods without
    frames)."""
    case, scen, _ = small
    problem = prepare(case, method="lshaped", scenarios=scen, progress=False)
    incumbent = LShaped(workers=workers).solve(problem).incumbents[0]
    assert incumbent.frames is not None and set(incumbent.frames) == set(problem.names)
    schedule, dispatch = plan_frames(problem, incumbent)
    schedule_ref, dispatch_ref = plan_frames(problem, dataclasses.replace(incumbent, frames=None))
    # the lines on (the plan's binaries) are the same rows; their run fractions may differ between alternative
    # optima of a scenario's LP (a degenerate recourse), the scenario's cost may not
    on = ["scenario", "site", "line", "period", "material"]
    pd.testing.assert_frame_equal(schedule[on], schedule_ref[on])
    for name in problem.names:
        frame, ref = dispatch[name], dispatch_ref[name]
        assert list(frame.columns) == list(ref.columns)
        for col in [c for c in ref.columns if c.endswith(("_eur_per_mwh", "base_load_kw"))] + ["day_ahead_kw"]:
            np.testing.assert_allclose(frame[col], ref[col], atol=1e-4, err_msg=f"{name} {col}")
        assert frame.attrs["total_cost_eur"] == pytest.approx(ref.attrs["total_cost_eur"], rel=1e-6)


@pytest.mark.slow
def test_the_extensive_form_starts_from_a_given_l_shaped_schedule(small):
    """The extensive form after an L-shaped plan fixes that plan's binaries first (no site heuristic): an
    incumbent no dearer than the L-shaped plan (the same schedule, its volumes optimised exactly) and above the
    LP bound; a schedule naming a binary the model lacks falls back to the site heuristic."""
    case, scen, _ = small
    problem = prepare(case, method="ef", scenarios=scen, progress=False, rel_gap=0.01, time_limit=20.0)
    ls = LShaped(workers=1).solve(problem)
    given = ls.incumbents[0].fixed
    method = ExtensiveForm(binaries=given)
    out = method.solve(problem)
    start = [inc for inc in out.incumbents if inc.label == "given schedule"]
    assert len(start) == 1 and start[0].fixed == given
    assert ls.result.lower_bound - 1e-6 <= start[0].upper_bound <= ls.result.upper_bound + 1e-6
    assert out.result.upper_bound <= start[0].upper_bound + 1e-6        # the MIP start: never worse
    assert out.result.lower_bound <= out.result.upper_bound
    wrong = {**given, "site[nowhere].line[x].on[M1,0]": 1}
    labels = [inc.label for inc in ExtensiveForm(binaries=wrong).solve(problem).incumbents]
    assert "given schedule" not in labels and "schedule-heuristic" in labels
