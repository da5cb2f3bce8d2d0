"""The day-ahead procurement model of N interconnected sites as an mpi-sppy two-stage module.

First stage: day-ahead volumes per period (global contract, or per site), optionally the production
schedule (``schedule_first_stage=True``). Second stage per scenario: intraday purchases, resale,
link exchanges, batteries, generators, renewables with curtailment and (by default) the production
schedule. Runs under ``python -m mpisppy.generic_cylinders --module-name planner.twostage
--case-file data/cases/default.toml --scenarios-file scen.parquet --num-scens N ...``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

from planner.blocks.contract import build_contract_block
from planner.blocks.links import build_links_block
from planner.blocks.site import build_site_block, site_max_demand_kw
from planner.load_profiles import base_load_kw

PRICE_VARIABLES = ("p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh")


# --------------------------------------------------------------------------------------------
# Scenario data
# --------------------------------------------------------------------------------------------
def required_variables(case) -> list[str]:
    """Scenario variables the model reads for ``case``."""
    names = list(PRICE_VARIABLES)
    for s in case.sites:
        if s.microgrid.pv is not None and s.microgrid.pv.kwp > 0:
            names.append(f"pv_kw_per_kwp:{s.name}")
        if sum(w.count for w in s.microgrid.wind) > 0:
            names.append(f"wind_kw_per_turbine:{s.name}")
    return names


def check_scenarios(case, scenarios) -> None:
    """Raise ValueError naming what is wrong when ``scenarios`` does not fit ``case``."""
    missing = [v for v in required_variables(case) if v not in scenarios.variables]
    if missing:
        raise ValueError(
            f"scenarios: missing variables {missing}; the case needs {required_variables(case)} "
            "(build them with planner.scenario_inputs.case_scenarios or add them to the ScenarioSet)")
    if scenarios.n_periods != case.n_periods:
        raise ValueError(f"scenarios: {scenarios.n_periods} periods but the case has {case.n_periods} "
                         f"(horizon_hours / period_minutes); regenerate the scenarios for this case")
    if abs(scenarios.period_hours - case.period_hours) > 1e-9:
        raise ValueError(f"scenarios: period_hours = {scenarios.period_hours} but the case uses "
                         f"{case.period_hours} h periods")


def scenario_data(case, scenarios, index: int) -> dict:
    """The inputs of one scenario: prices (EUR/MWh) and available PV and wind (kW) per site."""
    values = scenarios.values[index]
    col = {v: i for i, v in enumerate(scenarios.variables)}
    data = {k[:2]: values[:, col[k]] for k in PRICE_VARIABLES}
    data["pv_kw"], data["wind_kw"] = {}, {}
    for s in case.sites:
        n = case.n_periods
        pv = s.microgrid.pv
        data["pv_kw"][s.name] = (pv.kwp * values[:, col[f"pv_kw_per_kwp:{s.name}"]]
                                 if pv is not None and pv.kwp > 0 else np.zeros(n))
        count = sum(w.count for w in s.microgrid.wind)
        data["wind_kw"][s.name] = (count * values[:, col[f"wind_kw_per_turbine:{s.name}"]]
                                   if count > 0 else np.zeros(n))
    return data


def mean_data(case, scenarios) -> dict:
    """Inputs of the expected-value scenario (probability-weighted mean path)."""
    from scenarios.scenario_set import ScenarioSet

    mean = scenarios.mean()[None, :, :]
    one = ScenarioSet(mean, np.ones(1), scenarios.variables, ("mean0",), scenarios.period_hours)
    return scenario_data(case, one, 0)


def zones_of(case) -> dict:
    if case.contract.day_ahead_scope == "per_site":
        return {s.name: [s.name] for s in case.sites}
    return {"grid": list(case.site_names)}


# --------------------------------------------------------------------------------------------
# The model of one scenario
# --------------------------------------------------------------------------------------------
def zone_bounds_kw(case, loads: dict) -> dict:
    """Bound on each zone's purchases: per site, the smaller of its grid connection and its highest
    demand plus every link's capacity (``loads``: site name -> base load per period, kW)."""
    bound = {}
    for z, sites in zones_of(case).items():
        total = 0.0
        for sn in sites:
            demand = site_max_demand_kw(case.site(sn), loads[sn])
            total += min(case.site(sn).grid_connection_kw, demand + sum(l.capacity_kw for l in case.links))
        bound[z] = total
    return bound


def build_day_ahead_model(case, data: dict, *, schedule_first_stage: bool = False, elastic=frozenset(),
                          fixed_schedule=None, name: str = "day_ahead") -> pyo.ConcreteModel:
    """The deterministic model of one scenario (prices and renewables in ``data``).

    ``elastic``: constraint families given penalised slacks (see planner.blocks.ELASTIC_FAMILIES);
    ``fixed_schedule``: {site: {line: {"on": {(m,t): 0/1}, "run": {(m,t): x}}}} fixes production.
    """
    n = case.n_periods
    m = pyo.ConcreteModel(name)
    m.T = pyo.Set(initialize=range(n), ordered=True)
    m.S = pyo.Set(initialize=list(case.site_names), ordered=True)
    m.site = pyo.Block(m.S)
    loads = {}
    for s in case.sites:
        loads[s.name] = base_load_kw(s.base_load, case.scenarios.day, case.period_minutes, n)
        build_site_block(m.site[s.name], s, case, loads[s.name], data["pv_kw"][s.name], data["wind_kw"][s.name],
                         elastic=elastic,
                         fixed_schedule=None if fixed_schedule is None else fixed_schedule.get(s.name))
    m.links = pyo.Block()
    build_links_block(m.links, case.links, case.site_names, n, elastic)
    m.link_port = pyo.Constraint(m.S, m.T, rule=lambda m, s, t: m.site[s].link_in_kw[t] == m.links.link_in_kw[s, t])
    zones = zones_of(case)
    bound = zone_bounds_kw(case, loads)
    m.contract = pyo.Block()
    build_contract_block(m.contract, case, zones, bound, {"p0": data["p0"], "p1": data["p1"], "p2": data["p2"]},
                         lambda s, t: m.site[s].grid_kw[t], elastic)
    m.total_cost_eur = pyo.Expression(expr=m.contract.cost_eur + sum(m.site[s].cost_eur for s in m.S))
    slacks = [v for v in m.component_objects(pyo.Var, descend_into=True) if v.local_name.startswith("slack_")]
    penalty = 1e6
    m.elastic_penalty = pyo.Expression(expr=penalty * sum(sum(v.values()) for v in slacks) if slacks else 0.0)
    m.obj = pyo.Objective(expr=m.total_cost_eur + m.elastic_penalty, sense=pyo.minimize)
    m.first_stage_cost_eur = pyo.Expression(expr=m.contract.day_ahead_cost_eur)
    nonants = [m.contract.day_ahead_kw]
    if schedule_first_stage:
        for s in case.sites:
            for line in s.lines:
                nonants += [m.site[s.name].line[line.name].on, m.site[s.name].line[line.name].run]
    m._nonant_components = nonants
    return m


def attach_root_node(model) -> None:
    """Declare the first-stage variables to mpi-sppy (a two-stage tree: one ROOT node)."""
    from mpisppy import scenario_tree

    model._mpisppy_node_list = [
        scenario_tree.ScenarioNode("ROOT", 1.0, 1, model.first_stage_cost_eur, model._nonant_components, model)
    ]


# --------------------------------------------------------------------------------------------
# mpi-sppy module interface
# --------------------------------------------------------------------------------------------
def scenario_names_creator(num_scens, start=None):
    start = 0 if start is None else start
    return [f"scen{i}" for i in range(start, start + num_scens)]


def _index_of(scenario_name: str) -> int:
    digits = ""
    for ch in reversed(scenario_name):
        if not ch.isdigit():
            break
        digits = ch + digits
    if not digits:
        raise ValueError(f"scenario name {scenario_name!r} must end in digits")
    return int(digits)


def scenario_creator(scenario_name, case=None, scenarios=None, schedule_first_stage=False, num_scens=None):
    """One scenario's Pyomo model with its mpi-sppy tree node and probability.

    ``scenarios`` is a ScenarioSet; scenario ``scenK`` uses row K. With ``num_scens`` smaller than
    the set, probabilities are those of the set renormalised over the first ``num_scens`` rows.
    """
    if case is None or scenarios is None:
        raise ValueError("scenario_creator needs case= and scenarios= (use kw_creator(cfg))")
    i = _index_of(scenario_name)
    if i >= scenarios.n_scenarios:
        raise ValueError(f"scenario {scenario_name!r}: the scenario set has only {scenarios.n_scenarios} rows")
    model = build_day_ahead_model(case, scenario_data(case, scenarios, i),
                                  schedule_first_stage=schedule_first_stage, name=scenario_name)
    attach_root_node(model)
    probs = scenarios.probabilities[: (num_scens or scenarios.n_scenarios)]
    model._mpisppy_probability = float(scenarios.probabilities[i] / probs.sum())
    return model


def mean_scenario_creator(scenario_name="mean0", case=None, scenarios=None, schedule_first_stage=False,
                          num_scens=None):
    """The expected-value problem's model: every uncertain input at its mean (for EV and VSS)."""
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
    cfg.add_to_config("scenario_seed", description="seed when generating scenarios", domain=int, default=0)
    cfg.add_to_config("schedule_first_stage", description="production schedule decided day-ahead",
                      domain=bool, default=False)
    cfg.add_to_config("bounds_json", description="write the final bounds to this JSON file",
                      domain=str, default=None)


def kw_creator(cfg):
    """Scenario-creator keyword arguments from the parsed options (loads case and scenarios once)."""
    from planner.case import load_case

    case = load_case(cfg.get("case_file", "data/cases/default.toml"))
    n = cfg.get("num_scens", None)
    path = cfg.get("scenarios_file", None)
    if path:
        from scenarios.scenario_set import ScenarioSet

        scen = ScenarioSet.from_parquet(path)
    else:
        try:
            from planner.scenario_inputs import case_scenarios
        except ImportError as exc:  # pragma: no cover - depends on the lead's module
            raise RuntimeError("no --scenarios-file given and planner.scenario_inputs is not available") from exc
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
    ib, ob = wheel.BestInnerBound, wheel.BestOuterBound
    ph = wheel.spcomm.opt
    Path(path).write_text(json.dumps({
        "inner_bound": ib, "outer_bound": ob,
        "iterations": int(getattr(ph, "_PHIter", -1)),
    }))


# --------------------------------------------------------------------------------------------
# Results of a solved scenario model
# --------------------------------------------------------------------------------------------
def _v(x) -> float:
    val = pyo.value(x, exception=False)
    return float("nan") if val is None else float(val)


def dispatch_frame(case, model):
    """Per-period dispatch of one solved scenario model (kW, kWh, EUR/MWh)."""
    import pandas as pd

    T = range(case.n_periods)
    c = model.contract
    cols = {
        "day_ahead_kw": [sum(_v(c.day_ahead_kw[z, t]) for z in c.Z) for t in T],
        "intraday_kw": [sum(_v(c.intraday_kw[z, t]) for z in c.Z) for t in T],
        "resale_kw": [sum(_v(c.resale_kw[z, t]) for z in c.Z) for t in T],
        "net_import_kw": [_v(c.net_import_kw[t]) for t in T],
        "p0_eur_per_mwh": [_v(c.p0_eur_per_mwh[t]) for t in T],
        "p1_eur_per_mwh": [_v(c.p1_eur_per_mwh[t]) for t in T],
        "p2_eur_per_mwh": [_v(c.p2_eur_per_mwh[t]) for t in T],
    }
    for s in case.sites:
        b = model.site[s.name]
        cols[f"{s.name}:grid_kw"] = [_v(b.grid_kw[t]) for t in T]
        cols[f"{s.name}:base_load_kw"] = [_v(b.base_load_kw[t]) for t in T]
        cols[f"{s.name}:lines_kw"] = [_v(b.lines_kw[t]) for t in T]
        cols[f"{s.name}:link_in_kw"] = [_v(b.link_in_kw[t]) for t in T]
        cols[f"{s.name}:pv_kw"] = [_v(b.renewables.pv_kw[t]) for t in T]
        cols[f"{s.name}:wind_kw"] = [_v(b.renewables.wind_kw[t]) for t in T]
        cols[f"{s.name}:curtailed_kw"] = [_v(b.renewables.curtailed_kw[t]) for t in T]
        if b.has_generator:
            cols[f"{s.name}:generator_kw"] = [_v(b.generator.power_kw[t]) for t in T]
        if b.has_battery:
            cols[f"{s.name}:battery_kw"] = [_v(b.battery.net_kw[t]) for t in T]
            cols[f"{s.name}:soc_kwh"] = [_v(b.battery.soc_kwh[t]) for t in T]
        for m in b.STORED:
            cols[f"{s.name}:stock_t:{m}"] = [_v(b.stock_t[m, t]) for t in T]
    for k, link in enumerate(case.links):
        cols[f"link:{link.site_a}->{link.site_b}_kw"] = [_v(model.links.flow_kw[k, "ab", t]) for t in T]
        cols[f"link:{link.site_b}->{link.site_a}_kw"] = [_v(model.links.flow_kw[k, "ba", t]) for t in T]
    frame = pd.DataFrame(cols)
    frame.index.name = "period"
    frame.attrs["total_cost_eur"] = _v(model.total_cost_eur)
    return frame


def schedule_frame(case, model, scenario: str = ""):
    """Rows (scenario, site, line, period, material, run) of periods where a line is on."""
    import pandas as pd

    rows = []
    for s in case.sites:
        for line in s.lines:
            b = model.site[s.name].line[line.name]
            for t in range(case.n_periods):
                for m in b.M:
                    if _v(b.on[m, t]) > 0.5:
                        rows.append((scenario, s.name, line.name, t, m, round(_v(b.run[m, t]), 6)))
    return pd.DataFrame(rows, columns=["scenario", "site", "line", "period", "material", "run"])


def day_ahead_frame(case, first_stage: dict):
    """Period x zone frame of day-ahead volumes (kW) from first-stage values keyed by variable name."""
    import re

    import pandas as pd

    pat = re.compile(r"day_ahead_kw\[(.+),(\d+)\]$")
    data = {}
    for name, value in first_stage.items():
        m = pat.search(name)
        if m:
            data.setdefault(m.group(1), {})[int(m.group(2))] = value
    frame = pd.DataFrame(data).reindex(range(case.n_periods)).fillna(0.0)
    frame.index.name = "period"
    return frame


# --------------------------------------------------------------------------------------------
# Plan: the entry point used by the CLI and the report
# --------------------------------------------------------------------------------------------
def plan(case, n_scenarios: int | None = None, method: str = "ef", np: int = 1, seed: int | None = None,
         output_dir=None, progress: bool = True, *, scenarios=None, schedule_first_stage: bool = False,
         rel_gap: float = 0.005, time_limit: float | None = 120.0, measures: bool = True,
         measures_time_limit: float | None = 20.0, max_iterations: int = 50, default_rho: float | None = None):
    """Solve the day-ahead procurement problem; return a PlanResult with bounds, decisions, dispatch.

    ``case``: a Case or a path to a TOML case; ``scenarios``: a ScenarioSet (default: the calibrated
    scenarios of ``planner.scenario_inputs.case_scenarios(case, n_scenarios, seed)``);
    ``method``: 'ef' (extensive form, HiGHS), 'ph' (progressive hedging: under mpiexec with ``np``
    ranks when np >= 3 and mpiexec exists, else serial) or 'lshaped' (many scenarios: the LP
    relaxation's bound by the L-shaped method, a schedule common to all scenarios as the incumbent;
    planner.solve_lshaped). The plan is pre-checked (site, material,
    shortfall) before any solve; an infeasible model is diagnosed by elastic relaxation.
    """
    import math
    import time

    from planner.case import Case, load_case
    from planner.feasibility import diagnose_infeasible, require_feasible_plan
    from planner.results import PlanResult

    if not isinstance(case, Case):
        case = load_case(case)
    if method not in ("ef", "ph", "lshaped"):
        raise ValueError(f"method = {method!r}: use 'ef' (extensive form), 'ph' (progressive hedging) or "
                         "'lshaped' (L-shaped LP bound and a common-schedule incumbent)")
    require_feasible_plan(case)
    n_scenarios = n_scenarios or (scenarios.n_scenarios if scenarios is not None else case.scenarios.n_scenarios)
    seed = case.scenarios.seed if seed is None else seed
    if scenarios is None:
        try:
            from planner.scenario_inputs import case_scenarios
        except ImportError as exc:
            raise RuntimeError("plan: no scenarios given and planner.scenario_inputs.case_scenarios is not "
                               "available; pass scenarios=ScenarioSet(...)") from exc
        scenarios = case_scenarios(case, n_scenarios, seed)
    if n_scenarios > scenarios.n_scenarios:
        raise ValueError(f"n_scenarios = {n_scenarios} but the scenario set has {scenarios.n_scenarios}")
    if n_scenarios < scenarios.n_scenarios:
        scenarios = scenarios.subset(range(n_scenarios))
    check_scenarios(case, scenarios)
    names = scenario_names_creator(n_scenarios)
    kwargs = {"case": case, "scenarios": scenarios, "schedule_first_stage": schedule_first_stage}
    module = __import__(__name__, fromlist=["scenario_creator"])
    t0 = time.perf_counter()
    if method == "ef":
        from planner.solve_ef import ef_scenarios, solve_ef

        res, ef, heur = _solve_ef_with_heuristic(case, scenarios, names, kwargs, rel_gap, time_limit, progress)
        if heur is not None and heur["upper_bound"] < res.upper_bound - 1e-9:
            res.upper_bound, res.first_stage = heur["upper_bound"], heur["first_stage"]
            res.status += "+schedule-heuristic-incumbent"
            import pandas as pd

            dispatch, schedule = heur["dispatch"], heur["schedule"]
        else:
            dispatch = schedule = None
        if not math.isfinite(res.upper_bound) and "nfeasible" not in res.status:
            raise RuntimeError(f"no feasible plan found within time_limit = {time_limit} s ({res.status}; "
                               f"lower bound {res.lower_bound:,.2f}); increase time_limit or rel_gap")
        if not math.isfinite(res.upper_bound):
            diag = diagnose_infeasible(case, mean_data(case, scenarios), schedule_first_stage=schedule_first_stage)
            raise RuntimeError(f"no feasible plan ({res.status}); {diag}")
        models = dict(ef_scenarios(ef)) if dispatch is None else None
    elif method == "lshaped":
        from planner.solve_lshaped import solve_lshaped

        dispatch = schedule = None
        if schedule_first_stage:
            raise ValueError("method = 'lshaped' keeps the production schedule as recourse; use 'ef' or 'ph' "
                             "with schedule_first_stage=True")
        solved = solve_lshaped(case, scenarios, rel_gap=rel_gap, time_limit=time_limit, progress=progress)
        res = solved.result
        models = _evaluate_models(case, names, kwargs, res.first_stage, rel_gap, binaries=solved.binaries)
    else:
        dispatch = schedule = None
        res = _plan_ph(case, scenarios, names, kwargs, np, rel_gap, time_limit, max_iterations, default_rho,
                       schedule_first_stage, output_dir, progress)
        models = _evaluate_models(case, names, kwargs, res.first_stage, rel_gap)
    import pandas as pd

    if dispatch is None:
        dispatch = {n: dispatch_frame(case, models[n]) for n in names}
        schedule = pd.concat([schedule_frame(case, models[n], n) for n in names], ignore_index=True)
    meas = {}
    if measures:
        from planner.stochastic_measures import stochastic_measures

        try:
            meas = stochastic_measures(module, names, kwargs, rp=res.upper_bound, mip_gap=rel_gap,
                                       time_limit=measures_time_limit)
        except RuntimeError as exc:  # a measure's MIP found no incumbent within its time limit
            meas = {}
            note = (f"stochastic measures not computed: {exc}; raise measures_time_limit "
                    f"(now {measures_time_limit} s per solve)")
            res.log.append(note)
            if progress:
                print(note, flush=True)
        if meas and meas["EEV"] < res.upper_bound:
            # the expected-value decision, evaluated in every scenario, beats the incumbent: it is a
            # feasible first stage, so its expected cost is a valid (better) upper bound
            from planner.solve_ef import nonant_vars
            from planner.stochastic_measures import expected_value_solution

            _, _, x_ev = expected_value_solution(module, kwargs, mip_gap=rel_gap, time_limit=measures_time_limit)
            probe = scenario_creator(names[0], **kwargs)
            res.first_stage = {v.name: float(x) for v, x in zip(nonant_vars(probe), x_ev)}
            res.upper_bound = meas["EEV"]
            res.status += "+EV-incumbent"
            models = _evaluate_models(case, names, kwargs, res.first_stage, rel_gap)
            dispatch = {n: dispatch_frame(case, models[n]) for n in names}
            schedule = pd.concat([schedule_frame(case, models[n], n) for n in names], ignore_index=True)
            meas.update(RP=res.upper_bound, VSS=meas["EEV"] - res.upper_bound, EVPI=res.upper_bound - meas["WS"])
        if meas:
            meas["RP_bound"] = res.lower_bound
    result = PlanResult(lower_bound=res.lower_bound, upper_bound=res.upper_bound, status=res.status,
                        time_s=time.perf_counter() - t0, method=res.method, first_stage=res.first_stage,
                        iterations=res.iterations, log=res.log, day_ahead=day_ahead_frame(case, res.first_stage),
                        schedule=schedule, dispatch=dispatch, measures=meas, n_scenarios=n_scenarios,
                        case_name=case.name, period_hours=case.period_hours,
                        probabilities=dict(zip(names, map(float, scenarios.probabilities))))
    if output_dir is not None:
        result.save(output_dir)
    if progress:
        print(result.summary(), flush=True)
    return result


def _evaluate_models(case, names, kwargs, first_stage: dict, mip_gap: float, binaries: dict | None = None):
    """Scenario models with the first stage fixed at ``first_stage`` (by variable name), and any
    ``binaries`` (name -> 0/1) fixed too, solved."""
    from planner.solve_ef import highs_solve, nonant_vars

    models = {}
    for n in names:
        m = scenario_creator(n, **kwargs)
        for var in nonant_vars(m):
            key = var.name
            if key in first_stage:
                var.fix(round(first_stage[key]) if var.is_integer() else first_stage[key])
        for key, value in (binaries or {}).items():
            m.find_component(key).fix(value)
        highs_solve(m, mip_gap=mip_gap, time_limit=60)
        models[n] = m
    return models


def _plan_ph(case, scenarios, names, kwargs, np, rel_gap, time_limit, max_iterations, default_rho,
             schedule_first_stage, output_dir, progress):
    import tempfile

    from planner.solve_ph import mpiexec_path, solve_ph_mpi, solve_ph_serial

    rho = default_rho if default_rho is not None else 0.05  # EUR per kW deviation per period
    if np >= 3 and mpiexec_path() is not None:
        work = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="plan_ph_"))
        work.mkdir(parents=True, exist_ok=True)
        scen_path = scenarios.to_parquet(work / "scenarios.parquet")
        case_path = case.source
        if case_path is None or not Path(case_path).exists():
            from planner.case import save_case

            case_path = str(save_case(case, work / "case.toml"))
        extra = ["--case-file", str(Path(case_path).resolve()), "--scenarios-file", str(scen_path.resolve())]
        if schedule_first_stage:
            extra.append("--schedule-first-stage")
        return solve_ph_mpi("planner.twostage", len(names), np=np - np % 3, extra_args=extra, rel_gap=rel_gap,
                            max_iterations=max_iterations, default_rho=rho, time_limit=time_limit, integer=True,
                            progress=progress, workdir=work / "ph", subproblem_mip_gap=rel_gap / 2)
    module = __import__(__name__, fromlist=["scenario_creator"])
    return solve_ph_serial(module, names, kwargs, rel_gap=rel_gap, max_iterations=max_iterations, default_rho=rho,
                           subproblem_mip_gap=rel_gap / 2, subproblem_time_limit=30, progress=progress)


def site_schedule_heuristic(case, data: dict, time_limit_per_site: float = 10.0, mip_gap: float = 0.01):
    """A feasible production schedule, site by site (links ignored) on one scenario's data.

    Production constraints are internal to a site and energy can always be bought, so a schedule
    that is feasible for each site alone is feasible for the whole case (unless a peak cap or a
    grid connection binds). Returns {site: {line: {"on": {(m,t): v}, "run": {(m,t): v}}}} or None.
    """
    import dataclasses
    import math

    from planner.solve_ef import highs_solve

    if case.contract.peak_cap_kw is not None:
        return None
    schedule = {}
    for site in case.sites:
        if not site.lines:
            continue
        sub = dataclasses.replace(case, sites=[site], links=[])
        sub_data = {"p0": data["p0"], "p1": data["p1"], "p2": data["p2"],
                    "pv_kw": {site.name: data["pv_kw"][site.name]}, "wind_kw": {site.name: data["wind_kw"][site.name]}}
        m = build_day_ahead_model(sub, sub_data)
        lb, ub, status, _ = highs_solve(m, mip_gap=mip_gap, time_limit=time_limit_per_site)
        if not math.isfinite(ub):
            return None
        schedule[site.name] = {}
        for line in site.lines:
            b = m.site[site.name].line[line.name]
            schedule[site.name][line.name] = {
                "on": {k: round(v.value) for k, v in b.on.items()},
                "run": {k: max(0.0, min(1.0, v.value)) for k, v in b.run.items()},
            }
    return schedule


def _line_vars(model, case):
    for s in case.sites:
        for line in s.lines:
            b = model.site[s.name].line[line.name]
            yield s.name, line.name, b


def _solve_ef_with_heuristic(case, scenarios, names, kwargs, rel_gap, time_limit, progress):
    """EF solve preceded (when the case has lines) by a schedule heuristic giving an incumbent.

    The heuristic fixes a site-by-site schedule (found on the mean scenario) in every scenario and
    solves the rest of the EF; its cost is a valid upper bound. The EF is then solved with the
    remaining time; the better of the two incumbents is kept, the EF dual bound is the lower bound.
    """
    import math
    import time

    import pandas as pd

    from planner.solve_ef import build_ef, ef_scenarios, highs_solve, nonant_vars
    from planner.results import SolveResult

    t0 = time.perf_counter()
    module = __import__(__name__, fromlist=["scenario_creator"])
    ef = build_ef(module, names, kwargs)
    if progress:
        print(f"[EF] built {len(names)} scenarios in {time.perf_counter() - t0:.1f} s", flush=True)
    heur = None
    if any(s.lines for s in case.sites) and not kwargs.get("schedule_first_stage"):
        budget = 20.0 if time_limit is None else max(3.0, min(20.0, time_limit / 4))
        sched = site_schedule_heuristic(case, mean_data(case, scenarios), budget, mip_gap=0.02)
        if sched is not None:
            fixed = []
            for _, model in ef_scenarios(ef):
                for s, l, b in _line_vars(model, case):
                    for k, v in sched[s][l]["on"].items():
                        b.on[k].fix(v)
                        fixed.append(b.on[k])
                    for k, v in sched[s][l]["run"].items():
                        b.run[k].fix(v)
                        fixed.append(b.run[k])
            left = None if time_limit is None else max(5.0, time_limit - (time.perf_counter() - t0))
            lb_h, ub_h, status_h, _ = highs_solve(ef, mip_gap=rel_gap / 2, time_limit=left)
            if math.isfinite(ub_h):
                pairs = ef_scenarios(ef)
                heur = {
                    "upper_bound": ub_h,
                    "first_stage": {v.name.split(".", 1)[-1] if len(names) > 1 else v.name: float(v.value)
                                    for v in nonant_vars(pairs[0][1])},
                    "dispatch": {n: dispatch_frame(case, m) for n, m in pairs},
                    "schedule": pd.concat([schedule_frame(case, m, n) for n, m in pairs], ignore_index=True),
                }
                if progress:
                    print(f"[EF] schedule heuristic: incumbent {ub_h:,.2f} after {time.perf_counter() - t0:.1f} s",
                          flush=True)
            for v in fixed:
                v.unfix()
    left = None if time_limit is None else max(5.0, time_limit - (time.perf_counter() - t0))
    lb, ub, status, _ = highs_solve(ef, mip_gap=rel_gap, time_limit=left, progress=progress)
    first = {}
    if math.isfinite(ub):
        _, model0 = ef_scenarios(ef)[0]
        first = {v.name.split(".", 1)[-1] if len(names) > 1 else v.name: float(v.value) for v in nonant_vars(model0)}
    if heur is not None:
        lb = min(lb, heur["upper_bound"]) if math.isfinite(lb) else lb
    res = SolveResult(lower_bound=lb, upper_bound=ub, status=status, time_s=time.perf_counter() - t0, method="EF",
                      first_stage=first)
    return res, ef, heur
