"""Base-load shapes of industrial sites, derived from measured 15-minute load profiles.

``derive_load_shapes(shared_data)`` reads the measured profiles in ``../shared/data/loads`` and
returns mean-one shapes per day type and quarter-hour; the result is committed as
``data/profiles/base_load_shapes.csv`` so that cases run without the raw files.
``base_load_kw(site_base_load, day, period_minutes, n_periods)`` scales a shape to a site.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data_sources import load_kw_for_periods
from scenarios.history import french_public_holidays

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHAPES_FILE = PROJECT_ROOT / "data" / "profiles" / "base_load_shapes.csv"
DAY_TYPES = ("weekday", "saturday", "sunday")

# measured profile file -> (shape name, how to read it)
_SOURCES = {
    "metal_processing": "loads/metal_processing_2018_15min.csv",
    "electroplating": "loads/electroplating_2017_15min.csv",
    "steel_plant": "loads/steel_plant_2018_15min.csv",
}


def day_type(day) -> str:
    """'weekday', 'saturday' or 'sunday' (French public holidays count as sundays)."""
    day = pd.Timestamp(day)
    if day.dayofweek == 6 or day.date() in french_public_holidays([day.year]):
        return "sunday"
    return "saturday" if day.dayofweek == 5 else "weekday"


def _read_measured(shared_data: Path, name: str) -> pd.Series:
    path = Path(shared_data) / _SOURCES[name]
    if name == "steel_plant":
        frame = pd.read_csv(path, encoding="utf-8-sig")
        index = pd.to_datetime(frame["date"], format="%d/%m/%Y %H:%M")
        # Usage_kWh per quarter-hour, stamped at the end of the quarter
        series = pd.Series(frame["Usage_kWh"].to_numpy() * 4.0, index=index - pd.Timedelta(minutes=15))
    else:
        frame = pd.read_csv(path)
        index = pd.to_datetime(frame["datetime"], utc=True).dt.tz_convert("Europe/Paris").dt.tz_localize(None)
        series = pd.Series(frame.iloc[:, 1].to_numpy(dtype=float), index=index)
    series = series[~series.index.duplicated()].sort_index()
    return series


def derive_load_shapes(shared_data) -> pd.DataFrame:
    """Mean-one shapes: rows (profile, day_type, quarter 0..95), column ``factor``.

    Each shape is the mean load of that day type and quarter-hour divided by the profile's mean
    over the whole year, so ``mean_kw * factor`` has the site's mean over a typical year.
    """
    rows = []
    for name in _SOURCES:
        series = _read_measured(Path(shared_data), name)
        frame = pd.DataFrame({"kw": series})
        frame["day_type"] = [day_type(d) for d in frame.index.normalize()]
        frame["quarter"] = frame.index.hour * 4 + frame.index.minute // 15
        year_mean = frame["kw"].mean()
        table = frame.groupby(["day_type", "quarter"])["kw"].mean() / year_mean
        for (dt, q), value in table.items():
            rows.append((name, dt, int(q), round(float(value), 5)))
    return pd.DataFrame(rows, columns=["profile", "day_type", "quarter", "factor"])


@lru_cache(maxsize=1)
@lru_cache(maxsize=4)
def _read_shapes(path: Path, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path)


def shape_table() -> pd.DataFrame:
    """The committed base-load shapes: profile, day_type, quarter, factor (mean one over the year)."""
    if not SHAPES_FILE.exists():
        return pd.DataFrame(columns=["profile", "day_type", "quarter", "factor"])
    return _read_shapes(SHAPES_FILE, SHAPES_FILE.stat().st_mtime_ns).copy()


@lru_cache(maxsize=4)
def _quarter_factors(path: Path, mtime_ns: int) -> dict:
    """{(profile, day_type): 96 quarter-hour factors} read once per file version."""
    table = _read_shapes(path, mtime_ns)
    out = {}
    for (profile, dtype), sub in table.groupby(["profile", "day_type"]):
        out[(profile, dtype)] = sub.set_index("quarter")["factor"].reindex(range(96)).to_numpy(dtype=float)
    return out


def available_profiles() -> list[str]:
    return sorted(shape_table()["profile"].unique())


def shape(profile: str, day, period_minutes: float, n_periods: int) -> np.ndarray:
    """Mean-one factors for ``n_periods`` periods from midnight of ``day`` (days repeat by type)."""
    if profile == "flat":
        return np.ones(n_periods)
    factors = (_quarter_factors(SHAPES_FILE, SHAPES_FILE.stat().st_mtime_ns) if SHAPES_FILE.exists() else {})
    if profile not in {key[0] for key in factors}:
        raise KeyError(f"unknown base-load profile {profile!r}; available: {available_profiles() + ['flat']}")
    start = pd.Timestamp(day).normalize()
    out = np.empty(n_periods)
    quarters_per_period = period_minutes / 15.0
    day_types: dict = {}
    for t in range(n_periods):
        t0 = start + pd.Timedelta(minutes=period_minutes * t)
        date = t0.normalize()
        if date not in day_types:
            day_types[date] = day_type(date)
        quarter = factors.get((profile, day_types[date]))
        if quarter is None:
            quarter = np.full(96, np.nan)
        q0 = t0.hour * 4 + t0.minute // 15
        if quarters_per_period >= 1:
            qs = [(q0 + k) % 96 for k in range(int(round(quarters_per_period)))]
            out[t] = np.nanmean(quarter[qs]) if np.isfinite(quarter[qs]).any() else np.nan
        else:  # periods shorter than 15 minutes repeat the quarter's value
            out[t] = quarter[q0]
    return out


def base_load_kw(base_load, day, period_minutes: float, n_periods: int) -> np.ndarray:
    """Base load of a site per period (kW): explicit values, the metered readings of the periods from
    local midnight of ``day`` (``base_load.source``, energy-conserving), or mean_kw times its shape."""
    if base_load.values_kw is not None:
        return np.asarray(base_load.values_kw, dtype=float)
    if base_load.source is not None:
        return load_kw_for_periods(base_load.source, day, period_minutes, n_periods)
    return base_load.mean_kw * shape(base_load.profile, day, period_minutes, n_periods)


def describe_base_load(base_load) -> str:
    """What a site's base load is made of, for reports (metered source, explicit values, or mean x shape)."""
    if base_load.values_kw is not None:
        return f"explicit values_kw ({len(base_load.values_kw)} periods, repeated)"
    if base_load.source is not None:
        return f"metered, from {base_load.source.describe()}"
    return f"mean_kw {base_load.mean_kw:,.0f} kW x profile {base_load.profile!r}"
