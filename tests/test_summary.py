"""The report's summary helpers: measures with the range their bounds certify, rounded no finer than
that range; purchases per hour; what sizing installs; the policy comparison's names and caveats."""

from __future__ import annotations

import pandas as pd

from planner.mainjob import (hourly_purchases_table, installation_lines, measure_ranges, measures_table, plain_status,
                             policy_table, real_day_caveats, resolution, rounded)


def test_vss_and_evpi_ranges_follow_from_the_bounds_of_each_solve():
    # hand calculation: VSS in [EEV_bound - RP, EEV - RP_bound], EVPI in [RP_bound - WS, RP - WS_bound]
    m = {"RP": 1000.0, "RP_bound": 969.0, "EEV": 1000.0, "EEV_bound": 990.0, "WS": 997.0, "WS_bound": 960.0,
         "EV": 950.0, "EV_bound": 940.0}
    r = measure_ranges(m)
    assert r["VSS"] == (0.0, -10.0, 31.0)
    assert r["EVPI"] == (3.0, -28.0, 40.0)


def test_a_value_is_rounded_to_the_width_of_its_interval():
    assert resolution(969.0, 1000.0) == 10.0  # a 31 EUR range: tens of euros
    assert rounded(3.0, 10.0) == "0" and rounded(1234.5678, 10.0) == "1,230"
    assert resolution(2.5, 2.7) == 0.1 and rounded(2.6349, 0.1) == "2.6"
    table = measures_table({"RP": 1000.0, "RP_bound": 969.0, "EEV": 1000.0, "EEV_bound": 990.0,
                            "WS": 997.0, "WS_bound": 960.0})
    assert table.loc["EVPI"].tolist() == ["0", "-30", "40"]  # EVPI = 3 EUR inside a 68 EUR range: shown as 0


def test_purchases_are_summed_over_zones_per_hour_in_mwh():
    # 48 half-hour periods of 1000 kW in each of two zones: 2 MW for an hour = 2 MWh per hour
    frame = pd.DataFrame({"a": [1000.0] * 48, "b": [1000.0] * 48})
    table = hourly_purchases_table(frame, 0.5)
    assert table.shape == (2, 12) and set(table.to_numpy().ravel()) == {"2.0"}


def test_installation_lines_name_only_new_equipment():
    sizes = pd.DataFrame({"pv_new_kwp": [2500.0, 0.0], "pv_modules_new": [6245, 0], "turbines_new": [0, 1],
                          "turbine_type": ["", "E-53/800"], "wind_new_kw": [0.0, 800.0], "battery_new_kwh": [0.0, 0.0],
                          "battery_new_kw": [0.0, 0.0], "generator_new_kw": [0.0, 0.0]}, index=["foundry", "plant"])
    assert installation_lines(sizes) == ["foundry: 2,500 kWp of PV (6,245 modules)", "plant: 1 x E-53/800 (800 kW)"]


def test_solver_statuses_are_said_in_words():
    assert plain_status("maxTimeLimit+schedule-heuristic-incumbent+EV-incumbent") == (
        "stopped at the time limit; incumbents kept from the schedule heuristic and the expected-value plan")
    assert plain_status("optimal") == "solved to the gap target"


def test_real_day_caveats_explain_negative_net_costs_and_equal_policies():
    # rows as run_policy wrote them for tests/cases/base.toml (real June 2019 and 2022 days)
    rows = pd.DataFrame({
        "paths": ["real 2019"] * 3 + ["real 2022"] * 3,
        "policy": ["SDDP", "fixed schedule", "look-ahead (expected values)"] * 2,
        "mean_cost_eur": [785.07, 781.49, 780.82, -1320.21, -1330.97, -1320.21],
        "mean_total_eur": [2855.97, 2852.39, 2851.72, 7225.31, 7214.55, 7225.31]})
    caveats = real_day_caveats(rows)
    assert len(caveats) == 2  # 2019: positive and different; 2022: both caveats
    assert caveats[0].startswith("on real 2022 price days the net recourse cost is negative (-1,331 EUR")
    assert "(7,215 EUR or more)" in caveats[0]
    assert caveats[1].startswith("on real 2022 price days SDDP and the look-ahead cost the same to the cent")


def test_the_policy_table_names_the_net_recourse_cost_and_keeps_few_columns():
    rows = pd.DataFrame({"paths": ["generated"] * 2, "policy": ["SDDP", "fixed schedule"], "n": [10, 10],
                         "mean_cost_eur": [1.234, 2.0], "ci_low_eur": [1.0, 1.5], "ci_high_eur": [1.5, 2.5],
                         "mean_total_eur": [10.0, 11.0], "mean_peak_kw": [5.0, 6.0], "max_peak_kw": [7.0, 8.0],
                         "mean_overrun_eur": [0.0, 0.0], "mean_unserved_kwh": [0.0, 0.0],
                         "mean_soc_shortfall_kwh": [0.0, 0.0], "vs_fixed_schedule_eur": [-0.77, 0.0],
                         "vs_fixed_schedule_ci_half_eur": [0.1, 0.0]})
    table = policy_table(rows)
    assert list(table.index) == ["SDDP", "fixed schedule"] and table.shape[1] <= 10
    assert table.loc["SDDP", "net_recourse_cost"] == 1.23 and "mean_cost_eur" not in table
