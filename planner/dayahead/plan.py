"""The day-ahead plan as a straight pipeline: validate -> solve -> best incumbent -> evaluate once ->
measures -> result (every result with its lower bound, upper bound and gap)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from planner.case import Case, load_case
from planner.dayahead import module
from planner.dayahead.data import check_scenarios, mean_data
from planner.dayahead.feasibility import diagnose_infeasible, require_feasible_plan
from planner.dayahead.methods import METHODS, Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.dayahead.model import day_ahead_frame, dispatch_frame, schedule_frame
from planner.progress import Progress
from planner.results import PlanResult
from planner.scenario_inputs import case_scenarios
from planner.stochastic.ef import nonant_vars
from planner.stochastic.evaluate import NoIncumbentError, evaluate_first_stage
from planner.stochastic.measures import stochastic_measures


EVALUATION_LIMIT_S = 60.0  # per scenario, when the plan is evaluated once for its dispatch tables


class NoPlanError(RuntimeError):
    """No feasible plan was found within the time limit."""


def method_of(method) -> Method:
    """The method named ``method`` in ``METHODS``, or ``method`` itself when it is a Method (e.g. a method
    configured otherwise than the registered one, such as ``ExtensiveForm(warm_start=False)``)."""
    return method if isinstance(method, Method) else METHODS[method]


def prepare(case, n_scenarios=None, method="ef", n_ranks=1, random_state=None, output_dir=None, progress=True, *,
            scenarios=None, schedule_first_stage=False, rel_gap=0.005, time_limit=120.0, max_iterations=50,
            default_rho=None) -> DayAheadProblem:
    """Validate the request (case, method, scenarios) before any solver runs; return the problem."""
    if not isinstance(case, Case):
        case = load_case(case)
    if not isinstance(method, Method) and method not in METHODS:
        raise ValueError(f"method = {method!r}: use one of " +
                         ", ".join(f"'{name}' ({m.description})" for name, m in METHODS.items()))
    if schedule_first_stage and not method_of(method).schedule_first_stage:
        raise ValueError(f"method = {method!r} keeps the production schedule as recourse; use 'ef' or 'ph' "
                         "with schedule_first_stage=True")
    require_feasible_plan(case)
    n_scenarios = n_scenarios or (scenarios.n_scenarios if scenarios is not None else case.scenarios.n_scenarios)
    random_state = case.scenarios.seed if random_state is None else random_state
    if scenarios is None:
        scenarios = case_scenarios(case, n_scenarios, random_state)
    if n_scenarios > scenarios.n_scenarios:
        raise ValueError(f"n_scenarios = {n_scenarios} but the scenario set has {scenarios.n_scenarios}")
    if n_scenarios < scenarios.n_scenarios:
        scenarios = scenarios.subset(range(n_scenarios))
    check_scenarios(case, scenarios)
    return DayAheadProblem(case=case, scenarios=scenarios, module=module,
                       names=module.scenario_names_creator(n_scenarios), schedule_first_stage=schedule_first_stage,
                       rel_gap=rel_gap, time_limit=time_limit, progress=progress, n_ranks=int(n_ranks),
                       max_iterations=max_iterations, default_rho=default_rho, output_dir=output_dir)


def measures_and_ev_incumbent(problem: DayAheadProblem, rp: float, time_limit: float | None, log: Progress):
    """EV, EEV, VSS, WS, EVPI against ``rp``, and the expected-value decision as an incumbent (its EEV)."""
    try:
        meas, x_ev = stochastic_measures(problem.module, problem.names, problem.kwargs, rp=rp,
                                         mip_gap=problem.rel_gap, time_limit=time_limit, with_ev_first_stage=True,
                                         progress=log)
    except NoIncumbentError as exc:  # a measure's MIP found no incumbent within its time limit
        log.message(f"stochastic measures not computed: {exc}; raise measures_time_limit (now {time_limit} s per "
                    "solve)")
        return {}, None, str(exc)
    probe = problem.module.scenario_creator(problem.names[0], **problem.kwargs)
    first = {v.getname(fully_qualified=True, relative_to=probe): float(x) for v, x in zip(nonant_vars(probe), x_ev)}
    return meas, Incumbent(meas["EEV"], first, "EV"), None


def best_incumbent(incumbents: list) -> Incumbent | None:
    """The cheapest plan; on ties, the first found (the method's own before the EV decision)."""
    best = None
    for inc in incumbents:
        if best is None or inc.upper_bound < best.upper_bound - 1e-9:
            best = inc
    return best


def evaluated_models(problem: DayAheadProblem, incumbent: Incumbent) -> dict:
    """Each scenario's solved model under the incumbent: those the method solved, else one evaluation
    (each scenario within an equal share of the time left, at most ``EVALUATION_LIMIT_S``)."""
    if incumbent.models is not None:
        return incumbent.models
    left = problem.time_left(minimum=5.0 * len(problem.names))
    share = EVALUATION_LIMIT_S if left is None else min(EVALUATION_LIMIT_S, left / len(problem.names))
    return evaluate_first_stage(problem.module, problem.names, problem.kwargs, incumbent.first_stage,
                                mip_gap=problem.rel_gap, time_limit=share, fixed=incumbent.fixed,
                                keep_models=True).models


def plan_frames(problem: DayAheadProblem, incumbent: Incumbent) -> tuple[pd.DataFrame, dict]:
    """(schedule frame of every scenario, {scenario: dispatch frame}) of the incumbent: the method's own frames
    when it has them (the L-shaped scenario LPs), else from the evaluated scenario models."""
    names = problem.names
    if incumbent.frames is not None:
        return (pd.concat([incumbent.frames[n][1] for n in names], ignore_index=True),
                {n: incumbent.frames[n][0] for n in names})
    models = evaluated_models(problem, incumbent)
    return (pd.concat([schedule_frame(problem.case, models[n], n) for n in names], ignore_index=True),
            {n: dispatch_frame(problem.case, models[n]) for n in names})


def plan(case, n_scenarios: int | None = None, method: str = "ef", n_ranks: int = 1, random_state=None,
         output_dir=None, progress: bool = True, *, scenarios=None, schedule_first_stage: bool = False,
         rel_gap: float = 0.005, time_limit: float | None = 120.0, measures: bool = True,
         measures_time_limit: float | None = 20.0, max_iterations: int = 50,
         default_rho: float | None = None) -> PlanResult:
    """Solve the day-ahead procurement problem; return a PlanResult with bounds, decisions, dispatch.

    ``case``: a Case or a path to a TOML case; ``scenarios``: a ScenarioSet (default: the calibrated
    scenarios of ``planner.scenario_inputs.case_scenarios(case, n_scenarios, random_state)``);
    ``method``: a name of ``planner.dayahead.methods.METHODS`` ('ef', 'ph' on ``n_ranks`` MPI ranks,
    'lshaped') or a Method instance. The plan is pre-checked (site, material, shortfall) before any solve; an infeasible
    model is diagnosed by elastic relaxation.
    """
    problem = prepare(case, n_scenarios, method, n_ranks, random_state, output_dir, progress, scenarios=scenarios,
                      schedule_first_stage=schedule_first_stage, rel_gap=rel_gap, time_limit=time_limit,
                      max_iterations=max_iterations, default_rho=default_rho)
    t0 = time.perf_counter()
    log = Progress("plan", enabled=progress)
    outcome: MethodOutcome = method_of(method).solve(problem)
    res = outcome.result
    incumbents = list(outcome.incumbents)
    if not incumbents and "nfeasible" in res.status:
        diagnosis = diagnose_infeasible(problem.case, mean_data(problem.case, problem.scenarios),
                                        schedule_first_stage=schedule_first_stage)
        raise NoPlanError(f"no feasible plan ({res.status}); {diagnosis}")
    if not incumbents:
        raise NoPlanError(f"no feasible plan found within time_limit = {time_limit} s ({res.status}; lower bound "
                          f"{res.lower_bound:,.2f}); increase time_limit or rel_gap")
    meas = {}
    if measures:
        meas, ev, note = measures_and_ev_incumbent(problem, best_incumbent(incumbents).upper_bound,
                                                   measures_time_limit, log)
        if note:
            res.log.append(f"stochastic measures not computed: {note}")
        if ev is not None:
            incumbents.append(ev)
    best = best_incumbent(incumbents)
    if best.label != res.method:
        res.status += f"+{best.label}-incumbent"
    if meas:
        meas.update(RP=best.upper_bound, VSS=meas["EEV"] - best.upper_bound, EVPI=best.upper_bound - meas["WS"],
                    RP_bound=res.lower_bound)
    schedule, dispatch = plan_frames(problem, best)
    names = problem.names
    result = PlanResult(lower_bound=res.lower_bound, upper_bound=best.upper_bound, status=res.status,
                        time_s=time.perf_counter() - t0, method=res.method, first_stage=best.first_stage,
                        iterations=res.iterations, log=res.log, day_ahead=day_ahead_frame(problem.case, best.first_stage),
                        schedule=schedule, dispatch=dispatch, measures=meas,
                        n_scenarios=len(names), case_name=problem.case.name, period_hours=problem.case.period_hours,
                        probabilities=dict(zip(names, map(float, problem.scenarios.probabilities))))
    if output_dir is not None:
        result.save(Path(output_dir))
    log.message(result.summary())
    return result
