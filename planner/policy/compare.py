"""Train the SDDP battery policy of a case and simulate it with the other registered policies on the
same paths (generated paths, and real 2019 / 2022 France day-ahead price days when the data is present).

``run_policy(case, iterations, simulations, random_state, n_ranks=1, output_dir=None, progress=True)``
returns a :class:`PolicyResult`: lower bound, statistical upper bound with its 95 % interval, gap, cut
file, comparison tables and figures. Costs are operating costs of the day (intraday purchases and
resale, generator fuel, energy charge f2 on the import, overrun charge f3, unserved energy, end-of-day
SoC shortfall); the day-ahead energy cost of the fixed purchases and the prorated demand charge f1 * P
are the same for every policy and reported apart. The policies are those of
``planner.policy.registry.POLICIES``, by name; training: ``planner.policy.training``; real days:
``planner.policy.real_days``.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import sddp
from planner.case import Case
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.lookahead import expected_value_schedule
from planner.policy.model import PolicyModel, add_initial_cuts, build_policy_model, policy_inputs, policy_scenarios
from planner.policy.plots import plot_bound_convergence, plot_policy_comparison, plot_soc_spaghetti
from planner.policy.real_days import real_day_paths
from planner.policy.registry import COMPARED, make_policy
from planner.policy.training import train_policy
from planner.progress import Progress
from planner.results import relative_gap


@dataclass
class PolicyResult:
    """What :func:`run_policy` returns (EUR; operating cost of the horizon unless stated)."""

    case_name: str
    lower_bound: float
    upper_bound: float                 # in-sample simulated mean cost of the SDDP policy
    upper_bound_ci: tuple              # its 95 % interval
    gap: float                         # (upper_bound - lower_bound) / |upper_bound|
    iterations: int
    train_time_s: float
    cut_file: str | None
    bound_history: list
    comparison: pd.DataFrame           # generated out-of-sample paths
    real_days: pd.DataFrame | None     # real 2019 / 2022 price days (None without the data)
    soc_paths: np.ndarray              # SDDP policy SoC (paths, T + 1, batteries) on the generated paths
    battery_sites: tuple
    period_hours: float
    figures: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)   # policy -> recourse.PathOutcome (generated paths)

    @property
    def gap_ci(self) -> float:
        """Gap using the upper end of the interval: (ci_high - lower_bound) / |ci_high|."""
        return relative_gap(self.lower_bound, self.upper_bound_ci[1])

    def summary(self) -> dict:
        return {"case": self.case_name, "lower_bound_eur": self.lower_bound,
                "upper_bound_eur": self.upper_bound, "upper_bound_ci_eur": list(self.upper_bound_ci),
                "gap": self.gap, "gap_ci": self.gap_ci, "iterations": self.iterations,
                "train_time_s": self.train_time_s, "cut_file": self.cut_file, "notes": self.notes,
                "figures": {k: str(v) for k, v in self.figures.items()}}

    def save(self, output_dir) -> Path:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "policy_summary.json").write_text(json.dumps(self.summary(), indent=2, default=float))
        self.comparison.to_csv(out / "policy_comparison.csv", index=False)
        if self.real_days is not None:
            self.real_days.to_csv(out / "policy_real_days.csv", index=False)
        return out


def comparison_table(outcomes: dict, day_ahead_eur: np.ndarray, demand_charge_eur: float,
                     label: str = "generated") -> pd.DataFrame:
    """One row per policy: mean operating cost with its 95 % interval, peak, penalties, and the
    paired difference to the fixed schedule on the same paths (mean and 95 % half-width)."""
    rows = []
    ref = outcomes.get("fixed schedule")
    for name, o in outcomes.items():
        hw = o.half_width
        if ref is not None and len(ref.cost_eur) == len(o.cost_eur) and len(o.cost_eur) > 1:
            d = o.cost_eur - ref.cost_eur  # paired on the same paths: the noise common to all cancels
            diff, diff_hw = float(d.mean()), float(1.96 * d.std(ddof=1) / np.sqrt(len(d)))
        else:
            diff, diff_hw = float("nan"), float("nan")
        rows.append({
            "paths": label, "policy": name, "n": len(o.cost_eur), "mean_cost_eur": o.mean,
            "ci_low_eur": o.mean - hw, "ci_high_eur": o.mean + hw,
            "mean_total_eur": o.mean + float(np.mean(day_ahead_eur)) + demand_charge_eur,
            "mean_peak_kw": float(np.mean(o.peak_kw)), "max_peak_kw": float(np.max(o.peak_kw)),
            "mean_overrun_eur": float(np.mean(o.overrun_eur)),
            "mean_unserved_kwh": float(np.mean(o.unserved_kwh)),
            "mean_soc_shortfall_kwh": float(np.mean(o.shortfall_kwh)),
            "vs_fixed_schedule_eur": diff, "vs_fixed_schedule_ci_half_eur": diff_hw,
        })
    return pd.DataFrame(rows)


def simulate_policies(model: PolicyModel, values, policies=COMPARED, progress: Progress | None = None) -> dict:
    """Each registered policy named in ``policies`` on the same paths ``values`` (S, T, V in the
    model's variable order): {name: PathOutcome}."""
    runs = [make_policy(name, model) for name in policies]
    out = {}
    for policy in runs:
        t0 = time.perf_counter()
        out[policy.name] = policy.simulate(values)
        if progress is not None:
            progress.message(f"simulated {policy.name:<30s} on {len(values)} paths in "
                             f"{time.perf_counter() - t0:5.1f} s: mean {out[policy.name].mean:,.1f} EUR")
    return out


def check_arguments(case, cut_file, **whole_numbers) -> None:
    """Raise naming the argument: ``whole_numbers`` maps a name to (value, least allowed value)."""
    for name, (value, low) in whole_numbers.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} = {value!r}: must be a whole number >= {low}")
    if not isinstance(case, Case):
        raise TypeError("case must be a planner.case.Case (load it with planner.case.load_case); "
                        f"got {type(case).__name__}")
    if cut_file is not None and not Path(cut_file).exists():
        raise FileNotFoundError(f"cut_file = {cut_file!s}: no such file; train once with output_dir= to write it")


def training_and_comparison_paths(case: Case, scenarios, test_scenarios, simulations: int, training_paths: int,
                                  random_state: int):
    """(paths to fit the lattice on, comparison paths, a note saying where the comparison paths come from)."""
    if scenarios is None:
        return (policy_scenarios(case, training_paths, random_state),
                policy_scenarios(case, simulations, random_state + 1_000_003),
                "comparison paths: fresh draws of planner.scenario_inputs.case_scenarios (out of sample)")
    if test_scenarios is not None:
        return scenarios, test_scenarios, "comparison paths: the given test_scenarios"
    # hold the last `simulations` paths out of the lattice fit
    if scenarios.n_scenarios < simulations + 20:
        raise ValueError(f"scenarios: {scenarios.n_scenarios} paths; give at least simulations + 20 = "
                         f"{simulations + 20} (the last {simulations} are held out for the comparison) "
                         f"or pass test_scenarios")
    n_fit = scenarios.n_scenarios - simulations
    return (scenarios.subset(range(n_fit)), scenarios.subset(range(n_fit, scenarios.n_scenarios)),
            f"comparison paths: the last {simulations} given paths, held out of the lattice fit")


def real_day_table(case: Case, model: PolicyModel, values, policies, progress: Progress) -> pd.DataFrame | None:
    """The comparison on real 2019 / 2022 price days (None without the price file)."""
    inp = model.inputs
    real = real_day_paths(case, inp.variables, values)
    if not real:
        return None
    frames = []
    for year, vals in real.items():
        outcomes = simulate_policies(model, vals, policies, progress)
        frames.append(comparison_table(outcomes, inp.day_ahead_cost_eur(vals[:, :, 0]), inp.demand_charge_eur(),
                                       f"real {year}"))
    return pd.concat(frames, ignore_index=True)


def run_policy(case: Case, iterations: int = 100, simulations: int = 100, random_state: int = 0,
               n_ranks: int = 1, output_dir=None, progress: bool = True, scenarios=None,
               schedule: FixedSchedule | None = None, n_states: int = 5, training_paths: int = 300,
               cut_file=None, policies=COMPARED, real_days: bool = True, test_scenarios=None,
               time_limit: float | None = None) -> PolicyResult:
    """Train (or load from ``cut_file`` without retraining) the SDDP battery policy of ``case`` and
    compare it with the other policies on ``simulations`` generated paths and on real price days.

    scenarios : day paths to fit the lattice on (default ``planner.scenario_inputs.case_scenarios``
        with ``training_paths`` paths, the comparison paths then drawn with another seed). Given
        scenarios without ``test_scenarios``: the last ``simulations`` paths are held out of the fit
        and used for the comparison.
    schedule : the fixed day-ahead purchases, production and battery schedule replayed by the
        "fixed schedule" policy; default ``planner.policy.lookahead.expected_value_schedule`` (the rule
        schedule with the open-loop battery optimum on the expected path; use
        ``FixedSchedule.from_plan(plan, case)`` for the two-stage solution).
    n_ranks : MPI ranks for training (``mpiexec -n n_ranks``); 1 trains in this process.
    policies : names in ``planner.policy.registry.POLICIES`` to compare.
    time_limit : seconds of serial training (checked between iterations; None: the iteration limit only).
    """
    check_arguments(case, cut_file, iterations=(iterations, 0), simulations=(simulations, 2),
                    n_ranks=(n_ranks, 1), n_states=(n_states, 1), training_paths=(training_paths, 2))
    log = Progress("battery policy", enabled=progress)
    scenarios, comparison_paths, note_paths = training_and_comparison_paths(
        case, scenarios, test_scenarios, simulations, training_paths, random_state)
    if schedule is None:  # the stand-in for the two-stage plan: rule production, open-loop EV battery
        schedule = expected_value_schedule(case, scenarios)
    inp = policy_inputs(case, schedule, scenarios)
    model = build_policy_model(inp, scenarios, n_states=n_states, random_state=random_state)
    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="policy_"))
    out.mkdir(parents=True, exist_ok=True)
    log.message(f"case {case.name!r}: {inp.n_periods} stages, lattice of "
                f"{sum(len(v) for v in model.lattice.node_values)} nodes, states {list(model.state_names)}")
    add_initial_cuts(model, out / "initial_cuts.json")
    trained = train_policy(model, case, schedule, scenarios, n_states=n_states, random_state=random_state,
                           iterations=iterations, n_ranks=n_ranks, cut_file=cut_file,
                           target_cuts=out / "cuts.json", progress=log, time_limit=time_limit)
    sim = sddp.simulate(model.graph, simulations, random_state=random_state + 1)
    gap = relative_gap(trained.bound, sim.mean)
    log.message(f"lower bound {trained.bound:,.2f} EUR; simulated {sim.mean:,.2f} EUR "
                f"(95 % CI {sim.ci[0]:,.2f} .. {sim.ci[1]:,.2f}); gap {100 * gap:.2f} %")
    values = comparison_paths.select_variables(list(inp.variables)).values
    outcomes = simulate_policies(model, values, policies, log)
    table = comparison_table(outcomes, inp.day_ahead_cost_eur(values[:, :, 0]), inp.demand_charge_eur(), "generated")
    result = PolicyResult(
        case_name=case.name, lower_bound=float(trained.bound), upper_bound=sim.mean, upper_bound_ci=tuple(sim.ci),
        gap=float(gap), iterations=int(trained.iterations), train_time_s=float(trained.time_s),
        cut_file=str(trained.cut_file), bound_history=list(trained.history), comparison=table,
        real_days=real_day_table(case, model, values, policies, log) if real_days else None,
        soc_paths=outcomes["SDDP"].soc_kwh if "SDDP" in outcomes else np.zeros((0, 0, 0)),
        battery_sites=tuple(inp.site_names[i] for i in inp.battery_sites), period_hours=inp.period_hours,
        notes=list(inp.notes) + list(schedule.notes) + [note_paths], outcomes=outcomes)
    if output_dir is not None:
        result.figures = {
            "bound_convergence": plot_bound_convergence(result, out / "policy_bounds.png"),
            "soc_spaghetti": plot_soc_spaghetti(result, out / "policy_soc.png"),
            "policy_comparison": plot_policy_comparison(result, out / "policy_comparison.png"),
        }
        result.save(out)
    log.message(f"done in {log.elapsed:.1f} s")
    return result
