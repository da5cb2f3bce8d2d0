"""Calibration on the real data in ../shared/data: readers of the data files, forecast preparation,
and the fit of the project's default renewable models (``python -m scenarios.calibration``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .base import check_positive_int
from .forecast_error import ForecastErrorModel
from .price import DayAheadPriceModel
from .pv import FRANCE_PV_SITE, PVModel
from .wind import WindModel

# -- readers of the real data in ../shared/data -----------------------------------------------------------
# Installed capacity in France at year end (MW), RTE "Bilan electrique" / "Panorama de l'electricite
# renouvelable" (rounded): used to turn ENTSO-E day-ahead forecasts (MW) into capacity factors.
FRANCE_INSTALLED_MW = {
    "pv": {2014: 5300.0, 2015: 6200.0, 2016: 6770.0},
    "wind": {2014: 9300.0, 2015: 10300.0, 2016: 11670.0},
}


def read_france_capacity_factors(data_dir, year: int) -> pd.DataFrame:
    """Dispa-SET hourly national capacity factors (PHOT, WTON...) on a UTC index."""
    path = Path(data_dir) / "renewables" / f"fr_capacity_factors_{year}.csv"
    frame = pd.read_csv(path, index_col=0)
    frame.index = pd.to_datetime(frame.index, utc=True)
    return frame


def read_entsoe_forecasts(data_dir) -> pd.DataFrame:
    """ENTSO-E day-ahead solar (Sol_DA) and onshore wind (Won_DA) forecasts in MW, on a UTC index.

    The source is a regular local (CET/CEST) hourly grid: the non-existent spring hour is
    dropped, the single autumn 02:00 is taken as summer time, zeros in Won_DA (gap fills) are
    interpolated.
    """
    frame = pd.read_csv(Path(data_dir) / "prices" / "entsoe_FR_2015_2023.csv", index_col=0)
    frame = frame[frame.index.notna()]
    try:
        idx = pd.to_datetime(frame.index, format="%m/%d/%Y %H:%M")
    except ValueError:
        idx = pd.to_datetime(frame.index, format="mixed")
    local = idx.tz_localize("Europe/Paris", ambiguous=np.ones(len(idx), dtype=bool), nonexistent="NaT")
    frame.index = local
    frame = frame[frame.index.notna()]
    frame.index = frame.index.tz_convert("UTC")
    frame = frame[~frame.index.duplicated()]
    frame["Won_DA"] = frame["Won_DA"].replace(0, np.nan).interpolate(limit_direction="both")
    return frame


def france_forecast_capacity_factors(data_dir, year: int, forecasts: pd.DataFrame | None = None
                                     ) -> pd.DataFrame:
    """Day-ahead forecast capacity factors ``pv`` and ``wind`` for ``year`` (UTC index).

    ``forecasts``: the frame of :func:`read_entsoe_forecasts`, to avoid reading the file again.
    The forecasts in MW are divided by the installed capacity interpolated linearly between the
    year-end values of :data:`FRANCE_INSTALLED_MW`.
    """
    frame = read_entsoe_forecasts(data_dir) if forecasts is None else forecasts
    frame = frame.loc[f"{year}-01-01":f"{year}-12-31 23:00"]
    out = {}
    for key, col in (("pv", "Sol_DA"), ("wind", "Won_DA")):
        caps = FRANCE_INSTALLED_MW[key]
        if year - 1 not in caps or year not in caps:
            raise ValueError(f"no installed {key} capacity known for {year}; known years {sorted(caps)}")
        t0 = pd.Timestamp(f"{year}-01-01", tz="UTC")
        frac = (frame.index - t0) / (pd.Timestamp(f"{year + 1}-01-01", tz="UTC") - t0)
        cap = caps[year - 1] + (caps[year] - caps[year - 1]) * np.asarray(frac, dtype=float)
        out[key] = np.clip(frame[col].to_numpy() / cap, 0.0, 1.0)
    return pd.DataFrame(out, index=frame.index)


def rolling_bias_corrected(forecast: pd.Series, actual: pd.Series, window_days: int = 28) -> pd.Series:
    """Forecast scaled, day by day, by the ratio of actual to forecast energy over the previous
    ``window_days`` days (only past actuals: what an operator knows when buying day ahead).

    Removes slow drifts of the normalisation (installed capacity, reporting changes). Days with no
    usable past keep a ratio of 1; the result is clipped to [0, 1].
    """
    check_positive_int("window_days", window_days)
    frame = pd.concat({"f": forecast.astype(float), "a": actual.astype(float)}, axis=1)
    day = frame.index.floor("D")
    daily = frame.groupby(day).sum(min_count=1)
    both = daily.dropna()
    past = both.reindex(daily.index).rolling(window_days, min_periods=max(3, window_days // 4)).sum().shift(1)
    ratio = (past["a"] / past["f"]).replace([np.inf, -np.inf], np.nan).fillna(1.0).clip(0.5, 2.0)
    out = frame["f"] * ratio.reindex(day).to_numpy()
    return out.clip(0.0, 1.0).loc[forecast.index]


def read_ouessant(data_dir) -> pd.DataFrame:
    """Ouessant 2016 (PVGIS weather, UTC): ``pv_kw_per_kwp`` (40 deg tilt, south), ``temp_c``,
    ``wind_speed_m_per_s`` at 10 m."""
    frame = pd.read_csv(Path(data_dir) / "weather" / "ouessant_2016.csv", index_col=0, parse_dates=True)
    # PVGIS hourly values describe the hour centred on the time stamp (checked: only this reading
    # gives a clear-sky index symmetric about solar noon); shift to interval starts.
    frame.index = frame.index.tz_localize("UTC") - pd.Timedelta(minutes=30)
    return pd.DataFrame(
        {
            "pv_kw_per_kwp": frame["Ppv1k"] / 1000.0,
            "temp_c": frame["Temp"],
            "wind_speed_m_per_s": frame["Wind"],
        }
    )


OUESSANT_SITE = {"latitude": 48.46, "longitude": -5.09, "tilt_deg": 40.0, "azimuth_deg": 180.0,
                 "altitude_m": 30.0}


def read_windpowerlib_example(data_dir) -> pd.DataFrame:
    """windpowerlib's 2010 example weather (UTC): wind speed at 10 m and 80 m, roughness, temperature."""
    frame = pd.read_csv(Path(data_dir) / "weather" / "windpowerlib_example_2010.csv", header=[0, 1],
                        index_col=0)
    frame.index = pd.to_datetime(frame.index, utc=True)
    return pd.DataFrame(
        {
            "wind_speed_10m_m_per_s": frame[("wind_speed", "10")].to_numpy(),
            "wind_speed_80m_m_per_s": frame[("wind_speed", "80")].to_numpy(),
            "roughness_length_m": frame[("roughness_length", "0")].to_numpy(),
            "temperature_k": frame[("temperature", "2")].to_numpy(),
            "pressure_pa": frame[("pressure", "0")].to_numpy(),
        },
        index=frame.index,
    )


# -- France calibration -----------------------------------------------------------------------------------
def fit_france_models(data_dir, fit_year: int = 2015) -> dict:
    """The project's default renewable models, fitted on real French data of ``fit_year`` (<= 2021).

    * ``pv``: PVModel of :data:`scenarios.pv.FRANCE_PV_SITE` fitted on Dispa-SET's national PHOT.
    * ``wind``: WindModel (E-82/2300, 98 m hub, roughness 0.1 m) fitted on windpowerlib's 80 m
      example series (a mainland site) with monthly levels matched to the national onshore WTON.
    * ``pv_forecast_error`` / ``wind_forecast_error``: ForecastErrorModel of the national capacity
      factor given ENTSO-E's day-ahead forecast (capacity-normalised, then rolling-bias-corrected).
    """
    if fit_year > 2021:
        raise ValueError("fit_year must be <= 2021 (2022 onwards is kept out of sample)")
    actual = read_france_capacity_factors(data_dir, fit_year)
    weather = read_windpowerlib_example(data_dir)
    forecast = france_forecast_capacity_factors(data_dir, fit_year)
    models = {
        "pv": PVModel(**FRANCE_PV_SITE).fit(actual["PHOT"]),
        "wind": WindModel().fit(weather["wind_speed_80m_m_per_s"], measurement_height_m=80.0,
                                capacity_factor=actual["WTON"]),
    }
    for key, col, kwargs in (("pv", "PHOT", {"variable": "pv_kw_per_kwp", "epsilon": 0.01,
                                             "inactive_threshold": 0.03}),
                             ("wind", "WTON", {"variable": "wind_kw_per_turbine", "epsilon": 0.01,
                                               "inactive_threshold": 0.0,
                                               "capacity_kw": models["wind"].nominal_power_kw})):
        corrected = rolling_bias_corrected(forecast[key], actual[col].reindex(forecast.index))
        models[f"{key}_forecast_error"] = ForecastErrorModel(**kwargs).fit(corrected, actual[col])
    return models


def fit_history_models(price=None, pv=None, *, price_fit: tuple = (None, None), pv_site: dict | None = None
                       ) -> dict:
    """Models fitted on a user's own history by the same code as the France calibration.

    ``price``: a :class:`scenarios.history.History` with ``price_eur_per_mwh`` on the local wall clock
    (24 hours a day), fitted in the window ``price_fit`` (dates, inclusive; None: all) without the
    national load/solar/wind forecasts the ENTSO-E file carries; ``pv``: hourly measured output in kW
    per kWp (UTC index) of the system ``pv_site`` (latitude, longitude, tilt_deg, azimuth_deg,
    altitude_m). Returns ``{"price": DayAheadPriceModel, "pv": PVModel}`` for those given.
    """
    models = {}
    if price is not None:
        models["price"] = DayAheadPriceModel(fit_start=price_fit[0], fit_end=price_fit[1],
                                             use_forecasts=False).fit(price)
    if pv is not None:
        models["pv"] = PVModel(**(pv_site or FRANCE_PV_SITE)).fit(pv)
    return models


def write_calibrated(data_dir, out_dir) -> list[Path]:
    """Write the fitted France models as small JSON files ``<out_dir>/<name>_france.json``."""
    paths = []
    for name, model in fit_france_models(data_dir).items():
        path = Path(out_dir) / f"{name}_france.json"
        model.to_json(path)
        paths.append(path)
    return paths


if __name__ == "__main__":  # python -m scenarios.calibration [data_dir] [out_dir]
    root = Path(__file__).resolve().parents[1]
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "data"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "data" / "calibrated"
    for p in write_calibrated(data, out):
        print(p, p.stat().st_size, "bytes")
