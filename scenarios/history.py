"""Load hourly price/load/renewable history files and repair them explicitly (DST, gaps, zeros).

Every change made to the raw data is listed in a :class:`RepairReport`; nothing is changed silently.

Time convention (the epftoolbox convention, Lago et al. 2021): the index is the *local wall clock*
of a stated timezone (default ``Europe/Paris``), naive, with exactly 24 hours every calendar day.
The spring-forward hour that does not exist on the clock (02:00 on the last Sunday of March) is
filled by linear interpolation of 01:00 and 03:00; the autumn hour that occurs twice (02:00 on the
last Sunday of October) holds the mean of its two occurrences. Timezone-aware input (e.g. UTC) is
first converted to the local clock, then this rule applies. One calendar day is then one row of 24
hourly values, which is what day-ahead markets auction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_TIMEZONE = "Europe/Paris"
DEFAULT_MAX_INTERPOLATION_HOURS = 6

# unit suffixes accepted in the column names of users' own tidy files
_UNIT_SUFFIXES = {
    "_eur_per_mwh": "EUR/MWh",
    "_eur_per_kwh": "EUR/kWh",
    "_mwh": "MWh",
    "_kwh": "kWh",
    "_mw": "MW",
    "_kw": "kW",
    "_w": "W",
    "_kw_per_kwp": "kW/kWp",
    "_m_per_s": "m/s",
    "_degc": "degC",
    "_w_per_m2": "W/m2",
    "_capacity_factor": "1",
    "_fraction": "1",
    "_pct": "%",
}


@dataclass(frozen=True)
class Repair:
    """One kind of change made to one column: which timestamps, how many, and how."""

    column: str
    kind: str
    timestamps: tuple
    count: int
    detail: str = ""

    def __str__(self) -> str:
        first = ", ".join(str(t) for t in self.timestamps[:3])
        more = "" if self.count <= 3 else f", ... (+{self.count - 3})"
        return f"{self.column}: {self.kind} x{self.count} [{first}{more}] {self.detail}".rstrip()


@dataclass
class RepairReport:
    """Every repair made while loading a file, in the order they were made."""

    source: str = ""
    repairs: list[Repair] = field(default_factory=list)

    def add(self, column: str, kind: str, timestamps, detail: str = "") -> None:
        timestamps = tuple(pd.Timestamp(t) for t in timestamps)
        if timestamps:
            self.repairs.append(Repair(column, kind, timestamps, len(timestamps), detail))

    def count(self, kind: str | None = None, column: str | None = None) -> int:
        """Number of repaired values, optionally of one kind and/or one column."""
        return sum(
            r.count
            for r in self.repairs
            if (kind is None or r.kind == kind) and (column is None or r.column == column)
        )

    def timestamps(self, kind: str | None = None, column: str | None = None) -> list[pd.Timestamp]:
        out: list[pd.Timestamp] = []
        for r in self.repairs:
            if (kind is None or r.kind == kind) and (column is None or r.column == column):
                out.extend(r.timestamps)
        return sorted(out)

    def to_frame(self) -> pd.DataFrame:
        """One row per repaired value: column, kind, timestamp, detail."""
        rows = [
            (r.column, r.kind, t, r.detail) for r in self.repairs for t in r.timestamps
        ]
        return pd.DataFrame(rows, columns=["column", "kind", "timestamp", "detail"])

    def summary(self) -> pd.DataFrame:
        """Counts per (column, kind)."""
        frame = self.to_frame()
        if frame.empty:
            return pd.DataFrame(columns=["column", "kind", "count"])
        return frame.groupby(["column", "kind"]).size().rename("count").reset_index()

    def __str__(self) -> str:
        lines = [f"RepairReport for {self.source or 'frame'}: {self.count()} repaired values"]
        lines += ["  " + str(r) for r in self.repairs]
        return "\n".join(lines)


@dataclass
class History:
    """Hourly history on a regular local wall-clock index (24 h per day), with units and repairs.

    ``frame`` columns carry units in their names; ``units`` maps each column to its unit.
    """

    frame: pd.DataFrame
    units: dict
    timezone: str = DEFAULT_TIMEZONE
    source: str = ""
    report: RepairReport = field(default_factory=RepairReport)

    def __post_init__(self) -> None:
        missing = [c for c in self.frame.columns if c not in self.units]
        if missing:
            raise ValueError(f"History.units lacks a unit for columns {missing}")

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.frame.index

    def __getitem__(self, column: str) -> pd.Series:
        return self.column(column)

    def column(self, column: str) -> pd.Series:
        if column not in self.frame.columns:
            raise KeyError(
                f"column {column!r} not in history from {self.source or 'frame'}; "
                f"it has {list(self.frame.columns)}"
            )
        return self.frame[column]

    def between(self, start, end) -> "History":
        """The history restricted to [start, end] (both inclusive, end may be a date)."""
        start = pd.Timestamp(start)
        end = pd.Timestamp(end)
        if end == end.normalize():
            end = end + pd.Timedelta(hours=23)
        return History(self.frame.loc[start:end].copy(), dict(self.units), self.timezone,
                       self.source, self.report)

    def daily(self, column: str) -> pd.DataFrame:
        """Days x 24 hours matrix of one column (index: date, columns 0..23); complete days only."""
        s = self.column(column)
        days = s.index.normalize()
        frame = pd.DataFrame({"day": days, "hour": s.index.hour, "value": s.to_numpy()})
        wide = frame.pivot_table(index="day", columns="hour", values="value", aggfunc="first",
                                 dropna=False)
        wide = wide.reindex(columns=range(24))
        return wide.dropna(how="any")


# ------------------------------------------------------------------------------------------
# generic validation and repair
# ------------------------------------------------------------------------------------------
def _dst_hours(years, timezone: str):
    """Wall-clock hours that do not exist (spring) and that occur twice (autumn) in ``timezone``."""
    spring: list[pd.Timestamp] = []
    autumn: list[pd.Timestamp] = []
    for year in years:
        utc = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="UTC",
                            inclusive="left")
        local = utc.tz_convert(timezone)
        offsets = np.array([t.utcoffset().total_seconds() for t in local])
        change = np.flatnonzero(np.diff(offsets) != 0)
        for i in change:
            before, after = offsets[i], offsets[i + 1]
            wall_after = local[i + 1].tz_localize(None)
            if after > before:  # clocks jump forward: the wall hours in between do not exist
                n = int((after - before) // 3600)
                spring += [wall_after - pd.Timedelta(hours=k + 1) for k in range(n)]
            else:  # clocks go back: the wall hours are repeated
                n = int((before - after) // 3600)
                autumn += [wall_after + pd.Timedelta(hours=k) for k in range(n)]
    return sorted(spring), sorted(autumn)


def _runs(mask: np.ndarray):
    """(start, stop) index pairs of the True runs of a boolean array."""
    m = np.concatenate([[False], mask, [False]]).astype(int)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def repair_hourly(
    frame: pd.DataFrame,
    units: dict,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    nonzero_columns=(),
    max_interpolation_hours: int = DEFAULT_MAX_INTERPOLATION_HOURS,
    fill_long_gaps: bool = False,
    source: str = "",
    report: RepairReport | None = None,
    artefacts=(),
) -> History:
    """Put ``frame`` (timestamp index) on a regular 24-hours-a-day local wall-clock index.

    Repairs, each reported: unsorted rows sorted; duplicated timestamps (the autumn DST hour:
    mean of the two occurrences, ``dst_autumn_merged``; any other: mean, ``duplicate_averaged``);
    missing timestamps inserted (the spring DST hour: ``dst_spring_filled``; others:
    ``missing_timestamp``); zeros in ``nonzero_columns`` set missing (``zero_artefact``); values
    flagged by ``artefacts`` (tuples ``(column, kind, boolean Series)``) set missing; then every missing value
    in a run of at most ``max_interpolation_hours`` is linearly interpolated
    (``interpolated_short_gap``), longer runs are reported (``long_gap``) and left missing unless
    ``fill_long_gaps`` (then interpolated too, ``interpolated_long_gap``).
    """
    report = report if report is not None else RepairReport(source)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise TypeError(f"{source or 'frame'}: the index must be timestamps (DatetimeIndex)")
    missing_units = [c for c in frame.columns if c not in units]
    if missing_units:
        raise ValueError(f"{source or 'frame'}: no unit given for columns {missing_units}")
    if max_interpolation_hours < 0:
        raise ValueError(f"max_interpolation_hours must be >= 0; got {max_interpolation_hours}")
    frame = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    index = frame.index
    if index.tz is not None:
        index = index.tz_convert(timezone).tz_localize(None)
        frame = frame.set_axis(index)
    if len(frame) == 0:
        raise ValueError(f"{source or 'frame'} holds no rows")
    if not index.is_monotonic_increasing:
        order = np.argsort(index.values, kind="stable")
        moved = index[order != np.arange(len(index))]
        report.add("*", "sorted", moved, "rows were not in time order")
        frame = frame.iloc[order]
        index = frame.index
    off_hour = index[(index.minute != 0) | (index.second != 0)]
    if len(off_hour):
        raise ValueError(
            f"{source or 'frame'}: timestamps must be on the hour (hourly data); "
            f"first offending: {off_hour[0]}. Resample to hourly means first."
        )
    years = range(index[0].year, index[-1].year + 1)
    spring, autumn = _dst_hours(years, timezone)
    autumn_set, spring_set = set(autumn), set(spring)

    # duplicated timestamps
    dup = index.duplicated(keep=False)
    if dup.any():
        dup_times = pd.DatetimeIndex(index[dup].unique())
        is_autumn = np.array([t in autumn_set for t in dup_times])
        report.add("*", "dst_autumn_merged", dup_times[is_autumn],
                   "repeated autumn hour: mean of its occurrences")
        report.add("*", "duplicate_averaged", dup_times[~is_autumn],
                   "duplicated timestamp: mean of its occurrences")
        frame = frame.groupby(level=0, sort=True).mean()
        index = frame.index

    # missing timestamps
    full = pd.date_range(index[0].normalize(), index[-1].normalize() + pd.Timedelta(hours=23),
                         freq="h")
    if index[0] != full[0] or index[-1] != full[-1]:
        # partial first/last day: keep the rows' own range, but regular
        full = pd.date_range(index[0], index[-1], freq="h")
    absent = full.difference(index)
    if len(absent):
        is_spring = np.array([t in spring_set for t in absent])
        report.add("*", "dst_spring_filled", absent[is_spring],
                   "wall-clock hour absent at spring-forward: interpolated")
        report.add("*", "missing_timestamp", absent[~is_spring], "timestamp absent: filled below")
        frame = frame.reindex(full)
    frame.index = pd.DatetimeIndex(frame.index, freq="h")
    frame.index.name = "time_local"

    frame = fill_flagged_and_gaps(frame, report, source=source, artefacts=artefacts,
                                  nonzero_columns=nonzero_columns,
                                  max_interpolation_hours=max_interpolation_hours,
                                  fill_long_gaps=fill_long_gaps, step_hours=1.0)
    return History(frame, dict(units), timezone, source, report)


def fill_flagged_and_gaps(frame: pd.DataFrame, report: RepairReport, *, source: str = "", artefacts=(),
                          nonzero_columns=(), max_interpolation_hours: float = DEFAULT_MAX_INTERPOLATION_HOURS,
                          fill_long_gaps: bool = False, step_hours: float = 1.0) -> pd.DataFrame:
    """Set flagged values and impossible zeros missing, then fill the gaps of a regular frame, reporting each.

    ``frame`` has a regular index of steps of ``step_hours``; ``artefacts``: tuples ``(column, kind,
    boolean Series)`` set missing (reported as ``kind``); zeros in ``nonzero_columns`` set missing
    (``zero_artefact``); a missing run of at most ``max_interpolation_hours`` inside the data is
    linearly interpolated (``interpolated_short_gap``); longer runs are reported (``long_gap``) and
    left missing unless ``fill_long_gaps``.
    """
    max_steps = int(round(max_interpolation_hours / step_hours))
    # artefacts flagged by the caller and zero artefacts
    for column, kind, mask in artefacts:
        mask = pd.Series(mask).reindex(frame.index, fill_value=False).astype(bool)
        flagged = mask & frame[column].notna()
        report.add(column, kind, frame.index[flagged.to_numpy()],
                   "source artefact: set missing, filled below")
        frame.loc[flagged, column] = np.nan
    for column in nonzero_columns:
        if column not in frame.columns:
            raise KeyError(f"nonzero column {column!r} not in {source or 'frame'}; "
                           f"columns are {list(frame.columns)}")
        zeros = frame[column] == 0
        report.add(column, "zero_artefact", frame.index[zeros.to_numpy()],
                   "zero where zero is impossible: set missing, filled below")
        frame.loc[zeros, column] = np.nan

    # gaps: interpolate short ones, report long ones
    for column in frame.columns:
        values = frame[column].to_numpy(copy=True)
        missing = np.isnan(values)
        if not missing.any():
            continue
        known = np.flatnonzero(~missing)
        if len(known) == 0:
            raise ValueError(f"column {column!r} of {source or 'frame'} holds no values")
        short, long_ = [], []
        for a, b in _runs(missing):
            inner = a > 0 and b < len(values)
            (short if (b - a) <= max_steps and inner else long_).append((a, b))
        for a, b in long_:
            report.add(column, "long_gap", frame.index[a:b],
                       f"{(b - a) * step_hours:g} h missing" + ("; interpolated" if fill_long_gaps else "; left missing"))
        fill = short + (long_ if fill_long_gaps else [])
        if fill:
            interp = np.interp(np.arange(len(values)), known, values[known])
            positions = np.concatenate([np.arange(a, b) for a, b in fill])
            values[positions] = interp[positions]
            kinds = [(a, b) for a, b in short]
            if kinds:
                report.add(column, "interpolated_short_gap",
                           frame.index[np.concatenate([np.arange(a, b) for a, b in kinds])],
                           f"runs of <= {max_interpolation_hours} h, linear")
            frame[column] = values
    return frame


# ------------------------------------------------------------------------------------------
# any interval (5 to 60 minutes), stored in UTC: meter readings
# ------------------------------------------------------------------------------------------
INTERVALS_MINUTES = (5, 10, 15, 30, 60)
DEFAULT_SPIKE_SIGMAS = 10.0
DEFAULT_SPIKE_MIN_FRACTION = 1.0  # a departure larger than the typical level itself


def wall_clock_to_utc(index: pd.DatetimeIndex, timezone: str, report: RepairReport) -> pd.DatetimeIndex:
    """Instants (UTC) of naive local wall-clock times as meters write them, reporting every DST decision.

    A wall-clock time repeated when the clocks go back (autumn fold) is read, in row order, first as
    summer time, then as winter time (``dst_fold_resolved``, both rows listed). A wall-clock time
    that does not exist (clocks jumped forward) becomes NaT (``dst_nonexistent_dropped``). The
    skipped spring hour itself needs no repair: in UTC nothing is missing.
    """
    n = len(index)
    as_dst = index.tz_localize(timezone, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    nonexistent = np.asarray(as_dst.isna())
    as_std = index.tz_localize(timezone, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    ambiguous = ~nonexistent & np.asarray(as_dst != as_std)
    occurrence = pd.Series(np.arange(n)).groupby(np.asarray(index)).cumcount().to_numpy()
    first_is_summer = ambiguous & (occurrence == 0)
    local = index.tz_localize(timezone, ambiguous=first_is_summer | ~ambiguous, nonexistent="NaT")
    utc = local.tz_convert("UTC")
    report.add("*", "dst_fold_resolved", utc[ambiguous],
               f"wall-clock time repeated when clocks go back ({timezone}): first occurrence read "
               "as summer time, the next as winter time")
    report.add("*", "dst_nonexistent_dropped", index[nonexistent].tz_localize("UTC"),
               f"wall-clock time that does not exist in {timezone} (clocks jump forward): row dropped; "
               "timestamp shown as written")
    return utc


def spike_artefacts(frame: pd.DataFrame, *, sigmas: float = DEFAULT_SPIKE_SIGMAS,
                    min_fraction: float = DEFAULT_SPIKE_MIN_FRACTION, kind: str = "spike_replaced"):
    """Single-reading spikes of each column, as ``(column, kind, mask)`` for :func:`fill_flagged_and_gaps`.

    A reading is a spike when it departs from both neighbours, in the same direction, by more than
    ``limit = max(sigmas * 1.4826 * median |step|, min_fraction * median |value|)`` while the two
    neighbours agree within ``limit`` (a step or a burst of two readings or more is not a spike).
    """
    out = []
    for column in frame.columns:
        x = frame[column].to_numpy(dtype=float)
        steps = np.abs(np.diff(x))
        scale = 1.4826 * float(np.nanmedian(steps)) if np.isfinite(steps).any() else 0.0
        level = float(np.nanmedian(np.abs(x))) if np.isfinite(x).any() else 0.0
        limit = max(sigmas * scale, min_fraction * level)
        mask = np.zeros(len(x), dtype=bool)
        if len(x) >= 3:
            up, down = x[1:-1] - x[:-2], x[1:-1] - x[2:]
            with np.errstate(invalid="ignore"):
                same_side = ((up > limit) & (down > limit)) | ((up < -limit) & (down < -limit))
                mask[1:-1] = same_side & (np.abs(x[:-2] - x[2:]) <= limit)
        out.append((column, kind, pd.Series(mask, index=frame.index)))
    return out


def infer_interval_minutes(index: pd.DatetimeIndex, source: str = "") -> int:
    """The most common step between consecutive timestamps, in minutes; one of INTERVALS_MINUTES."""
    steps = np.diff(index.asi8) / 60e9
    steps = steps[steps > 0]
    if len(steps) == 0:
        raise ValueError(f"{source or 'frame'}: cannot infer the interval from fewer than two timestamps; "
                         "give interval_minutes")
    values, counts = np.unique(steps, return_counts=True)
    step = float(values[np.argmax(counts)])
    if step not in INTERVALS_MINUTES:
        raise ValueError(f"{source or 'frame'}: readings every {step:g} min; supported intervals are "
                         f"{INTERVALS_MINUTES} min (give interval_minutes or resample the export)")
    return int(step)


def repair_interval(
    frame: pd.DataFrame,
    units: dict,
    *,
    interval_minutes: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    nonzero_columns=(),
    max_interpolation_hours: float = DEFAULT_MAX_INTERPOLATION_HOURS,
    fill_long_gaps: bool = False,
    spike_sigmas: float | None = DEFAULT_SPIKE_SIGMAS,
    spike_min_fraction: float = DEFAULT_SPIKE_MIN_FRACTION,
    source: str = "",
    report: RepairReport | None = None,
) -> History:
    """Put readings every 5 to 60 minutes on a regular UTC index, every repair reported.

    Naive timestamps are the wall clock of ``timezone`` (see :func:`wall_clock_to_utc`); aware ones
    are converted. Then, as :func:`repair_hourly` does on the hourly wall clock: unsorted rows sorted
    (``sorted``), duplicated instants averaged (``duplicate_averaged``), absent instants inserted
    (``missing_timestamp``), spikes (:func:`spike_artefacts`, unless ``spike_sigmas`` is None) and
    impossible zeros set missing, and gaps filled by :func:`fill_flagged_and_gaps`. Days in the
    site's local time have 23 or 25 hours at DST changes; the UTC index has none.
    """
    report = report if report is not None else RepairReport(source)
    name = source or "frame"
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise TypeError(f"{name}: the index must be timestamps (DatetimeIndex)")
    missing_units = [c for c in frame.columns if c not in units]
    if missing_units:
        raise ValueError(f"{name}: no unit given for columns {missing_units}")
    if len(frame) == 0:
        raise ValueError(f"{name} holds no rows")
    if interval_minutes is not None and interval_minutes not in INTERVALS_MINUTES:
        raise ValueError(f"interval_minutes = {interval_minutes}: supported intervals are {INTERVALS_MINUTES} min")
    frame = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    if frame.index.tz is None:
        utc = wall_clock_to_utc(frame.index, timezone, report)
        keep = np.asarray(utc.notna())
        frame = frame.iloc[keep].set_axis(utc[keep])
    else:
        frame = frame.set_axis(frame.index.tz_convert("UTC"))
    index = frame.index
    if not index.is_monotonic_increasing:
        order = np.argsort(index.asi8, kind="stable")
        report.add("*", "sorted", index[order != np.arange(len(index))], "rows were not in time order")
        frame = frame.iloc[order]
        index = frame.index
    dup = index.duplicated(keep=False)
    if dup.any():
        report.add("*", "duplicate_averaged", pd.DatetimeIndex(index[dup].unique()),
                   "duplicated timestamp: mean of its occurrences (identical readings: one dropped)")
        frame = frame.groupby(level=0, sort=True).mean()
        index = frame.index
    step = interval_minutes if interval_minutes is not None else infer_interval_minutes(index, source)
    freq = pd.Timedelta(minutes=step)
    off_grid = index[index != index.floor(freq)]
    if len(off_grid):
        raise ValueError(f"{name}: timestamps must fall on whole {step}-minute intervals (UTC); first "
                         f"offending: {off_grid[0]}; give interval_minutes or fix the export")
    full = pd.date_range(index[0], index[-1], freq=freq)
    absent = full.difference(index)
    report.add("*", "missing_timestamp", absent, "timestamp absent: filled below")
    frame = frame.reindex(full)
    frame.index.name = "time_utc"
    artefacts = [] if spike_sigmas is None else spike_artefacts(frame, sigmas=spike_sigmas,
                                                               min_fraction=spike_min_fraction)
    frame = fill_flagged_and_gaps(frame, report, source=source, artefacts=artefacts,
                                  nonzero_columns=nonzero_columns,
                                  max_interpolation_hours=max_interpolation_hours,
                                  fill_long_gaps=fill_long_gaps, step_hours=step / 60.0)
    frame.attrs["interval_minutes"] = step
    return History(frame, dict(units), timezone, source, report)


# ------------------------------------------------------------------------------------------
# file loaders
# ------------------------------------------------------------------------------------------
def shared_data_dir() -> Path:
    """The shared real-data folder next to the project root (``../shared/data``)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _read_csv(path, required, **kwargs) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"history file not found: {path}")
    frame = pd.read_csv(path, **kwargs)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path.name} lacks column(s) {missing}; it has {list(frame.columns)}"
        )
    return frame


ENTSOE_COLUMNS = {
    "Price_DA": ("price_eur_per_mwh", "EUR/MWh"),
    "Load_DA": ("load_forecast_mw", "MW"),
    "Load_AC": ("load_actual_mw", "MW"),
    "Gen_SC": ("generation_scheduled_mw", "MW"),
    "Sol_DA": ("solar_forecast_mw", "MW"),
    "Won_DA": ("wind_onshore_forecast_mw", "MW"),
}


def _dst_artefacts(raw: pd.DataFrame, timezone: str = DEFAULT_TIMEZONE):
    """Artefacts of a 24-rows-a-day file: the spring 02:00 copying 01:00, the merged autumn 02:00."""
    index = raw.index
    spring, autumn = _dst_hours(range(index[0].year, index[-1].year + 1), timezone)
    spring_mask = pd.Series(index.isin(spring), index=index)
    autumn_mask = pd.Series(index.isin(autumn), index=index)
    out = []
    for column in raw.columns:
        copy = spring_mask & (raw[column] == raw[column].shift(1))
        out.append((column, "dst_spring_copy_replaced", copy))
        out.append((column, "dst_autumn_artefact_replaced", autumn_mask))
    return out


def load_entsoe_fr(path=None, *, max_interpolation_hours: int = DEFAULT_MAX_INTERPOLATION_HOURS,
                   fill_long_gaps: bool = False) -> History:
    """France ENTSO-E extract 2015-2023 (``prices/entsoe_FR_2015_2023.csv``), repaired.

    The file already has 24 rows a day: its spring 02:00 copies 01:00 and its autumn 02:00 is the
    mean of two occurrences of which one was often a gap filled with 0 (half values). Both are
    replaced by interpolation of the neighbouring hours, in every column, and reported. Zeros in
    actual load, load forecast, scheduled generation and onshore wind forecast are artefacts
    (France always has load and some wind): interpolated when short, reported.
    """
    path = Path(path) if path is not None else shared_data_dir() / "prices" / "entsoe_FR_2015_2023.csv"
    raw = _read_csv(path, list(ENTSOE_COLUMNS), index_col=0)
    try:
        raw.index = pd.to_datetime(raw.index, format="%m/%d/%Y %H:%M")
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path.name}: first column must hold m/d/Y H:MM timestamps ({err})") from None
    raw = raw[list(ENTSOE_COLUMNS)].rename(columns={k: v[0] for k, v in ENTSOE_COLUMNS.items()})
    units = {v[0]: v[1] for v in ENTSOE_COLUMNS.values()}
    artefacts = _dst_artefacts(raw)
    return repair_hourly(
        raw, units, source=path.name, max_interpolation_hours=max_interpolation_hours,
        fill_long_gaps=fill_long_gaps, artefacts=artefacts,
        nonzero_columns=["load_forecast_mw", "load_actual_mw", "generation_scheduled_mw",
                         "wind_onshore_forecast_mw"],
    )


def load_fr_hourly(path=None, *, max_interpolation_hours: int = DEFAULT_MAX_INTERPOLATION_HOURS) -> History:
    """France 2019-2022 cleaned subset with national PV and onshore-wind capacity factors.

    Same wall-clock convention and same source artefacts as the ENTSO-E file (spring 02:00 a copy,
    autumn 02:00 a half value): both replaced by interpolation and reported.
    """
    path = Path(path) if path is not None else shared_data_dir() / "prices" / "fr_hourly_2019_2022.csv"
    columns = {
        "price_eur_mwh": ("price_eur_per_mwh", "EUR/MWh"),
        "load_mw": ("load_actual_mw", "MW"),
        "solar_cf_est": ("solar_capacity_factor", "1"),
        "wind_onshore_cf_est": ("wind_onshore_capacity_factor", "1"),
    }
    raw = _read_csv(path, ["time_local_cet_cest", *columns])
    raw.index = pd.to_datetime(raw.pop("time_local_cet_cest"))
    raw = raw[list(columns)].rename(columns={k: v[0] for k, v in columns.items()})
    units = {v[0]: v[1] for v in columns.values()}
    return repair_hourly(raw, units, nonzero_columns=["load_actual_mw"], source=path.name,
                         max_interpolation_hours=max_interpolation_hours,
                         artefacts=_dst_artefacts(raw))


def load_epftoolbox(path=None, zone: str = "FR") -> History:
    """The epftoolbox benchmark data (FR 2011-2016 or DE 2012-2017), already DST-regularised.

    Only validated (regular hourly index, no duplicates); the report lists any repair needed.
    """
    zone = zone.upper()
    files = {"FR": "epftoolbox_FR_2011_2016.csv", "DE": "epftoolbox_DE_2012_2017.csv"}
    if zone not in files:
        raise ValueError(f"zone must be 'FR' or 'DE'; got {zone!r}")
    path = Path(path) if path is not None else shared_data_dir() / "prices" / files[zone]
    if zone == "FR":
        columns = {
            "Prices": ("price_eur_per_mwh", "EUR/MWh"),
            "Generation forecast": ("generation_forecast_mw", "MW"),
            "System load forecast": ("load_forecast_mw", "MW"),
        }
    else:
        columns = {
            "Price": ("price_eur_per_mwh", "EUR/MWh"),
            "Ampirion Load Forecast": ("load_forecast_mw", "MW"),
            "PV+Wind Forecast": ("pv_wind_forecast_mw", "MW"),
        }
    raw = _read_csv(path, list(columns), index_col=0)
    raw.index = pd.to_datetime(raw.index)
    raw = raw[list(columns)].rename(columns={k: v[0] for k, v in columns.items()})
    return repair_hourly(raw, {v[0]: v[1] for v in columns.values()},
                         nonzero_columns=["load_forecast_mw"], source=path.name)


def unit_of(column: str) -> str:
    """The unit encoded in a column name's suffix (``load_kw`` -> ``kW``); ValueError if none."""
    name = column.lower()
    for suffix in sorted(_UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _UNIT_SUFFIXES[suffix]
    raise ValueError(
        f"column {column!r} has no unit in its name; rename it with a unit suffix, one of "
        f"{sorted(_UNIT_SUFFIXES)} (e.g. 'load_kw', 'price_eur_per_mwh')"
    )


def load_tidy(
    path,
    *,
    timestamp_column: str = "timestamp",
    columns=None,
    timezone: str = DEFAULT_TIMEZONE,
    nonzero_columns=(),
    max_interpolation_hours: int = DEFAULT_MAX_INTERPOLATION_HOURS,
    fill_long_gaps: bool = False,
) -> History:
    """A user's own metered data: CSV or Parquet with a timestamp column and unit-named columns.

    Timestamps may be naive local wall-clock (in ``timezone``, with the spring hour absent and
    the autumn hour repeated, as meters write them) or carry an offset/timezone (converted).
    Sub-hourly data must be resampled to hourly first.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"history file not found: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        raw = pd.read_parquet(path)
    else:
        raw = pd.read_csv(path)
    if timestamp_column not in raw.columns:
        raise ValueError(
            f"{path.name} lacks the timestamp column {timestamp_column!r}; it has {list(raw.columns)} "
            "(pass timestamp_column=...)"
        )
    text = raw.pop(timestamp_column)
    if pd.api.types.is_datetime64_any_dtype(text):
        stamps = pd.DatetimeIndex(text)
    else:
        text = text.astype(str)
        has_offset = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$").any()
        try:
            # explicit offsets (e.g. +01:00 / +02:00 across DST) are instants: parse them as UTC
            stamps = pd.DatetimeIndex(pd.to_datetime(text, utc=bool(has_offset)))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path.name}: cannot parse column {timestamp_column!r} as timestamps "
                             f"({err})") from None
    raw.index = stamps
    if columns is not None:
        missing = [c for c in columns if c not in raw.columns]
        if missing:
            raise ValueError(f"{path.name} lacks column(s) {missing}; it has {list(raw.columns)}")
        raw = raw[list(columns)]
    units = {c: unit_of(c) for c in raw.columns}
    return repair_hourly(raw, units, timezone=timezone, nonzero_columns=nonzero_columns,
                         max_interpolation_hours=max_interpolation_hours,
                         fill_long_gaps=fill_long_gaps, source=path.name)


def french_public_holidays(years) -> set:
    """French public holidays (metropolitan) of the given years, as ``datetime.date``s.

    New Year, Easter Monday, 1 and 8 May, Ascension, Whit Monday, 14 July, 15 August,
    1 and 11 November, Christmas. Easter by the anonymous Gregorian algorithm.
    """
    out = set()
    for y in years:
        a, b, c = y % 19, y // 100, y % 100
        d, e = b // 4, b % 4
        f = (b + 8) // 25
        g = (b - f + 1) // 3
        h = (19 * a + b - d - g + 15) % 30
        i, k = c // 4, c % 4
        el = (32 + 2 * e + 2 * i - h - k) % 7
        m = (a + 11 * h + 22 * el) // 451
        month = (h + el - 7 * m + 114) // 31
        day = ((h + el - 7 * m + 114) % 31) + 1
        easter = dt.date(y, month, day)
        out |= {
            dt.date(y, 1, 1), easter + dt.timedelta(days=1), dt.date(y, 5, 1), dt.date(y, 5, 8),
            easter + dt.timedelta(days=39), easter + dt.timedelta(days=50), dt.date(y, 7, 14),
            dt.date(y, 8, 15), dt.date(y, 11, 1), dt.date(y, 11, 11), dt.date(y, 12, 25),
        }
    return out
