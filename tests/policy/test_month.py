"""The month-long demand-charge policy: SDDP's bound equals a scenario tree built here, the overrun is
charged in the day it is incurred, perfect foresight is below every policy on each month, a warm start
from saved cuts starts no lower than a cold start, and the price-level fit is the committed one."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import sddp

from planner.case import case_from_dict, case_to_dict
from planner.policy.month import expected_level_sum, statistical_upper_bound
from planner.policy.month_baselines import (
    MONTH_POLICIES,
    DayLP,
    expected_values,
    generated_month_paths,
    month_comparison,
    simulate_month_policies,
)
from planner.policy.month_model import MonthLP, PurchaseNoise, absolute_values, add_day, apply_day, build_month_model, month_inputs
from planner.policy.month_price import (
    LEVEL_FILE,
    SOURCE_FILE,
    PriceLevelProcess,
    daily_levels_from_entsoe,
    load_price_level,
)


def four_hour_case(case, subscribed_power_kw=None):
    """The default case on 4-hour periods (6 per day): line latencies and deliveries moved to whole periods."""
    data = case_to_dict(case)
    data["period_minutes"] = 240
    for site in data["sites"]:
        for line in site["lines"]:
            line["changeover_hours"], line["restart_hours"] = 0, 4
        for delivery in site.get("deliveries", []):
            delivery["hour"] = 16
    if subscribed_power_kw is not None:
        data["contract"]["subscribed_power_kw"] = subscribed_power_kw
    return case_from_dict(data)


@pytest.fixture(scope="module")
def small_month(default_case):
    """3 days of 6 periods, 2 training days, 2 purchase blocks."""
    inp = month_inputs(four_hour_case(default_case), load_price_level(), n_days=3, training_days=2,
                       purchase_blocks=2)
    return inp


def tree_value(inp, z_values, days) -> float:
    """The expected cost of the whole scenario tree (z then operation day, each equally likely, every day)
    as one LP written here from the day LP: non-anticipative purchases, SoC, peak and overrun linked
    from parent to child, the level advanced along the tree, each node's costs weighted by its probability."""
    day = inp.day
    T, h = inp.n_periods, day.period_hours
    lp = MonthLP()
    bounds = inp.delta_bounds()
    base = inp.schedule.day_ahead_kw
    blocks = [[t for t in range(T) if inp.block_of(t) == b] for b in range(inp.purchase_blocks)]
    constant = 0.0

    def grow(d, prob, level, soc, peak, overrun):
        nonlocal constant
        if d == inp.n_days:
            return
        for z in z_values:
            y = inp.level.next_level(level, z)
            p0 = y * inp.shape * h / 1000.0
            pz = prob / len(z_values)
            delta = [lp.add_variable(lo, hi, pz * sum(p0[t] for t in blocks[b])) for b, (lo, hi) in enumerate(bounds)]
            constant += pz * float(p0 @ base)
            for noise in days:
                pd_ = pz / len(days)
                first = len(lp.cost)
                hd = add_day(lp, day, soc, peak, overrun, [(float(base[t]), delta[inp.block_of(t)]) for t in range(T)],
                             terminal=(d == inp.n_days - 1))
                apply_day(lp, day, hd, absolute_values(noise, y))
                lp.cost[first:] = [pd_ * c for c in lp.cost[first:]]
                grow(d + 1, pd_, y, hd.soc_out, hd.peak_out, hd.overrun_out)

    soc0 = {i: lp.add_variable(day.battery[i].initial_soc_kwh, day.battery[i].initial_soc_kwh)
            for i in day.battery_sites}
    grow(0, 1.0, inp.initial_level, soc0, lp.add_variable(0.0, 0.0), lp.add_variable(0.0, 0.0))
    return lp.solve()[0] + constant


def test_month_sddp_bound_equals_the_scenario_tree_lp(small_month):
    """3 days x (2 level innovations x 2 operation days): 64 months; SDDP's lower bound reaches the
    tree LP built above to 1e-6, and the engine's own deterministic equivalent agrees."""
    inp = small_month
    model = build_month_model(inp, purchase_points=2)
    z_values = [w.z for w in model.purchase_support]
    days = [w for w in model.operation_support]
    reference = tree_value(inp, z_values, days)
    assert sddp.deterministic_equivalent(model.graph) == pytest.approx(reference, rel=1e-7)
    res = sddp.train(model.graph, iteration_limit=400, print_level=0, random_state=0,
                     stopping_rules=[sddp.BoundStalling(20, 1e-9)])
    assert res.bound <= reference * (1 + 1e-9)
    assert res.bound == pytest.approx(reference, rel=1e-6)


def test_overrun_is_charged_in_the_day_it_is_incurred(default_case):
    """Subscribed power 3000 kW (threshold 3300 kW), far below the load: the first day's operation pays
    f3 x (peak_1 - 3300), later days only f3 x the peak's increase, and the month's overrun charges add up
    to f3 x (final peak - 3300), for the look-ahead and for the (briefly trained) SDDP policy."""
    case = four_hour_case(default_case, subscribed_power_kw=3000.0)
    inp = month_inputs(case, load_price_level(), n_days=3, training_days=2, purchase_blocks=2)
    model = build_month_model(inp, purchase_points=2)
    sddp.train(model.graph, iteration_limit=5, print_level=0, random_state=0)
    paths = generated_month_paths(inp, case, 2, random_state=3, pool_days=6)
    out = simulate_month_policies(model, paths, ("SDDP month", "daily look-ahead (expected values)"))
    f3, threshold = inp.day.overrun_charge_eur_per_kw, 3300.0
    assert inp.day.overrun_threshold_kw == pytest.approx(threshold)
    for outcome in out.values():
        peaks = outcome.peak_kw
        assert np.all(peaks[:, 0] > threshold + 100.0)
        overrun = np.maximum(peaks - threshold, 0.0)
        increments = f3 * np.diff(np.concatenate([np.zeros((len(peaks), 1)), overrun], axis=1), axis=1)
        # the charges paid by each day's LP, against the formula on the recorded running peaks
        assert outcome.overrun_by_day_eur == pytest.approx(increments, rel=1e-6, abs=1e-3)
        assert outcome.overrun_by_day_eur[:, 0] == pytest.approx(f3 * (peaks[:, 0] - threshold), rel=1e-6)
        assert outcome.bill[:, 4] == pytest.approx(f3 * overrun[:, -1], rel=1e-6)
        assert np.all(outcome.overrun_by_day_eur[:, -1] < 0.5 * outcome.bill[:, 4])  # not all at the end


def test_overrun_charge_of_a_day_lp_by_hand(default_case):
    """One day LP with the purchases fixed at zero, the battery idle, no PV or wind and the generator and
    links off: every kW of load is imported, so the peak and its charge follow from the load table."""
    case = four_hour_case(default_case, subscribed_power_kw=3000.0)
    inp = month_inputs(case, load_price_level(), n_days=1, training_days=1, purchase_blocks=2)
    day = inp.day
    lp = MonthLP()
    soc = {i: lp.add_variable(day.battery[i].initial_soc_kwh, day.battery[i].initial_soc_kwh)
           for i in day.battery_sites}
    peak_in, overrun_in = lp.add_variable(3000.0, 3000.0), lp.add_variable(0.0, 0.0)
    zeros = np.zeros((inp.n_periods, day.n_sites))
    hd = add_day(lp, day, soc, peak_in, overrun_in, [0.0] * inp.n_periods, battery_fixed=zeros)
    for hh in hd.hours:
        for g in hh.generator.values():
            lp.set_bounds(g, 0.0, 0.0)
        for f in hh.flows:
            lp.set_bounds(f[0], 0.0, 0.0)
            lp.set_bounds(f[1], 0.0, 0.0)
    values = np.zeros((inp.n_periods, len(day.variables)))
    values[:, :3] = [40.0, 50.0, 30.0]
    for t, hh in enumerate(hd.hours):
        for i in range(day.n_sites):
            lp.set_rhs(hh.balance[i], float(day.load_kw[t, i]))
            lp.set_bounds(hh.curtail[i], 0.0, 0.0)
        lp.set_objective_coefficient(hh.buy, 50.0 * day.period_hours / 1000.0)
        lp.set_objective_coefficient(hh.sell, -30.0 * day.period_hours / 1000.0)
    _, x = lp.solve()
    import_kw = day.load_kw.sum(axis=1)                     # the whole load is imported
    expected = 25.0 * (import_kw.max() - 3300.0)            # f3 = 25 EUR/kW on the peak above 1.1 x 3000 kW
    assert x[hd.peak_out.col] == pytest.approx(import_kw.max(), rel=1e-9)
    assert x[hd.records["overrun_charge_eur"].col] == pytest.approx(expected, rel=1e-9)
    assert x[hd.records["import_kwh"].col] == pytest.approx(import_kw.sum() * day.period_hours, rel=1e-9)


def test_perfect_foresight_is_below_every_policy_on_each_month(small_month, default_case):
    inp = small_month
    model = build_month_model(inp, purchase_points=2)
    sddp.train(model.graph, iteration_limit=10, print_level=0, random_state=0)
    paths = generated_month_paths(inp, four_hour_case(default_case), 4, random_state=5, pool_days=8)
    out = simulate_month_policies(model, paths, MONTH_POLICIES)
    pf = out["perfect foresight"].total_eur
    for name, o in out.items():
        assert np.all(pf <= o.total_eur + 1e-6 * np.abs(o.total_eur)), name
    table = month_comparison(out, "generated")
    look = table.set_index("policy").loc["daily look-ahead (expected values)"]
    assert look["vs_lookahead_eur"] == 0.0
    assert set(table["policy"]) == set(MONTH_POLICIES)


def test_warm_start_from_saved_cuts_bounds_at_least_the_cold_start(small_month, tmp_path):
    """Cuts of a trained month, loaded into a new month's graph (another starting price level): its bound
    after 0 iterations is at least the cold graph's."""
    inp = small_month
    trained = build_month_model(inp, purchase_points=2)
    sddp.train(trained.graph, iteration_limit=15, print_level=0, random_state=0)
    sddp.write_cuts(trained.graph, tmp_path / "cuts.json", only_active=False)
    new_inp = month_inputs(four_hour_case_like(inp), load_price_level(), n_days=3, training_days=2,
                           purchase_blocks=2, initial_level=1.6 * inp.initial_level)
    warm = build_month_model(new_inp, purchase_points=2)
    cold = build_month_model(new_inp, purchase_points=2)
    sddp.read_cuts(warm.graph, tmp_path / "cuts.json")
    sddp.read_cuts(cold.graph, write_no_cuts(cold.graph, tmp_path / "none.json"))
    warm_bound, cold_bound = sddp.calculate_bound(warm.graph), sddp.calculate_bound(cold.graph)
    assert warm_bound >= cold_bound - 1e-6
    assert warm_bound > cold_bound + 100.0  # the saved cuts do carry over
    res = sddp.train(warm.graph, iteration_limit=1, print_level=0, random_state=1)
    assert res.bound >= warm_bound - 1e-6 * abs(warm_bound)


def four_hour_case_like(inp):
    return inp.day.case


def write_no_cuts(graph, path):
    entries = [{"node": str(nd.key), "single_cuts": [], "multi_cuts": [], "risk_set_cuts": []} for nd in graph.nodes]
    path.write_text(json.dumps(entries))
    return path


def test_price_level_fit_is_the_committed_one():
    """The committed AR(1) (data/calibrated/price_level_france.json) is the fit of the France daily means
    up to 2021 (skipped without ../shared/data); fitting on 2022 data is refused."""
    if not SOURCE_FILE.exists():
        pytest.skip("../shared/data/prices/entsoe_FR_2015_2023.csv absent")
    levels = daily_levels_from_entsoe()
    assert levels.index.max().year == 2021
    fitted = PriceLevelProcess.fit(levels)
    committed = json.loads(LEVEL_FILE.read_text())
    assert fitted.intercept_eur_per_mwh == pytest.approx(committed["intercept_eur_per_mwh"], rel=1e-9)
    assert fitted.persistence == pytest.approx(committed["persistence"], rel=1e-9)
    # a second method: ordinary least squares by numpy's polyfit on the floored levels
    floored = np.maximum(levels.to_numpy(), 5.0)
    slope, intercept = np.polyfit(floored[:-1], floored[1:], 1)
    assert fitted.persistence == pytest.approx(slope, rel=1e-9)
    assert fitted.intercept_eur_per_mwh == pytest.approx(intercept, rel=1e-9)
    with pytest.raises(ValueError, match="2021-12-31"):
        PriceLevelProcess.fit(daily_levels_from_entsoe(end="2022-03-01"))


def test_z_support_has_mean_one_and_bad_points_are_refused():
    process = load_price_level()
    values, probs = process.z_support(5)
    assert float(values @ probs) == pytest.approx(1.0, rel=1e-12)
    assert np.all(np.diff(values) > 0)
    with pytest.raises(ValueError, match="whole number"):
        process.z_support(0)


def test_expected_level_sum_is_the_ar1_closed_form_and_the_tree_mean(small_month):
    """E[sum_d y_d] used by the control variate: the AR(1) closed form mu + phi^d (y0 - mu) summed, and the
    mean over the 2^3 equally likely level paths of the training tree enumerated here."""
    inp = small_month
    model = build_month_model(inp, purchase_points=2)
    a, phi, y0 = inp.level.intercept_eur_per_mwh, inp.level.persistence, inp.initial_level
    mu = a / (1.0 - phi)
    closed = sum(mu + phi ** d * (y0 - mu) for d in range(1, inp.n_days + 1))
    z, _ = inp.level.z_support(2)
    sums = []
    for path in itertools.product(z, repeat=inp.n_days):
        y, s = y0, 0.0
        for zd in path:
            y = (a + phi * y) * zd
            s += y
        sums.append(s)
    assert expected_level_sum(model) == pytest.approx(closed, rel=1e-12)
    assert expected_level_sum(model) == pytest.approx(float(np.mean(sums)), rel=1e-9)


def test_control_variate_upper_bound_brackets_the_exact_policy_cost(small_month):
    """The trained policy's exact expected cost (all 64 months of the tree, simulated along each) lies in
    the control-variate interval, which is narrower than the plain sample's."""
    inp = small_month
    model = build_month_model(inp, purchase_points=2)
    sddp.train(model.graph, iteration_limit=10, print_level=0, random_state=0)
    z, _ = inp.level.z_support(2)
    months = []
    for zs in itertools.product(z, repeat=inp.n_days):
        for ops in itertools.product(model.operation_support, repeat=inp.n_days):
            steps = []
            for d in range(inp.n_days):
                steps += [(2 * d + 1, PurchaseNoise(float(zs[d]))), (2 * d + 2, ops[d])]
            months.append(steps)
    exact = float(np.mean(sddp.simulate_historical(model.graph, months).costs))
    mean, ci, plain = statistical_upper_bound(model, 200, random_state=3)
    assert ci[0] <= exact <= ci[1]
    assert ci[1] - ci[0] < plain[1][1] - plain[1][0]


def test_lookahead_with_purchase_blocks_buys_within_the_blocks(small_month):
    """The look-ahead restricted to SDDP's purchase options: da_h - E_h is the same within a block and
    within that block's bounds; the free look-ahead's optimum on the same day is no dearer."""
    inp = small_month
    values = expected_values(inp, inp.initial_level)
    p0 = values[:, 0]
    soc = inp.day.initial_soc_kwh()
    blocked = DayLP(inp, blocks=True).solve(soc, 0.0, 0.0, values, p0)
    free = DayLP(inp).solve(soc, 0.0, 0.0, values, p0)
    delta = blocked[3] - inp.schedule.day_ahead_kw
    for b, (lo, hi) in enumerate(inp.delta_bounds()):
        hours = [t for t in range(inp.n_periods) if inp.block_of(t) == b]
        assert np.ptp(delta[hours]) <= 1e-6
        assert lo - 1e-6 <= delta[hours[0]] <= hi + 1e-6
    assert free[0] + free[1] <= blocked[0] + blocked[1] + 1e-6
