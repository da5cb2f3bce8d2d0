"""The day-ahead model as an mpi-sppy model module: the hooks mpi-sppy's drivers look for, named as it
names them, so that ``python -m mpisppy.generic_cylinders --module-name planner.dayahead.module
--case-file data/cases/default.toml --scenarios-file scen.parquet --num-scens N ...`` runs it too.

Warm start (``hub_and_spoke_dict_callback``): with ``--lagrangian-init-W-fname w.csv`` (rows
``scenario,variable,W``, e.g. from the L-shaped LP's subgradients) the Lagrangian spoke's first bound
uses those W instead of zero (mpi-sppy's WXBarReader extension, which mpi-sppy itself attaches only to
the hub). The fixer (``--fixer``) needs ``id_fix_list_fct``: the production schedule's binaries when it
is first stage (``--schedule-first-stage``), fixed once converged for a few iterations.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from mpisppy.utils import sputils
from mpisppy.utils.cfg_vanilla import extension_adder
from mpisppy.utils.w_utils.wxbarreader import WXBarReader

from planner.case import load_case
from planner.dayahead.data import check_scenarios, mean_data, scenario_data
from planner.dayahead.model import build_day_ahead_model
from planner.scenario_inputs import case_scenarios
from planner.stochastic.names import scenario_index, scenario_names_creator
from scenarios.scenario_set import ScenarioSet

__all__ = ["scenario_names_creator", "scenario_creator", "average_scenario_creator", "inparser_adder",
           "kw_creator", "scenario_denouement", "custom_writer", "hub_and_spoke_dict_callback", "id_fix_list_fct"]

FIXER_ITERATIONS = 3  # a binary first-stage variable is fixed after this many iterations at one value everywhere


def attach_root_node(model) -> None:
    """Declare the first-stage variables and cost to mpi-sppy (a two-stage tree: one ROOT node)."""
    sputils.attach_root_node(model, model.first_stage_cost_eur, model.nonant_components)


def start_from_schedule(model, schedule: dict) -> None:
    """Give the binaries of ``model`` start values from ``schedule`` ({binary name: 0/1}, e.g. the
    L-shaped common schedule, feasible in every scenario); nothing is fixed and no other value is set.
    HiGHS completes such a partial MIP start itself (it fixes the integers and solves the LP), so a MIP
    solver warm-started from these values (mpi-sppy's ``--warmstart-subproblems --user-warmstart``) has
    an incumbent from its first second. Computing the completion here (one LP per scenario, translated
    by Pyomo) cost 0.37 s per scenario against 0.07 s for building the model, for the same MIP solve."""
    for name, value in schedule.items():
        var = model.find_component(name)
        if var is not None and not var.fixed:
            var.set_value(round(value))


def scenario_creator(scenario_name, case=None, scenarios=None, schedule_first_stage=False, num_scens=None,
                     schedule_start=None):
    """One scenario's Pyomo model with its mpi-sppy tree node and probability.

    ``scenarios`` is a ScenarioSet; scenario ``scenK`` uses row K. With ``num_scens`` smaller than
    the set, probabilities are those of the set renormalised over the first ``num_scens`` rows.
    ``schedule_start``: {binary name: 0/1}, the schedule the start values are computed from
    (``start_from_schedule``).
    """
    if case is None or scenarios is None:
        raise ValueError("scenario_creator needs case= and scenarios= (use kw_creator(cfg))")
    i = scenario_index(scenario_name)
    if i >= scenarios.n_scenarios:
        raise ValueError(f"scenario {scenario_name!r}: the scenario set has only {scenarios.n_scenarios} rows")
    model = build_day_ahead_model(case, scenario_data(case, scenarios, i),
                                  schedule_first_stage=schedule_first_stage, name=scenario_name)
    if schedule_start:
        start_from_schedule(model, schedule_start)
    attach_root_node(model)
    probs = scenarios.probabilities[: (num_scens or scenarios.n_scenarios)]
    model._mpisppy_probability = float(scenarios.probabilities[i] / probs.sum())
    return model


def average_scenario_creator(scenario_name="average0", case=None, scenarios=None, schedule_first_stage=False,
                             num_scens=None, schedule_start=None):
    """The expected-value problem's model: every uncertain input at its mean (for EV, VSS, Jensen);
    ``schedule_start`` as in ``scenario_creator``."""
    if num_scens is not None and num_scens < scenarios.n_scenarios:
        scenarios = scenarios.subset(range(num_scens))
    model = build_day_ahead_model(case, mean_data(case, scenarios), schedule_first_stage=schedule_first_stage,
                                  name=scenario_name)
    if schedule_start:
        start_from_schedule(model, schedule_start)
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
    cfg.add_to_config("schedule_start_file", description="JSON {binary name: 0/1}: a schedule feasible in every "
                      "scenario; every subproblem starts from the LP optimum with it fixed", domain=str, default=None)
    cfg.add_to_config("lagrangian_init_W_fname", description="W (scenario,variable,value CSV) of the Lagrangian "
                      "spoke's first bound (e.g. from the L-shaped LP)", domain=str, default=None)


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
    start = cfg.get("schedule_start_file", None)
    return {"case": case, "scenarios": scen, "schedule_first_stage": bool(cfg.get("schedule_first_stage", False)),
            "num_scens": n, "schedule_start": json.loads(Path(start).read_text()) if start else None}


def scenario_denouement(rank, scenario_name, scenario):
    pass


def hub_and_spoke_dict_callback(hub_dict, list_of_spoke_dict, cfg):
    """Called by generic_cylinders before the wheel spins. The xhat spokes evaluate a given xhat
    (``--xhat-from-file``) with their iteration-k solver options (mpi-sppy 0.14 otherwise evaluates it
    with none: no MIP gap, no time limit); the Lagrangian spoke gets the initial W of
    ``--lagrangian-init-W-fname`` (mpi-sppy's WXBarReader, read before the spoke's first bound)."""
    for spoke in list_of_spoke_dict:
        options = spoke["opt_kwargs"]["options"]
        if spoke["spoke_class"].__name__.startswith("Xhat") and "solver_options" not in options:
            options["solver_options"] = dict(options.get("iterk_solver_options") or {})
    path = cfg.get("lagrangian_init_W_fname", None)
    if not path:
        return
    reader_cfg = copy.deepcopy(cfg)
    reader_cfg.quick_assign("W_and_xbar_reader", bool, True)
    reader_cfg.quick_assign("init_W_fname", str, str(path))
    reader_cfg.quick_assign("init_Xbar_fname", str, None)
    for spoke in list_of_spoke_dict:
        if spoke["spoke_class"].__name__ == "LagrangianOuterBound":
            extension_adder(spoke, WXBarReader)
            spoke["opt_kwargs"]["options"]["cfg"] = reader_cfg


def id_fix_list_fct(scenario):
    """mpi-sppy's fixer hook: (iteration-0 list, iteration-k list) of (id, threshold, nb, lb, ub) per
    binary first-stage variable: fixed at its bound once at that value in every scenario for
    FIXER_ITERATIONS iterations (only the schedule, when it is first stage, is binary)."""
    iterk = [(id(var), 1e-4, None, FIXER_ITERATIONS, FIXER_ITERATIONS)
             for comp in scenario.nonant_components for var in comp.values() if var.is_binary()]
    return [], iterk


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
