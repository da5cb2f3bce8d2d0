"""A site's own meter data (CSV, Parquet, or SQL via a SQLAlchemy URL) as a tidy UTC frame in kW,
every repair reported, and resampled to the case's periods with the energy conserved.

Conventions: readings are stored and returned in UTC (``time_utc``, the start of each interval);
the site's days are its local days, so a day has 23 or 25 hours when the clocks change. A reading
is the mean power over its interval; energy units (Wh, kWh, MWh) are per interval.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import psycopg
import pyarrow.parquet as pq
import sqlalchemy as sa

from planner.errors import BadInputError
from planner.progress import Progress
from scenarios.history import (
    DEFAULT_MAX_INTERPOLATION_HOURS,
    DEFAULT_SPIKE_SIGMAS,
    DEFAULT_TIMEZONE,
    INTERVALS_MINUTES,
    History,
    RepairReport,
    infer_interval_minutes,
    repair_hourly,
    repair_interval,
)

PRICE_COLUMN = "price_eur_per_mwh"  # the column the day-ahead price model fits (scenarios.price.PRICE_COLUMN)
PV_COLUMN = "pv_kw_per_kwp"
PRICE_UNITS_TO_EUR_PER_MWH = {"EUR/MWh": 1.0, "EUR/kWh": 1e3}
PRICE_UNITS = tuple(PRICE_UNITS_TO_EUR_PER_MWH)
POWER_UNITS_TO_KW = {"W": 1e-3, "kW": 1.0, "MW": 1e3}
ENERGY_UNITS_TO_KWH = {"Wh": 1e-3, "kWh": 1.0, "MWh": 1e3}  # energy per interval
UNITS = tuple(POWER_UNITS_TO_KW) + tuple(ENERGY_UNITS_TO_KWH)
_SQL_CHUNK_ROWS = 200_000
_PG_TIMESTAMP_OIDS = {1114: False, 1184: True}  # timestamp, timestamptz: is the column time-zone aware
_PG_EPOCH_2000_US = 946_684_800_000_000  # PostgreSQL's binary timestamps count microseconds from 2000-01-01
_PG_READ_WORK_MEM = "256MB"  # the bulk read's per-meter arrays held in memory, not spilled to disk


class DataSourceError(BadInputError):
    """A data source that cannot be read or repaired; the message names the field or column and the fix."""


def _doc(default=None, *, unit: str = "", choices=None, doc: str = ""):
    """A field with the metadata the case-file validator and its documentation read."""
    return field(default=default, metadata={"unit": unit, "choices": choices, "doc": doc})


@dataclass(frozen=True, kw_only=True)
class DataSource:
    """Where a site's readings are and how to read them (a ``[...source]`` table of the case file)."""

    path: str | None = _doc(doc="CSV or Parquet file (relative to the case file); or give url")
    url: str | None = _doc(doc="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db or sqlite:///meters.db")
    table: str | None = _doc(doc="table (with url); or give query")
    db_schema: str | None = _doc(doc="database schema of the table (with url and table)")
    query: str | None = _doc(doc="SELECT statement (with url) whose columns hold the readings")
    timestamp_column: str = _doc("timestamp", doc="column of timestamps (naive = site-local wall clock)")
    value_column: str = _doc("value", doc="column of readings")
    unit: str | None = _doc(None, doc="unit of every reading: W, kW, MW; Wh, kWh, MWh per interval (a price "
                                      "history: EUR/MWh, EUR/kWh)")
    unit_column: str | None = _doc(doc="column holding each reading's unit (instead of unit)")
    meter_column: str | None = _doc(doc="column of meter ids (several meters: a site's load is their sum)")
    meter: str | None = _doc(doc="keep only this meter id (with meter_column)")
    timezone: str = _doc(DEFAULT_TIMEZONE, doc="IANA time zone of the site (naive timestamps are its wall clock)")
    naive_timestamps: str = _doc("local", choices=("local", "utc"),
                                 doc="what timestamps without offset mean: the site's wall clock (meters) "
                                     "or UTC (e.g. a SQLite copy of the results store)")
    interval_minutes: int | None = _doc(None, unit="min", choices=INTERVALS_MINUTES,
                                        doc="reading interval; default: inferred (5, 10, 15, 30 or 60)")
    max_interpolation_hours: float = _doc(DEFAULT_MAX_INTERPOLATION_HOURS, unit="h",
                                          doc="longer gaps are reported and left missing")
    spike_sigmas: float | None = _doc(DEFAULT_SPIKE_SIGMAS, doc="spike threshold in robust sigmas of the steps")

    def describe(self) -> str:
        """A short name of the source for reports (never the URL's password)."""
        if self.path is not None:
            return Path(self.path).name
        url = sa.engine.make_url(self.url).render_as_string(hide_password=True)
        return f"{url} {self.table or 'query'}"

    def problems(self, where: str = "source", units=UNITS) -> list[str]:
        """Every problem of this source, each naming the field and the fix (empty when usable); ``units``: the
        units allowed (a load's or PV output's: power or energy per interval; a price's: PRICE_UNITS)."""
        out = []
        if (self.path is None) == (self.url is None):
            out.append(f"{where}: give exactly one of path (a CSV or Parquet file) or url (a SQLAlchemy URL)")
        if self.path is not None:
            if not Path(self.path).is_file():
                out.append(f"{where}.path = {self.path!r}: no such file (paths are relative to the case file)")
            if self.table is not None or self.query is not None:
                out.append(f"{where}: table and query go with url, not with path")
        if self.url is not None:
            try:
                sa.engine.make_url(self.url)
            except sa.exc.ArgumentError:
                out.append(f"{where}.url: not a SQLAlchemy URL; write e.g. postgresql+psycopg://user@host/db")
            if (self.table is None) == (self.query is None):
                out.append(f"{where}: with url give exactly one of table or query")
        if (self.unit is None) == (self.unit_column is None):
            out.append(f"{where}: give exactly one of unit (one of {', '.join(units)}) or unit_column")
        elif self.unit is not None and self.unit not in units:
            out.append(f"{where}.unit = {self.unit!r}: allowed units are {', '.join(units)}")
        if self.meter is not None and self.meter_column is None:
            out.append(f"{where}.meter = {self.meter!r}: needs meter_column (the column of meter ids)")
        if self.naive_timestamps not in ("local", "utc"):
            out.append(f"{where}.naive_timestamps = {self.naive_timestamps!r}: allowed are 'local' or 'utc'")
        if self.interval_minutes is not None and self.interval_minutes not in INTERVALS_MINUTES:
            out.append(f"{where}.interval_minutes = {self.interval_minutes}: allowed are {INTERVALS_MINUTES}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            out.append(f"{where}.timezone = {self.timezone!r}: not an IANA time zone; write e.g. 'Europe/Paris'")
        return out

    def check(self, units=UNITS) -> "DataSource":
        problems = self.problems(units=units)
        if problems:
            raise DataSourceError("invalid data source:\n  - " + "\n  - ".join(problems))
        return self


def source_from_dict(data: dict) -> DataSource:
    """A DataSource from a mapping (CLI options, JSON); unknown keys are an error naming the known ones."""
    known = {f.name for f in fields(DataSource)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DataSourceError(f"data source: unknown field(s) {unknown}; known fields: {sorted(known)}")
    return DataSource(**data).check()


@dataclass
class MeterData:
    """Repaired readings of one or more meters: a tidy frame (meter_id, time_utc, power_kw) and reports."""

    frame: pd.DataFrame
    reports: dict = field(default_factory=dict)
    interval_minutes: dict = field(default_factory=dict)
    source: str = ""
    timezone: str = DEFAULT_TIMEZONE

    @property
    def meters(self) -> list[str]:
        return list(self.reports)

    def series(self, meter: str) -> pd.Series:
        """Power (kW) of one meter on its regular UTC index."""
        if meter not in self.reports:
            raise KeyError(f"no meter {meter!r} in {self.source}; meters are {self.meters}")
        rows = self.frame[self.frame["meter_id"] == meter]
        return pd.Series(rows["power_kw"].to_numpy(), index=pd.DatetimeIndex(rows["time_utc"]), name=meter)

    def repair_frame(self) -> pd.DataFrame:
        """One row per repaired value of every meter: meter_id, kind, time_utc, detail."""
        parts = []
        for meter, report in self.reports.items():
            frame = report.to_frame().rename(columns={"timestamp": "time_utc"})
            frame.insert(0, "meter_id", meter)
            parts.append(frame[["meter_id", "kind", "time_utc", "detail"]])
        if not parts:
            return pd.DataFrame(columns=["meter_id", "kind", "time_utc", "detail"])
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> str:
        lines = [f"{self.source}: {len(self.meters)} meter(s), {len(self.frame)} readings (UTC)"]
        for meter, report in self.reports.items():
            counts = report.summary()
            text = ", ".join(f"{k} {c}" for k, c in zip(counts["kind"], counts["count"])) or "no repair"
            lines.append(f"  {meter}: every {self.interval_minutes[meter]} min; {text}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reading raw rows: columns timestamp, value, [unit], [meter_id]
# --------------------------------------------------------------------------------------------
def _wanted_columns(source: DataSource) -> dict:
    """{raw column name: canonical name} of the columns to read."""
    out = {source.timestamp_column: "timestamp", source.value_column: "value"}
    if source.unit_column is not None:
        out[source.unit_column] = "unit"
    if source.meter_column is not None:
        out[source.meter_column] = "meter_id"
    return out


def _read_file(source: DataSource, wanted: dict) -> pd.DataFrame:
    path = Path(source.path)
    if not path.is_file():
        raise FileNotFoundError(f"data source file not found: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        available = pq.read_schema(path).names
    else:
        available = pd.read_csv(path, nrows=0).columns
    missing = [c for c in wanted if c not in available]
    if missing:
        raise DataSourceError(f"{path.name} lacks column(s) {missing}; it has {list(available)} "
                              "(set timestamp_column / value_column / unit_column / meter_column)")
    if path.suffix.lower() in (".parquet", ".pq"):
        raw = pd.read_parquet(path, columns=list(wanted))
    else:
        raw = pd.read_csv(path, usecols=list(wanted), dtype={c: str for c in wanted if wanted[c] in ("unit", "meter_id")})
    return raw.rename(columns=wanted)


def source_select(source: DataSource) -> sa.Select:
    """The SELECT of the mapped columns, names quoted by SQLAlchemy (never pasted into SQL text)."""
    wanted = _wanted_columns(source)
    if source.table is not None:
        origin = sa.table(source.table, *[sa.column(c) for c in wanted], schema=source.db_schema)
    else:
        origin = sa.text(source.query).columns(*[sa.column(c) for c in wanted]).subquery("source_query")
    select = sa.select(*[origin.c[c].label(name) for c, name in wanted.items()])
    if source.meter is not None:
        select = select.where(origin.c[source.meter_column] == sa.bindparam("meter", source.meter))
    return select


def _read_sql(source: DataSource, wanted: dict) -> pd.DataFrame:
    engine = sa.create_engine(source.url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return _read_postgresql_aggregated(conn, source_select(source))
            chunks = pd.read_sql(source_select(source), conn, chunksize=_SQL_CHUNK_ROWS)
            frames = list(chunks)
    except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
        cause = getattr(exc, "orig", None) or exc
        raise DataSourceError(f"data source {source.describe()}: the database refused the read "
                              f"({type(cause).__name__}: {str(cause).splitlines()[0]}); "
                              "check table / query and the column names") from None
    finally:
        engine.dispose()
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(wanted.values()))
    return raw


def _read_postgresql_aggregated(conn, select: sa.Select) -> pd.DataFrame:
    """Bulk read from PostgreSQL: one row per meter holding its timestamps and readings as arrays
    (``array_agg``) in PostgreSQL's binary array format (``array_send``), decoded by numpy; far faster
    than fetching millions of rows one by one. The aggregation gets ``work_mem`` for this transaction
    only (SET LOCAL). NULL readings become NaN; a NULL timestamp is an error."""
    described = conn.execute(select.limit(0))
    timestamp_oid = {d[0]: d[1] for d in described.cursor.description}.get("timestamp")
    inner = select.subquery("readings")
    if timestamp_oid in _PG_TIMESTAMP_OIDS:  # sent as they are stored: microseconds from 2000-01-01
        stamps, origin_us = inner.c["timestamp"], _PG_EPOCH_2000_US
    else:  # another type the server reads as a time (date, ...): microseconds from 1970 (float8 -> bigint rounds)
        epoch_s = sa.func.date_part("epoch", inner.c["timestamp"])
        stamps, origin_us = sa.cast(epoch_s * 1_000_000, sa.BigInteger), 0
    nan = sa.cast(sa.literal_column("'NaN'"), sa.Float)
    columns = [sa.func.array_send(sa.func.array_agg(stamps)).label("timestamp"),
               sa.func.array_send(sa.func.array_agg(sa.func.coalesce(sa.cast(inner.c["value"], sa.Float), nan))
                                  ).label("value"),
               (sa.func.count() - sa.func.count(inner.c["timestamp"])).label("no_timestamp")]
    if "unit" in inner.c:
        columns.append(sa.func.array_agg(sa.cast(inner.c["unit"], sa.Text)).label("unit"))
    group = [inner.c["meter_id"]] if "meter_id" in inner.c else []
    compiled = sa.select(*group, *columns).group_by(*group).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"SET LOCAL work_mem = '{_PG_READ_WORK_MEM}'"))
    with conn.connection.dbapi_connection.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        names = [d.name for d in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    missing = sum(int(row["no_timestamp"]) for row in rows)
    if missing:
        raise DataSourceError(f"{missing} rows have no timestamp (NULL); filter them out with a query")
    if not rows:
        return pd.DataFrame(columns=["timestamp", "value"])
    stamps_us = [_pg_array(row["timestamp"], ">i8") for row in rows]
    lengths = [len(a) for a in stamps_us]
    micro = (np.concatenate(stamps_us) + origin_us).astype("datetime64[us]").astype("datetime64[ns]")
    frame = pd.DataFrame({"timestamp": pd.DatetimeIndex(micro),
                          "value": np.concatenate([_pg_array(row["value"], ">f8") for row in rows])})
    if "unit" in names:
        frame["unit"] = np.concatenate([np.array(row["unit"], dtype=object) for row in rows])
    if "meter_id" in names:
        frame["meter_id"] = np.repeat(np.array([str(row["meter_id"]) for row in rows], dtype=object), lengths)
    if _PG_TIMESTAMP_OIDS.get(timestamp_oid, False):  # timestamptz: the instants in UTC
        frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_localize("UTC")
    return frame


def _pg_array(buffer: bytes, dtype: str) -> np.ndarray:
    """The elements of a one-dimensional PostgreSQL array without NULLs, from its binary form (``array_send``:
    dimensions, flags, element type, then per dimension its length and lower bound, then per element its byte
    length and value), as a native numpy array of ``dtype`` (big-endian ``>i8`` or ``>f8``)."""
    n_dims, has_nulls, _ = struct.unpack_from(">iii", buffer)
    if n_dims == 0:
        return np.empty(0, dtype=dtype[1:])
    if n_dims != 1 or has_nulls:
        raise DataSourceError("the database sent an array of more than one dimension or with NULLs; "
                              "map value and timestamp to plain columns")
    (count,) = struct.unpack_from(">i", buffer, 12)
    items = np.frombuffer(buffer, dtype=[("length", ">i4"), ("value", dtype)], count=count, offset=20)
    return items["value"].astype(dtype[1:])


def read_raw(source: DataSource, units=UNITS) -> pd.DataFrame:
    """Rows of the source with columns timestamp, value and, when mapped, unit and meter_id."""
    source.check(units)
    wanted = _wanted_columns(source)
    raw = _read_file(source, wanted) if source.path is not None else _read_sql(source, wanted)
    if source.meter is not None and source.path is not None:
        raw = raw[raw["meter_id"].astype(str) == str(source.meter)]
    if raw.empty:
        raise DataSourceError(f"data source {source.describe()}: no rows"
                              + (f" for meter {source.meter!r}" if source.meter is not None else ""))
    if "meter_id" not in raw.columns:
        raw["meter_id"] = source.meter or "meter"
    raw["meter_id"] = raw["meter_id"].astype(str)
    return raw


def parse_timestamps(values, name: str) -> pd.DatetimeIndex:
    """Timestamps of a raw column: aware ones stay aware (converted to UTC), naive ones stay naive."""
    if pd.api.types.is_datetime64_any_dtype(values):
        index = pd.DatetimeIndex(values)
        return index.tz_convert("UTC") if index.tz is not None else index
    text = pd.Series(values).astype(str)
    has_offset = bool(text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$").any())
    try:
        return pd.DatetimeIndex(pd.to_datetime(text, utc=has_offset, format="ISO8601"))
    except (ValueError, TypeError) as err:
        raise DataSourceError(f"{name}: cannot read the timestamps ({err}); write them as ISO 8601, "
                              "e.g. 2019-03-31 01:45 (site-local) or 2019-03-30T23:45:00Z") from None


# --------------------------------------------------------------------------------------------
# Units and repair
# --------------------------------------------------------------------------------------------
def to_power_kw(values: np.ndarray, units, interval_minutes: float, name: str = "source") -> np.ndarray:
    """Mean power (kW) over each interval of readings in W/kW/MW, or Wh/kWh/MWh per interval."""
    to_kw = {**POWER_UNITS_TO_KW, **{u: f * 60.0 / interval_minutes for u, f in ENERGY_UNITS_TO_KWH.items()}}
    if isinstance(units, str) and units in to_kw:  # one unit for every reading
        return np.asarray(values, dtype=float) * to_kw[units]
    units = pd.Series(np.broadcast_to(np.asarray(units, dtype=object), len(values)))
    factors = units.map(to_kw)
    unknown = sorted(set(units[factors.isna()].astype(str)))
    if unknown:
        raise DataSourceError(f"{name}: unknown unit(s) {unknown}; allowed units are {', '.join(UNITS)}")
    return np.asarray(values, dtype=float) * factors.to_numpy(dtype=float)


def repair_meter(raw: pd.DataFrame, source: DataSource, meter: str) -> tuple[pd.Series, RepairReport, int]:
    """One meter's rows (timestamp, value, [unit]) -> power (kW) on a regular UTC index, report, interval."""
    name = f"{source.describe()} meter {meter}"
    stamps = parse_timestamps(raw["timestamp"], name)
    if stamps.tz is None and source.naive_timestamps == "utc":
        stamps = stamps.tz_localize("UTC")
    try:
        interval = source.interval_minutes or infer_interval_minutes(stamps.unique().sort_values(), name)
    except ValueError as exc:
        raise DataSourceError(str(exc)) from None
    units = raw["unit"].to_numpy() if "unit" in raw.columns else source.unit
    power = to_power_kw(raw["value"].to_numpy(), units, interval, name)
    frame = pd.DataFrame({"power_kw": power}, index=stamps)
    try:
        history = repair_interval(frame, {"power_kw": "kW"}, interval_minutes=interval, timezone=source.timezone,
                                  max_interpolation_hours=source.max_interpolation_hours,
                                  spike_sigmas=source.spike_sigmas, source=name)
    except ValueError as exc:
        raise DataSourceError(str(exc)) from None
    return history.frame["power_kw"], history.report, interval


def load_meter_data(source: DataSource, progress: bool = False) -> MeterData:
    """Read, convert to kW, and repair every meter of a source; the result is in UTC.
    ``progress``: a line after the read and every 10 meters (planner.progress)."""
    log = Progress("ingest", enabled=progress)
    raw = read_raw(source)
    n_meters = raw["meter_id"].nunique()
    log.message(f"read {len(raw):,} rows of {n_meters} meter(s) from {source.describe()}")
    series, reports, intervals = [], {}, {}
    for k, (meter, rows) in enumerate(raw.groupby("meter_id", sort=True), start=1):
        s, report, interval = repair_meter(rows, source, str(meter))
        reports[str(meter)], intervals[str(meter)] = report, interval
        if k % 10 == 0 or k == n_meters:
            log.message(f"repaired {k} / {n_meters} meters")
        series.append(pd.DataFrame({"meter_id": str(meter), "time_utc": s.index, "power_kw": s.to_numpy()}))
    frame = pd.concat(series, ignore_index=True)
    return MeterData(frame, reports, intervals, source.describe(), source.timezone)


@lru_cache(maxsize=8)
def _cached_meter_data(source: DataSource, stamp) -> MeterData:
    return load_meter_data(source)


def cached_meter_data(source: DataSource) -> MeterData:
    """:func:`load_meter_data`, remembered per source (and file modification time) within a process."""
    stamp = os.stat(source.path).st_mtime_ns if source.path is not None else None
    return _cached_meter_data(source, stamp)


# --------------------------------------------------------------------------------------------
# Price and PV histories (for calibration): one series, repaired, hourly
# --------------------------------------------------------------------------------------------
def _one_series(source: DataSource, units, what: str, to_values) -> History:
    """The readings of a one-series source repaired on a regular UTC index (``to_values(values, units,
    interval)`` converts them); several meter ids without ``meter`` are an error naming the ids."""
    raw = read_raw(source, units)
    ids = sorted(raw["meter_id"].unique())
    if len(ids) > 1:
        raise DataSourceError(f"{what} source {source.describe()}: {len(ids)} series in meter_column "
                              f"{source.meter_column!r} ({ids[:5]}...); choose one with meter")
    name = f"{source.describe()} ({what})"
    stamps = parse_timestamps(raw["timestamp"], name)
    if stamps.tz is None and source.naive_timestamps == "utc":
        stamps = stamps.tz_localize("UTC")
    try:
        interval = source.interval_minutes or infer_interval_minutes(stamps.unique().sort_values(), name)
    except ValueError as exc:
        raise DataSourceError(str(exc)) from None
    units_given = raw["unit"].to_numpy() if "unit" in raw.columns else source.unit
    values, unit = to_values(raw["value"].to_numpy(), units_given, interval, name)
    frame = pd.DataFrame({what: values}, index=stamps)
    try:
        return repair_interval(frame, {what: unit}, interval_minutes=interval, timezone=source.timezone,
                               max_interpolation_hours=source.max_interpolation_hours,
                               spike_sigmas=source.spike_sigmas, source=name)
    except ValueError as exc:
        raise DataSourceError(str(exc)) from None


def to_eur_per_mwh(values: np.ndarray, units, interval_minutes: float = 60, name: str = "source"):
    """Prices in EUR/MWh from EUR/MWh or EUR/kWh (``interval_minutes`` unused: a price is per energy)."""
    units = pd.Series(np.broadcast_to(np.asarray(units, dtype=object), len(values)))
    factors = units.map(PRICE_UNITS_TO_EUR_PER_MWH)
    unknown = sorted(set(units[factors.isna()].astype(str)))
    if unknown:
        raise DataSourceError(f"{name}: unknown price unit(s) {unknown}; allowed units are {', '.join(PRICE_UNITS)}")
    return np.asarray(values, dtype=float) * factors.to_numpy(dtype=float), "EUR/MWh"


def load_price_history(source: DataSource) -> History:
    """The day-ahead prices of a source (EUR/MWh, EUR/kWh) as the price model fits them: hourly means on the
    site's local wall clock, 24 hours a day (the spring hour interpolated, the two autumn hours averaged).

    Real price spikes are kept unless the source sets ``spike_sigmas``; every repair is in the report."""
    history = _one_series(source, PRICE_UNITS, PRICE_COLUMN, to_eur_per_mwh)
    hourly = history.frame.resample("h").mean()  # every supported interval divides the hour
    local = hourly.tz_convert(source.timezone).tz_localize(None)
    try:
        return repair_hourly(local, {PRICE_COLUMN: "EUR/MWh"}, timezone=source.timezone,
                             max_interpolation_hours=source.max_interpolation_hours, source=history.source,
                             report=history.report)
    except ValueError as exc:
        raise DataSourceError(str(exc)) from None


def load_pv_history(source: DataSource, kwp: float) -> tuple[pd.Series, RepairReport]:
    """Measured PV output of a plant of ``kwp`` kWp as the PV model fits it: hourly mean kW per kWp on a UTC
    index (energy conserved), and the repair report."""
    if not (isinstance(kwp, (int, float)) and np.isfinite(kwp) and kwp > 0):
        raise DataSourceError(f"pv.kwp = {kwp!r}: give the installed PV power of the measured plant in kWp (> 0)")

    def per_kwp(values, units, interval, name):
        return to_power_kw(values, units, interval, name) / float(kwp), "kW/kWp"

    history = _one_series(source, UNITS, PV_COLUMN, per_kwp)
    hourly = history.frame[PV_COLUMN].resample("h").mean()
    return hourly.dropna(), history.report


@lru_cache(maxsize=4)
def _cached_hourly_prices(source: DataSource, stamp) -> pd.Series:
    history = _one_series(source, PRICE_UNITS, PRICE_COLUMN, to_eur_per_mwh)
    return history.frame[PRICE_COLUMN].resample("h").mean()


def day_ahead_prices_for_day(source: DataSource, day, n_hours: int) -> np.ndarray:
    """The day-ahead prices (EUR/MWh) of the ``n_hours`` real hours from local midnight of ``day`` (23, 24 or
    25 on a whole local day), read from a price history source (hourly means when it is finer)."""
    stamp = os.stat(source.path).st_mtime_ns if source.path is not None else None
    prices = _cached_hourly_prices(source, stamp)
    starts = period_starts_utc(day, source.timezone, 60.0, n_hours)
    values = prices.reindex(starts)
    if values.isna().any():
        first = values.index[values.isna()][0].tz_convert(source.timezone)
        raise DataSourceError(f"{source.describe()}: no price for {first.isoformat()} (and {int(values.isna().sum()) - 1} "
                              f"more of the {n_hours} hours of {pd.Timestamp(day).date()}); choose a day inside the "
                              "price history or give scenarios.day_ahead_prices_eur_per_mwh")
    return values.to_numpy(dtype=float)


# --------------------------------------------------------------------------------------------
# Local days and resampling to the case's periods
# --------------------------------------------------------------------------------------------
def local_midnight_utc(day, timezone: str) -> pd.Timestamp:
    """The instant (UTC) of midnight starting ``day`` in ``timezone``."""
    return pd.Timestamp(day).normalize().tz_localize(timezone).tz_convert("UTC")


def local_day_hours(day, timezone: str) -> float:
    """Length of the local day: 23 h on spring-forward days, 25 h on fall-back days, else 24 h."""
    start = local_midnight_utc(day, timezone)
    end = local_midnight_utc(pd.Timestamp(day).normalize() + pd.Timedelta(days=1), timezone)
    return (end - start) / pd.Timedelta(hours=1)


def period_starts_utc(day, timezone: str, period_minutes: float, n_periods: int) -> pd.DatetimeIndex:
    """Start instants (UTC) of ``n_periods`` periods from local midnight of ``day``."""
    start = local_midnight_utc(day, timezone)
    return start + pd.to_timedelta(np.arange(n_periods) * float(period_minutes), unit="min")


def resample_energy(series_kw: pd.Series, interval_minutes: float, starts_utc: pd.DatetimeIndex,
                    period_minutes: float, name: str = "series") -> np.ndarray:
    """Mean power (kW) over each period starting at ``starts_utc``, the energy conserved.

    ``series_kw`` holds the mean power of intervals of ``interval_minutes`` starting at its index;
    the power is a step function, so the energy of any period is the integral of the steps it
    overlaps (intervals longer or shorter than the period, aligned or not).
    """
    index = pd.DatetimeIndex(series_kw.index)
    origin = index[0]
    edges = (index - origin) / pd.Timedelta(minutes=1)
    edges = np.append(edges.to_numpy(dtype=float), edges[-1] + interval_minutes)
    values = series_kw.to_numpy(dtype=float)
    bounds = (starts_utc - origin) / pd.Timedelta(minutes=1)
    bounds = np.append(bounds.to_numpy(dtype=float), bounds[-1] + period_minutes)
    if bounds[0] < edges[0] - 1e-9 or bounds[-1] > edges[-1] + 1e-9:
        raise DataSourceError(
            f"{name}: the readings cover {index[0]} to {index[-1] + pd.Timedelta(minutes=interval_minutes)} "
            f"(UTC) but the periods need {starts_utc[0]} to "
            f"{starts_utc[-1] + pd.Timedelta(minutes=period_minutes)}; choose a day inside the data")
    # only the intervals that overlap the periods (a short cumulative sum keeps the rounding small)
    lo = max(int(np.searchsorted(edges, bounds[0], side="right")) - 1, 0)
    hi = min(int(np.searchsorted(edges, bounds[-1], side="left")), len(values))
    energy = np.concatenate([[0.0], np.cumsum(values[lo:hi] * interval_minutes)])  # kW*min
    covered = np.interp(bounds, edges[lo:hi + 1], energy)
    steps = np.diff(covered)
    # a gap left missing (NaN) makes every later cumulative value NaN: report it for the periods it touches
    if not np.all(np.isfinite(steps)):
        raise DataSourceError(f"{name}: readings missing (a long gap left unfilled) within the requested "
                              "periods; raise max_interpolation_hours or choose another day")
    return steps / period_minutes


def load_kw_for_periods(source: DataSource, day, period_minutes: float, n_periods: int) -> np.ndarray:
    """A site's load (kW) for ``n_periods`` periods from local midnight of ``day`` (meters summed)."""
    data = cached_meter_data(source)
    starts = period_starts_utc(day, source.timezone, period_minutes, n_periods)
    total = np.zeros(n_periods)
    for meter in data.meters:
        series = data.series(meter)
        total += resample_energy(series, data.interval_minutes[meter], starts, period_minutes,
                                 f"{data.source} meter {meter}")
    return total


PV_ABOVE_KWP_RATIO = 1.1  # measured PV above 110 % of the array's kWp: a wrong unit or a wrong kwp


def measured_pv_kw(source: DataSource, kwp: float, day, period_minutes: float, n_periods: int,
                   where: str = "microgrid.pv.source") -> tuple[np.ndarray, int]:
    """Measured PV output (kW, meters summed) of ``n_periods`` periods from local midnight of ``day``, energy
    conserved, and how many periods were below 0 kW (inverters' night draw) and taken as 0.

    An output above 110 % of ``kwp`` is an error naming ``where``, the unit and the fix."""
    kw = load_kw_for_periods(source, day, period_minutes, n_periods)
    peak = float(np.max(kw)) if len(kw) else 0.0
    if peak > PV_ABOVE_KWP_RATIO * kwp:
        at = period_starts_utc(day, source.timezone, period_minutes, n_periods)[int(np.argmax(kw))]
        raise DataSourceError(
            f"{where}: the measured output reaches {peak:,.1f} kW at {at.tz_convert(source.timezone).isoformat()}, "
            f"above {100 * PV_ABOVE_KWP_RATIO:.0f} % of kwp = {kwp:g} kWp; check the unit (given: "
            f"{source.unit or 'unit_column'}; allowed: W, kW, MW, or Wh, kWh, MWh per interval) and that kwp is "
            "the installed power of the metered array")
    negative = int(np.sum(kw < 0))
    return np.maximum(kw, 0.0), negative


def measured_pv_profiles(case) -> dict[str, np.ndarray]:
    """``{"pv_kw_per_kwp:<site>": kW per kWp of each period}`` of the sites whose PV output is metered
    (``microgrid.pv.source``) on the case's day and periods."""
    out = {}
    for site in case.sites:
        pv = site.microgrid.pv
        if pv is not None and pv.source is not None:
            kw, _ = measured_pv_kw(pv.source, pv.kwp, case.scenarios.day, case.period_minutes, case.n_periods)
            out[f"pv_kw_per_kwp:{site.name}"] = kw / pv.kwp
    return out


def mean_power_kw(source: DataSource) -> float:
    """Mean of a site's load over the whole record (meters summed), kW."""
    data = cached_meter_data(source)
    return float(sum(np.nanmean(data.series(m).to_numpy()) for m in data.meters))


def _repair_text(source: DataSource) -> tuple[str, str]:
    """(short name of the source, its meters and every kind of repair) for a report sentence."""
    data = cached_meter_data(source)
    repairs = []
    for meter, report in data.reports.items():
        counts = report.summary()
        text = ", ".join(f"{k} x{c}" for k, c in zip(counts["kind"], counts["count"])) or "none"
        repairs.append(f"meter {meter} every {data.interval_minutes[meter]} min, repairs: {text}")
    return data.source, "; ".join(repairs)


def metered_load_notes(sites, day=None, horizon_hours: float | None = None,
                       period_minutes: float | None = None) -> list[str]:
    """One sentence per site whose base load or PV output is metered: the source, its meters and every kind of
    repair (and, for PV with ``period_minutes``, the day's periods below 0 kW taken as 0); and, when ``day``
    has 23 or 25 local hours but the horizon does not, what the plan covers instead."""
    notes = []
    for site in sites:
        pv = site.microgrid.pv
        if pv is not None and pv.source is not None:
            name, repairs = _repair_text(pv.source)
            note = (f"Site {site.name}: PV output metered, read from {name} ({pv.source.timezone}) and divided by "
                    f"kwp = {pv.kwp:g} kWp; the day's measured output is the PV of every scenario (known, not "
                    f"sampled); {repairs}")
            if day is not None and horizon_hours is not None and period_minutes is not None:
                n_periods = int(round(horizon_hours * 60 / period_minutes))
                _, negative = measured_pv_kw(pv.source, pv.kwp, day, period_minutes, n_periods)
                if negative:
                    note += f"; {negative} period(s) below 0 kW (inverters' night draw) taken as 0 kW"
            notes.append(note + ".")
        source = site.base_load.source
        if source is None:
            continue
        name, repairs = _repair_text(source)
        notes.append(f"Site {site.name}: base load metered, read from {name} ({source.timezone}); " + repairs + ".")
        hours = None if day is None else local_day_hours(day, source.timezone)
        if hours is not None and horizon_hours is not None and abs(hours - horizon_hours) > 1e-9:
            end = local_midnight_utc(day, source.timezone) + pd.Timedelta(hours=horizon_hours)
            notes.append(f"The local day {pd.Timestamp(day).date()} has {hours:g} hours in {source.timezone}; the "
                         f"plan covers {horizon_hours:g} hours of real time from local midnight, to "
                         f"{end.tz_convert(source.timezone).isoformat()}; set horizon_hours = {hours:g} to plan "
                         "exactly the local day.")
    return notes


def metered_year_kw(source: DataSource, calendar_year: int) -> np.ndarray:
    """Hourly load (kW, meters summed) for 365 days of 24 hours, as sizing's calendar year expects.

    The first 365 complete local days of the record, on the site's wall clock with the hourly DST
    convention of :func:`scenarios.history.repair_hourly` (spring hour interpolated, autumn hour the
    mean of its two occurrences), rolled by less than a week so that weekdays fall as in
    ``calendar_year`` (the days moved from the start go to the end).
    """
    data = cached_meter_data(source)
    total = None
    for meter in data.meters:
        hourly = data.series(meter).resample("h").mean()  # every supported interval divides the hour
        total = hourly if total is None else total.add(hourly, fill_value=np.nan)
    local = total.tz_convert(source.timezone).tz_localize(None).to_frame("load_kw")
    try:
        history = repair_hourly(local, {"load_kw": "kW"}, timezone=source.timezone,
                                max_interpolation_hours=source.max_interpolation_hours, source=data.source)
    except ValueError as exc:
        raise DataSourceError(str(exc)) from None
    days = history.daily("load_kw")
    if len(days) < 365:
        raise DataSourceError(f"{data.source}: sizing needs a metered year (365 complete local days); the "
                              f"record has {len(days)}")
    days = days.iloc[:365]
    shift = (pd.Timestamp(f"{calendar_year}-01-01").dayofweek - days.index[0].dayofweek) % 7
    return np.roll(days.to_numpy(dtype=float), -shift, axis=0).ravel()
