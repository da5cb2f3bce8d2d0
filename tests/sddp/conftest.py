"""Fixtures of the sddp tests: a script run on two MPI ranks through the project's one launcher."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from planner.solvers.mpi import mpi_environment, mpiexec_command, mpiexec_path


def run_on_two_ranks(tmp_path, script: str) -> list[dict]:
    """Run ``script`` (which prints ``RESULT {json}`` lines) on 2 ranks; the parsed results, one per line."""
    if mpiexec_path() is None:
        pytest.skip("mpiexec not available")
    pytest.importorskip("mpi4py")
    path = tmp_path / "run.py"
    path.write_text(script)
    proc = subprocess.run(mpiexec_command(2, [sys.executable, str(path)], python_module=False),
                          capture_output=True, text=True, env=mpi_environment(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]


@pytest.fixture
def two_ranks(tmp_path):
    """``two_ranks(script) -> results``: the script's RESULT lines from two MPI ranks."""
    return lambda script: run_on_two_ranks(tmp_path, script)
