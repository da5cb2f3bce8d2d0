"""The period runner of ``planner replay``: months are independent once their start state is fixed (each
month starts with the batteries at their initial SoC and the peak at 0), so they run in parallel over
local processes; days of a month run in order, each finished day written atomically (temp file, then
rename) to ``<output>/days/<date>.json``, so a killed replay resumes where it stopped with the same result.

Outputs in ``output_dir``: ``daily.parquet`` (one row per day and policy: decisions, costs, plan bounds
and gap, fallback reason, forecast and realised means, state), ``monthly_bills.csv``, ``savings.csv``
(saving of each policy against the rule with a 95 % week-block bootstrap interval), ``planner_against.csv``
(the planner's saving against the rule, the deterministic plan, the look-ahead and the fixed schedule, paired,
with the same intervals), ``summary.json``,
``report.html`` with ``figures/`` (``planner.replay.report``; ``figures=False`` skips them).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.case import Case
from planner.progress import Progress
from planner.replay.compare import planner_table, savings_table
from planner.replay.data import RealDays, load_real_days
from planner.replay.day import PERFECT, SHARED_PLAN, PolicyState, ReplayOptions, initial_state, replay_day
from planner.replay.hindsight import month_hindsight
from planner.replay.policies import PERFECT_MONTH
from planner.replay.report import write_report
from planner.replay.settle import monthly_bills
from planner.solvers.mpi import run_mpi
from planner.store import write_finished_replay_day

#: columns that measure time: they differ between runs and are left out of reproducibility checks
TIME_COLUMNS = ("day_time_s", "plan_time_s")


@dataclass
class ReplayResult:
    """What :func:`run_replay` returns (EUR, kW)."""

    daily: pd.DataFrame
    monthly: pd.DataFrame
    savings: pd.DataFrame
    wall_time_s: float
    days_computed: int            # days solved in this run (the others were read back from day files)
    output_dir: Path
    realised_data: str = ""       # the file and series the realised days came from (planner.replay.data)
    planner: pd.DataFrame = field(default_factory=pd.DataFrame)  # the planner against the others (compare.planner_table)

    def summary(self) -> dict:
        planned = self.daily[self.daily["policy"].isin(SHARED_PLAN)]
        by_day = planned.drop_duplicates("date")
        return {"days": int(self.daily["date"].nunique()), "realised_data": self.realised_data,
                "days_computed_this_run": self.days_computed,
                "wall_time_s": self.wall_time_s,
                "mean_day_time_s": float(self.daily.drop_duplicates("date")["day_time_s"].mean()),
                "max_gap": float(by_day["gap"].max()) if len(by_day) else float("nan"),
                "mean_gap": float(by_day["gap"].mean()) if len(by_day) else float("nan"),
                "fallback_days": int(by_day["fallback"].sum()) if len(by_day) else 0,
                "savings": self.savings.to_dict(orient="records"),
                "planner_against": self.planner.to_dict(orient="records")}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it (never a half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def options_record(case: Case, options: ReplayOptions) -> dict:
    return {"case": case.name, **{k: (list(v) if isinstance(v, tuple) else v)
                                  for k, v in dataclasses.asdict(options).items()}}


def run_month(case: Case, real: RealDays, days: list, options: ReplayOptions, out_dir: str,
              progress: bool = False) -> int:
    """Replay the days of one month in order from the month's start state; return the days computed."""
    folder = Path(out_dir) / "days"
    log = Progress(f"replay {days[0].strftime('%Y-%m')}", enabled=progress)
    month_file = Path(out_dir) / "months" / f"{days[0].strftime('%Y-%m')}.json"
    states = {p: initial_state(case, options.carry_stocks) for p in options.policies}
    computed = 0
    for day in days:
        path = folder / f"{day.strftime('%Y-%m-%d')}.json"
        if path.exists():  # finished before: carry its state
            record = json.loads(path.read_text())
            states = {p: PolicyState(**s) for p, s in record["states"].items()}
            continue
        rows, states = replay_day(case, real, day, states, options)
        write_atomic(path, json.dumps({"rows": rows, "states": {p: dataclasses.asdict(s) for p, s in states.items()}}))
        write_finished_replay_day(out_dir, case, rows)  # into the store `planner replay` recorded (if any)
        computed += 1
        costs = ", ".join(f"{r['policy']} {r['cost_eur']:,.0f}" for r in rows)
        gap = rows[-1].get("gap", float("nan"))
        log.message(f"{day.date()} done in {rows[0]['day_time_s']:.1f} s, plan gap {100 * gap:.2f} %; EUR: {costs}")
    if PERFECT_MONTH in options.policies and not month_file.exists():
        # after the days: the lines draw the per-day hindsight plans' schedules (planner.replay.hindsight)
        month_file.parent.mkdir(parents=True, exist_ok=True)
        rows = month_hindsight(case, real, days, options, hindsight_line_loads(folder, days))
        write_atomic(month_file, json.dumps({"rows": rows}))
        log.message(f"month in hindsight: {rows[0]['lower_bound_eur']:,.0f} EUR over {len(days)} days (LP optimum; "
                    f"production lines: {rows[0]['line_schedule']})")
    return computed


def hindsight_line_loads(folder: Path, days: list):
    """Per day, the line load (T, N) kW of the per-day hindsight policy's plan, or None when that policy was
    not replayed or fell back to the rule (the month LP then draws the rule's schedule that day)."""
    out = []
    for day in days:
        rows = json.loads((folder / f"{day.strftime('%Y-%m-%d')}.json").read_text())["rows"]
        mine = [r for r in rows if r["policy"] == PERFECT and r.get("operated_by") == PERFECT
                and r.get("line_load_kw") is not None]
        out.append(mine[0]["line_load_kw"] if mine else None)
    return out


def month_task(args) -> int:
    return run_month(*args)


def run_replay(case: Case, start, end, options: ReplayOptions | None = None, output_dir="output/replay",
               n_workers: int = 1, real: RealDays | None = None, data=None, progress: bool = True,
               n_ranks: int = 1, figures: bool = True) -> ReplayResult:
    """Replay ``case`` over the days ``start`` .. ``end`` (inclusive); see the module docstring.

    ``n_workers`` local processes run months in parallel, or ``n_ranks`` MPI ranks (``planner.solvers.mpi``;
    the same command on a cluster with more ranks); ``real``/``data``: the realised data (default
    ``../shared/data/prices/entsoe_FR_2015_2023.csv``, ``planner.replay.data``; the file and series used are
    stated in the progress output and ``summary.json``). Resumes from the day files in ``output_dir``
    when they were written with the same case and options.
    """
    options = options or ReplayOptions()
    options.check()
    for name, value in (("n_workers", n_workers), ("n_ranks", n_ranks)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} = {value!r}: must be a whole number >= 1")
    if n_workers > 1 and n_ranks > 1:
        raise ValueError(f"n_workers = {n_workers} and n_ranks = {n_ranks}: give one of them (the other 1)")
    if not isinstance(case, Case):
        raise TypeError(f"case must be a planner.case.Case; got {type(case).__name__}")
    if case.period_minutes != 60 or case.horizon_hours != 24:
        raise ValueError(f"case {case.name!r}: the replay needs period_minutes = 60 and horizon_hours = 24; "
                         f"got {case.period_minutes} and {case.horizon_hours}")
    real = real or load_real_days(data)
    real.check_covers(start, end)
    out = Path(output_dir)
    (out / "days").mkdir(parents=True, exist_ok=True)
    record = options_record(case, options)
    opt_file = out / "replay_options.json"
    if opt_file.exists() and json.loads(opt_file.read_text()) != record:
        raise ValueError(f"{opt_file}: this folder holds a replay with other options "
                         f"({json.loads(opt_file.read_text())}); use another --output or delete it")
    write_atomic(opt_file, json.dumps(record))
    log = Progress("replay", enabled=progress)
    t0 = time.perf_counter()
    days = list(pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D"))
    months = {}
    for d in days:
        months.setdefault(d.strftime("%Y-%m"), []).append(d)
    log.message(f"realised data: {real.description or real.source}")
    log.message(f"{len(days)} days in {len(months)} months, {max(n_workers, n_ranks)} "
                f"{'MPI rank(s)' if n_ranks > 1 else 'process(es)'}; method {options.method}, "
                f"{options.n_scenarios} scenarios, time limit {options.time_limit_s} s per plan")
    tasks = [(case, real, m_days, options, str(out), progress and n_workers == 1) for m_days in months.values()]
    done_before = len(list((out / "days").glob("*.json")))
    if n_ranks > 1:
        job = out / "mpi_job.pkl"
        with open(job, "wb") as fh:
            pickle.dump({"case": case, "real": real, "months": list(months.values()), "options": options,
                         "output_dir": str(out)}, fh)
        run_mpi(n_ranks, "planner.replay.mpi_worker", [str(job)])
        job.unlink()
        computed = len(list((out / "days").glob("*.json"))) - done_before
    elif n_workers == 1 or len(tasks) == 1:
        computed = sum(month_task(t) for t in tasks)
    else:
        with multiprocessing.get_context("spawn").Pool(min(n_workers, len(tasks))) as pool:
            computed = sum(pool.map(month_task, tasks, chunksize=1))
    rows = []
    for d in days:
        rows.extend(json.loads((out / "days" / f"{d.strftime('%Y-%m-%d')}.json").read_text())["rows"])
    if PERFECT_MONTH in options.policies:
        for month in months:
            rows.extend(json.loads((out / "months" / f"{month}.json").read_text())["rows"])
    daily = pd.DataFrame(rows)
    monthly = monthly_bills(daily, case)
    savings = savings_table(daily, random_state=options.seed)
    against = planner_table(daily, random_state=options.seed)
    result = ReplayResult(daily, monthly, savings, time.perf_counter() - t0, computed, out,
                          real.description or real.source, against)
    daily.to_parquet(out / "daily.parquet", index=False)
    monthly.to_csv(out / "monthly_bills.csv", index=False)
    savings.to_csv(out / "savings.csv", index=False)
    against.to_csv(out / "planner_against.csv", index=False)
    write_atomic(out / "summary.json", json.dumps(result.summary(), indent=2, default=float))
    if figures:
        write_report(daily, monthly, savings, case, out, options.seed, against)
    log.message(f"done: {len(days)} days ({computed} computed now) in {result.wall_time_s:.1f} s")
    return result
