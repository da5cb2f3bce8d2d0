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
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from planner.case import case_timezone, case_to_dict
from planner.data_sources import MeterData, period_starts_utc
from planner.errors import BadInputError
from planner.store.schema import REPLAY_FLOAT_COLUMNS, SIZE_COLUMNS, TableNames, build_tables

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE_NAME = "planner.sqlite"
OUTPUT_STORE_FILE = "store.json"
SQLITE_BUSY_TIMEOUT_S = 60.0  # processes of one replay write their days into one SQLite file in turn
_QUANTITY_UNITS = (("_eur_per_mwh", "EUR/MWh"), ("_kwh", "kWh"), ("_kw", "kW"))


class StoreError(BadInputError):
    """A results database that cannot be used as given; the message names the option and the fix."""


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
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError:
            raise StoreError(f"store URL {url!r}: not a SQLAlchemy URL; write e.g. sqlite:///out/planner.sqlite "
                             "or postgresql+psycopg://user@host/dbname") from None
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S} if parsed.get_backend_name() == "sqlite" else {}
        self.engine = sa.create_engine(url, connect_args=connect_args)
        self.metadata = sa.MetaData(schema=db_schema)
        self.tables = build_tables(names, self.metadata)
        try:
            self.metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(f"store {self.describe()}: cannot create or open the tables ({type(cause).__name__}: "
                             f"{str(cause).splitlines()[0] if str(cause) else ''}); check the URL, that the server "
                             "runs and that the user may create tables") from None

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
        sites = set(case.site_names)
        for scenario, frame in result.dispatch.items():
            for quantity in frame.columns:
                unit = quantity_unit(quantity)
                site = quantity.partition(":")[0] if quantity.partition(":")[0] in sites else None
                for t, val in enumerate(frame[quantity].to_numpy(dtype=float)):
                    dispatch.append(dict(key, scenario=scenario, period=t, quantity=quantity, site=site,
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
    # sizing results
    # ---------------------------------------------------------------------------------------
    def sizing_rows(self, case, result, run_id: str, base_load: str = "") -> dict:
        """The rows of one sizing: sizing_results, sizing_sizes (one per site) and sizing_npv (not yet written)."""
        info = result.info
        summary = {"case_name": case.name, "run_id": run_id, "case_hash": case_hash(case),
                   "method": str(info.get("method", "")), "n_scenarios": _int_or_none(info.get("n_scenarios")),
                   "n_typical_days": _int_or_none(info.get("n_typical_days")),
                   "horizon_years": _int_or_none(info.get("years", case.economics.horizon_years)),
                   "lower_bound_eur": float(result.lower_bound_eur), "upper_bound_eur": float(result.upper_bound_eur),
                   "gap": float(result.gap), "lcoe_eur_per_mwh": _float_or_none(result.lcoe_eur_per_mwh),
                   "annualised_cost_eur_per_year": _float_or_none(result.annualised_cost_eur_per_year),
                   "subscribed_power_kw": float(result.subscribed_power_kw), "base_load": base_load,
                   "written_utc": dt.datetime.now(dt.timezone.utc)}
        sizes = []
        for site, row in result.sizes.iterrows():
            out = {"case_name": case.name, "site": str(site), "run_id": run_id}
            out.update({c: _float_or_none(row.get(c)) for c in SIZE_COLUMNS})
            out.update({c: _int_or_none(row.get(c)) for c in ("pv_modules_new", "turbines_new")})
            out.update({c: None if row.get(c) is None else str(row.get(c)) for c in ("pv_module", "turbine_type")})
            sizes.append(out)
        npv = [{"case_name": case.name, "component": str(k), "npv_eur": float(v), "run_id": run_id}
               for k, v in result.npv_breakdown.items()]
        return {"sizing_results": [summary], "sizing_sizes": sizes, "sizing_npv": npv}

    def write_sizing(self, case, result, run_id: str, base_load: str = "") -> dict:
        """Replace the case's sizing rows by this sizing, in one transaction; row counts written."""
        rows = self.sizing_rows(case, result, run_id, base_load)
        with self.engine.begin() as conn:
            for role in rows:
                table = self.tables[role]
                conn.execute(table.delete().where(table.c.case_name == case.name))
            for role, part in rows.items():
                bulk_insert(conn, self.tables[role], part)
        return {role: len(r) for role, r in rows.items()}

    # ---------------------------------------------------------------------------------------
    # replay days
    # ---------------------------------------------------------------------------------------
    def write_replay_days(self, case, daily: pd.DataFrame, run_id: str) -> int:
        """Replace the case's replay_days rows of every day in ``daily`` (the replay's daily table: one row per
        day and policy), one transaction per day; rows written."""
        table = self.tables["replay_days"]
        written = 0
        for day, rows in daily.groupby("date", sort=True):
            day_local = pd.Timestamp(day).date()
            records = [replay_record(case.name, day_local, row, run_id) for row in rows.to_dict(orient="records")]
            with self.engine.begin() as conn:
                conn.execute(table.delete().where(table.c.case_name == case.name, table.c.day_local == day_local))
                conn.execute(table.insert(), records)
            written += len(records)
        return written

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


def _float_or_none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _int_or_none(value) -> int | None:
    value = _float_or_none(value)
    return None if value is None else int(round(value))


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    return value


def replay_record(case_name: str, day_local: dt.date, row: dict, run_id: str) -> dict:
    """One replay_days row from one row of the replay's daily table (every field also in detail_json)."""
    fallback = row.get("fallback")
    return {"case_name": case_name, "day_local": day_local, "policy": str(row["policy"]),
            "operated_by": None if row.get("operated_by") is None else str(row["operated_by"]),
            **{c: _float_or_none(row.get(c)) for c in REPLAY_FLOAT_COLUMNS},
            "plan_status": None if row.get("plan_status") is None else str(row["plan_status"]),
            "fallback": None if fallback is None else bool(fallback),
            "fallback_reason": None if row.get("fallback_reason") is None else str(row["fallback_reason"]),
            "detail_json": json.dumps({k: _jsonable(v) for k, v in row.items()}, sort_keys=True, default=str),
            "run_id": run_id}


# ------------------------------------------------------------------------------------------------
# The store of a replay's output folder: `planner replay` records the URL and run, each finished day is
# written by the process that finished it (local workers and MPI ranks alike).
# ------------------------------------------------------------------------------------------------
def check_recordable_url(url: str) -> str:
    """``url`` if it may be recorded in an output folder (no password in it), else a StoreError naming the fix."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(f"--store {url!r}: not a SQLAlchemy URL; write e.g. postgresql+psycopg://user@host/dbname"
                         ) from None
    if parsed.password is not None:
        raise StoreError(f"--store {parsed.render_as_string(hide_password=True)}: the URL carries a password, and "
                         "the replay records its URL in the output folder for its worker processes; give the "
                         "password through PGPASSWORD or ~/.pgpass instead")
    return url


def record_output_store(output_dir, url: str, run_id: str) -> Path:
    """Record in ``output_dir`` the store (URL without password) and run that finished days are written to."""
    check_recordable_url(url)
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / OUTPUT_STORE_FILE
    path.write_text(json.dumps({"url": url, "run_id": run_id}))
    return path


@lru_cache(maxsize=4)
def _open_store(url: str) -> "Store":
    return Store(url)


def write_finished_replay_day(output_dir, case, rows: list[dict]) -> int:
    """Write one finished replay day (its rows of the daily table) into the store recorded in ``output_dir``
    by :func:`record_output_store`; nothing when none is recorded (a replay run from Python). Rows written."""
    path = Path(output_dir) / OUTPUT_STORE_FILE
    if not rows or not path.is_file():
        return 0
    config = json.loads(path.read_text())
    return _open_store(config["url"]).write_replay_days(case, pd.DataFrame(rows), config["run_id"])


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
