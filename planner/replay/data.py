"""The realised days of the replay: real French day-ahead prices and national PV / onshore-wind capacity
factors, 24 wall-clock hours a day, and what is known before day D.

Source (the same for every period): ``../shared/data/prices/entsoe_FR_2015_2023.csv``
(``scenarios.history.load_entsoe_fr``, repaired), 2015-01-05 .. 2023-06-30: day-ahead price ``Price_DA``;
PV capacity factor = ENTSO-E day-ahead solar forecast ``Sol_DA`` / installed PV; onshore-wind capacity
factor = day-ahead onshore forecast ``Won_DA`` / installed onshore wind. The installed capacities are
year-end values (MW; :data:`INSTALLED_MW`), linearly interpolated in time between year ends and extended
past the last one by the last year's growth. Over 2019-2022 this is the derivation of
``fr_hourly_2019_2022.csv`` (``../shared/data/scripts/derive_fr_hourly.py``, same year-end values), which
``--data`` still accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.calibration import FRANCE_INSTALLED_MW
from scenarios.history import load_entsoe_fr, load_fr_hourly, shared_data_dir

PRICE = "price_eur_per_mwh"
SOLAR = "solar_capacity_factor"
WIND = "wind_onshore_capacity_factor"
DEFAULT_FILE = "entsoe_FR_2015_2023.csv"
#: installed capacity in France at each year end (MW): 2014-2016 from ``scenarios.calibration`` (RTE),
#: 2018-2022 the RTE/SER/Enedis "Panorama" values of ``derive_fr_hourly.py`` (which made fr_hourly_2019_2022.csv)
INSTALLED_MW = {
    "pv": {**FRANCE_INSTALLED_MW["pv"], 2018: 8500.0, 2019: 9567.0, 2020: 10387.0, 2021: 13067.0, 2022: 15756.0},
    "wind": {**FRANCE_INSTALLED_MW["wind"], 2018: 15140.0, 2019: 16511.0, 2020: 17616.0, 2021: 18783.0,
             2022: 20553.0},
}


@dataclass(frozen=True)
class RealDays:
    """Hourly realised values (local wall clock, 24 rows a day): p0 (EUR/MWh), PV and wind capacity factors."""

    frame: pd.DataFrame          # columns PRICE, SOLAR, WIND; DatetimeIndex
    source: str
    description: str = ""        # which file and series (stated in the run output)

    @property
    def first_day(self) -> pd.Timestamp:
        return self.frame.index[0].normalize()

    @property
    def last_day(self) -> pd.Timestamp:
        return self.frame.index[-1].normalize()

    def check_covers(self, start, end) -> None:
        """Raise ValueError naming the data file when [start, end] is not inside it."""
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        if end < start:
            raise ValueError(f"--end {end.date()} is before --start {start.date()}: give end >= start")
        if start < self.first_day or end > self.last_day:
            raise ValueError(
                f"replay period {start.date()} .. {end.date()}: the realised data {self.source} covers "
                f"{self.first_day.date()} .. {self.last_day.date()} only (day-ahead prices and national PV / "
                "wind capacity factors are all needed); choose a period inside it or pass --data a file with "
                "the columns of entsoe_FR_2015_2023.csv (Price_DA, Sol_DA, Won_DA, ...) or of "
                "fr_hourly_2019_2022.csv (time_local_cet_cest, price_eur_mwh, load_mw, solar_cf_est, "
                "wind_onshore_cf_est)")

    def day(self, day) -> pd.DataFrame:
        """The 24 hourly rows of ``day``."""
        day = pd.Timestamp(day).normalize()
        rows = self.frame.loc[(self.frame.index >= day) & (self.frame.index < day + pd.Timedelta(days=1))]
        if len(rows) != 24:
            raise ValueError(f"{self.source}: day {day.date()} has {len(rows)} hourly rows, expected 24")
        return rows

    def known_before(self, day, day_ahead_known: bool) -> "RealDays":
        """What a forecaster may use for ``day``: every row before ``day``, and the day-ahead prices of
        ``day`` when they are known at D-1 (the auction clears the day before); nothing else of D or later."""
        day = pd.Timestamp(day).normalize()
        past = self.frame.loc[self.frame.index < day]
        if day_ahead_known:
            today = self.day(day)[[PRICE]]
            past = pd.concat([past, today])
        return RealDays(past, self.source + f" (known before {day.date()})", self.description)


def installed_mw(kind: str, index: pd.DatetimeIndex) -> np.ndarray:
    """Installed ``kind`` ("pv" or "wind") capacity (MW) at each time of ``index`` (local wall clock):
    linear in time between the year-end values of :data:`INSTALLED_MW` (at 31 December 23:00), extended
    before the first and after the last year end by the growth of the nearest year."""
    years = sorted(INSTALLED_MW[kind])
    at = pd.to_datetime([f"{y}-12-31 23:00" for y in years]).asi8.astype(float)
    mw = np.array([INSTALLED_MW[kind][y] for y in years])
    t = pd.DatetimeIndex(index).asi8.astype(float)
    out = np.interp(t, at, mw)
    before, after = t < at[0], t > at[-1]
    out[before] = mw[0] + (t[before] - at[0]) * (mw[1] - mw[0]) / (at[1] - at[0])
    out[after] = mw[-1] + (t[after] - at[-1]) * (mw[-1] - mw[-2]) / (at[-1] - at[-2])
    return out


def entsoe_real_frame(path: Path) -> pd.DataFrame:
    """PRICE, SOLAR, WIND from the ENTSO-E extract (see the module docstring)."""
    frame = load_entsoe_fr(path).frame
    mw = frame[["price_eur_per_mwh", "solar_forecast_mw", "wind_onshore_forecast_mw"]].astype(float)
    mw = mw.interpolate(method="time", limit_direction="both")   # the long gaps left by the repair
    return pd.DataFrame({PRICE: mw["price_eur_per_mwh"],
                         SOLAR: mw["solar_forecast_mw"] / installed_mw("pv", mw.index),
                         WIND: mw["wind_onshore_forecast_mw"] / installed_mw("wind", mw.index)}, index=mw.index)


def load_real_days(path=None) -> RealDays:
    """The realised days from ``path`` (default ``../shared/data/prices/entsoe_FR_2015_2023.csv``; a file in
    the format of ``fr_hourly_2019_2022.csv`` is accepted too)."""
    path = Path(path) if path is not None else shared_data_dir() / "prices" / DEFAULT_FILE
    if not path.exists():
        raise FileNotFoundError(f"realised data {path}: no such file; the replay needs the hourly French "
                                f"day-ahead prices and national PV / wind day-ahead forecasts ({DEFAULT_FILE})")
    header = path.open().readline()
    if "time_local_cet_cest" in header:
        frame = load_fr_hourly(path).frame[[PRICE, SOLAR, WIND]].astype(float)
        description = (f"{path.name}: price_eur_mwh (EUR/MWh), solar_cf_est and wind_onshore_cf_est "
                       "(capacity factors)")
    else:
        frame = entsoe_real_frame(path)
        description = (f"{path.name}: Price_DA (EUR/MWh); PV = Sol_DA / installed PV, onshore wind = Won_DA / "
                       "installed onshore wind (day-ahead forecasts, MW; year-end capacities "
                       f"{min(INSTALLED_MW['pv'])}-{max(INSTALLED_MW['pv'])} interpolated, extended by the last "
                       "year's growth)")
    if frame.isna().any().any():
        frame = frame.interpolate(limit_direction="both")
    frame[SOLAR] = np.clip(frame[SOLAR], 0.0, 1.0)
    frame[WIND] = np.clip(frame[WIND], 0.0, 1.0)
    return RealDays(frame, path.name, description)
