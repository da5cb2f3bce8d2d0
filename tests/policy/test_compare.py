"""run_policy on the default case: bounds, the ordering of the policies, cut reuse, figures, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.dayahead.data import synthetic_scenarios  # a seeded test input, not a price model
from planner.policy.compare import run_policy
from planner.policy.real_days import real_day_paths


@pytest.fixture(scope="module")
def result(default_case, tmp_path_factory):
    scenarios = synthetic_scenarios(default_case, 150, random_state=2)
    test_paths = synthetic_scenarios(default_case, 16, random_state=12)
    out = tmp_path_factory.mktemp("policy")
    return run_policy(default_case, iterations=40, simulations=16, random_state=0, output_dir=out, progress=False,
                      scenarios=scenarios, test_scenarios=test_paths, n_states=4, real_days=False), scenarios, out


def test_bound_below_simulated_cost(result):
    res, _, _ = result
    assert np.isfinite(res.lower_bound)
    assert res.lower_bound <= res.upper_bound_ci[1]
    assert res.upper_bound_ci[0] <= res.upper_bound <= res.upper_bound_ci[1]
    assert res.gap == pytest.approx((res.upper_bound - res.lower_bound) / abs(res.upper_bound))
    # the bound never decreases over iterations (cuts only add)
    assert np.all(np.diff(res.bound_history) >= -1e-6 * abs(res.bound_history[-1]))


def test_policy_ordering_on_common_paths(result, default_case):
    res, _, _ = result
    o = res.outcomes
    # SDDP no worse than the median-price rule on the same paths, within the paired CI noise
    diff = o["SDDP"].cost_eur - o["median-price rule"].cost_eur
    assert diff.mean() <= 1.96 * diff.std(ddof=1) / np.sqrt(len(diff)) + 1e-6
    # the look-ahead is feasible: finite costs, no unserved energy, SoC inside the bounds
    la = o["look-ahead (expected values)"]
    assert np.all(np.isfinite(la.cost_eur)) and np.all(la.unserved_kwh < 1e-6)
    lows = [s.microgrid.battery.soc_min_fraction * s.microgrid.battery.energy_kwh for s in default_case.sites]
    highs = [s.microgrid.battery.soc_max_fraction * s.microgrid.battery.energy_kwh for s in default_case.sites]
    assert np.all(la.soc_kwh >= np.array(lows) - 1e-6) and np.all(la.soc_kwh <= np.array(highs) + 1e-6)
    # the shedding rule never imports above the subscribed power (its definition)
    assert np.all(o["load-shedding rule"].peak_kw <= default_case.contract.subscribed_power_kw + 1e-6)
    # the table reports every policy with its interval
    t = res.comparison
    assert set(t["policy"]) == set(o)
    assert np.all(t["ci_low_eur"] <= t["mean_cost_eur"]) and np.all(t["mean_cost_eur"] <= t["ci_high_eur"])


def test_cut_file_reused_without_retraining(result, default_case):
    res, scenarios, out = result
    assert (out / "cuts.json").exists()
    again = run_policy(default_case, iterations=40, simulations=4, random_state=0, progress=False,
                       scenarios=scenarios, test_scenarios=synthetic_scenarios(default_case, 4, random_state=13),
                       n_states=4, cut_file=res.cut_file, real_days=False, policies=("SDDP",))
    assert again.iterations == 0
    assert again.lower_bound == pytest.approx(res.lower_bound, rel=1e-9)


def test_figures_written(result):
    res, _, out = result
    for key in ("bound_convergence", "soc_spaghetti", "policy_comparison"):
        assert res.figures[key].exists() and res.figures[key].stat().st_size > 1000
    assert (out / "policy_comparison.csv").exists() and (out / "policy_summary.json").exists()


def test_run_policy_errors_name_the_argument(default_case):
    with pytest.raises(ValueError, match="iterations"):
        run_policy(default_case, iterations=-1, progress=False)
    with pytest.raises(ValueError, match="simulations"):
        run_policy(default_case, simulations=1, progress=False)
    with pytest.raises(TypeError, match="case"):
        run_policy("data/cases/default.toml", progress=False)
    with pytest.raises(FileNotFoundError, match="cut_file"):
        run_policy(default_case, cut_file="no/such/cuts.json", progress=False)


def test_real_day_paths_use_the_real_prices(default_case, shared_data, tmp_path):
    generated = synthetic_scenarios(default_case, 5, random_state=0).values
    variables = ("p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh")
    paths = real_day_paths(default_case, variables, generated[:, :, :3],
                           price_file=shared_data / "prices" / "fr_hourly_2019_2022.csv")
    assert set(paths) == {2019, 2022}
    frame = pd.read_csv(shared_data / "prices" / "fr_hourly_2019_2022.csv", usecols=[0, 1])
    stamps = frame.iloc[:, 0].astype(str)
    day = frame[stamps.str.startswith("2019-05-28")].iloc[:, 1].to_numpy()
    np.testing.assert_allclose(paths[2019][0, :, 0], day)  # first day of the +-15-day window
    assert 25 <= len(paths[2019]) <= 31
    assert np.all(paths[2022][:, :, 1] > paths[2022][:, :, 0]) and np.all(paths[2022][:, :, 2] < paths[2022][:, :, 0])
    assert real_day_paths(default_case, variables, generated, price_file=tmp_path / "absent.csv") is None
