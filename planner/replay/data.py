"""The realised days of the replay: real French day-ahead prices and national PV / onshore-wind capacity
factors (``scenarios.history.load_fr_hourly``), 24 wall-clock hours a day, and what is known before day D."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.history import load_fr_hourly, shared_data_dir

PRICE = "price_eur_per_mwh"
SOLAR = "solar_capacity_factor"
WIND = "wind_onshore_capacity_factor"


@dataclass(frozen=True)
class RealDays:
    """Hourly realised values (local wall clock, 24 rows a day): p0 (EUR/MWh), PV and wind capacity factors."""

    frame: pd.DataFrame          # columns PRICE, SOLAR, WIND; DatetimeIndex
    source: str

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
                "the columns time_local_cet_cest, price_eur_mwh, load_mw, solar_cf_est, wind_onshore_cf_est")

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
        return RealDays(past, self.source + f" (known before {day.date()})")


def load_real_days(path=None) -> RealDays:
    """The realised days from ``path`` (default ``../shared/data/prices/fr_hourly_2019_2022.csv``)."""
    path = Path(path) if path is not None else shared_data_dir() / "prices" / "fr_hourly_2019_2022.csv"
    if not path.exists():
        raise FileNotFoundError(f"realised data {path}: no such file; the replay needs the hourly French "
                                "day-ahead prices and national PV / wind capacity factors (fr_hourly_2019_2022.csv)")
    hist = load_fr_hourly(path)
    frame = hist.frame[[PRICE, SOLAR, WIND]].astype(float)
    if frame.isna().any().any():
        frame = frame.interpolate(limit_direction="both")
    frame[SOLAR] = np.clip(frame[SOLAR], 0.0, 1.0)
    frame[WIND] = np.clip(frame[WIND], 0.0, 1.0)
    return RealDays(frame, path.name)
