"""A fixed first stage evaluated in every scenario of an mpi-sppy model module: its expected cost is an
upper bound of the two-stage problem (the probability-weighted dual bounds bound that cost from below)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from planner.solvers.highs import solve_with_bounds
from planner.stochastic.ef import nonant_vars

RETRIES_WITHOUT_INCUMBENT = 2  # a solve stopped by its time limit before any incumbent gets 4x, then 16x


class NoIncumbentError(RuntimeError):
    """A scenario model found no feasible solution within its (raised) time limits."""


def solve_scenario(model, mip_gap: float, time_limit: float | None) -> tuple[float, float]:
    """(lower, upper) bounds of one scenario model; a time limit hit before any feasible solution is
    raised 4-fold (twice) before giving up."""
    limit = time_limit
    for attempt in range(RETRIES_WITHOUT_INCUMBENT + 1):
        bounds = solve_with_bounds(model, mip_gap=mip_gap, time_limit=limit)
        if math.isfinite(bounds.upper_bound):
            return bounds.lower_bound, bounds.upper_bound
        if limit is None or "time" not in bounds.status.lower() or attempt == RETRIES_WITHOUT_INCUMBENT:
            break
        limit = 4 * limit
    raise NoIncumbentError(f"{model.name}: no feasible solution ({bounds.status}; last time limit {limit} s)")


def fix_first_stage(model, first_stage) -> None:
    """Fix the model's first stage at ``first_stage``: a dict keyed by variable name (as
    ``planner.stochastic.ef.first_stage_values`` names them) or a sequence in nonant order; integer
    variables are rounded."""
    variables = nonant_vars(model)
    if isinstance(first_stage, dict):
        names = [v.getname(fully_qualified=True, relative_to=model) for v in variables]
        missing = [n for n in names if n not in first_stage]
        if missing:
            raise KeyError(f"first stage: no value for {len(missing)} of {len(names)} first-stage variables, "
                           f"e.g. {missing[:3]}")
        pairs = [(v, first_stage[n]) for v, n in zip(variables, names)]
    else:
        if len(first_stage) != len(variables):
            raise ValueError(f"first stage: {len(first_stage)} values for {len(variables)} first-stage variables")
        pairs = list(zip(variables, first_stage))
    for var, value in pairs:
        var.fix(round(value) if var.is_integer() else value)


@dataclass
class Evaluation:
    """Expected cost (upper bound), the probability-weighted dual bound, each scenario's cost and,
    when kept, each scenario's solved model."""

    expected_cost: float
    bound: float
    per_scenario: dict
    models: dict = field(default_factory=dict)


def evaluate_first_stage(module, scenario_names, creator_kwargs, first_stage, *, mip_gap: float = 1e-4,
                         time_limit: float | None = None, fixed: dict | None = None,
                         keep_models: bool = False) -> Evaluation:
    """Expected cost of ``first_stage`` (see ``fix_first_stage``) over the scenarios; ``fixed``: further
    variables (component name -> value) fixed in every scenario, e.g. a common production schedule."""
    total, bound, per, models = 0.0, 0.0, {}, {}
    for name in scenario_names:
        m = module.scenario_creator(name, **(creator_kwargs or {}))
        fix_first_stage(m, first_stage)
        for key, value in (fixed or {}).items():
            m.find_component(key).fix(value)
        lb, ub = solve_scenario(m, mip_gap, time_limit)
        p = m._mpisppy_probability
        total += p * ub
        bound += p * lb
        per[name] = ub
        if keep_models:
            models[name] = m
    return Evaluation(total, bound, per, models)
