"""The results schema (documented in docs/store_schema.md): tables with keys, units in column names.

Table names come from :class:`TableNames` (configuration); SQLAlchemy quotes them in every statement.
Times are UTC in ``*_utc`` columns (PostgreSQL ``timestamptz``; SQLite holds the UTC clock time);
``start_local`` repeats each period's start in the site's time zone with its offset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class TableNames:
    """Names of the store's tables (any text: quoted by SQLAlchemy, never pasted into SQL)."""

    runs: str = "runs"
    meter_readings: str = "meter_readings"
    meter_repairs: str = "meter_repairs"
    plan_days: str = "plan_days"
    day_ahead_nominations: str = "day_ahead_nominations"
    dispatch: str = "dispatch"
    sizing_results: str = "sizing_results"
    sizing_sizes: str = "sizing_sizes"
    sizing_npv: str = "sizing_npv"
    replay_days: str = "replay_days"

    def problems(self) -> list[str]:
        out = []
        values = asdict(self)
        for key, name in values.items():
            if not isinstance(name, str) or not name.strip():
                out.append(f"store table name {key} = {name!r}: give a non-empty text")
        if len(set(values.values())) != len(values):
            out.append(f"store table names must differ; got {values}")
        return out


UTC_TIME = sa.DateTime(timezone=True)
#: float columns of sizing_sizes (one row per site; the unit is the name's suffix)
SIZE_COLUMNS = ("pv_new_kwp", "pv_total_kwp", "pv_area_m2", "wind_new_kw", "wind_total_kw", "battery_new_kwh",
                "battery_new_kw", "battery_total_kwh", "battery_total_kw", "generator_new_kw", "generator_total_kw")
#: float columns of replay_days, read from the replay's daily table (every other field goes to detail_json)
REPLAY_FLOAT_COLUMNS = ("cost_eur", "day_ahead_energy_eur", "operating_eur", "overrun_eur", "unserved_kwh",
                        "soc_shortfall_kwh", "day_ahead_mwh", "day_peak_kw", "month_peak_kw", "soc_end_kwh",
                        "lower_bound_eur", "upper_bound_eur", "gap", "day_time_s")


def build_tables(names: TableNames, metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The store's tables, keyed by their role (the fields of TableNames)."""
    problems = names.problems()
    if problems:
        raise ValueError("; ".join(problems))
    runs = sa.Table(
        names.runs, metadata,
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("command", sa.String(64), nullable=False),
        sa.Column("case_name", sa.Text),
        sa.Column("case_hash", sa.String(64)),
        sa.Column("code_version", sa.Text, nullable=False),
        sa.Column("started_utc", UTC_TIME, nullable=False),
        sa.Column("finished_utc", UTC_TIME),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text),
    )
    meter_readings = sa.Table(
        names.meter_readings, metadata,
        sa.Column("meter_id", sa.Text, primary_key=True),
        sa.Column("time_utc", UTC_TIME, primary_key=True),
        sa.Column("power_kw", sa.Float, nullable=False),
        sa.Column("interval_minutes", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    meter_repairs = sa.Table(
        names.meter_repairs, metadata,
        sa.Column("meter_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("time_utc", UTC_TIME, primary_key=True),
        sa.Column("detail", sa.Text),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    plan_days = sa.Table(
        names.plan_days, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("day_local", sa.Date, primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("case_hash", sa.String(64), nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("period_minutes", sa.Float, nullable=False),
        sa.Column("n_periods", sa.Integer, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("n_scenarios", sa.Integer, nullable=False),
        sa.Column("lower_bound_eur", sa.Float, nullable=False),
        sa.Column("upper_bound_eur", sa.Float, nullable=False),
        sa.Column("gap", sa.Float, nullable=False),
        sa.Column("written_utc", UTC_TIME, nullable=False),
    )
    nominations = sa.Table(
        names.day_ahead_nominations, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("day_local", sa.Date, primary_key=True),
        sa.Column("zone", sa.Text, primary_key=True),
        sa.Column("period", sa.Integer, primary_key=True),
        sa.Column("start_utc", UTC_TIME, nullable=False),
        sa.Column("end_utc", UTC_TIME, nullable=False),
        sa.Column("start_local", sa.String(32), nullable=False),
        sa.Column("power_kw", sa.Float, nullable=False),
        sa.Column("energy_kwh", sa.Float, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    dispatch = sa.Table(
        names.dispatch, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("day_local", sa.Date, primary_key=True),
        sa.Column("scenario", sa.Text, primary_key=True),
        sa.Column("period", sa.Integer, primary_key=True),
        sa.Column("quantity", sa.Text, primary_key=True),
        sa.Column("site", sa.Text),
        sa.Column("start_utc", UTC_TIME, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    sizing_results = sa.Table(
        names.sizing_results, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("case_hash", sa.String(64), nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("n_scenarios", sa.Integer),
        sa.Column("n_typical_days", sa.Integer),
        sa.Column("horizon_years", sa.Integer),
        sa.Column("lower_bound_eur", sa.Float, nullable=False),
        sa.Column("upper_bound_eur", sa.Float, nullable=False),
        sa.Column("gap", sa.Float, nullable=False),
        sa.Column("lcoe_eur_per_mwh", sa.Float),
        sa.Column("annualised_cost_eur_per_year", sa.Float),
        sa.Column("subscribed_power_kw", sa.Float, nullable=False),
        sa.Column("base_load", sa.Text),
        sa.Column("written_utc", UTC_TIME, nullable=False),
    )
    sizing_sizes = sa.Table(
        names.sizing_sizes, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("site", sa.Text, primary_key=True),
        *[sa.Column(name, sa.Float) for name in SIZE_COLUMNS],
        sa.Column("pv_modules_new", sa.Integer),
        sa.Column("turbines_new", sa.Integer),
        sa.Column("pv_module", sa.Text),
        sa.Column("turbine_type", sa.Text),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    sizing_npv = sa.Table(
        names.sizing_npv, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("component", sa.Text, primary_key=True),
        sa.Column("npv_eur", sa.Float, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    replay_days = sa.Table(
        names.replay_days, metadata,
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("day_local", sa.Date, primary_key=True),
        sa.Column("policy", sa.Text, primary_key=True),
        sa.Column("operated_by", sa.Text),
        *[sa.Column(name, sa.Float) for name in REPLAY_FLOAT_COLUMNS],
        sa.Column("plan_status", sa.Text),
        sa.Column("fallback", sa.Boolean),
        sa.Column("fallback_reason", sa.Text),
        sa.Column("detail_json", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
    )
    return {"runs": runs, "meter_readings": meter_readings, "meter_repairs": meter_repairs,
            "plan_days": plan_days, "day_ahead_nominations": nominations, "dispatch": dispatch,
            "sizing_results": sizing_results, "sizing_sizes": sizing_sizes, "sizing_npv": sizing_npv,
            "replay_days": replay_days}
