"""Scenario names as mpi-sppy wants them (a prefix and a number) and the number read back from a name."""

from __future__ import annotations

from mpisppy.utils.sputils import extract_num


def scenario_names_creator(num_scens, start=None, prefix: str = "scen") -> list[str]:
    """``[prefix<start>, ..., prefix<start + num_scens - 1>]`` (mpi-sppy's hook signature)."""
    start = 0 if start is None else start
    return [f"{prefix}{i}" for i in range(start, start + num_scens)]


def scenario_index(scenario_name: str) -> int:
    """The number a scenario name ends with; a clear error when it has none."""
    if not scenario_name or not scenario_name[-1].isdigit():
        raise ValueError(f"scenario name {scenario_name!r} must end in digits (e.g. 'scen0')")
    return int(extract_num(scenario_name))
