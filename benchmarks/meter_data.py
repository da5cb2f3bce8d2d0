"""Benchmark of the plant's own data path: 100 meters x 1 year x 15 minutes (3.5 M readings) read from
PostgreSQL into the tidy frame (repaired, kW, UTC), and a day's plan written back; peak memory of each.

References measured in the same run: the same readings read from a Parquet file through the same loader,
and the same plan written to the SQLite default. Targets (issue 18): ingest <= 10 s, plan write <= 1 s.
Starts its own throw-away PostgreSQL cluster (.ci/pg_start) unless PLANNER_TEST_PG_URL is set:

    .venv/bin/python benchmarks/meter_data.py [--meters 100] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from planner.case import case_from_dict  # noqa: E402
from planner.data_sources import DataSource, load_meter_data, read_raw  # noqa: E402
from planner.dayahead.plan import plan  # noqa: E402
from planner.store import Store  # noqa: E402
from planner.store.store import copy_frame  # noqa: E402
from scenarios.scenario_set import ScenarioSet  # noqa: E402

TABLE = "bench_meter_readings"


def readings(n_meters: int, n_days: int, random_state: int = 0) -> pd.DataFrame:
    """Synthetic 15-minute readings (kW) of ``n_meters`` meters: daily shape, level per meter, noise."""
    rng = np.random.default_rng(random_state)
    times = pd.date_range("2018-12-31 23:00", periods=96 * n_days, freq="15min", tz="UTC")
    k = np.arange(len(times))
    shape = 1.0 + 0.3 * np.sin(2 * np.pi * k / 96)
    level = rng.uniform(200.0, 3000.0, size=n_meters)
    power = level[:, None] * shape[None, :] * rng.normal(1.0, 0.03, size=(n_meters, len(times)))
    return pd.DataFrame({"meter_id": np.repeat([f"meter{m:03d}" for m in range(n_meters)], len(times)),
                         "time_utc": np.tile(times, n_meters), "power_kw": power.ravel()})


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory (VmHWM, reset at exec), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_ingest(kind: str, location: str) -> dict:
    """(in a fresh process) load every meter into the tidy frame; time and peak memory."""
    common = dict(timestamp_column="time_utc", value_column="power_kw", unit="kW", meter_column="meter_id",
                  interval_minutes=15)
    source = DataSource(url=location, table=TABLE, **common) if kind == "postgresql" else \
        DataSource(path=location, **common)
    before = peak_rss_mb()
    t = time.perf_counter()
    data = load_meter_data(source)
    elapsed = time.perf_counter() - t
    t = time.perf_counter()
    read_raw(source)  # the read alone (the rest of the ingest is conversion and repair)
    read_s = time.perf_counter() - t
    return {"time_s": elapsed, "read_s": read_s, "rows": len(data.frame), "meters": len(data.meters),
            "repairs": int(sum(r.count() for r in data.reports.values())),
            "peak_rss_mb": peak_rss_mb(), "rss_before_mb": before}


def measure_write(url: str, plan_path: str, repeats: int = 3) -> dict:
    """(in a fresh process) write a day's plan (replacing the previous write) ``repeats`` times; best time."""
    with open(plan_path, "rb") as f:
        case, result = pickle.load(f)
    store = Store(url)
    run_id = store.start_run("plan", case)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        counts = store.write_plan(case, result, run_id)
        times.append(time.perf_counter() - t)
    store.close()
    return {"time_s": min(times), "rows": int(sum(counts.values())), "peak_rss_mb": peak_rss_mb()}


def in_subprocess(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", *args], capture_output=True, text=True,
                         check=True, timeout=1200)
    return json.loads(out.stdout.strip().splitlines()[-1])


def solved_day(folder: Path, n_scenarios: int = 20) -> tuple:
    """A real plan of a metered site at 15-minute periods with ``n_scenarios`` price scenarios."""
    times = pd.date_range("2018-12-31 23:00", periods=96 * 365, freq="15min", tz="UTC")
    path = folder / "site.csv"
    power = 1500 + 400 * np.sin(2 * np.pi * np.arange(len(times)) / 96)
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "power_kw": power}).to_csv(path, index=False)
    case = case_from_dict({
        "name": "benchmark plant", "period_minutes": 15, "horizon_hours": 24, "scenarios": {"day": "2019-06-12"},
        "contract": {"subscribed_power_kw": 5000.0},
        "sites": [{"name": "plant", "latitude": 45.0, "longitude": 5.0,
                   "base_load": {"source": {"path": str(path), "value_column": "power_kw", "unit": "kW"}},
                   "microgrid": {"battery": {"energy_kwh": 2000.0, "power_kw": 500.0}}}]})
    rng = np.random.default_rng(0)
    T = case.n_periods
    p0 = np.tile(50 + 20 * np.sin(2 * np.pi * np.arange(T) / T), (n_scenarios, 1))
    p1 = p0 + rng.uniform(5, 30, size=(n_scenarios, T))
    p2 = p0 - rng.uniform(5, 15, size=(n_scenarios, T))
    scenarios = ScenarioSet(np.stack([p0, p1, p2], axis=2), np.full(n_scenarios, 1.0 / n_scenarios),
                            ("p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"), period_hours=0.25)
    result = plan(case, scenarios=scenarios, measures=False, progress=False)
    return case, result


def start_cluster() -> tuple[str, str | None]:
    if os.environ.get("PLANNER_TEST_PG_URL"):
        return os.environ["PLANNER_TEST_PG_URL"], None
    out = subprocess.run(["bash", str(ROOT / ".ci" / "pg_start")], capture_output=True, text=True, check=True)
    env = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.strip().splitlines())
    return env["PLANNER_TEST_PG_URL"].strip("'"), env["PLANNER_TEST_PG_DIR"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, *rest = args.measure
        result = measure_write(*rest) if kind == "write" else measure_ingest(kind, *rest)
        print(json.dumps(result))
        return
    url, cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            frame = readings(args.meters, args.days)
            print(f"{len(frame):,} readings: {args.meters} meters x {args.days} days x 96 quarters")
            parquet = folder / "readings.parquet"
            frame.to_parquet(parquet)
            engine = sa.create_engine(url)
            t = time.perf_counter()
            meta = sa.MetaData()
            table = sa.Table(TABLE, meta, sa.Column("meter_id", sa.Text), sa.Column("time_utc", sa.DateTime(timezone=True)),
                             sa.Column("power_kw", sa.Float))
            meta.drop_all(engine)
            meta.create_all(engine)
            with engine.begin() as conn:
                copy_frame(conn, table, frame)
            print(f"setup: loaded into PostgreSQL by COPY in {time.perf_counter() - t:.1f} s")
            pg = in_subprocess("postgresql", url)
            ref = in_subprocess("parquet", str(parquet))
            print(f"ingest from PostgreSQL: {pg['time_s']:.2f} s for {pg['rows']:,} rows ({pg['meters']} meters, "
                  f"{pg['repairs']} repairs), peak RSS {pg['peak_rss_mb']:.0f} MB, of which "
                  f"{pg['peak_rss_mb'] - pg['rss_before_mb']:.0f} MB for the load (target <= 10 s)")
            print(f"reference, same loader on Parquet: {ref['time_s']:.2f} s, peak RSS {ref['peak_rss_mb']:.0f} MB, "
                  f"of which {ref['peak_rss_mb'] - ref['rss_before_mb']:.0f} MB for the load")
            print(f"  the read alone (no conversion, no repair): PostgreSQL {pg['read_s']:.2f} s, "
                  f"Parquet {ref['read_s']:.2f} s")
            print(f"ratio PostgreSQL / Parquet: time {pg['time_s'] / ref['time_s']:.2f}, "
                  f"peak memory {pg['peak_rss_mb'] / ref['peak_rss_mb']:.2f}")
            meta.drop_all(engine)
            engine.dispose()

            case, result = solved_day(folder)
            plan_path = folder / "plan.pickle"
            plan_path.write_bytes(pickle.dumps((case, result)))
            pg_write = in_subprocess("write", url, str(plan_path))
            lite = in_subprocess("write", f"sqlite:///{folder / 'planner.sqlite'}", str(plan_path))
            print(f"write a day's plan ({pg_write['rows']:,} rows: {result.n_scenarios} scenarios x {case.n_periods} "
                  f"periods) to PostgreSQL: {pg_write['time_s']:.3f} s, peak RSS {pg_write['peak_rss_mb']:.0f} MB "
                  "(target <= 1 s)")
            print(f"reference, SQLite default: {lite['time_s']:.3f} s; ratio PostgreSQL / SQLite "
                  f"{pg_write['time_s'] / lite['time_s']:.2f}")
    finally:
        if cluster is not None:
            subprocess.run(["bash", str(ROOT / ".ci" / "pg_stop"), cluster], check=False)


if __name__ == "__main__":
    main()
