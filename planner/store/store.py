"""Results written back to a database: SQLite file in the output folder by default, PostgreSQL by URL.

Every write is one transaction that first deletes the rows it replaces (the same meter readings,
the same case and day), so re-running a day replaces its rows and an interrupted write leaves the
previous state. Statements are SQLAlchemy Core: names quoted by SQLAlchemy, values bound.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import uuid
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from planner.case import case_to_dict
from planner.data_sources import MeterData, period_starts_utc
from planner.store.schema import TableNames, build_tables
from scenarios.history import DEFAULT_TIMEZONE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE_NAME = "planner.sqlite"
_QUANTITY_UNITS = (("_eur_per_mwh", "EUR/MWh"), ("_kwh", "kWh"), ("_kw", "kW"))


def code_version() -> str:
    """The package version and, in a git checkout, the commit (``0.1.0+g1a2b3c4``, ``-dirty`` if edited)."""
    try:
        version = importlib_metadata.version("industrial-energy-planner")
    except importlib_metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return f"{version}+g{commit}" if commit else version
    except (OSError, subprocess.SubprocessError):
        return version


def case_hash(case) -> str:
    """SHA-256 of the case's canonical JSON (every field, sorted keys)."""
    text = json.dumps(case_to_dict(case), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def case_timezone(case) -> str:
    """The site time zone of a case: that of its first metered site, else the default (Europe/Paris)."""
    for site in case.sites:
        if site.base_load.source is not None:
            return site.base_load.source.timezone
    return DEFAULT_TIMEZONE


def quantity_unit(quantity: str) -> str:
    """Unit of a dispatch quantity from its name's suffix (``site:grid_kw`` -> kW, ``site:stock_t:M1`` -> t)."""
    if ":stock_t:" in quantity:
        return "t"
    for suffix, unit in _QUANTITY_UNITS:
        if quantity.endswith(suffix):
            return unit
    return "1"


def _utc(stamps) -> list[dt.datetime]:
    return [t.to_pydatetime() for t in pd.DatetimeIndex(stamps).tz_convert("UTC")]


class Store:
    """A results database: ``Store(url)``; ``Store.in_folder(output_dir)`` for the SQLite default."""

    def __init__(self, url: str, names: TableNames = TableNames(), db_schema: str | None = None):
        self.url = url
        self.engine = sa.create_engine(url)
        self.metadata = sa.MetaData(schema=db_schema)
        self.tables = build_tables(names, self.metadata)
        self.metadata.create_all(self.engine)

    @classmethod
    def in_folder(cls, output_dir, names: TableNames = TableNames()) -> "Store":
        """The embedded default: a SQLite file ``planner.sqlite`` in ``output_dir``."""
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(folder / DEFAULT_FILE_NAME).resolve()}", names)

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------------------------------
    # runs
    # ---------------------------------------------------------------------------------------
    def start_run(self, command: str, case=None, detail: str = "") -> str:
        """A new row of the run table (status 'running'); returns its run_id."""
        run_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(self.tables["runs"].insert().values(
                run_id=run_id, command=command, case_name=None if case is None else case.name,
                case_hash=None if case is None else case_hash(case), code_version=code_version(),
                started_utc=dt.datetime.now(dt.timezone.utc), status="running", detail=detail))
        return run_id

    def finish_run(self, run_id: str, status: str = "done", detail: str | None = None) -> None:
        runs = self.tables["runs"]
        values = {"finished_utc": dt.datetime.now(dt.timezone.utc), "status": status}
        if detail is not None:
            values["detail"] = detail
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))

    # ---------------------------------------------------------------------------------------
    # meter readings and their repairs
    # ---------------------------------------------------------------------------------------
    def write_meter_data(self, data: MeterData, run_id: str) -> int:
        """Replace each meter's readings over the time range ingested, and its repairs; one transaction."""
        readings, repairs = self.tables["meter_readings"], self.tables["meter_repairs"]
        frame = data.frame
        with self.engine.begin() as conn:
            for meter in data.meters:
                times = pd.DatetimeIndex(frame.loc[frame["meter_id"] == meter, "time_utc"])
                first, last = _utc([times.min(), times.max()])
                conn.execute(readings.delete().where(readings.c.meter_id == meter,
                                                     readings.c.time_utc >= first, readings.c.time_utc <= last))
                conn.execute(repairs.delete().where(repairs.c.meter_id == meter))
            table = frame.assign(interval_minutes=frame["meter_id"].map(data.interval_minutes), run_id=run_id)
            if conn.dialect.name == "postgresql":
                copy_frame(conn, readings, table[["meter_id", "time_utc", "power_kw", "interval_minutes", "run_id"]])
            else:
                conn.execute(readings.insert(), [
                    {"meter_id": m, "time_utc": t, "power_kw": float(p), "interval_minutes": int(i), "run_id": run_id}
                    for m, t, p, i in zip(table["meter_id"], _utc(table["time_utc"]), table["power_kw"],
                                          table["interval_minutes"])])
            rows = data.repair_frame()
            if len(rows):
                rows = rows.drop_duplicates(["meter_id", "kind", "time_utc"])
                conn.execute(repairs.insert(), [
                    {"meter_id": m, "kind": k, "time_utc": t, "detail": d, "run_id": run_id}
                    for m, k, t, d in zip(rows["meter_id"], rows["kind"], _utc(rows["time_utc"]), rows["detail"])])
        return len(frame)

    # ---------------------------------------------------------------------------------------
    # plans
    # ---------------------------------------------------------------------------------------
    def plan_rows(self, case, result, run_id: str, timezone: str | None = None) -> dict:
        """The rows of one planned day: plan_days, day_ahead_nominations and dispatch (not yet written)."""
        tz = timezone or case_timezone(case)
        day = pd.Timestamp(case.scenarios.day).date()
        starts = period_starts_utc(day, tz, case.period_minutes, case.n_periods)
        step = pd.Timedelta(minutes=case.period_minutes)
        local = [t.isoformat() for t in starts.tz_convert(tz)]
        key = {"case_name": case.name, "day_local": day, "run_id": run_id}
        day_row = dict(key, case_hash=case_hash(case), timezone=tz, period_minutes=float(case.period_minutes),
                       n_periods=case.n_periods, method=result.method, n_scenarios=result.n_scenarios,
                       lower_bound_eur=float(result.lower_bound), upper_bound_eur=float(result.upper_bound),
                       gap=float(result.gap), written_utc=dt.datetime.now(dt.timezone.utc))
        start_utc, end_utc = _utc(starts), _utc(starts + step)
        nominations = []
        for zone in result.day_ahead.columns:
            for t, power in enumerate(result.day_ahead[zone].to_numpy(dtype=float)):
                nominations.append(dict(key, zone=str(zone), period=t, start_utc=start_utc[t], end_utc=end_utc[t],
                                        start_local=local[t], power_kw=power,
                                        energy_kwh=power * case.period_hours))
        dispatch = []
        for scenario, frame in result.dispatch.items():
            for quantity in frame.columns:
                unit = quantity_unit(quantity)
                for t, val in enumerate(frame[quantity].to_numpy(dtype=float)):
                    dispatch.append(dict(key, scenario=scenario, period=t, quantity=quantity,
                                         start_utc=start_utc[t], value=None if np.isnan(val) else val, unit=unit))
        return {"plan_days": [day_row], "day_ahead_nominations": nominations, "dispatch": dispatch}

    def write_plan(self, case, result, run_id: str, timezone: str | None = None) -> dict:
        """Replace the case's rows of its day by this plan, in one transaction; row counts written."""
        rows = self.plan_rows(case, result, run_id, timezone)
        day = pd.Timestamp(case.scenarios.day).date()
        with self.engine.begin() as conn:
            for role in ("dispatch", "day_ahead_nominations", "plan_days"):
                table = self.tables[role]
                conn.execute(table.delete().where(table.c.case_name == case.name, table.c.day_local == day))
            for role in ("plan_days", "day_ahead_nominations", "dispatch"):
                bulk_insert(conn, self.tables[role], rows[role])
        return {role: len(r) for role, r in rows.items()}

    # ---------------------------------------------------------------------------------------
    # reading back
    # ---------------------------------------------------------------------------------------
    def read(self, role: str, **equal) -> pd.DataFrame:
        """Rows of one table (by role), optionally filtered on equal columns; ``*_utc`` columns in UTC."""
        if role not in self.tables:
            raise KeyError(f"no table role {role!r}; roles are {sorted(self.tables)}")
        table = self.tables[role]
        unknown = [c for c in equal if c not in table.c]
        if unknown:
            raise KeyError(f"{role}: no column(s) {unknown}; columns are {list(table.c.keys())}")
        query = sa.select(table).where(*[table.c[c] == v for c, v in equal.items()])
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        for column in frame.columns:
            if column.endswith("_utc"):
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def count(self, role: str, **equal) -> int:
        table = self.tables[role]
        query = sa.select(sa.func.count()).select_from(table).where(*[table.c[c] == v for c, v in equal.items()])
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


def bulk_insert(conn, table: sa.Table, rows: list[dict]) -> None:
    """Insert rows in the caller's transaction: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) > 100:
        copy_frame(conn, table, pd.DataFrame(rows, columns=list(rows[0])))
    else:
        conn.execute(table.insert(), rows)


def copy_frame(conn, table: sa.Table, frame: pd.DataFrame) -> None:
    """PostgreSQL bulk insert by COPY FROM STDIN inside the caller's transaction; names quoted by SQLAlchemy.

    Time columns (``*_utc``) are written in UTC with their offset; missing values as NULL.
    """
    preparer = conn.dialect.identifier_preparer
    columns = ", ".join(preparer.format_column(table.c[c]) for c in frame.columns)
    out = frame.copy()
    for column in out.columns:
        if column.endswith("_utc"):  # few distinct instants: format each once
            codes, uniques = pd.factorize(pd.to_datetime(out[column], utc=True))
            text = np.asarray(pd.DatetimeIndex(uniques).strftime("%Y-%m-%d %H:%M:%S.%f+00"), dtype=object)
            out[column] = text[codes]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, header=False)  # floats written as their shortest exact repr
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
