"""Benchmark of the PV, wind and forecast-error scenario models against France's real data.

Fits on 2015 (Dispa-SET national capacity factors, ENTSO-E day-ahead forecasts, windpowerlib's
2010 mainland weather, Ouessant 2016 for a site) and prints: realism statistics beside the data's
(fitted year and held-out years 2016, 2019-2021, 2022), rank histograms with chi-square, and the
energy-score ratio conditional / unconditional per month and overall on 2016.

Run: .venv/bin/python benchmarks/scenarios_renewables.py [--scenarios 50] [--years 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.calibration import (OUESSANT_SITE, france_forecast_capacity_factors, read_entsoe_forecasts,
                                   read_france_capacity_factors, read_ouessant, read_windpowerlib_example,
                                   rolling_bias_corrected)
from scenarios.forecast_error import ForecastErrorModel, evaluate_by_day
from scenarios.metrics import chi_square_flatness
from scenarios.pv import FRANCE_PV_SITE, PVModel
from scenarios.wind import WindModel

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def lag1(x: np.ndarray) -> float:
    x = np.atleast_2d(x)
    return float(np.mean([np.corrcoef(r[:-1], r[1:])[0, 1] for r in x]))


def series_stats(s: pd.Series) -> dict:
    daily = s.groupby(s.index.floor("D")).mean()
    return {"cf": s.mean(), "kwh_per_kw": s.mean() * 8760, "lag1": s.autocorr(1),
            "daily_cv": daily.std() / daily.mean(), "p95_hourly": s.quantile(0.95)}


def sim_stats(x: np.ndarray) -> dict:
    daily = x.reshape(x.shape[0], -1, 24).mean(axis=2)
    annual = x.mean(axis=1)
    return {"cf": x.mean(), "kwh_per_kw": x.mean() * 8760, "lag1": lag1(x),
            "daily_cv": float(np.mean(daily.std(axis=1) / daily.mean(axis=1))),
            "p95_hourly": float(np.mean(np.quantile(x, 0.95, axis=1))),
            "annual_cf_p5": np.quantile(annual, 0.05), "annual_cf_p95": np.quantile(annual, 0.95)}


def print_table(title: str, rows: dict) -> None:
    print(f"\n== {title}")
    print(pd.DataFrame(rows).T.round(4).to_string())


def climatology_scores(history: pd.Series, target: pd.Series, window_days: int = 15) -> pd.Series:
    """Energy score per target day of an analogue ensemble: the history's days within
    +-``window_days`` of the same day of year (a fair climatological baseline for national data)."""
    from scenarios.metrics import energy_score

    hist = history.groupby(history.index.floor("D")).filter(lambda b: len(b) == 24)
    hist_days = hist.index.floor("D").unique()
    members = hist.to_numpy().reshape(len(hist_days), 24)
    doy = hist_days.dayofyear.to_numpy()
    out = {}
    for day, block in target.groupby(target.index.floor("D")):
        if len(block) != 24:
            continue
        d = np.abs(doy - day.dayofyear)
        near = np.minimum(d, 365 - d) <= window_days
        out[day] = energy_score(members[near], block.to_numpy())
    return pd.Series(out)


def realism(n_years: int) -> dict:
    actual = {y: read_france_capacity_factors(DATA, y) for y in (2015, 2016)}
    hourly = pd.read_csv(DATA / "prices" / "fr_hourly_2019_2022.csv", index_col=0, parse_dates=True)

    pv = PVModel(**FRANCE_PV_SITE).fit(actual[2015]["PHOT"])
    x = pv.sample(n_years, start="2015-01-01", days=365, random_state=0)["pv_kw_per_kwp"]
    rows = {"model (fit PHOT 2015)": sim_stats(x), "data 2015 PHOT (fitted)": series_stats(actual[2015]["PHOT"]),
            "data 2016 PHOT (held out)": series_stats(actual[2016]["PHOT"])}
    for y in (2019, 2020, 2021, 2022):
        tag = "out of sample" if y == 2022 else "not fitted"
        rows[f"data {y} solar_cf_est ({tag})"] = series_stats(hourly.loc[str(y), "solar_cf_est"])
    print_table("PV, France (representative system 45.5N 2E, tilt 30, south); published 14-15 %, ~1,300 kWh/kWp",
                rows)
    print("fitted process:", pv.process_)

    site = read_ouessant(DATA)
    pvo = PVModel(**OUESSANT_SITE).fit(site)
    xo = pvo.sample(n_years, start="2016-01-01", days=366, random_state=0)["pv_kw_per_kwp"]
    print_table("PV, Ouessant site (40 deg, south; PVGIS 2016)",
                {"model (fit Ouessant 2016)": sim_stats(xo), "data Ouessant 2016": series_stats(site["pv_kw_per_kwp"])})

    weather = read_windpowerlib_example(DATA)
    wind = WindModel().fit(weather["wind_speed_80m_m_per_s"], measurement_height_m=80,
                           capacity_factor=actual[2015]["WTON"])
    sw = wind.sample(n_years, start="2015-01-01", days=365, random_state=0)
    xw = sw["wind_kw_per_turbine"] / wind.nominal_power_kw
    rows = {"model E-82/2300 98 m (fit 2015)": sim_stats(xw),
            "data 2015 WTON (level fitted)": series_stats(actual[2015]["WTON"]),
            "data 2016 WTON (held out)": series_stats(actual[2016]["WTON"])}
    for y in (2019, 2020, 2021, 2022):
        tag = "out of sample" if y == 2022 else "not fitted"
        rows[f"data {y} wind_onshore_cf_est ({tag})"] = series_stats(hourly.loc[str(y), "wind_onshore_cf_est"])
    print_table("Onshore wind, mainland France (windpowerlib 2010 80 m shape, WTON monthly level); "
                "published 21-26 %", rows)
    print("fitted process:", wind.process_)
    print("monthly level multipliers (Weibull scale, German 80 m -> French mainland):",
          np.round(wind.level_multipliers_, 3).tolist())
    print(f"hub-height mean speed: {sw['wind_speed_m_per_s'].mean():.2f} m/s; single-turbine lag-1 is "
          "below the national aggregate's (spatial smoothing)")
    wo = WindModel().fit(site["wind_speed_m_per_s"], measurement_height_m=10, capacity_factor=actual[2015]["WTON"])
    xo = wo.sample(n_years, start="2015-01-01", days=365, random_state=0)["wind_kw_per_turbine"] / wo.nominal_power_kw
    wo_raw = WindModel().fit(site["wind_speed_m_per_s"], measurement_height_m=10)
    raw_cf = np.mean([wo_raw.expected_capacity_factor(m) for m in range(1, 13)])
    print(f"Ouessant-shaped model: CF before derate {raw_cf:.3f} (island, 10 m -> 98 m with z0 0.1 m), "
          f"after WTON re-levelling {xo.mean():.3f}, lag-1 {lag1(xo):.3f} (Ouessant 10 m speed lag-1 "
          f"{site['wind_speed_m_per_s'].autocorr(1):.3f}); multipliers "
          f"{np.round(wo.level_multipliers_, 2).tolist()}")
    return {"pv": pv, "wind": wind, "actual": actual}


def conditional(fitted: dict, n_scenarios: int) -> None:
    actual = fitted["actual"]
    raw = read_entsoe_forecasts(DATA)
    forecast = {y: france_forecast_capacity_factors(DATA, y, raw) for y in (2015, 2016)}
    idx16 = pd.date_range("2016-01-01", periods=366 * 24, freq="h", tz="UTC")
    uncond = {
        "pv": fitted["pv"].sample(n_scenarios, start="2016-01-01", days=366, random_state=11)["pv_kw_per_kwp"],
        "wind": fitted["wind"].sample(n_scenarios, start="2016-01-01", days=366,
                                      random_state=11)["wind_kw_per_turbine"] / fitted["wind"].nominal_power_kw,
    }
    for key, col, kwargs in (("pv", "PHOT", {"epsilon": 0.01, "inactive_threshold": 0.03}),
                             ("wind", "WTON", {"variable": "wind_cf", "epsilon": 0.01, "inactive_threshold": 0.0})):
        act = pd.concat([actual[2015][col], actual[2016][col]])
        act = act[~act.index.duplicated()]
        fc = pd.concat([forecast[2015][key], forecast[2016][key]])
        fc = fc[~fc.index.duplicated()]
        corrected = rolling_bias_corrected(fc, act.reindex(fc.index))
        variants = {
            "capacity-normalised forecast": (forecast[2015][key], forecast[2016][key]),
            "+ 28-day rolling bias correction (past actuals only)": (corrected.loc["2015"], corrected.loc["2016"]),
        }
        variants["+ rolling bias correction + 28-day adaptive spread"] = variants[
            "+ 28-day rolling bias correction (past actuals only)"]
        for label, (f15, f16) in variants.items():
            model = ForecastErrorModel(**kwargs).fit(f15, actual[2015][col])
            scores, counts = evaluate_by_day(model, f16, actual[2016][col], uncond[key], idx16,
                                             n_scenarios=n_scenarios, random_state=1,
                                             adaptive_spread_days=28 if "adaptive" in label else None)
            stat, p = chi_square_flatness(counts)
            clim = climatology_scores(actual[2015][col], actual[2016][col]).reindex(scores.index)
            by_month = scores.groupby(scores.index.month).mean()
            ratio = by_month["energy_score_conditional"] / by_month["energy_score_unconditional"]
            overall = scores["energy_score_conditional"].mean() / scores["energy_score_unconditional"].mean()
            print(f"\n== {key.upper()} conditional model (fit 2015, evaluated on {len(scores)} days of 2016), {label}")
            print(f"energy score: conditional {scores['energy_score_conditional'].mean():.4f}, "
                  f"unconditional {scores['energy_score_unconditional'].mean():.4f}, ratio {overall:.3f}")
            print("ratio per month:", " ".join(f"{m}:{r:.2f}" for m, r in ratio.items()))
            print(f"fairer baseline, 2015 analogue days (+-15 days of year, national data itself): energy "
                  f"score {clim.mean():.4f}, ratio conditional / analogue "
                  f"{scores['energy_score_conditional'].mean() / clim.mean():.3f}")
            print(f"rank histogram ({n_scenarios + 1} bins, {counts.sum()} active hours; flat = "
                  f"{counts.mean():.1f}): chi2 = {stat:.0f}, p = {p:.2g}; outer bins / mean = "
                  f"{counts[0] / counts.mean():.2f}, {counts[-1] / counts.mean():.2f}")
            print("counts:", counts.tolist())
            print(f"hourly error AR(1) {model.hourly_ar_:.3f}; level-bin logit error sd "
                  f"{np.round(model.error_std_, 2).tolist()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=50, help="scenarios per day (conditional)")
    parser.add_argument("--years", type=int, default=20, help="simulated years for realism statistics")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"real data not found at {DATA}")
    t0 = time.time()
    fitted = realism(args.years)
    conditional(fitted, args.scenarios)
    print(f"\n(total {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
