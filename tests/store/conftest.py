"""Fixtures of the store tests: a SQLite store in a temporary folder, a PostgreSQL store in a fresh schema of
the database of the ``postgres_url`` fixture (tests/conftest.py: PLANNER_TEST_PG_URL, else a throw-away
cluster for the session; skipped only without server binaries, a failure under CI=true), a metered
one-site case and its plans on 23- and 25-hour days."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from planner.case import case_from_dict
from planner.dayahead.plan import plan
from planner.store import Store, TableNames
from scenarios.scenario_set import ScenarioSet

UTC_YEAR = pd.date_range("2018-12-31 23:00", "2019-12-31 22:45", freq="15min", tz="UTC")


@pytest.fixture
def make_store(tmp_path, request):
    """``make_store(backend, names=TableNames())``: a fresh store on 'sqlite' or 'postgresql'."""
    made = []

    def make(backend: str, names: TableNames = TableNames()) -> Store:
        if backend == "sqlite":
            store = Store.in_folder(tmp_path / f"out{len(made)}", names)
        else:
            url = request.getfixturevalue("postgres_url")
            schema = f"test_{uuid.uuid4().hex[:12]}"
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.schema.CreateSchema(schema))
            engine.dispose()
            store = Store(url, names, db_schema=schema)
            store.test_schema = schema
        made.append(store)
        return store

    yield make
    for store in made:
        schema = getattr(store, "test_schema", None)
        if schema is not None:
            with store.engine.begin() as conn:
                conn.execute(sa.schema.DropSchema(schema, cascade=True))
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def true_power_kw(utc) -> np.ndarray:
    """The synthetic meter: 1000 + 200 sin(2 pi k / 96) kW at quarter k of the UTC year 2019 (local)."""
    k = (pd.DatetimeIndex(utc) - UTC_YEAR[0]) / pd.Timedelta(minutes=15)
    return 1000.0 + 200.0 * np.sin(2 * np.pi * np.asarray(k, dtype=float) / 96)


@pytest.fixture(scope="session")
def meter_power_kw():
    """The synthetic meter's power (kW) at UTC instants."""
    return true_power_kw


@pytest.fixture(scope="session")
def meter_csv(tmp_path_factory):
    """A clean 15-minute meter year in kWh per quarter on the local wall clock (autumn hour twice)."""
    stamps = UTC_YEAR.tz_convert("Europe/Paris").tz_localize(None).strftime("%Y-%m-%d %H:%M")
    path = tmp_path_factory.mktemp("meter") / "plant.csv"
    pd.DataFrame({"timestamp": stamps, "energy_kwh": true_power_kw(UTC_YEAR) / 4.0}).to_csv(path, index=False)
    return path


def metered_case(path, day: str):
    """A one-site case on the metered load, without horizon_hours: the horizon is the local day."""
    return case_from_dict({
        "name": "metered plant", "period_minutes": 60, "scenarios": {"day": day},
        "contract": {"subscribed_power_kw": 5000.0, "demand_charge_eur_per_kw_month": 0.0,
                     "overrun_charge_eur_per_kw": 0.0},
        "sites": [{"name": "plant", "latitude": 45.0, "longitude": 5.0,
                   "base_load": {"source": {"path": str(path), "value_column": "energy_kwh", "unit": "kWh"}}}]})


def two_price_scenarios(n_periods: int, intraday_eur_per_mwh: float = 80.0) -> ScenarioSet:
    """p0 = 50, p1 in {intraday, 60}, p2 = 20 EUR/MWh: buying the whole load day-ahead is optimal."""
    p0 = np.full((2, n_periods), 50.0)
    p1 = np.stack([np.full(n_periods, intraday_eur_per_mwh), np.full(n_periods, 60.0)])
    p2 = np.full((2, n_periods), 20.0)
    return ScenarioSet(np.stack([p0, p1, p2], axis=2), np.array([0.5, 0.5]),
                       ("p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"))


@pytest.fixture(scope="session")
def dst_plans(meter_csv):
    """{day: (case, plan)} for the 23-hour 2019-03-31 and the 25-hour 2019-10-27, metered load."""
    out = {}
    for day in ("2019-03-31", "2019-10-27"):
        case = metered_case(meter_csv, day)
        out[day] = (case, plan(case, scenarios=two_price_scenarios(case.n_periods), measures=False, progress=False))
    return out
