"""Shared fixtures: the project root, the default case, ../shared/data (skipped when absent), and a
PostgreSQL database (PLANNER_TEST_PG_URL, or a throw-away cluster for the session)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("OMPI_MCA_osc", "^ucx")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder beside the project; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent: this test reads the real data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def default_case():
    from planner.case import load_case

    return load_case(PROJECT_ROOT / "data" / "cases" / "default.toml")


def _postgres_binaries() -> Path | None:
    """The PostgreSQL server binaries (``PG_BIN`` or the newest /usr/lib/postgresql/*/bin with initdb)."""
    if os.environ.get("PG_BIN"):
        folder = Path(os.environ["PG_BIN"])
        return folder if (folder / "initdb").is_file() else None
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
                   if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a PostgreSQL database for the database tests.

    ``PLANNER_TEST_PG_URL`` when set (``.ci/run`` starts a cluster and sets it); otherwise, when the
    server binaries exist, a throw-away cluster started with ``.ci/pg_start`` for this session and
    stopped with ``.ci/pg_stop`` at its end. Without binaries the tests skip, or fail under ``CI=true``.
    """
    url = os.environ.get("PLANNER_TEST_PG_URL")
    if url:
        yield url
        return
    under_ci = os.environ.get("CI", "").lower() == "true"
    if _postgres_binaries() is None:
        message = ("no PostgreSQL server binaries (initdb) found and PLANNER_TEST_PG_URL is not set: install "
                   "the PostgreSQL server, set PG_BIN, or give the URL of a test database")
        if under_ci:
            pytest.fail(message + " -- under CI the database tests must run")
        pytest.skip(message)
    started = subprocess.run(["bash", str(PROJECT_ROOT / ".ci" / "pg_start")], capture_output=True, text=True,
                             timeout=180)
    exports = dict(re.findall(r"^export (\w+)='?(.*?)'?$", started.stdout, flags=re.MULTILINE))
    if started.returncode != 0 or "PLANNER_TEST_PG_URL" not in exports:
        pytest.fail(f".ci/pg_start failed (exit {started.returncode}): {started.stderr.strip()[-2000:]}")
    try:
        yield exports["PLANNER_TEST_PG_URL"]
    finally:
        subprocess.run(["bash", str(PROJECT_ROOT / ".ci" / "pg_stop"), exports.get("PLANNER_TEST_PG_DIR", "")],
                       capture_output=True, timeout=120)
