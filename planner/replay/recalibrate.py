"""Rolling recalibration of the replay's forecast: every ``every`` days the day-ahead price model is
refitted on the realised day-ahead prices of the ``window_days`` (>= 365) days before the recalibration day R
(R <= D, so the window never includes D or anything later).

The recalibration days are fixed by the calendar (R = the latest day with ordinal % every == 0, at or
before D), so a resumed or parallel replay refits on the same windows. The PV, wind and joint models
stay as calibrated (``planner calibrate``, fitted before any replayed 2022 day); the refitted price
model uses no load or renewable forecasts (``use_forecasts=False``: the realised data has none).
Each refitted parameter folder is cached on disk under a name that hashes the window's prices.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from planner.case import Case
from planner.replay.data import PRICE, RealDays
from planner.scenario_inputs import parameters_dir
from scenarios.price import DayAheadPriceModel

#: the price model fits its marginals per season group: the window must span a year
MIN_WINDOW_DAYS = 365
#: fewer realised days than this in the window (data starting later): the calibrated model is kept (recorded)
MIN_COVERED_DAYS = 360
CACHE = Path(tempfile.gettempdir()) / "planner-replay-recalibrated"


def recalibration_day(day, every: int) -> pd.Timestamp:
    """The latest recalibration day at or before ``day`` (calendar-anchored: ordinal % every == 0)."""
    day = pd.Timestamp(day).normalize()
    return day - pd.Timedelta(days=day.toordinal() % int(every))


def window_prices(known: RealDays, day, every: int, window_days: int) -> tuple[pd.Timestamp, pd.DataFrame]:
    """(R, the realised day-ahead prices of [R - window_days, R)) from what is known before ``day``."""
    r = recalibration_day(day, every)
    idx = known.frame.index
    rows = known.frame.loc[(idx >= r - pd.Timedelta(days=int(window_days))) & (idx < r), [PRICE]].dropna()
    return r, rows


def recalibrated_case(case: Case, known: RealDays, day, every: int, window_days: int) -> tuple[Case, str]:
    """(case whose scenarios use the refitted price model, the recalibration day or '' when the data
    covers fewer than ``MIN_COVERED_DAYS`` days of the window and the calibrated model is kept)."""
    r, rows = window_prices(known, day, every, window_days)
    if window_days < MIN_WINDOW_DAYS:
        raise ValueError(f"recalibrate_window_days = {window_days}: the price model fits its marginals per season "
                         f"group, give at least {MIN_WINDOW_DAYS} days")
    if len(rows) < 24 * MIN_COVERED_DAYS:
        return case, ""
    source = parameters_dir(case)
    digest = hashlib.sha1(np.ascontiguousarray(rows[PRICE].to_numpy(dtype=float)).tobytes()
                          + str(rows.index[0]).encode() + str(source).encode()).hexdigest()[:16]
    folder = CACHE / f"{r:%Y%m%d}-{window_days}d-{digest}"
    if not (folder / "price_france.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for f in source.glob("*.json"):
            if f.name != "price_france.json":
                tmp = folder / f".{f.stem}.{os.getpid()}.json"
                shutil.copyfile(f, tmp)
                os.replace(tmp, folder / f.name)
        model = DayAheadPriceModel(use_forecasts=False).fit(rows)
        tmp = folder / f".price_france.{os.getpid()}.json"
        model.to_json(tmp)
        os.replace(tmp, folder / "price_france.json")
    sc = dataclasses.replace(case.scenarios, parameters=str(folder))
    return dataclasses.replace(case, scenarios=sc), r.strftime("%Y-%m-%d")
