"""The README's "Your plant's own data" walk-through, run as written: write a meter export, `planner ingest`
it, plan its 25-hour day and size on its year into one SQLite store, then read the rows back with the
README's own SQL."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def readme_block(project_root: Path) -> tuple[str, str]:
    """(the shell commands of the section's first sh block up to its sqlite3 call, the SQL given to sqlite3)."""
    text = (project_root / "README.md").read_text()
    section = text.split("## Your plant's own data", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    shell, _, query = block.partition("\nsqlite3 output/plant/planner.sqlite \\\n")
    return shell, query.strip().strip('"')


def hourly_load_kw() -> np.ndarray:
    """The README's synthetic meter, kWh per quarter x 4, as hourly means (kW) of 2019-10-27 local time."""
    local_hours = np.concatenate([np.arange(0, 3), np.arange(2, 24)])  # 02:00 twice
    quarters = local_hours[:, None] + np.arange(4)[None, :] / 4
    return (4 * (250 + 60 * np.sin(2 * np.pi * (quarters - 6) / 24))).mean(axis=1)


@pytest.mark.slow
def test_the_readme_plant_data_commands_run_and_their_sql_reads_the_results(project_root, tmp_path):
    shell, query = readme_block(project_root)
    venv_bin = f"{Path(sys.executable).parent}/"
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", shell.replace(".venv/bin/", venv_bin)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    database = tmp_path / "output" / "plant" / "planner.sqlite"
    with sqlite3.connect(database) as db:
        nominations, repairs, sizing, sizes, runs = [db.execute(s).fetchall() for s in query.split(";") if s.strip()]
    # the 25-hour day from local midnight: the autumn hour twice, told apart by its offset
    assert [r[0] for r in nominations] == ["2019-10-27T00:00:00+02:00", "2019-10-27T01:00:00+02:00",
                                           "2019-10-27T02:00:00+02:00", "2019-10-27T02:00:00+01:00",
                                           "2019-10-27T03:00:00+01:00"]
    assert all(0.0 <= r[1] <= hourly_load_kw().max() + 0.1 for r in nominations)
    assert repairs == [("dst_fold_resolved", 8)]  # the 4 quarters of the repeated hour, twice
    (subscribed, lower, upper, gap, base_load), = sizing
    assert 0 < subscribed and lower <= upper and 0 <= gap <= 0.01 + 1e-12
    assert base_load == "plant: metered, from plant_meter.csv"
    assert sizes == [("plant", 0.0, 0.0)]  # no sizing table in the case: nothing new to install
    assert sorted(r[1] for r in runs) == ["ingest", "plan", "size"]
    assert all(len(r[2]) == 64 for r in runs if r[1] != "ingest") and all(r[3] for r in runs)
    if shutil.which("sqlite3"):  # the README's own client call, as written
        client = subprocess.run(["sqlite3", "output/plant/planner.sqlite", query], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert client.returncode == 0 and "2019-10-27T02:00:00+01:00|" in client.stdout
