"""Month paths (generated, or real day-ahead prices of a year) and the month policies simulated on them
with common random numbers: the SDDP month policy, the daily expected-value look-ahead, the fixed
schedule, the seed rule and perfect foresight; bills broken down by component.

* SDDP: the trained graph along the path (``sddp.simulate_historical``): the purchase node sees the
  day's level and day-ahead prices, the operation node the day's values.
* daily look-ahead (expected values): each day, the purchases are the optimum of the day on the
  expected day (the training days' mean, scaled by the day's level) from the current SoC, peak and
  overrun, with the end-of-day SoC target of the one-day model; then the day is operated on its
  observed values with the same target. It knows the month's peak so far, not the month ahead.
* fixed schedule: the schedule's day-ahead purchases (expected net load) and the battery power of
  the open-loop optimum on the expected day at the initial level, replayed every day (clipped to the
  SoC limits); the rest of the day is the least-cost recourse.
* seed rule: the same purchases, battery idle; whenever the contract's import would exceed the
  subscribed power every site's load is shed in the same proportion.
* perfect foresight: the whole month in hindsight as one LP (purchases free at p0, every value known).

The operation LP of a day is the same everywhere (``planner.policy.month_model.add_day``), so
every bill is the objective of the same day LPs and perfect foresight, a relaxation of every policy,
is a lower bound path by path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.case import Case
from planner.policy.month_model import (
    DAY_RECORDS,
    MonthInputs,
    MonthLP,
    MonthModel,
    OperationNoise,
    PurchaseNoise,
    add_day,
    apply_day,
    scale_days,
)
from planner.policy.real_days import PRICE_FILE, intraday_prices
from planner.policy.recourse import clip_battery
from planner.scenario_inputs import case_scenarios
from sddp import simulate_historical

COMPONENTS = ("day_ahead_eur", "intraday_resale_eur", "fuel_eur", "energy_charge_eur", "overrun_eur",
              "unserved_eur", "soc_shortfall_eur", "demand_charge_eur")
LOOKAHEAD = "daily look-ahead (expected values)"
#: the look-ahead with the SDDP model's purchase blocks and band (same purchase options as SDDP)
LOOKAHEAD_BLOCKS = "daily look-ahead, SDDP's purchase blocks"
MONTH_POLICIES = ("SDDP month", LOOKAHEAD, LOOKAHEAD_BLOCKS, "fixed schedule", "seed rule", "perfect foresight")


@dataclass
class MonthPaths:
    """Observed months: values (S, D, T, V) in EUR/MWh and per-unit, the daily levels (S, D) and the
    level of the day before each month (S,)."""

    values: np.ndarray
    levels: np.ndarray
    initial_level: np.ndarray
    label: str
    names: tuple = ()

    @property
    def n_paths(self) -> int:
        return self.values.shape[0]


def generated_month_paths(inp: MonthInputs, case: Case, n_paths: int, random_state: int = 1,
                          pool_days: int = 200) -> MonthPaths:
    """Months drawn out of sample: levels by the fitted AR(1) from ``inp.initial_level``, each day a
    fresh generated day (``case_scenarios``, another seed than the training days) rescaled to its level."""
    rng = np.random.default_rng(random_state)
    pool = case_scenarios(case, pool_days, 7919 + random_state, mode="unconditional")
    _, scaled = scale_days(pool.select_variables(list(inp.day.variables)).values)
    levels = inp.level.sample_levels(n_paths, inp.n_days, inp.initial_level, rng)
    pick = rng.integers(0, len(scaled), size=(n_paths, inp.n_days))
    values = scaled[pick].copy()
    values[..., :3] *= levels[:, :, None, None]
    return MonthPaths(values, levels, np.full(n_paths, inp.initial_level), "generated",
                      tuple(f"generated {s}" for s in range(n_paths)))


def real_month_paths(inp: MonthInputs, case: Case, year: int, random_state: int = 2, price_file=PRICE_FILE,
                     pool_days: int = 200) -> MonthPaths | None:
    """The months of ``year`` (their first D days) with the real hourly day-ahead prices; intraday and
    resale prices drawn around them with the case's terms; PV and wind from generated days. None when
    the price file is absent or the case is not hourly."""
    path = Path(price_file)
    if not path.exists() or inp.day.period_hours != 1.0 or inp.n_periods != 24:
        return None
    frame = pd.read_csv(path, usecols=[0, 1])
    frame.columns = ["time", "price"]
    frame["time"] = pd.to_datetime(frame["time"])
    daily = frame.groupby(frame["time"].dt.normalize())["price"].apply(lambda s: s.to_numpy(dtype=float))
    D, T = inp.n_days, inp.n_periods
    months, names, before = [], [], []
    for month in range(1, 13):
        start = pd.Timestamp(year=year, month=month, day=1)
        days = [start + pd.Timedelta(days=k) for k in range(D)]
        if any(d not in daily.index or len(daily[d]) != T for d in days):
            continue
        months.append(np.stack([daily[d] for d in days]))
        prev = start - pd.Timedelta(days=1)
        before.append(float(np.mean(daily[prev])) if prev in daily.index else float(np.mean(daily[days[0]])))
        names.append(f"{year}-{month:02d}")
    if not months:
        return None
    p0 = np.stack(months)                                   # (S, D, T)
    S = len(p0)
    p1, p2 = intraday_prices(case, p0.reshape(S * D, T), random_state=year)
    pool = case_scenarios(case, pool_days, 104729 + random_state, mode="unconditional")
    weather = pool.select_variables(list(inp.day.variables)).values
    rng = np.random.default_rng(random_state)
    values = weather[rng.integers(0, len(weather), size=(S, D))].copy()
    values[..., 0], values[..., 1], values[..., 2] = p0, p1.reshape(S, D, T), p2.reshape(S, D, T)
    levels = np.maximum(p0.mean(axis=2), 5.0)
    return MonthPaths(values, levels, np.maximum(np.array(before), 5.0), f"real {year}", tuple(names))


# ---------------------------------------------------------------------------------------------
@dataclass
class MonthOutcome:
    """One policy on S months: bill components (S, C) in EUR (``COMPONENTS``), the running peak at the
    end of each day (S, D), the SoC of every battery at the end of each day (S, D + 1, B) and the overrun
    charge paid by each day (S, D)."""

    policy: str
    bill: np.ndarray
    peak_kw: np.ndarray
    soc_kwh: np.ndarray
    overrun_by_day_eur: np.ndarray

    @property
    def total_eur(self) -> np.ndarray:
        return self.bill.sum(axis=1)

    def breakdown(self) -> dict:
        return dict(zip(COMPONENTS, self.bill.mean(axis=0).tolist()))


def stage_bill(inp: MonthInputs, objective: float, day_ahead: float, records: dict, last_day: bool,
               penalty_applied: bool) -> np.ndarray:
    """Bill components of one day from its objective and recorded quantities (the intraday-resale part
    is what the other components leave of the objective; it also holds the 1e-7 tie-breaks)."""
    day = inp.day
    energy = day.energy_charge_eur_per_kwh * records["import_kwh"]
    unserved = day.value_of_lost_load_eur_per_mwh * records["unserved_kwh"] / 1000.0
    shortfall = day.terminal_penalty_eur_per_mwh * records["shortfall_kwh"] / 1000.0 if penalty_applied else 0.0
    rest = objective - energy - unserved - shortfall - records["fuel_eur"] - records["overrun_charge_eur"]
    return np.array([day_ahead, rest, records["fuel_eur"], energy, records["overrun_charge_eur"], unserved,
                     shortfall if last_day else 0.0, 0.0])


def simulate_sddp(model: MonthModel, paths: MonthPaths) -> MonthOutcome:
    """The trained month policy along the observed months."""
    inp = model.inputs
    S, D = paths.values.shape[:2]
    hist = []
    for s in range(S):
        steps = []
        for d in range(D):
            steps.append((2 * d + 1, PurchaseNoise(1.0, float(paths.levels[s, d]), paths.values[s, d, :, 0])))
            steps.append((2 * d + 2, OperationNoise(paths.values[s, d], False)))
        hist.append(steps)
    res = simulate_historical(model.graph, hist, variables=model.recorded())
    wide = res.data.pivot_table(index=["replication", "stage"], columns="variable", values="value", aggfunc="first")
    bill = np.zeros((S, len(COMPONENTS)))
    peak = np.zeros((S, D))
    charged = np.zeros((S, D))
    bsites = inp.day.battery_sites
    soc = np.zeros((S, D + 1, len(bsites)))
    soc[:, 0] = inp.day.initial_soc_kwh()
    for s in range(S):
        for d in range(D):
            buy = wide.loc[(s, 2 * d + 1)]
            op = wide.loc[(s, 2 * d + 2)]
            records = {n: float(op[f"day:{n}"]) for n in DAY_RECORDS}
            bill[s] += stage_bill(inp, float(op["stage_objective"]), 0.0, records, d == D - 1, d == D - 1)
            bill[s, 0] += float(buy["stage_objective"])
            peak[s, d] = float(op["peak_kw"])
            charged[s, d] = records["overrun_charge_eur"]
            soc[s, d + 1] = [float(op[f"soc:{inp.day.site_names[i]}"]) for i in bsites]
    bill[:, -1] = inp.demand_charge_eur()
    return MonthOutcome("SDDP month", bill, peak, soc, charged)


class DayLP:
    """The day LP of the baselines, built once per option set and changed in place: incoming states fixed,
    purchases fixed or free at p0, battery power free or fixed, SoC target penalty on or off."""

    def __init__(self, inp: MonthInputs, import_cap_kw=None, proportional_shedding=False, blocks=False):
        day = inp.day
        self.inp = inp
        lp = MonthLP()
        self.soc_in = {i: lp.add_variable(None, None) for i in day.battery_sites}
        self.peak_in = lp.add_variable(None, None)
        self.ov_in = lp.add_variable(None, None)
        self.da = [lp.add_variable(0.0, inp.day_ahead_cap_kw) for _ in range(inp.n_periods)]
        if blocks:  # the SDDP model's purchase parametrisation: da_h = E_h + delta_b(h), delta_b within its bounds
            delta = [lp.add_variable(lo, hi) for lo, hi in inp.delta_bounds()]
            for t, v in enumerate(self.da):
                lp.add_constraint(v - delta[inp.block_of(t)], "==", float(inp.schedule.day_ahead_kw[t]))
        self.handles = add_day(lp, day, self.soc_in, self.peak_in, self.ov_in, self.da, terminal=True,
                               import_cap_kw=import_cap_kw, proportional_shedding=proportional_shedding)
        self.lp = lp

    def solve(self, soc, peak, overrun, values, p0, day_ahead=None, battery=None, penalty=True):
        """Solve the day; returns (objective, day-ahead cost, records, purchases (T,), new soc, peak,
        overrun, battery power (T, N))."""
        inp, lp, hd = self.inp, self.lp, self.handles
        day = inp.day
        h = day.period_hours
        for j, i in enumerate(day.battery_sites):
            lp.set_bounds(self.soc_in[i], float(soc[j]), float(soc[j]))
        lp.set_bounds(self.peak_in, float(peak), float(peak))
        lp.set_bounds(self.ov_in, float(overrun), float(overrun))
        for t, v in enumerate(self.da):
            lp.set_objective_coefficient(v, float(p0[t]) * h / 1000.0)
            if day_ahead is None:
                lp.set_bounds(v, 0.0, inp.day_ahead_cap_kw)
            else:
                lp.set_bounds(v, float(day_ahead[t]), float(day_ahead[t]))
        for t, hh in enumerate(hd.hours):
            for i in day.battery_sites:
                b = day.battery[i]
                if battery is None:
                    lp.set_bounds(hh.charge[i], 0.0, b.power_kw)
                    lp.set_bounds(hh.discharge[i], 0.0, b.power_kw)
                else:
                    net = float(battery[t, i])
                    lp.set_bounds(hh.charge[i], max(-net, 0.0), max(-net, 0.0))
                    lp.set_bounds(hh.discharge[i], max(net, 0.0), max(net, 0.0))
        for v in hd.hours[-1].shortfall.values():
            lp.set_objective_coefficient(v, day.terminal_penalty_eur_per_mwh / 1000.0 if penalty else 0.0)
        apply_day(lp, day, hd, values)
        obj, x = lp.solve()
        purchases = np.array([x[v.col] for v in self.da])
        records = {n: float(x[v.col]) for n, v in hd.records.items()}
        new_soc = np.array([x[hd.soc_out[i].col] for i in day.battery_sites])
        net = np.zeros((inp.n_periods, day.n_sites))
        for t, hh in enumerate(hd.hours):
            for i in day.battery_sites:
                net[t, i] = x[hh.discharge[i].col] - x[hh.charge[i].col]
        day_ahead_cost = float(purchases @ np.asarray(p0, dtype=float)) * h / 1000.0
        return (obj - day_ahead_cost, day_ahead_cost, records, purchases, new_soc, float(x[hd.peak_out.col]),
                float(x[hd.overrun_out.col]), net)


def run_daily(inp: MonthInputs, paths: MonthPaths, name: str, decide, lp: DayLP) -> MonthOutcome:
    """Run ``decide(lp, soc, peak, overrun, s, d) -> (day_ahead (T,), battery (T, N) or None, penalty)`` day by
    day; the day is then operated on its observed values."""
    S, D = paths.values.shape[:2]
    day = inp.day
    bill = np.zeros((S, len(COMPONENTS)))
    peaks = np.zeros((S, D))
    charged = np.zeros((S, D))
    socs = np.zeros((S, D + 1, len(day.battery_sites)))
    for s in range(S):
        soc, peak, overrun = day.initial_soc_kwh(), 0.0, 0.0
        socs[s, 0] = soc
        for d in range(D):
            day_ahead, battery, penalty = decide(lp, soc, peak, overrun, s, d)
            last = d == D - 1
            obj, da_cost, records, _, soc, peak, overrun, _ = lp.solve(
                soc, peak, overrun, paths.values[s, d], paths.values[s, d, :, 0], day_ahead, battery,
                penalty or last)
            bill[s] += stage_bill(inp, obj, da_cost, records, last, penalty or last)
            peaks[s, d] = peak
            charged[s, d] = records["overrun_charge_eur"]
            socs[s, d + 1] = soc
    bill[:, -1] = inp.demand_charge_eur()
    return MonthOutcome(name, bill, peaks, socs, charged)


def expected_values(inp: MonthInputs, level: float) -> np.ndarray:
    """The expected day (T, V) at a price level (the training days' mean, prices scaled)."""
    out = inp.expected_day.copy()
    out[:, :3] *= level
    return out


def simulate_lookahead(inp: MonthInputs, paths: MonthPaths, blocks: bool = False) -> MonthOutcome:
    """Daily expected-value look-ahead (module docstring); ``blocks``: its purchases restricted to the
    SDDP model's parametrisation (``E_h + delta_b``, the same blocks and band), the fair comparison of
    the two decision rules under the same purchase options."""
    lp = DayLP(inp, blocks=blocks)

    def decide(lp_, soc, peak, overrun, s, d):
        p0 = paths.values[s, d, :, 0]
        plan = lp_.solve(soc, peak, overrun, expected_values(inp, paths.levels[s, d]), p0, penalty=True)
        return plan[3], None, True

    return run_daily(inp, paths, LOOKAHEAD_BLOCKS if blocks else LOOKAHEAD, decide, lp)


def simulate_lookahead_blocks(inp: MonthInputs, paths: MonthPaths) -> MonthOutcome:
    return simulate_lookahead(inp, paths, blocks=True)


def clipped_battery(inp: MonthInputs, soc0, battery_plan) -> np.ndarray:
    """The planned battery power (T, N) clipped hour by hour to the power and SoC limits from ``soc0``."""
    day = inp.day
    soc = np.array(soc0, dtype=float)
    out = np.zeros_like(battery_plan)
    for t in range(inp.n_periods):
        out[t] = clip_battery(day, soc, battery_plan[t])
        for j, i in enumerate(day.battery_sites):
            b = day.battery[i]
            soc[j] += b.soc_change_kwh(max(-out[t, i], 0.0), max(out[t, i], 0.0), day.period_hours)
    return out


def fixed_battery_plan(inp: MonthInputs) -> np.ndarray:
    """Open-loop battery power (T, N) optimal on the expected day at the initial level, with the
    schedule's purchases and the end-of-day SoC target."""
    lp = DayLP(inp)
    level = inp.initial_level
    return lp.solve(inp.day.initial_soc_kwh(), 0.0, 0.0, expected_values(inp, level), level * inp.shape,
                    inp.schedule.day_ahead_kw, None, True)[7]


def simulate_fixed_schedule(inp: MonthInputs, paths: MonthPaths) -> MonthOutcome:
    plan = fixed_battery_plan(inp)

    def decide(lp_, soc, peak, overrun, s, d):
        return inp.schedule.day_ahead_kw, clipped_battery(inp, soc, plan), False

    return run_daily(inp, paths, "fixed schedule", decide, DayLP(inp))


def simulate_seed_rule(inp: MonthInputs, paths: MonthPaths) -> MonthOutcome:
    idle = np.zeros((inp.n_periods, inp.day.n_sites))
    lp = DayLP(inp, import_cap_kw=inp.day.case.contract.subscribed_power_kw, proportional_shedding=True)

    def decide(lp_, soc, peak, overrun, s, d):
        return inp.schedule.day_ahead_kw, idle, False

    return run_daily(inp, paths, "seed rule", decide, lp)


def simulate_perfect_foresight(inp: MonthInputs, paths: MonthPaths) -> MonthOutcome:
    """The whole month in hindsight as one LP per path."""
    day = inp.day
    D, T = inp.n_days, inp.n_periods
    h = day.period_hours
    lp = MonthLP()
    soc = {i: lp.add_variable(day.battery[i].initial_soc_kwh, day.battery[i].initial_soc_kwh)
           for i in day.battery_sites}
    peak = lp.add_variable(0.0, 0.0)
    overrun = lp.add_variable(0.0, 0.0)
    days = []
    for d in range(D):
        da = [lp.add_variable(0.0, inp.day_ahead_cap_kw) for _ in range(T)]
        hd = add_day(lp, day, soc, peak, overrun, da, terminal=(d == D - 1))
        days.append((da, hd))
        soc, peak, overrun = hd.soc_out, hd.peak_out, hd.overrun_out
    S = paths.n_paths
    bill = np.zeros((S, len(COMPONENTS)))
    peaks = np.zeros((S, D))
    charged = np.zeros((S, D))
    socs = np.zeros((S, D + 1, len(day.battery_sites)))
    socs[:, 0] = day.initial_soc_kwh()
    for s in range(S):
        for d, (da, hd) in enumerate(days):
            for t, v in enumerate(da):
                lp.set_objective_coefficient(v, float(paths.values[s, d, t, 0]) * h / 1000.0)
            apply_day(lp, day, hd, paths.values[s, d])
        obj, x = lp.solve()
        total_da = 0.0
        for d, (da, hd) in enumerate(days):
            da_cost = float(np.array([x[v.col] for v in da]) @ paths.values[s, d, :, 0]) * h / 1000.0
            total_da += da_cost
            records = {n: float(x[v.col]) for n, v in hd.records.items()}
            peaks[s, d] = x[hd.peak_out.col]
            charged[s, d] = records["overrun_charge_eur"]
            socs[s, d + 1] = [x[hd.soc_out[i].col] for i in day.battery_sites]
            last = d == D - 1
            bill[s] += stage_bill(inp, 0.0, da_cost, records, last, last)
        # the days' objectives are not separate in one LP: the intraday-resale part is what the explicit
        # components leave of the whole month's objective
        bill[s, 1] = obj - (bill[s, 0] + bill[s, 2:-1].sum())
    bill[:, -1] = inp.demand_charge_eur()
    return MonthOutcome("perfect foresight", bill, peaks, socs, charged)


SIMULATORS = {LOOKAHEAD: simulate_lookahead, LOOKAHEAD_BLOCKS: simulate_lookahead_blocks, "fixed schedule": simulate_fixed_schedule,
              "seed rule": simulate_seed_rule, "perfect foresight": simulate_perfect_foresight}


def simulate_month_policies(model: MonthModel, paths: MonthPaths, policies=MONTH_POLICIES, progress=None) -> dict:
    """{policy name: MonthOutcome} of every named policy on the same months."""
    out = {}
    for name in policies:
        if name == "SDDP month":
            out[name] = simulate_sddp(model, paths)
        elif name in SIMULATORS:
            out[name] = SIMULATORS[name](model.inputs, paths)
        else:
            raise ValueError(f"policies: unknown month policy {name!r}; known: {list(MONTH_POLICIES)}")
        if progress is not None:
            progress.message(f"{paths.label}: {name:<36s} mean bill {out[name].total_eur.mean():,.0f} EUR "
                             f"on {paths.n_paths} months")
    return out


def paired(a: np.ndarray, b: np.ndarray):
    """Mean of a - b and its 95 % half-width (paired on the same months)."""
    d = np.asarray(a) - np.asarray(b)
    hw = float(1.96 * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    return float(d.mean()), hw


def month_comparison(outcomes: dict, label: str) -> pd.DataFrame:
    """One row per policy: mean bill with its 95 % interval, breakdown, paired difference to the daily
    look-ahead with its 95 % interval, and the share of the perfect-foresight saving captured (over
    the fixed schedule and over the look-ahead)."""
    look = outcomes.get(LOOKAHEAD)
    look_blocks = outcomes.get(LOOKAHEAD_BLOCKS)
    fixed = outcomes.get("fixed schedule")
    pf = outcomes.get("perfect foresight")
    rows = []
    for name, o in outcomes.items():
        tot = o.total_eur
        n = len(tot)
        hw = float(1.96 * tot.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        row = {"paths": label, "policy": name, "n": n, "mean_bill_eur": float(tot.mean()),
               "ci_low_eur": float(tot.mean() - hw), "ci_high_eur": float(tot.mean() + hw),
               "mean_peak_kw": float(o.peak_kw[:, -1].mean())}
        row.update({k: v for k, v in o.breakdown().items()})
        row["vs_lookahead_eur"], row["vs_lookahead_ci_half_eur"] = paired(tot, look.total_eur) if look else (np.nan, np.nan)
        row["vs_lookahead_blocks_eur"], row["vs_lookahead_blocks_ci_half_eur"] = (
            paired(tot, look_blocks.total_eur) if look_blocks else (np.nan, np.nan))
        for ref_name, ref in (("fixed", fixed), ("lookahead", look)):
            share = np.nan
            if ref is not None and pf is not None:
                gain = float(ref.total_eur.mean() - pf.total_eur.mean())
                share = float(ref.total_eur.mean() - tot.mean()) / gain if abs(gain) > 1e-9 else np.nan
            row[f"pf_saving_share_vs_{ref_name}"] = share
        rows.append(row)
    return pd.DataFrame(rows)
