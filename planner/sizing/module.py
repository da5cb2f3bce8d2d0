"""The sizing model as an mpi-sppy model module (``scenario_creator``, ``scenario_names_creator``,
``kw_creator``, ``inparser_adder``, ``scenario_denouement``, ``average_scenario_creator``), for
``mpisppy.generic_cylinders`` under MPI, e.g.::

    OMPI_MCA_osc=^ucx .venv/bin/mpiexec --allow-run-as-root -np 3 .venv/bin/python -m mpi4py \\
        -m mpisppy.generic_cylinders --module-name planner.sizing.module \\
        --sizing-case data/cases/default.toml --sizing-years 2 --sizing-days 2 --num-scens 2 \\
        --solver-name appsi_highs --max-iterations 10 --default-rho 1 --linearize-proximal-terms \\
        --lagrangian --xhatshuffle --rel-gap 0.01

Scenario data (typical days) come from ``--sizing-data`` (a pickle written by
:func:`write_sizing_data`) or are generated from the case and ``--sizing-random-state`` in each rank;
in one process, ``scenario_creator(name, data=SizingData(...))`` uses data already in memory.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import lru_cache

from mpisppy.utils import sputils

from planner.case import load_case
from planner.sizing.inputs import average_day_table
from planner.sizing.lines import prepare_sizing_days
from planner.sizing.model import OBJECTIVE_SCALE, SizingOptions, build_scenario_model, first_stage_vars
from planner.stochastic.names import scenario_names_creator

__all__ = ["scenario_creator", "scenario_names_creator", "kw_creator", "inparser_adder", "scenario_denouement",
           "average_scenario_creator", "SizingData", "load_data", "write_sizing_data"]


@dataclass(frozen=True)
class SizingData:
    """What the scenario models are built from: the case, the model options, the typical days and the
    probability of each scenario (by name), and the representative days asked per scenario year."""

    case: object
    options: SizingOptions
    tables: dict
    probabilities: dict
    days: int | None = None


def inparser_adder(cfg):
    cfg.num_scens_required()
    cfg.add_to_config("sizing_case", description="case file (TOML)", domain=str, default="data/cases/default.toml")
    cfg.add_to_config("sizing_years", description="horizon in years", domain=int, default=20)
    cfg.add_to_config("sizing_years_per_block", description="years per block of operation", domain=int, default=5)
    cfg.add_to_config("sizing_days", description="representative days per scenario year", domain=int, default=16)
    cfg.add_to_config("sizing_random_state", description="random state of the scenarios", domain=int, default=0)
    cfg.add_to_config("sizing_data", description="pickle of typical days (write_sizing_data)", domain=str, default=None)


def kw_creator(cfg):
    return {"case_path": cfg.sizing_case, "years": cfg.sizing_years, "years_per_block": cfg.sizing_years_per_block,
            "days": cfg.sizing_days, "random_state": cfg.sizing_random_state, "num_scens": cfg.num_scens,
            "data_path": cfg.sizing_data}


@lru_cache(maxsize=2)
def load_data(case_path, years, years_per_block, days, random_state, num_scens, data_path) -> SizingData:
    """The case and typical days of a rank: from the pickle when given, else generated (cached)."""
    case = load_case(case_path)
    if data_path:
        with open(data_path, "rb") as fh:
            payload = pickle.load(fh)
        tables, probs, names = payload["tables"], payload["probabilities"], payload["names"]
    else:
        # with the lines' scheduled profile (when SizingOptions.include_lines): a day-ahead solve per typical
        # day in every rank; write the days once with write_sizing_data and pass --sizing-data instead
        tables, probs, names = prepare_sizing_days(case, days, num_scens, random_state,
                                                   include_lines=SizingOptions.include_lines)[:3]
    options = SizingOptions(years=years, years_per_block=years_per_block)
    return SizingData(case, options, dict(zip(names, tables)), dict(zip(names, map(float, probs))), days)


def _data(data, case_path, years, years_per_block, days, random_state, num_scens, data_path) -> SizingData:
    if data is not None:
        return data
    return load_data(case_path, years, years_per_block, days, random_state, num_scens, data_path)


def _with_root_node(m, probability: float):
    sputils.attach_root_node(m, OBJECTIVE_SCALE * m.first_stage_cost, first_stage_vars(m))
    m._mpisppy_probability = probability
    return m


def scenario_creator(scenario_name, case_path="data/cases/default.toml", years=20, years_per_block=5, days=16,
                     random_state=0, num_scens=10, data_path=None, data: SizingData | None = None):
    """The scenario model (first stage + one scenario) with its root node and probability."""
    d = _data(data, case_path, years, years_per_block, days, random_state, num_scens, data_path)
    m = build_scenario_model(d.case, d.tables[scenario_name], d.options, scenario_name)
    return _with_root_node(m, d.probabilities[scenario_name])


def average_scenario_creator(scenario_name="average0", case_path="data/cases/default.toml", years=20,
                             years_per_block=5, days=16, random_state=0, num_scens=10, data_path=None,
                             data: SizingData | None = None):
    """The expected-value problem: one scenario whose year is the probability-weighted mean of the
    scenarios' years (``planner.sizing.inputs.average_day_table``), with probability 1."""
    d = _data(data, case_path, years, years_per_block, days, random_state, num_scens, data_path)
    names = list(d.tables)
    table = average_day_table([d.tables[n] for n in names], [d.probabilities[n] for n in names], d.days)
    return _with_root_node(build_scenario_model(d.case, table, d.options, scenario_name), 1.0)


def scenario_denouement(rank, scenario_name, scenario):
    pass


def write_sizing_data(path, tables, probabilities, names) -> None:
    """Save typical days for the MPI ranks (so every rank uses the same scenarios without refitting)."""
    with open(path, "wb") as fh:
        pickle.dump({"tables": list(tables), "probabilities": list(probabilities), "names": list(names)}, fh)
