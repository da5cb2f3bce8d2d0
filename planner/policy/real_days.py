"""Train the SDDP battery policy of a case and simulate it with the comparison policies on the same
paths (generated paths, and real 2019 / 2022 France day-ahead price days when the data is present).

``run_policy(case, iterations, simulations, seed, np=1, output_dir=None, progress=True)`` returns a
:class:`PolicyResult`: lower bound, statistical upper bound with its 95 % interval, gap, cut file,
comparison tables and figures. Costs are operating costs of the day (intraday purchases and resale,
generator fuel, energy charge f2 on the import, overrun charge f3, unserved energy, end-of-day SoC
shortfall); the day-ahead energy cost of the fixed purchases and the prorated demand charge f1 * P are
the same for every policy and reported apart.

Real days: every day within +-15 days of the case's calendar day in 2019 and in 2022 (the price
file is read-only at ``../shared/data/prices/fr_hourly_2019_2022.csv``; skipped when absent). The
day-ahead price p0 is the real one; p1 and p2 are drawn around it by
``scenarios.intraday.IntradayResaleModel`` with the case's terms (``contract.intraday``,
``contract.resale``); PV and wind come from the generated comparison paths.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy
import numpy as np
import pandas as pd

from planner.case import Case
from planner.policy import baselines
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import (
    add_initial_cuts,
    build_policy_model,
    policy_inputs,
    policy_scenarios,
)

PRICE_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "prices" / "fr_hourly_2019_2022.csv"
POLICIES = ("SDDP", "fixed schedule", "look-ahead (expected values)", "median-price rule", "load-shedding rule")


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
    outcomes: dict = field(default_factory=dict)   # policy -> baselines.PathOutcome (generated paths)

    @property
    def gap_ci(self) -> float:
        """Gap using the upper end of the interval: (ci_high - lower_bound) / |ci_high|."""
        hi = self.upper_bound_ci[1]
        return (hi - self.lower_bound) / max(abs(hi), 1e-9)

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


def _say(progress, *args):
    if progress:
        print(*args, flush=True)


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


def simulate_policies(model, values, policies=POLICIES, progress=False) -> dict:
    """Each policy on the same paths ``values`` (S, T, V in the model's variable order)."""
    inp = model.inputs
    run = {
        "SDDP": lambda v: baselines.sddp_policy(model, v),
        "fixed schedule": lambda v: baselines.fixed_schedule_policy(inp, v),
        "look-ahead (expected values)": lambda v: baselines.lookahead_policy(model, v),
        "median-price rule": lambda v: baselines.median_price_rule(inp, v),
        "load-shedding rule": lambda v: baselines.load_shedding_rule(inp, v),
    }
    out = {}
    for name in policies:
        if name not in run:
            raise ValueError(f"policies: unknown policy {name!r}; known: {list(run)}")
        t0 = time.perf_counter()
        out[name] = run[name](values)
        _say(progress, f"  simulated {name:<30s} on {len(values)} paths in {time.perf_counter() - t0:5.1f} s: "
                       f"mean {out[name].mean:,.1f} EUR")
    return out


def real_day_paths(case: Case, variables, generated_values, years=(2019, 2022), window_days: int = 15,
                   price_file=PRICE_FILE):
    """{year: values (days, T, V)} with real p0, p1/p2 from the case's mean terms, PV/wind from
    ``generated_values`` (cycled). None when the price file is absent."""
    path = Path(price_file)
    if not path.exists():
        return None
    frame = pd.read_csv(path, usecols=[0, 1])
    frame.columns = ["time", "price"]
    frame["time"] = pd.to_datetime(frame["time"])
    frame["date"] = frame["time"].dt.normalize()
    T = case.n_periods
    if case.period_hours != 1.0 or T % 24:
        return None  # real days are hourly whole days
    n_days = T // 24
    c = case.contract
    day = pd.Timestamp(case.scenarios.day)
    out = {}
    for year in years:
        try:
            centre = day.replace(year=year)
        except ValueError:  # 29 February
            centre = day.replace(year=year, day=28)
        starts = pd.date_range(centre - pd.Timedelta(days=window_days), centre + pd.Timedelta(days=window_days))
        paths = []
        for start in starts:
            sel = frame[(frame["date"] >= start) & (frame["date"] < start + pd.Timedelta(days=n_days))]
            if len(sel) != T:
                continue  # DST days have 23 or 25 hours
            paths.append(sel["price"].to_numpy(dtype=float))
        if not paths:
            continue
        p0 = np.array(paths)
        p1, p2 = _intraday_prices(case, p0, seed=year)
        values = np.empty((len(p0), T, len(variables)))
        for s in range(len(p0)):
            values[s] = generated_values[s % len(generated_values)]
        values[:, :, 0], values[:, :, 1], values[:, :, 2] = p0, p1, p2
        out[year] = values
    return out


def _intraday_prices(case: Case, p0: np.ndarray, seed: int = 0):
    """p1 and p2 around real p0 paths: sampled by ``scenarios.intraday.IntradayResaleModel`` with the
    case's terms; without that model, its mean laws (premium and discount at their means)."""
    c = case.contract
    try:
        from scenarios.intraday import IntradayResaleModel
        from scenarios.scenario_set import ScenarioSet
    except ImportError:
        p1 = p0 + np.maximum(c.intraday.min_premium_eur_per_mwh, c.intraday.premium_ratio_mean * np.abs(p0))
        p2 = p0 - c.resale.discount_ratio_mean * np.abs(p0) - c.resale.fee_eur_per_mwh
        return p1, p2
    model = IntradayResaleModel(
        premium_ratio_mean=c.intraday.premium_ratio_mean, premium_ratio_std=c.intraday.premium_ratio_std,
        min_premium_eur_per_mwh=c.intraday.min_premium_eur_per_mwh,
        resale_discount_ratio_mean=c.resale.discount_ratio_mean,
        resale_discount_ratio_std=c.resale.discount_ratio_std, resale_fee_eur_per_mwh=c.resale.fee_eur_per_mwh,
        hourly_correlation=c.intraday.hourly_correlation)
    n = len(p0)
    base = ScenarioSet(p0[:, :, None], np.full(n, 1.0 / n), ("p0_eur_per_mwh",), period_hours=case.period_hours)
    out = model.sample(base, random_state=seed)
    return out["p1_eur_per_mwh"], out["p2_eur_per_mwh"]


def _train_mpi(case, schedule, scenarios, n_states, seed, iterations, n_ranks, cut_file, progress):
    """Train under ``mpiexec -n n_ranks`` (this module's ``__main__``) and write the cut file."""
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.pkl"
        with open(job, "wb") as f:
            pickle.dump(dict(case=case, schedule=schedule, scenarios=scenarios, n_states=n_states,
                             seed=seed, iterations=iterations, cut_file=str(cut_file),
                             log=str(Path(tmp) / "log.json")), f)
        mpiexec = Path(sys.executable).with_name("mpiexec")
        cmd = [str(mpiexec) if mpiexec.exists() else "mpiexec", "-n", str(n_ranks), "--oversubscribe",
               sys.executable, "-m", "planner.policy.compare", str(job)]
        env = dict(os.environ, OMPI_MCA_osc=os.environ.get("OMPI_MCA_osc", "^ucx"),
                   OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        proc = subprocess.run(cmd, env=env, capture_output=not progress, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"MPI training failed ({' '.join(cmd)}): {proc.stderr if proc.stderr else ''}")
        return json.loads((Path(tmp) / "log.json").read_text())


def _mpi_worker(job_path):
    import sddp
    from mpi4py import MPI

    with open(job_path, "rb") as f:
        job = pickle.load(f)
    inp = policy_inputs(job["case"], job["schedule"], job["scenarios"])
    model = build_policy_model(inp, job["scenarios"], n_states=job["n_states"], seed=job["seed"])
    comm = MPI.COMM_WORLD
    add_initial_cuts(model, f"{job['cut_file']}.init{comm.Get_rank()}")
    res = sddp.train(model.graph, iteration_limit=job["iterations"], print_level=0,
                     random_state=job["seed"], parallel="mpi")
    if comm.Get_rank() == 0:
        sddp.write_cuts(model.graph, job["cut_file"], only_active=False)
        Path(job["log"]).write_text(json.dumps({"bounds": res.bound_history, "time": res.time,
                                                "iterations": res.iterations, "ranks": comm.Get_size()}))
    os.remove(f"{job['cut_file']}.init{comm.Get_rank()}")


def run_policy(case: Case, iterations: int = 100, simulations: int = 100, seed: int = 0, np: int = 1,
               output_dir=None, progress: bool = True, scenarios=None, schedule: FixedSchedule | None = None,
               n_states: int = 5, training_paths: int = 300, cut_file=None, policies=POLICIES,
               real_days: bool = True, test_scenarios=None) -> PolicyResult:
    """Train (or load from ``cut_file`` without retraining) the SDDP battery policy of ``case`` and
    compare it with the other policies on ``simulations`` generated paths and on real price days.

    scenarios : day paths to fit the lattice on (default ``planner.scenario_inputs.case_scenarios``
        with ``training_paths`` paths, the comparison paths then drawn with another seed). Given
        scenarios without ``test_scenarios``: the last ``simulations`` paths are held out of the fit
        and used for the comparison.
    schedule : the fixed day-ahead purchases, production and battery schedule replayed by the
        "fixed schedule" policy; default ``FixedSchedule.from_rule(..., battery="expected_value")``
        (use ``FixedSchedule.from_plan(plan, case)`` for the two-stage solution).
    np : MPI ranks for training (``mpiexec -n np``); 1 trains in this process.
    """
    for name, value, low in (("iterations", iterations, 0), ("simulations", simulations, 2), ("np", np, 1),
                             ("n_states", n_states, 1), ("training_paths", training_paths, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < low:
            raise ValueError(f"{name} = {value!r}: must be a whole number >= {low}")
    if not isinstance(case, Case):
        raise TypeError(f"case must be a planner.case.Case (load it with planner.case.load_case); got {type(case).__name__}")
    if cut_file is not None and not Path(cut_file).exists():
        raise FileNotFoundError(f"cut_file = {cut_file!s}: no such file; train once with output_dir= to write it")
    import sddp

    t_start = time.perf_counter()
    if scenarios is None:
        scenarios = policy_scenarios(case, training_paths, seed)
        oos = policy_scenarios(case, simulations, seed + 1_000_003)
        note_oos = "comparison paths: fresh draws of planner.scenario_inputs.case_scenarios (out of sample)"
    elif test_scenarios is not None:
        oos = test_scenarios
        note_oos = "comparison paths: the given test_scenarios"
    else:  # hold the last `simulations` paths out of the lattice fit
        if scenarios.n_scenarios < simulations + 20:
            raise ValueError(f"scenarios: {scenarios.n_scenarios} paths; give at least simulations + 20 = "
                             f"{simulations + 20} (the last {simulations} are held out for the comparison) "
                             f"or pass test_scenarios")
        n_fit = scenarios.n_scenarios - simulations
        oos = scenarios.subset(range(n_fit, scenarios.n_scenarios))
        scenarios = scenarios.subset(range(n_fit))
        note_oos = f"comparison paths: the last {simulations} given paths, held out of the lattice fit"
    if schedule is None:  # the stand-in for the two-stage plan: rule production, open-loop EV battery
        schedule = FixedSchedule.from_rule(case, scenarios, battery="expected_value")
    inp = policy_inputs(case, schedule, scenarios)
    model = build_policy_model(inp, scenarios, n_states=n_states, seed=seed)
    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="policy_"))
    out.mkdir(parents=True, exist_ok=True)
    _say(progress, f"policy of case {case.name!r}: {inp.n_periods} stages, lattice of "
                   f"{sum(len(v) for v in model.lattice.node_values)} nodes, states {list(model.state_names)}")
    add_initial_cuts(model, out / "initial_cuts.json")
    target_cuts = out / "cuts.json"
    history = []
    if cut_file is not None:
        try:
            sddp.read_cuts(model.graph, cut_file)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"cut_file = {cut_file!s} does not fit this policy graph ({exc}); it was written "
                             f"for another case, lattice (n_states, seed, scenarios) or schedule") from None
        bound = sddp.calculate_bound(model.graph)
        history, n_it, t_train = [bound], 0, 0.0
        _say(progress, f"loaded cuts from {cut_file}: bound {bound:,.2f} EUR (no retraining)")
        target_cuts = Path(cut_file)
    elif np > 1:
        log = _train_mpi(case, schedule, scenarios, n_states, seed, iterations, np, target_cuts, progress)
        sddp.read_cuts(model.graph, target_cuts)
        history, n_it, t_train = log["bounds"], log["iterations"], log["time"]
        bound = sddp.calculate_bound(model.graph)
    else:
        res = sddp.train(model.graph, iteration_limit=iterations, print_level=1 if progress else 0,
                         random_state=seed)
        history, n_it, t_train = res.bound_history, res.iterations, res.time
        bound = sddp.calculate_bound(model.graph)
        sddp.write_cuts(model.graph, target_cuts, only_active=False)
    sim = sddp.simulate(model.graph, simulations, random_state=seed + 1)
    gap = (sim.mean - bound) / max(abs(sim.mean), 1e-9)
    _say(progress, f"lower bound {bound:,.2f} EUR; simulated {sim.mean:,.2f} EUR "
                   f"(95 % CI {sim.ci[0]:,.2f} .. {sim.ci[1]:,.2f}); gap {100 * gap:.2f} %")
    values = oos.select_variables(list(inp.variables)).values
    outcomes = simulate_policies(model, values, policies, progress)
    da = inp.day_ahead_cost_eur(values[:, :, 0])
    table = comparison_table(outcomes, da, inp.demand_charge_eur(), "generated")
    real_table = None
    if real_days:
        real = real_day_paths(case, inp.variables, values)
        if real:
            frames = []
            for year, vals in real.items():
                res_y = simulate_policies(model, vals, policies, progress)
                frames.append(comparison_table(res_y, inp.day_ahead_cost_eur(vals[:, :, 0]),
                                               inp.demand_charge_eur(), f"real {year}"))
            real_table = pd.concat(frames, ignore_index=True)
    result = PolicyResult(
        case_name=case.name, lower_bound=float(bound), upper_bound=sim.mean, upper_bound_ci=tuple(sim.ci),
        gap=float(gap), iterations=int(n_it), train_time_s=float(t_train), cut_file=str(target_cuts),
        bound_history=list(history), comparison=table, real_days=real_table,
        soc_paths=outcomes["SDDP"].soc_kwh if "SDDP" in outcomes else np_empty(),
        battery_sites=tuple(inp.site_names[i] for i in inp.battery_sites), period_hours=inp.period_hours,
        notes=list(inp.notes) + list(schedule.notes) + [note_oos], outcomes=outcomes)
    if output_dir is not None:
        from planner.policy import plots

        result.figures = {
            "bound_convergence": plots.plot_bound_convergence(result, out / "policy_bounds.png"),
            "soc_spaghetti": plots.plot_soc_spaghetti(result, out / "policy_soc.png"),
            "policy_comparison": plots.plot_policy_comparison(result, out / "policy_comparison.png"),
        }
        result.save(out)
    _say(progress, f"done in {time.perf_counter() - t_start:.1f} s")
    return result




def np_empty():
    return np.zeros((0, 0, 0))


if __name__ == "__main__":  # MPI worker: python -m planner.policy.compare JOB.pkl
    _mpi_worker(sys.argv[1])
