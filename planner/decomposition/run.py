"""The runner of the site decompositions: ``run_decomposition(case, method, scenarios, n_ranks=1, ...)``
looks the method up in ``METHODS``, builds the coupled problem and the site map (serial, or MPI ranks)
and returns the DecompositionResult.

The day-ahead problem of ``case`` is split into one subproblem per site (and scenario) and a
coordinator (contract and links). Every iteration reports a valid lower bound (a Lagrangian dual
value with the site MIPs' dual bounds) and, when a feasible plan is known, an upper bound.
"""

from __future__ import annotations

import numpy as np

from planner.decomposition.method import DecompositionMethod, DecompositionResult
from planner.decomposition.parallel import SerialSiteMap, run_under_mpi
from planner.decomposition.prediction import PredictionDecomposition
from planner.decomposition.price import PriceDecomposition
from planner.decomposition.quantity import QuantityDecomposition
from planner.decomposition.subproblems import CoupledProblem
from planner.scenario_inputs import case_scenarios
from scenarios.scenario_set import ScenarioSet

#: The decomposition methods by name.
METHODS: dict[str, type[DecompositionMethod]] = {
    cls.name: cls for cls in (PriceDecomposition, QuantityDecomposition, PredictionDecomposition)}


def deterministic_day(scenarios):
    """A one-row ScenarioSet: the probability-weighted mean path (the deterministic day)."""
    return ScenarioSet(scenarios.mean()[None, :, :], np.ones(1), scenarios.variables, ("mean0",),
                       scenarios.period_hours, scenarios.start, dict(scenarios.metadata))


def default_scenarios(case):
    """The deterministic day of the case's default scenarios (planner.scenario_inputs)."""
    return deterministic_day(case_scenarios(case, case.scenarios.n_scenarios, case.scenarios.seed))


def run_decomposition(case, method: str = "price", scenarios=None, n_ranks: int = 1, max_iterations: int = 30,
                      rel_gap: float = 0.01, progress: bool = True, *, time_limit: float | None = None,
                      site_mip_gap: float = 1e-3, site_time_limit: float = 10.0, site_map=None,
                      **options) -> DecompositionResult:
    """Solve ``case`` by site decomposition.

    ``method``: a name of ``METHODS`` ("price", "quantity", "prediction"). ``scenarios``: a
    ScenarioSet (one row = deterministic day; several rows = two-stage problem, the day-ahead volumes
    shared, everything else per scenario); None = the deterministic day of the case's default
    scenarios. ``n_ranks`` > 1 runs the site subproblems on that many MPI ranks (mpiexec);
    ``site_mip_gap``/``site_time_limit`` control each site MIP (its dual bound keeps the lower bound
    valid); the time limit doubles after an iteration that does not raise the lower bound while
    some site MIP stopped on that limit, up to
    ``site_time_limit_max`` (default 8 x). Other options go to the method (e.g. ``start``: "lshaped"
    (default with several scenarios) or "lp" (default for one) starts from the LP relaxation's bound
    and prices, "day_ahead" from the day-ahead price;
    ``recover_every``, ``delta0``, ``polish_max_sub``:
    up to this many site-scenario subproblems the recovered plan is polished by re-optimising every
    continuous decision of the full model with its integer schedules fixed, an LP).
    """
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: allowed values are {', '.join(map(repr, METHODS))}")
    if not isinstance(n_ranks, int) or n_ranks < 1:
        raise ValueError(f"n_ranks = {n_ranks!r}: give a positive number of MPI ranks")
    if scenarios is None:
        scenarios = default_scenarios(case)
    if n_ranks > 1 and site_map is None:
        return run_under_mpi(case, method, scenarios, n_ranks, dict(
            max_iterations=max_iterations, rel_gap=rel_gap, progress=progress, time_limit=time_limit,
            site_mip_gap=site_mip_gap, site_time_limit=site_time_limit, **options))
    problem = CoupledProblem.from_case(case, scenarios)
    if site_map is None:
        site_map = SerialSiteMap(problem, mip_gap=site_mip_gap, time_limit=site_time_limit)
    algo = METHODS[method](problem, site_map, max_iterations=max_iterations, rel_gap=rel_gap,
                           progress=progress, time_limit=time_limit, site_time_limit=site_time_limit, **options)
    return algo.run()
