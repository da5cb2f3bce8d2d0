"""The day-ahead model as an mpi-sppy model module: the hooks mpi-sppy's drivers look for, named as it
names them, so that ``python -m mpisppy.generic_cylinders --module-name planner.dayahead.module
--case-file data/cases/default.toml --scenarios-file scen.parquet --num-scens N ...`` runs it too."""

from __future__ import annotations

import json
from pathlib import Path

from mpisppy.utils import sputils

from planner.case import load_case
from planner.dayahead.data import check_scenarios, mean_data, scenario_data
from planner.dayahead.model import build_day_ahead_model
from planner.scenario_inputs import case_scenarios
from planner.stochastic.names import scenario_index, scenario_names_creator
from scenarios.scenario_set import ScenarioSet

__all__ = ["scenario_names_creator", "scenario_creator", "average_scenario_creator", "inparser_adder",
           "kw_creator", "scenario_denouement", "custom_writer"]


def attach_root_node(model) -> None:
    """Declare the first-stage variables and cost to mpi-sppy (a two-stage tree: one ROOT node)."""
    sputils.attach_root_node(model, model.first_stage_cost_eur, model.nonant_components)


def scenario_creator(scenario_name, case=None, scenarios=None, schedule_first_stage=False, num_scens=None):
    """One scenario's Pyomo model with its mpi-sppy tree node and probability.

    ``scenarios`` is a ScenarioSet; scenario ``scenK`` uses row K. With ``num_scens`` smaller than
    the set, probabilities are those of the set renormalised over the first ``num_scens`` rows.
    """
    if case is None or scenarios is None:
        raise ValueError("scenario_creator needs case= and scenarios= (use kw_creator(cfg))")
    i = scenario_index(scenario_name)
    if i >= scenarios.n_scenarios:
        raise ValueError(f"scenario {scenario_name!r}: the scenario set has only {scenarios.n_scenarios} rows")
    model = build_day_ahead_model(case, scenario_data(case, scenarios, i),
                                  schedule_first_stage=schedule_first_stage, name=scenario_name)
    attach_root_node(model)
    probs = scenarios.probabilities[: (num_scens or scenarios.n_scenarios)]
    model._mpisppy_probability = float(scenarios.probabilities[i] / probs.sum())
    return model


def average_scenario_creator(scenario_name="average0", case=None, scenarios=None, schedule_first_stage=False,
                             num_scens=None):
    """The expected-value problem's model: every uncertain input at its mean (for EV, VSS, Jensen)."""
    if num_scens is not None and num_scens < scenarios.n_scenarios:
        scenarios = scenarios.subset(range(num_scens))
    model = build_day_ahead_model(case, mean_data(case, scenarios), schedule_first_stage=schedule_first_stage,
                                  name=scenario_name)
    attach_root_node(model)
    model._mpisppy_probability = 1.0
    return model


def inparser_adder(cfg):
    cfg.num_scens_required()
    cfg.add_to_config("case_file", description="case TOML file", domain=str, default="data/cases/default.toml")
    cfg.add_to_config("scenarios_file", description="ScenarioSet parquet file (default: generate from the case)",
                      domain=str, default=None)
    cfg.add_to_config("scenario_seed", description="random state when generating scenarios", domain=int, default=0)
    cfg.add_to_config("schedule_first_stage", description="production schedule decided day-ahead",
                      domain=bool, default=False)
    cfg.add_to_config("bounds_json", description="write the final bounds to this JSON file",
                      domain=str, default=None)


def kw_creator(cfg):
    """Scenario-creator keyword arguments from the parsed options (loads case and scenarios once)."""
    case = load_case(cfg.get("case_file", "data/cases/default.toml"))
    n = cfg.get("num_scens", None)
    path = cfg.get("scenarios_file", None)
    if path:
        scen = ScenarioSet.from_parquet(path)
    else:
        scen = case_scenarios(case, n or case.scenarios.n_scenarios, cfg.get("scenario_seed", 0))
    check_scenarios(case, scen)
    if n is not None and n > scen.n_scenarios:
        raise ValueError(f"--num-scens {n} exceeds the {scen.n_scenarios} scenarios in the set")
    return {"case": case, "scenarios": scen, "schedule_first_stage": bool(cfg.get("schedule_first_stage", False)),
            "num_scens": n}


def scenario_denouement(rank, scenario_name, scenario):
    pass


def custom_writer(wheel, cfg):
    """Called by generic_cylinders at the end: write the hub's bounds as JSON (``--bounds-json``)."""
    path = cfg.get("bounds_json", None)
    if not path or not wheel.on_hub() or wheel.spcomm.cylinder_rank != 0:
        return
    ph = wheel.spcomm.opt
    Path(path).write_text(json.dumps({
        "inner_bound": wheel.BestInnerBound, "outer_bound": wheel.BestOuterBound,
        "iterations": int(getattr(ph, "_PHIter", -1)),
    }))
