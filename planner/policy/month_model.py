"""The SDDP model of the month-long demand-charge policy: one billing month of D days, each day a
purchase node then an operation node, the battery state of charge, the running monthly peak and its
overrun carried from day to day, and the daily price level as an objective state.

Graph (linear, 2 D stages; costs in EUR, powers in kW averaged over the period):

* purchase node of day d (stage 2 d - 1): the day's price level ``y_d`` is revealed (objective state,
  ``y_d = (a + phi y_{d-1}) z_d``, :mod:`planner.policy.month_price`; on observed paths the level is
  the day's mean day-ahead price) and with it the day-ahead prices ``p0_{d,h} = y_d s_h`` (``s``: the
  mean day-ahead shape of the training days; observed p0 on observed paths); the day-ahead volumes
  ``da_h = E_h + delta_b(h)`` are bought at p0: ``E_h`` the expected net load of the hour (the
  schedule's day-ahead purchase) and ``delta_b`` (states ``da:<b>``, kW) one adjustment per block of
  ``T / purchase_blocks`` hours, within ``purchase_band`` x the block's mean expected net load (and
  ``da_h >= 0``). ``purchase_blocks = T`` with no band gives free hourly volumes; fewer blocks keep
  the purchase state small, which SDDP's single cuts need to converge (a 24-dimensional purchase state
  converges slowly: docs/policy_month.md). SoC, peak and overrun pass through.
* operation node of day d (stage 2 d): the day's intraday and resale prices, PV and wind are revealed
  (noise: a whole training day, its prices divided by its own mean day-ahead price and scaled by
  ``y_d``); the 24 hours are one LP (``add_day``: the hour model of ``planner.policy.model.add_hour``
  chained over the day, contract rows ``sum grid - intraday + resale = da_h``): batteries, generator
  (continuous), links, intraday top-up at p1, resale at p2, energy charge f2 on the net import,
  unserved load at the value of lost load. The overrun of the month's peak over the threshold
  ``o = max(0, peak - threshold)`` is a state; the operation node pays ``f3 * (o' - o) >= 0`` (the
  overrun charged in the day where it is incurred, never at the end). The last day also pays the
  end-of-month SoC shortfall penalty.

The demand charge f1 x subscribed power is fixed and reported apart. The production schedule (line
loads) is the one of the one-day policy (``FixedSchedule``: the two-stage plan or the rule), the same
every day; binary decisions stay outside the LPs.

Valid cut bounds: the update is affine in ``y`` for each noise value and costs are linear in ``y``, so the
cost-to-go is concave in ``y`` (``sddp.objective_state``). The Lipschitz constant of node d in ``y`` is
``E_day * sum_k phi^k`` over the days still to come, ``E_day = period * sum_h cap_h * c_max / 1000``
with ``cap`` the largest energy any day LP can trade per hour (the sum of the grid connections) and
``c_max`` the largest price factor of the training days (a bound on |dV/dy| by the envelope theorem).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from planner.case import Case
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.linear_program import LinearProgram
from planner.policy.model import PolicyInputs, add_hour, apply_values, policy_inputs
from planner.policy.month_price import PriceLevelProcess
from planner.scenario_inputs import case_scenarios
from sddp import LinearPolicyGraph, Variable, quicksum

LEVEL_NAME = "price_level_eur_per_mwh"
#: tie-break per kW of overrun state (as the one-day model): keeps o' at max(o, peak' - threshold)
OVERRUN_TIE_BREAK_EUR_PER_KW = 1e-7
#: the recorded day-level quantities of an operation node (zero in purchase nodes)
DAY_RECORDS = ("import_kwh", "unserved_kwh", "fuel_eur", "overrun_charge_eur", "shortfall_kwh")


class MonthLP(LinearProgram):
    """:class:`~planner.policy.linear_program.LinearProgram` with names and :meth:`set_coefficient`
    (before the first solve), so that :func:`add_day` builds on it as on an ``sddp.Subproblem``."""

    def __init__(self):
        super().__init__()
        self.names = {}

    def add_variable(self, lower=0.0, upper=float("inf"), cost=0.0, name=None):
        v = super().add_variable(lower, upper, cost, name)
        if name is not None:
            self.names[name] = v
        return v

    def set_coefficient(self, con, var, value):
        if self.highs is not None:
            raise RuntimeError("set_coefficient only before the first solve")
        self.rows[con.row][var.col] = float(value)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PurchaseNoise:
    """What a purchase node observes: the level innovation ``z`` (training), or the day's ``level`` and
    its day-ahead prices ``p0_eur_per_mwh`` (T,) on an observed path."""

    z: float = 1.0
    level: float | None = None
    p0_eur_per_mwh: np.ndarray | None = None


@dataclass(frozen=True)
class OperationNoise:
    """What an operation node observes: the day's values (T, V) in the model's variable order; with
    ``scaled`` the price columns are factors of the day's level (training days), else EUR/MWh."""

    values: np.ndarray
    scaled: bool = True


@dataclass
class MonthInputs:
    """The month model's data: the one-day inputs, the number of days, the level process, the
    training days (prices divided by their day's mean day-ahead price) and the mean day-ahead shape."""

    day: PolicyInputs              # one-day inputs; day_ahead_kw = the cap on each hour's purchase
    schedule: FixedSchedule        # the replayed production schedule and expected-load purchases
    n_days: int
    level: PriceLevelProcess
    training_days: np.ndarray      # (K, T, V), price columns as factors of the day's level
    shape: np.ndarray              # (T,) mean of the training days' day-ahead factors
    initial_level: float           # level of the day before the month (EUR/MWh)
    day_ahead_cap_kw: float
    lipschitz_scale: float = 1.0
    purchase_blocks: int = 4
    purchase_band: float | None = 0.3

    def block_of(self, t: int) -> int:
        return t * self.purchase_blocks // self.n_periods

    def delta_bounds(self) -> list:
        """(lower, upper) of each block's purchase adjustment (kW): da_h >= 0 and within the band."""
        base = self.schedule.day_ahead_kw
        out = []
        for b in range(self.purchase_blocks):
            hours = [t for t in range(self.n_periods) if self.block_of(t) == b]
            lo = -float(min(base[hours]))
            hi = self.day_ahead_cap_kw - float(max(base[hours]))
            if self.purchase_band is not None:
                width = self.purchase_band * float(np.mean(base[hours]))
                lo, hi = max(lo, -width), min(hi, width)
            out.append((lo, hi))
        return out

    @property
    def n_periods(self) -> int:
        return self.day.n_periods

    @property
    def expected_day(self) -> np.ndarray:
        """Mean of the training days (T, V) (price columns as factors)."""
        return self.training_days.mean(axis=0)

    def demand_charge_eur(self) -> float:
        """f1 x subscribed power for the month (prorated from the billing period)."""
        c = self.day.case.contract
        return c.demand_charge_eur_per_kw_month * c.subscribed_power_kw * self.n_days / c.billing_period_days

    def day_energy_bound_mwh(self) -> float:
        """E_day of the module docstring: a bound on |d(day cost)/d(level)| (MWh)."""
        factors = np.abs(self.training_days[:, :, :3]).max()
        cap = float(np.sum(self.day.connection_kw))
        return self.day.period_hours * self.n_periods * cap * max(factors, float(np.max(self.shape))) / 1000.0

    def lipschitz(self, day: int) -> float:
        """Bound on |dV/dy| of the cost-to-go after a node of day ``day`` (1-based)."""
        phi = self.level.persistence
        remaining = self.n_days - day + 1
        return self.lipschitz_scale * self.day_energy_bound_mwh() * float(np.sum(phi ** np.arange(remaining)))


def scale_days(values: np.ndarray, floor: float = 5.0):
    """(levels (K,), values with the price columns divided by the day's level): the level of a day is
    its mean day-ahead price, floored at ``floor`` EUR/MWh."""
    values = np.asarray(values, dtype=float)
    levels = np.maximum(values[:, :, 0].mean(axis=1), floor)
    out = values.copy()
    out[:, :, :3] /= levels[:, None, None]
    return levels, out


def month_inputs(case: Case, level: PriceLevelProcess, n_days: int = 30, training_days: int = 20,
                 schedule: FixedSchedule | None = None, random_state: int = 0, initial_level: float | None = None,
                 lipschitz_scale: float = 1.0, purchase_blocks: int = 4, purchase_band: float | None = 0.3) -> MonthInputs:
    """Month inputs of a case: ``training_days`` generated days (``case_scenarios`` in the unconditional
    mode: p0 uncertain too) are the operation nodes' noise; the schedule is the rule's by default."""
    for name, value, low in (("n_days", n_days, 1), ("training_days", training_days, 1),
                             ("purchase_blocks", purchase_blocks, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} = {value!r}: must be a whole number >= {low}")
    if case.horizon_hours != 24:
        raise ValueError(f"horizon_hours = {case.horizon_hours}: the month policy needs a one-day case "
                         "(horizon_hours = 24); the month is made of such days")
    if case.n_periods % purchase_blocks:
        raise ValueError(f"purchase_blocks = {purchase_blocks}: must divide the day's {case.n_periods} periods")
    if purchase_band is not None and not purchase_band >= 0:
        raise ValueError(f"purchase_band = {purchase_band!r}: a fraction >= 0 of the expected net load, or None")
    scenarios = case_scenarios(case, training_days, random_state, mode="unconditional")
    if schedule is None:
        schedule = FixedSchedule.from_rule(case, scenarios)
    inp = policy_inputs(case, schedule, scenarios)
    cap = float(np.sum(inp.connection_kw))
    inp = dataclasses.replace(inp, day_ahead_kw=np.full(inp.n_periods, cap), lp_cache={})
    values = scenarios.select_variables(list(inp.variables)).values
    _, scaled = scale_days(values)
    return MonthInputs(inp, schedule, int(n_days), level, scaled, scaled[:, :, 0].mean(axis=0),
                       level.stationary_level_eur_per_mwh if initial_level is None else float(initial_level),
                       cap, float(lipschitz_scale), int(purchase_blocks), purchase_band)


# ---------------------------------------------------------------------------------------------
@dataclass
class DayHandles:
    hours: list
    soc_out: dict
    peak_out: object
    overrun_out: object
    records: dict           # name in DAY_RECORDS -> variable


def add_day(m, inp: PolicyInputs, soc_in: dict, peak_in, overrun_in, day_ahead, soc_out=None, peak_out=None,
            overrun_out=None, terminal: bool = False, battery_fixed=None, import_cap_kw=None,
            proportional_shedding: bool = False) -> DayHandles:
    """The day's T periods as one LP on a builder ``m`` (an ``sddp.Subproblem`` or a :class:`MonthLP`).

    ``day_ahead``: per period the purchase (kW) on the right of the contract row: a number, a variable,
    or (number, variable) for number + variable; ``overrun_in`` a
    variable (fixed by the caller); ``terminal`` adds the end-of-horizon SoC penalty;
    ``battery_fixed`` (T, N) fixes the battery power (discharge positive). The overrun increment
    ``delta = o' - o >= 0`` with ``o' >= peak' - threshold`` costs f3 per kW."""
    T = inp.n_periods
    h = inp.period_hours
    hours = []
    soc, peak = dict(soc_in), peak_in
    for t in range(T):
        last = t == T - 1
        hh = add_hour(m, inp, t, soc, peak, soc_out if last else None, peak_out if last else None,
                      terminal=terminal and last, overrun=False,
                      battery_fixed=None if battery_fixed is None else battery_fixed[t],
                      import_cap_kw=import_cap_kw, proportional_shedding=proportional_shedding)
        base, var = day_ahead[t] if isinstance(day_ahead[t], tuple) else (
            (0.0, day_ahead[t]) if isinstance(day_ahead[t], Variable) else (day_ahead[t], None))
        if var is not None:
            m.set_coefficient(hh.contract, var, -1.0)
        m.set_rhs(hh.contract, float(base))
        hours.append(hh)
        soc, peak = hh.soc_out, hh.peak_out
    f3 = inp.overrun_charge_eur_per_kw
    if overrun_out is None:
        overrun_out = m.add_variable(0.0, float("inf"), 0.0, "overrun_out_kw")
    delta = m.add_variable(0.0, float("inf"), f3, "overrun_increase_kw")
    m.set_objective_coefficient(overrun_out, OVERRUN_TIE_BREAK_EUR_PER_KW)
    m.add_constraint(overrun_out - overrun_in - delta, "==", 0.0)
    m.add_constraint(overrun_out - peak, ">=", -inp.overrun_threshold_kw)
    records = {name: m.add_variable(None, None, 0.0, f"day:{name}") for name in DAY_RECORDS}
    m.add_constraint(records["import_kwh"] - quicksum(h * m.names[f"import_kw:{t}"] for t in range(T)), "==", 0.0)
    m.add_constraint(records["unserved_kwh"] - quicksum(h * v for hh in hours for v in hh.shed), "==", 0.0)
    fuel = 0.0
    for t, hh in enumerate(hours):
        for i, g in hh.generator.items():
            fuel = fuel + inp.generator[i][1] * h / 1000.0 * g
    m.add_constraint(records["fuel_eur"] - fuel, "==", 0.0)
    m.add_constraint(records["overrun_charge_eur"] - f3 * delta, "==", 0.0)
    short = quicksum(hours[-1].shortfall.values()) if hours[-1].shortfall else 0.0
    m.add_constraint(records["shortfall_kwh"] - short, "==", 0.0)
    return DayHandles(hours, soc, peak, overrun_out, records)


def apply_day(m, inp: PolicyInputs, handles: DayHandles, values) -> None:
    """Set the day's observed values (T, V), prices in EUR/MWh."""
    for t, hh in enumerate(handles.hours):
        apply_values(m, inp, t, hh, values[t])


def absolute_values(noise: OperationNoise, level: float) -> np.ndarray:
    """The day's values (T, V) with prices in EUR/MWh."""
    if not noise.scaled:
        return noise.values
    out = np.array(noise.values, dtype=float)
    out[:, :3] *= level
    return out


# ---------------------------------------------------------------------------------------------
@dataclass
class MonthModel:
    """The month policy graph with its inputs and noise supports."""

    graph: object
    inputs: MonthInputs
    state_names: tuple
    purchase_support: list
    operation_support: list

    def recorded(self) -> list:
        """The variables recorded by :func:`planner.policy.month_baselines.simulate_sddp`."""
        return list(self.state_names) + [f"day:{n}" for n in DAY_RECORDS] + ["objective_state", "stage_objective"]


def state_names(inp: MonthInputs) -> tuple:
    day = inp.day
    return tuple([f"soc:{day.site_names[i]}" for i in day.battery_sites] + ["peak_kw", "overrun_kw"]
                 + [f"da:{b}" for b in range(inp.purchase_blocks)])


def build_month_model(inp: MonthInputs, purchase_points: int = 5, operation_days: int | None = None,
                      lower_bound: float | None = None) -> MonthModel:
    """The linear policy graph of the month (module docstring). ``purchase_points``: equally likely
    values of the level innovation z; ``operation_days``: the first training days used as the
    operation noise (default all)."""
    day = inp.day
    T, D = inp.n_periods, inp.n_days
    z_values, z_probs = inp.level.z_support(purchase_points)
    purchase_support = [PurchaseNoise(float(z)) for z in z_values]
    k = len(inp.training_days) if operation_days is None else int(operation_days)
    if not 1 <= k <= len(inp.training_days):
        raise ValueError(f"operation_days = {operation_days!r}: must be within 1..{len(inp.training_days)} "
                         "(the training days of the month inputs)")
    operation_support = [OperationNoise(v, True) for v in inp.training_days[:k]]
    names = state_names(inp)
    peak_hi = float(np.sum(day.connection_kw))
    lo_level = float(inp.level.level_quantiles[0])
    hi_level = float(inp.level.level_quantiles[-1])
    if lower_bound is None:
        lower_bound = month_lower_bound(inp, operation_support, (lo_level, hi_level))
    level = inp.level
    bounds = inp.delta_bounds()
    blocks = [[t for t in range(T) if inp.block_of(t) == b] for b in range(inp.purchase_blocks)]

    def purchase_update(previous, omega):
        return omega.level if omega.level is not None else level.next_level(previous, omega.z)

    def operation_update(previous, omega):
        return previous

    def build(sp, stage):
        d = (stage + 1) // 2
        purchase = stage % 2 == 1
        soc_in, soc_out = {}, {}
        for i in day.battery_sites:
            b = day.battery[i]
            st = sp.add_state(f"soc:{day.site_names[i]}", b.soc_min_kwh, b.soc_max_kwh, b.initial_soc_kwh)
            soc_in[i], soc_out[i] = st.incoming, st.outgoing
        pk = sp.add_state("peak_kw", 0.0, peak_hi, 0.0)
        ov = sp.add_state("overrun_kw", 0.0, peak_hi, 0.0)
        da = [sp.add_state(f"da:{b}", lo if purchase else 0.0, hi if purchase else 0.0, 0.0)
              for b, (lo, hi) in enumerate(bounds)]
        sp.add_objective_state(purchase_update if purchase else operation_update, inp.initial_level,
                               inp.lipschitz(d), lo_level, hi_level, [LEVEL_NAME])
        if purchase:
            for i in day.battery_sites:
                sp.add_constraint(soc_out[i] - soc_in[i], "==", 0.0)
            sp.add_constraint(pk.outgoing - pk.incoming, "==", 0.0)
            sp.add_constraint(ov.outgoing - ov.incoming, "==", 0.0)
            zero = sp.add_variable(0.0, 0.0, 0.0, "unused")
            base = sp.add_variable(1.0, 1.0, 0.0, "expected_purchase")  # its cost: E @ p0
            for n in DAY_RECORDS:
                sp.names[f"day:{n}"] = zero

            def set_prices(sp_, omega):
                p0 = omega.p0_eur_per_mwh if omega.p0_eur_per_mwh is not None else sp_.objective_state * inp.shape
                p0 = np.asarray(p0, dtype=float) * day.period_hours / 1000.0
                sp_.set_objective_coefficient(base, float(p0 @ inp.schedule.day_ahead_kw))
                for b in range(inp.purchase_blocks):
                    sp_.set_objective_coefficient(da[b].outgoing, float(sum(p0[t] for t in blocks[b])))

            sp.parameterize(purchase_support, z_probs, set_prices)
        else:
            purchases = [(float(inp.schedule.day_ahead_kw[t]), da[inp.block_of(t)].incoming) for t in range(T)]
            handles = add_day(sp, day, soc_in, pk.incoming, ov.incoming, purchases, soc_out,
                              pk.outgoing, ov.outgoing, terminal=(d == D))
            sp.parameterize(operation_support, None,
                            lambda sp_, omega: apply_day(sp_, day, handles, absolute_values(omega, sp_.objective_state)))

    graph = LinearPolicyGraph(build, 2 * D, sense="min", lower_bound=lower_bound)
    return MonthModel(graph, inp, names, purchase_support, operation_support)


def month_lower_bound(inp: MonthInputs, operation_support, levels) -> float:
    """A valid lower bound on every cost-to-go: D times the least cost of a day (purchases free, incoming
    and outgoing SoC free, no overrun, which costs >= 0) over the training days and the level range's
    ends (a day's least cost is concave in the level, so its least value is at an end)."""
    day = inp.day
    lp = MonthLP()
    soc_in = {i: lp.add_variable(day.battery[i].soc_min_kwh, day.battery[i].soc_max_kwh) for i in day.battery_sites}
    peak_in = lp.add_variable(0.0, 0.0)
    ov_in = lp.add_variable(0.0, float(np.sum(day.connection_kw)))
    da = [lp.add_variable(0.0, inp.day_ahead_cap_kw) for _ in range(inp.n_periods)]
    handles = add_day(lp, day, soc_in, peak_in, ov_in, da)
    least = np.inf
    for level in levels:
        for t in range(inp.n_periods):
            lp.set_objective_coefficient(da[t], level * inp.shape[t] * day.period_hours / 1000.0)
        for noise in operation_support:
            apply_day(lp, day, handles, absolute_values(noise, level))
            least = min(least, lp.solve()[0])
    return float(min(0.0, inp.n_days * least)) - 1.0
