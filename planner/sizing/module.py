"""The sizing model as an mpi-sppy model module (scenario_creator, scenario_names_creator, kw_creator,
inparser_adder, scenario_denouement), for ``mpisppy.generic_cylinders`` under MPI, e.g.::

    OMPI_MCA_osc=^ucx .venv/bin/mpiexec --allow-run-as-root -np 3 .venv/bin/python -m mpi4py \\
        -m mpisppy.generic_cylinders --module-name planner.sizing.mpisppy_model \\
        --sizing-case data/cases/default.toml --sizing-years 2 --sizing-days 2 --num-scens 2 \\
        --solver-name appsi_highs --max-iterations 10 --default-rho 1 --linearize-proximal-terms \\
        --lagrangian --xhatshuffle --rel-gap 0.01

Scenario data (typical days) come from ``--sizing-data`` (a pickle written by
:func:`write_sizing_data`) or are generated from the case and ``--sizing-seed`` in each rank.
"""

from __future__ import annotations

import pickle
from functools import lru_cache

from planner.sizing.model import OBJECTIVE_SCALE, SizingOptions, build_scenario_model, first_stage_vars


def scenario_names_creator(num_scens, start=None):
    start = 0 if start is None else int(start)
    return [f"scen{k}" for k in range(start, start + int(num_scens))]


def inparser_adder(cfg):
    cfg.num_scens_required()
    cfg.add_to_config("sizing_case", description="case file (TOML)", domain=str, default="data/cases/default.toml")
    cfg.add_to_config("sizing_years", description="horizon in years", domain=int, default=20)
    cfg.add_to_config("sizing_years_per_block", description="years per block of operation", domain=int, default=5)
    cfg.add_to_config("sizing_days", description="representative days per scenario year", domain=int, default=16)
    cfg.add_to_config("sizing_seed", description="random seed of the scenarios", domain=int, default=0)
    cfg.add_to_config("sizing_data", description="pickle of typical days (write_sizing_data)", domain=str, default=None)


@lru_cache(maxsize=2)
def _load(case_path, years, years_per_block, days, seed, num_scens, data_path):
    from planner.case import load_case

    case = load_case(case_path)
    if data_path:
        with open(data_path, "rb") as fh:
            payload = pickle.load(fh)
        tables, probs, names = payload["tables"], payload["probabilities"], payload["names"]
    else:
        from planner.sizing.run import prepare_days

        tables, probs, names, _ = prepare_days(case, days, num_scens, seed)
    options = SizingOptions(years=years, years_per_block=years_per_block)
    return case, options, dict(zip(names, tables)), dict(zip(names, map(float, probs)))


def kw_creator(cfg):
    return {"case_path": cfg.sizing_case, "years": cfg.sizing_years, "years_per_block": cfg.sizing_years_per_block,
            "days": cfg.sizing_days, "seed": cfg.sizing_seed, "num_scens": cfg.num_scens, "data_path": cfg.sizing_data}


def scenario_creator(scenario_name, case_path="data/cases/default.toml", years=20, years_per_block=5, days=16,
                     seed=0, num_scens=10, data_path=None):
    import mpisppy.utils.sputils as sputils

    case, options, tables, probs = _load(case_path, years, years_per_block, days, seed, num_scens, data_path)
    m = build_scenario_model(case, tables[scenario_name], options, scenario_name)
    sputils.attach_root_node(m, OBJECTIVE_SCALE * m.first_stage_cost, first_stage_vars(m))
    m._mpisppy_probability = probs[scenario_name]
    return m


def scenario_denouement(rank, scenario_name, scenario):
    pass


def write_sizing_data(path, tables, probabilities, names) -> None:
    """Save typical days for the MPI ranks (so every rank uses the same scenarios without refitting)."""
    with open(path, "wb") as fh:
        pickle.dump({"tables": list(tables), "probabilities": list(probabilities), "names": list(names)}, fh)
