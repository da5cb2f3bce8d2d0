"""One replayed day D: forecast with what is known before D, plan (two-stage), operate each policy hour by
hour against the realised day from its own carried state, and return one settled row per policy.

Information (no look-ahead): the scenarios of D are those of the case's calibrated models for D's
calendar day (``planner.scenario_inputs.case_scenarios``, procurement mode) with, when the contract buys
at the day-ahead auction (``day_ahead_known``), the real day-ahead prices of D (cleared at D-1) as the
known p0; nothing else of D or later enters the forecast. With ``recalibrate_every`` the price model is
refitted on a rolling window that ends before D (``planner.replay.recalibrate``).

Realised day: real day-ahead prices p0 of D; PV output per kWp = the national PV capacity factor of D;
wind output per turbine = the national onshore capacity factor times the turbine's nominal power;
intraday and resale prices drawn around the real p0 by ``planner.policy.real_days.intraday_prices``
with the case's terms and a recorded seed.

Operation: a policy decides each hour's battery power; the rest of the hour is the least-cost recourse
(``planner.policy.recourse.evaluate_hour``) started from the policy's carried state of charge and the
month's running peak, so the overrun charge f3 is paid on the month's peak (as it grows), not per day.
The planned policies share one plan, solved from the state of the first of them; perfect foresight
plans on the realised day itself (one scenario) and operates knowing it (a per-day hindsight bound).
A plan that fails or stops above ``max_plan_gap``, or an operating policy that fails, is recorded
with its reason and the day is operated by the rule. With ``carry_stocks`` the material stocks are
carried with the SoC and the peak (``planner.replay.stocks``); otherwise each day starts from the
case's stocks. The operating policies' lattice (look-ahead, SDDP) is fitted on ``lattice_paths``
paths of the same forecast; SDDP is trained each day (``planner.replay.policies``). The deterministic
plan is solved on the point forecast (the weighted median path) and operated by the look-ahead.

Work shared within the day (``reuse_within_day``, on by default; off: every plan and policy from scratch,
the reference path): the later plans of the day (deterministic, perfect foresight) take the two-stage
plan's production schedule as their first incumbent instead of running the site-by-site heuristic again
(the site heuristic when the schedule does not fit; each plan still certifies its own gap), and the
operating policies fit their lattice on the day's paths once (the same fit each would make).
Across days (``reuse_across_days``, with it; L-shaped plans): the day's first plan evaluates the previous
day's two-stage schedule first and keeps it, without its sites' MIPs, when it meets the gap against the day's
own LP bound (its row's ``plan_schedule_reused``); otherwise the sites' MIPs run as before. The schedule is
carried in the lead policy's state, so months stay independent and a resumed replay matches an
uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.case import Case
from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.methods.lshaped import LShaped
from planner.dayahead.plan import plan
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import build_policy_model, fit_lattice, policy_inputs
from planner.policy.real_days import intraday_prices
from planner.policy.recourse import HourState, Observation, evaluate_hour
from planner.policy.registry import make_policy
from planner.replay.data import PRICE, SOLAR, WIND, RealDays
from planner.replay.policies import (DETERMINISTIC, PERFECT_MONTH, SDDP_OPERATION, SDDPOperation, point_forecast,
                                     train_day_policy)
from planner.replay.recalibrate import MIN_WINDOW_DAYS, recalibrated_case
from planner.replay.stocks import end_of_day_stocks, initial_stocks, site_with_stocks
from planner.results import relative_gap
from planner.scenario_inputs import case_scenarios
from scenarios.scenario_set import ScenarioSet
from scenarios.wind import power_curve

RULE = "load-shedding rule"
FIXED = "fixed schedule"
LOOKAHEAD = "look-ahead (expected values)"
PERFECT = "perfect foresight"
#: the operating policies the replay knows; the rule is the reference and the fallback of a failed plan;
#: perfect foresight (a lower reference, not implementable) plans on the realised day itself (one scenario)
#: and operates knowing it: the hindsight bound of each day (not of the month)
#: the deterministic plan (point forecast) is operated by the look-ahead, the planner's plan by SDDP; perfect
#: foresight per month is solved in hindsight over the month (``planner.replay.hindsight``), not day by day
REPLAY_POLICIES = (RULE, FIXED, LOOKAHEAD, SDDP_OPERATION, DETERMINISTIC, PERFECT, PERFECT_MONTH)
#: short names of the policies (``planner replay --policies``)
POLICY_KEYS = dict(zip(("rule", "fixed", "lookahead", "sddp", "deterministic", "perfect", "perfect-month"),
                       REPLAY_POLICIES))
#: the policies operating the day's two-stage plan (solved once, from the state of the first of them)
SHARED_PLAN = (FIXED, LOOKAHEAD, SDDP_OPERATION)
METHODS = ("ef", "lshaped")


@dataclass(frozen=True)
class ReplayOptions:
    """Options of a replay (units in the names)."""

    method: str = "lshaped"          # the two-stage method of each plan: "lshaped" (faster on the full case) or "ef"
    n_scenarios: int = 5
    time_limit_s: float = 60.0
    rel_gap: float = 0.01
    policies: tuple = REPLAY_POLICIES
    day_ahead_known: bool = True     # the contract buys at the day-ahead auction: p0 of D is known at D-1
    seed: int = 0
    n_states: int = 3                # lattice states per stage of the look-ahead's policy model
    max_plan_gap: float = 0.5        # a plan stopped above this certified gap counts as failed (timed out)
    sddp_iterations: int = 100       # SDDP iterations of the day's operating policy (trained each day)
    lattice_paths: int = 90          # forecast paths the operating policies' lattice is fitted on (look-ahead, SDDP)
    recalibrate_every: int = 0       # days between refits of the price model on a rolling window (0: never)
    recalibrate_window_days: int = 365
    carry_stocks: bool = False       # carry material stocks into D+1 (planner.replay.stocks; see why off by default)
    reuse_within_day: bool = True    # the day's later plans start from the first plan's schedule; one lattice fit
    reuse_across_days: bool = True   # with reuse_within_day and L-shaped: the day's first plan tries the previous
    #                                  day's two-stage schedule (same month) before its sites' MIPs
    site_mip_gap: float = 0.005      # L-shaped: relative gap of each site's schedule MIP (the plan still
    #                                  certifies rel_gap against its LP bound)

    def check(self) -> None:
        """Raise ValueError naming the option when it is out of range."""
        if self.method not in METHODS:
            raise ValueError(f"method = {self.method!r}: use one of {list(METHODS)}")
        if isinstance(self.n_scenarios, bool) or not isinstance(self.n_scenarios, (int, np.integer)) \
                or self.n_scenarios < 2:
            raise ValueError(f"n_scenarios = {self.n_scenarios!r}: must be a whole number >= 2")
        if not (np.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise ValueError(f"time_limit_s = {self.time_limit_s!r} s: must be a positive number of seconds")
        if not (0 < self.rel_gap < 1):
            raise ValueError(f"rel_gap = {self.rel_gap!r}: must be a fraction in (0, 1), e.g. 0.01 for 1 %")
        if isinstance(self.sddp_iterations, bool) or not isinstance(self.sddp_iterations, (int, np.integer)) \
                or self.sddp_iterations < 1:
            raise ValueError(f"sddp_iterations = {self.sddp_iterations!r}: must be a whole number >= 1")
        for name in ("lattice_paths", "recalibrate_every", "recalibrate_window_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} = {value!r}: must be a whole number >= 0")
        if self.recalibrate_every and self.recalibrate_window_days < MIN_WINDOW_DAYS:
            raise ValueError(f"recalibrate_window_days = {self.recalibrate_window_days!r}: the price model fits its "
                             f"marginals per season group; give at least {MIN_WINDOW_DAYS} days")
        if not (0 < self.site_mip_gap < 1):
            raise ValueError(f"site_mip_gap = {self.site_mip_gap!r}: must be a fraction in (0, 1), e.g. 0.005")
        if not (self.max_plan_gap >= 0):
            raise ValueError(f"max_plan_gap = {self.max_plan_gap!r}: must be a fraction >= 0 (0.05 = 5 %)")
        unknown = [p for p in self.policies if p not in REPLAY_POLICIES]
        if unknown or RULE not in self.policies:
            raise ValueError(f"policies = {list(self.policies)}: give names among {list(REPLAY_POLICIES)}, "
                             f"including {RULE!r} (the reference and the fallback)")


@dataclass
class PolicyState:
    """What a policy carries from one day to the next (battery sites in case order)."""

    soc_kwh: list
    month_peak_kw: float = 0.0
    stock_t: dict = field(default_factory=dict)   # material stocks (t) by "<site>:<material>" (replay.stocks)
    #: the last two-stage plan's production schedule {binary name: 0/1} (the planned policies' lead only; L-shaped
    #: plans): tried first by the next day's plan (``ReplayOptions.reuse_across_days``); saved with the day, so a
    #: resumed replay starts the next day from the same schedule as an uninterrupted one
    plan_schedule: dict = field(default_factory=dict)


def initial_state(case: Case, carry_stocks: bool = False) -> PolicyState:
    """The stated start of every month: each battery at its initial SoC, the month's peak at 0, the
    material stocks at their initial levels when they are carried (else none: each day starts from the case's)."""
    socs = [s.microgrid.battery.initial_soc_fraction * s.microgrid.battery.energy_kwh
            for s in case.sites if battery_usable(s)]
    return PolicyState([float(x) for x in socs], 0.0, initial_stocks(case) if carry_stocks else {})


def battery_usable(site) -> bool:
    b = site.microgrid.battery
    return b is not None and b.energy_kwh > 0 and b.power_kw > 0


def day_seed(seed: int, day) -> int:
    """The recorded seed of a day: depends on the option seed and the date only (not on the run order)."""
    return int(seed) * 1_000_003 + pd.Timestamp(day).toordinal()


def day_case(case: Case, day, state: PolicyState, day_ahead_prices=None) -> Case:
    """The case of day ``day``: calendar day, known day-ahead prices (or None: the model's median),
    batteries starting at the carried SoC (the end-of-day target is then that SoC), material stocks at the
    carried levels (``planner.replay.stocks``)."""
    sites, j = [], 0
    for s in case.sites:
        if battery_usable(s):
            b = s.microgrid.battery
            frac = min(max(state.soc_kwh[j] / b.energy_kwh, b.soc_min_fraction), b.soc_max_fraction)
            j += 1
            s = dataclasses.replace(s, microgrid=dataclasses.replace(
                s.microgrid, battery=dataclasses.replace(b, initial_soc_fraction=float(frac))))
        sites.append(site_with_stocks(s, state.stock_t))
    prices = None if day_ahead_prices is None else [float(x) for x in day_ahead_prices]
    sc = dataclasses.replace(case.scenarios, day=pd.Timestamp(day).strftime("%Y-%m-%d"), mode="procurement",
                             day_ahead_prices_eur_per_mwh=prices)
    return dataclasses.replace(case, sites=sites, scenarios=sc)


def forecast(case: Case, known: RealDays, day, state: PolicyState, options: ReplayOptions):
    """(case of the day, scenarios of the day) from ``known`` = the data known before ``day`` only."""
    day = pd.Timestamp(day).normalize()
    p0 = None
    if options.day_ahead_known:
        rows = known.frame.loc[known.frame.index >= day, PRICE]
        if len(rows) != 24:
            raise ValueError(f"day-ahead prices of {day.date()} are not known: {len(rows)} of 24 hours")
        p0 = rows.to_numpy(dtype=float)
    recalibrated_on = ""
    if options.recalibrate_every:   # the price model refitted on a window before the recalibration day <= D
        case, recalibrated_on = recalibrated_case(case, known, day, options.recalibrate_every,
                                                  options.recalibrate_window_days)
    cd = day_case(case, day, state, p0)
    scen = case_scenarios(cd, options.n_scenarios, day_seed(options.seed, day))
    scen.metadata["recalibrated_on"] = recalibrated_on
    return cd, scen


def realised_values(case: Case, realised: pd.DataFrame, variables, seed: int) -> np.ndarray:
    """The realised day (1, T, V) in the order ``variables`` (see the module docstring)."""
    if case.period_hours != 1.0 or case.n_periods != 24:
        raise ValueError(f"the replay needs hourly one-day cases (period_minutes = 60, horizon_hours = 24); "
                         f"case {case.name!r} has period_minutes = {case.period_minutes}, "
                         f"horizon_hours = {case.horizon_hours}")
    p0 = realised[PRICE].to_numpy(dtype=float)
    p1, p2 = intraday_prices(case, p0[None, :], random_state=seed)
    cols = {"p0_eur_per_mwh": p0, "p1_eur_per_mwh": p1[0], "p2_eur_per_mwh": p2[0]}
    solar = realised[SOLAR].to_numpy(dtype=float)
    wind = realised[WIND].to_numpy(dtype=float)
    for s in case.sites:
        cols[f"pv_kw_per_kwp:{s.name}"] = solar
        if s.microgrid.wind:
            cols[f"wind_kw_per_turbine:{s.name}"] = wind * power_curve(s.microgrid.wind[0].turbine_type)[2]
    missing = [v for v in variables if v not in cols]
    if missing:
        raise ValueError(f"realised day lacks variables {missing}")
    return np.stack([cols[v] for v in variables], axis=1)[None, :, :]


@dataclass
class InputsModel:
    """The policy model of the policies that only need the stage inputs (rule, fixed schedule)."""

    inputs: object


def operate(policy, values: np.ndarray, state: PolicyState) -> dict:
    """Run ``policy`` (an HourlyPolicy) over the realised day from ``state``; costs in EUR."""
    inp = policy.model.inputs
    policy.prepare(values)
    soc = np.array(state.soc_kwh, dtype=float)
    peak0 = peak = float(state.month_peak_kw)
    cost = unserved = shortfall = 0.0
    cap = policy.import_cap_kw()
    for t in range(inp.n_periods):
        net = policy.decide(HourState(soc, peak), Observation(0, t, values[0, t]))
        c, soc, peak, u, sf = evaluate_hour(inp, t, values[0, t], soc, peak, net, cap, policy.proportional_shedding)
        cost += c
        unserved += u
        shortfall += sf
    f3, thr = inp.overrun_charge_eur_per_kw, inp.overrun_threshold_kw
    overrun = f3 * (max(0.0, peak - thr) - max(0.0, peak0 - thr))
    day_ahead = float(inp.day_ahead_cost_eur(values[0, :, 0]))
    return {"day_ahead_energy_eur": day_ahead, "operating_eur": float(cost - overrun), "overrun_eur": float(overrun),
            "cost_eur": float(day_ahead + cost), "unserved_kwh": float(unserved), "soc_shortfall_kwh": float(shortfall),
            "day_ahead_mwh": float(inp.day_ahead_kw.sum() * inp.period_hours / 1000.0),
            "day_peak_kw": float(peak), "state": PolicyState([float(x) for x in soc], float(peak))}


def make_operating_policy(name: str, case: Case, schedule: FixedSchedule, scenarios, options: ReplayOptions,
                          state: PolicyState | None = None, lattices: dict | None = None):
    """The operating policy ``name`` of the day; SDDP is trained here from ``state``'s month peak and
    carries its training record as ``policy.training``. ``lattices``: a dict shared by the day's policies,
    where the lattice fitted on ``scenarios`` is kept and reused (the same fit for every policy)."""
    inp = policy_inputs(case, schedule, scenarios)
    if name in (LOOKAHEAD, SDDP_OPERATION):
        n_states = min(options.n_states, scenarios.n_scenarios)
        if lattices is None:
            model = build_policy_model(inp, scenarios, n_states=n_states, random_state=options.seed)
        else:
            key = (id(scenarios), n_states, tuple(inp.variables))
            if key not in lattices:
                lattices[key] = (scenarios, *fit_lattice(inp, scenarios, n_states, options.seed), list(inp.notes))
            _, lattice, scale, notes = lattices[key]
            inp.notes.extend(n for n in notes if n not in inp.notes)
            model = build_policy_model(inp, lattice=lattice, scale=scale)
        if name == LOOKAHEAD:
            return make_policy(name, model)
        policy = SDDPOperation(model)
        policy.training = train_day_policy(model, state.month_peak_kw if state else 0.0, options.sddp_iterations,
                                           options.time_limit_s, options.seed)
        return policy
    return make_policy(name, InputsModel(inp))


def solve_plan(case: Case, scenarios, options: ReplayOptions, seed: int, shared: dict | None = None):
    """(plan result or None, plan record): the two-stage plan with its bounds and gap; a failure or a gap
    above ``options.max_plan_gap`` is recorded with its reason (the day is then operated by the rule).
    ``shared``: a dict kept over the day's plans: the first plan's production schedule is stored in it and is
    the first incumbent of the later ones (extensive form: ``planner.dayahead.methods.ef``; L-shaped: kept
    without the sites' MIPs when it meets the gap, ``planner.dayahead.methods.lshaped``)."""
    info = {"lower_bound_eur": np.nan, "upper_bound_eur": np.nan, "gap": np.nan, "plan_status": "",
            "plan_time_s": 0.0, "fallback": False, "fallback_reason": ""}
    tp = time.perf_counter()
    result = None
    method = options.method
    if shared is not None and method == "ef":
        method = ExtensiveForm(schedule=shared.get("schedule"))
    elif method == "lshaped":  # its scenario LPs in this process: months already run in parallel processes/ranks
        # the day's later plans try the first plan's common schedule before their own sites' MIPs
        # and a plan above its gap target is followed by the extensive form within the time left
        # (the day's first plan: the previous day's schedule, when carried)
        given = None if shared is None else shared.get("lshaped_schedule", shared.get("previous_day_schedule"))
        method = LShaped(workers=1, schedule=given, then_ef=True, site_mip_gap=options.site_mip_gap)
    try:
        result = plan(case, scenarios.n_scenarios, method, scenarios=scenarios,
                      time_limit=options.time_limit_s, rel_gap=options.rel_gap, measures=False, progress=False,
                      random_state=seed)
        info["plan_method"] = result.method
        info.update(lower_bound_eur=float(result.lower_bound), upper_bound_eur=float(result.upper_bound),
                    gap=float(relative_gap(result.lower_bound, result.upper_bound)), plan_status=str(result.status))
        if isinstance(method, ExtensiveForm) and method.used_schedule is not None:
            info["plan_schedule_reused"] = method.used_schedule is shared.get("schedule")
            shared.setdefault("schedule", method.used_schedule)
        if isinstance(method, LShaped) and shared is not None:
            info["plan_schedule_reused"] = method.schedule_reused
            if method.used_schedule:
                shared.setdefault("lshaped_schedule", method.used_schedule)
        if not info["gap"] <= options.max_plan_gap:
            info.update(fallback=True, fallback_reason=f"plan stopped at a gap of {100 * info['gap']:.3g} % above "
                        f"max_plan_gap {100 * options.max_plan_gap:.3g} % (time limit {options.time_limit_s:g} s)")
            result = None
    except Exception as exc:  # recorded and operated by the rule, never dropped
        info.update(fallback=True, fallback_reason=f"{type(exc).__name__}: {exc}"[:500], plan_status="failed")
    info["plan_time_s"] = time.perf_counter() - tp
    return result, info


def replay_day(case: Case, real: RealDays, day, states: dict, options: ReplayOptions) -> tuple[list, dict]:
    """Rows (one per policy) and the new states of day ``day``; ``states`` maps a policy to its state."""
    day = pd.Timestamp(day).normalize()
    t0 = time.perf_counter()
    seed = day_seed(options.seed, day)
    known = real.known_before(day, options.day_ahead_known)
    planned = [p for p in options.policies if p in SHARED_PLAN]
    lead = planned[0] if planned else RULE     # the plan starts from the state of the first planned policy
    cd, scen = forecast(case, known, day, states[lead], options)
    plan_info, result = {}, None
    shared = {} if options.reuse_within_day else None          # the first plan's schedule, kept for the later
    if shared is not None and options.reuse_across_days and states[lead].plan_schedule:
        shared["previous_day_schedule"] = states[lead].plan_schedule   # tried first by the day's first plan
    lattices = {} if options.reuse_within_day else None        # the operating policies' lattice, fitted once
    if planned:
        result, plan_info = solve_plan(cd, scen, options, seed, shared)
    realised = real.day(day)
    scores = forecast_scores(scen, realised)
    # the operating policies' lattice: more paths of the same forecast (same information as the plan's)
    paths = (scen if options.lattice_paths <= scen.n_scenarios
             else case_scenarios(cd, options.lattice_paths, day_seed(options.seed, day) + 1))
    rows, new_states = [], {}
    for name in [p for p in options.policies if p != PERFECT_MONTH]:   # the month bound: replay.hindsight
        case_p = day_case(case, day, states[name], cd.scenarios.day_ahead_prices_eur_per_mwh)
        info = {} if name == RULE else plan_info
        chosen = result
        if name == PERFECT:  # plan on the realised day itself, then operate knowing it
            hindsight = realised_set(case_p, realised, scen.variables, seed)
            chosen, info = solve_plan(case_p, hindsight, options, seed, shared)
        elif name == DETERMINISTIC:  # plan on the point forecast (one scenario), then the look-ahead operates
            chosen, info = solve_plan(case_p, point_forecast(scen), options, seed, shared)
        if name == RULE or chosen is None:
            schedule, op_name = FixedSchedule.from_rule(case_p, scen), RULE
        else:
            schedule, op_name = FixedSchedule.from_plan(chosen, case_p), LOOKAHEAD if name == DETERMINISTIC else name
        try:
            policy = make_operating_policy(op_name, case_p, schedule, paths, options, states[name], lattices)
            training = getattr(policy, "training", None)
            if training is not None:
                info = {**info, "sddp_bound_eur": training.bound_eur, "sddp_iterations": training.iterations,
                        "sddp_time_s": training.time_s}
            values = realised_values(case_p, realised, policy.model.inputs.variables, seed)
            out = operate(policy, values, states[name])
        except Exception as exc:  # an operating policy that fails is recorded and the rule operates the day
            if op_name == RULE:
                raise
            info = {**info, "fallback": True,
                    "fallback_reason": f"operation by {op_name} failed: {type(exc).__name__}: {exc}"[:500]}
            schedule, op_name = FixedSchedule.from_rule(case_p, scen), RULE
            policy = make_operating_policy(op_name, case_p, schedule, scen, options)
            values = realised_values(case_p, realised, policy.model.inputs.variables, seed)
            out = operate(policy, values, states[name])
        new_states[name] = out.pop("state")
        new_states[name].stock_t = (dict(states[name].stock_t) if op_name == RULE or not states[name].stock_t
                                    else end_of_day_stocks(chosen, case_p, states[name].stock_t))
        rows.append({"date": day.strftime("%Y-%m-%d"), "month": day.strftime("%Y-%m"), "policy": name,
                     "operated_by": op_name, **out, "soc_end_kwh": float(sum(new_states[name].soc_kwh)),
                     "soc_end_by_battery_kwh": list(new_states[name].soc_kwh),
                     "line_load_kw": schedule.line_load_kw.tolist(),  # (period, site): the production operated
                     "month_peak_kw": new_states[name].month_peak_kw,
                     "stock_end_t": float(sum(new_states[name].stock_t.values())),
                     **info, "seed": seed, "method": options.method,
                     "n_scenarios": 1 if name in (PERFECT, DETERMINISTIC) else options.n_scenarios,
                     "realised_p0_mean_eur_per_mwh": float(realised[PRICE].mean()),
                     "forecast_p0_mean_eur_per_mwh": float(np.mean(scen["p0_eur_per_mwh"])),
                     "realised_pv_cf_mean": float(realised[SOLAR].mean()),
                     "forecast_pv_cf_mean": forecast_pv_mean(scen),
                     **scores, "recalibrated_on": scen.metadata.get("recalibrated_on", ""),
                     })
    if planned and options.reuse_across_days and lead in new_states:  # tried by the next day's first plan
        new_states[lead].plan_schedule = dict((shared or {}).get("lshaped_schedule") or states[lead].plan_schedule)
    elapsed = time.perf_counter() - t0
    for row in rows:  # the whole day (forecast, plans, every policy's operation), the same on each row
        row["day_time_s"] = elapsed
    return rows, new_states


def realised_set(case: Case, realised: pd.DataFrame, variables, seed: int) -> ScenarioSet:
    """The realised day as a one-scenario set (the perfect-foresight plan's only scenario)."""
    values = realised_values(case, realised, variables, seed)
    return ScenarioSet(values, np.ones(1), tuple(variables), ("realised0",), case.period_hours)


def forecast_scores(scenarios, realised: pd.DataFrame) -> dict:
    """Scores of the day's scenarios against the realised day: mean absolute error of the scenario mean
    (p0 in EUR/MWh, PV per kWp of the first PV site) and the share of hours inside the scenarios' range."""
    out = {}
    pairs = [("p0", "p0_eur_per_mwh", realised[PRICE].to_numpy(dtype=float))]
    pv = [v for v in scenarios.variables if v.startswith("pv_kw_per_kwp:")]
    if pv:
        pairs.append(("pv", pv[0], realised[SOLAR].to_numpy(dtype=float)))
    for label, var, actual in pairs:
        paths = np.asarray(scenarios[var], dtype=float)[:, :len(actual)]
        out[f"forecast_{label}_mae"] = float(np.mean(np.abs(paths.mean(axis=0) - actual)))
        inside = (actual >= paths.min(axis=0) - 1e-9) & (actual <= paths.max(axis=0) + 1e-9)
        out[f"forecast_{label}_range_coverage"] = float(np.mean(inside))
    return out


def forecast_pv_mean(scenarios) -> float:
    names = [v for v in scenarios.variables if v.startswith("pv_kw_per_kwp:")]
    return float(np.mean(scenarios[names[0]])) if names else float("nan")
