"""A sizing result applied to its case: the sized system, its subscribed power in operation (a typical
day planned by the day-ahead model), and sizing's predicted operating cost beside a replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.cli import main
from planner.sizing.apply import (SizingResultError, load_sizing, plan_typical_day, predicted_operating_cost,
                                  sized_case)


def test_sized_case_carries_the_sizes_and_the_subscribed_power(tiny_sizing):
    case, result, folder = tiny_sizing
    sized = sized_case(case, load_sizing(folder))
    row = result.sizes.loc["plating"]
    site = sized.site("plating")
    assert site.microgrid.pv.kwp == pytest.approx(row["pv_total_kwp"])
    assert site.microgrid.battery.energy_kwh == pytest.approx(row["battery_total_kwh"])
    assert site.microgrid.battery.power_kw == pytest.approx(row["battery_total_kw"])
    assert sized.contract.subscribed_power_kw == pytest.approx(result.subscribed_power_kw)
    assert sized.name == "tiny_plating+sizing"


def test_a_folder_without_a_sizing_is_refused(tmp_path):
    with pytest.raises(SizingResultError, match="sizing_summary.json"):
        load_sizing(tmp_path)


def sizing_soc_fraction(case, result, d):
    """The battery's state of charge at the start of typical day d in sizing (cyclic: its hour 23)."""
    e = result.sizes.loc["plating", "battery_total_kwh"]
    above_min = result.dispatch[("scen0", "plating")]["soc_kwh"][0, d, 23]
    return {"plating": (case.site("plating").microgrid.battery.soc_min_fraction * e + above_min) / e}


def test_the_sized_subscribed_power_holds_in_operation(tiny_sizing):
    """Each typical day planned by the day-ahead model with the sized system, battery starting at sizing's
    state of charge, overrun charged at the month's rate f3 (as the bill and sizing charge the day that
    sets the month's peak):
    - with the lines' schedule sizing used: the day's peak is at most sizing's predicted peak (sizing's
      dispatch is one of the plan's feasible dispatches, and the plan prices the peak above the threshold
      at f3); on a day that alone sets the peak of a month it stands for, above the threshold, the two are equal
      (both models shave the overrun to the least the battery allows, shaving costing less than either's
      overrun charge), so the predicted overrun is paid exactly. A day whose months' peak is set by
      another day may buy more in sizing than it needs (its peak costs sizing nothing there);
    - with the schedule free (operation re-plans the lines): the overrun is at most the predicted one."""
    case, result, folder = tiny_sizing
    sized = sized_case(case, load_sizing(folder))
    table = result.dispatch["_day_tables"]["scen0"]
    peaks = result.typical_day_peaks.set_index("typical_day")
    threshold = 1.1 * result.subscribed_power_kw
    def others_peak(mo, d):  # the largest predicted peak of the other days standing for month mo
        return max([peaks.at[e, "peak_kw"] for e in range(table.n_days) if e != d and table.month_days[mo, e] > 0],
                   default=0.0)
    equal_days = 0
    for d in range(table.n_days):
        soc = sizing_soc_fraction(case, result, d)
        fixed = plan_typical_day(sized, table, d, soc_fraction=soc, schedule=result.dispatch["_lines_schedules"][(0, d)])
        free = plan_typical_day(sized, table, d, soc_fraction=soc, start=result.dispatch["_lines_schedules"][(0, d)])
        assert fixed["gap"] <= 1e-3 and free["gap"] <= 1e-3
        assert fixed["threshold_kw"] == pytest.approx(threshold)
        predicted_peak, predicted_overrun = peaks.at[d, "peak_kw"], peaks.at[d, "overrun_kw"]
        # the day alone sets the peak of a month it stands for (a tie leaves sizing's peak free on either day)
        sets_a_month = any(table.month_days[mo, d] > 0 and predicted_peak > others_peak(mo, d) + 0.5 for mo in range(12))
        assert fixed["max_import_kw"] <= predicted_peak + 0.5
        assert fixed["overrun_kw"] <= predicted_overrun + 0.5
        if sets_a_month and predicted_overrun > 0.5:
            equal_days += 1
            assert fixed["max_import_kw"] == pytest.approx(predicted_peak, rel=1e-3, abs=0.5)
            assert fixed["overrun_kw"] == pytest.approx(predicted_overrun, abs=0.5)
        assert free["overrun_kw"] <= predicted_overrun + 0.5
    assert equal_days >= 1  # the tiny case's sizing overruns on its extreme days: the equality is exercised


def test_predicted_cost_of_a_year_is_sizings_yearly_prediction(tiny_sizing):
    case, result, folder = tiny_sizing
    sizing = load_sizing(folder)
    year = predicted_operating_cost(sizing, case, pd.date_range("2022-01-01", "2022-12-31"))
    assert year["total_eur"] == pytest.approx(result.info["predicted_first_year_operating_eur"], rel=1e-9)
    # one day by hand: its typical day's energy cost, a 31st of January's overrun, f1 x P / 30
    day = predicted_operating_cost(sizing, case, ["2022-01-15"])
    energy = result.daily_prediction.set_index("day_of_year").at[14, "energy_eur"]
    overrun = result.monthly_prediction.set_index("month").at[1, "overrun_eur"] / 31
    assert day["total_eur"] == pytest.approx(energy + overrun + 10.95 * result.subscribed_power_kw / 30, rel=1e-9)


def test_replay_of_the_sized_system_puts_the_prediction_beside_it(tiny_sizing, tiny_case_file, tmp_path, capsys):
    case, result, folder = tiny_sizing
    out = tmp_path / "replay"
    code = main(["replay", str(tiny_case_file), "--start", "2022-06-06", "--end", "2022-06-07", "--sizing",
                 str(folder.parent if folder.name == "sizing" else folder), "--policies", "fixed", "--scenarios", "2",
                 "--plan-time-limit", "20", "--output", str(out)])
    assert code == 0
    check = pd.read_csv(out / "sizing_check.csv")
    bills = pd.read_csv(out / "monthly_bills.csv")
    assert set(check.policy) == set(bills.policy)
    predicted = predicted_operating_cost(load_sizing(folder), case, pd.date_range("2022-06-06", "2022-06-07"))
    for _, row in check.iterrows():
        assert row["days"] == 2
        assert row["replayed_eur"] == pytest.approx(bills.loc[bills.policy == row["policy"], "total_eur"].sum())
        assert row["predicted_eur"] == pytest.approx(predicted["total_eur"])
        assert row["subscribed_power_kw"] == pytest.approx(result.subscribed_power_kw)
        assert np.isfinite(row["difference_pct"])
    assert "sizing held?" in capsys.readouterr().out
