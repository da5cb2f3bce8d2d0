"""The hour-by-hour simulation shared by the policies: the least-cost recourse of one hour once the
battery power is decided, a policy's decisions run along observed paths, and the deterministic
window LP of the remaining hours (all with the hour model ``planner.policy.model.add_hour``).

Every non-SDDP policy decides the battery power of the hour; the rest of the hour (generator,
links, intraday purchase and resale, curtailment, unserved load) is then the least-cost recourse
of that hour on the observed values, with the overrun charge paid as the running peak grows.
The LPs are built once per :class:`~planner.policy.model.PolicyInputs` (``lp_cache``) and changed
in place, so each solve warm-starts from the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.policy.linear_program import LinearProgram
from planner.policy.model import PolicyInputs, add_hour, apply_values


@dataclass
class PathOutcome:
    """Results of one policy on S paths (operating cost excludes day-ahead energy and f1 * P)."""

    policy: str
    cost_eur: np.ndarray          # (S,)
    peak_kw: np.ndarray           # (S,)
    overrun_eur: np.ndarray       # (S,)
    unserved_kwh: np.ndarray      # (S,)
    shortfall_kwh: np.ndarray     # (S,) end-of-day SoC below target, summed over batteries
    soc_kwh: np.ndarray           # (S, T + 1, B)

    @property
    def mean(self) -> float:
        return float(np.mean(self.cost_eur))

    @property
    def half_width(self) -> float:
        n = len(self.cost_eur)
        return float(1.96 * np.std(self.cost_eur, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")


@dataclass(frozen=True)
class HourState:
    """What a policy knows of the system at the start of an hour."""

    soc_kwh: np.ndarray           # (B,) state of charge of each battery (battery sites in order)
    peak_kw: float                # running maximum of the contract's net import so far


@dataclass(frozen=True)
class Observation:
    """What a policy observes at the start of an hour: the path, the period and its values."""

    path: int                     # index of the path among those simulated
    period: int                   # t
    values: np.ndarray            # (V,) observed values of the period, in the model's variable order


def clip_battery(inp: PolicyInputs, soc: np.ndarray, net_kw) -> np.ndarray:
    """Battery power (N,) (discharge positive) clipped to the power and SoC limits."""
    h = inp.period_hours
    out = np.zeros(inp.n_sites)
    for j, i in enumerate(inp.battery_sites):
        b = inp.battery[i]
        x = float(net_kw[i])
        if x > 0:
            out[i] = min(x, b.power_kw,
                         max(soc[j] - b.soc_min_kwh, 0.0) * b.discharge_efficiency / h * (1 - 1e-9))
        elif x < 0:
            out[i] = -min(-x, b.power_kw,
                          max(b.soc_max_kwh - soc[j], 0.0) / (b.charge_efficiency * h) * (1 - 1e-9))
    return out


def hour_model(inp: PolicyInputs, t: int, import_cap_kw, proportional_shedding):
    """The one-period recourse LP of period t, built once and changed in place afterwards."""
    key = ("hour", t, import_cap_kw, proportional_shedding)
    if key not in inp.lp_cache:
        lp = LinearProgram()
        soc_in = {i: lp.add_variable(None, None) for i in inp.battery_sites}
        peak_in = lp.add_variable(None, None)
        hh = add_hour(lp, inp, t, soc_in, peak_in, terminal=(t == inp.n_periods - 1), overrun=True,
                      import_cap_kw=import_cap_kw, proportional_shedding=proportional_shedding)
        inp.lp_cache[key] = (lp, hh, soc_in, peak_in)
    return inp.lp_cache[key]


def evaluate_hour(inp: PolicyInputs, t: int, values, soc: np.ndarray, peak: float, net_kw,
                  import_cap_kw=None, proportional_shedding=False):
    """Least-cost recourse of period ``t`` with the battery power fixed; returns
    (cost EUR, new soc, new peak, unserved kWh, shortfall kWh)."""
    lp, hh, soc_in, peak_in = hour_model(inp, t, import_cap_kw, proportional_shedding)
    net = clip_battery(inp, soc, net_kw)
    for j, i in enumerate(inp.battery_sites):
        lp.set_bounds(soc_in[i], float(soc[j]), float(soc[j]))
        lp.set_bounds(hh.charge[i], max(-net[i], 0.0), max(-net[i], 0.0))
        lp.set_bounds(hh.discharge[i], max(net[i], 0.0), max(net[i], 0.0))
    lp.set_bounds(peak_in, float(peak), float(peak))
    apply_values(lp, inp, t, hh, values)
    lp.constant = -inp.overrun_charge_eur_per_kw * max(0.0, peak - inp.overrun_threshold_kw)
    obj, x = lp.solve()
    new_soc = np.array([x[hh.soc_out[i].col] for i in inp.battery_sites])
    unserved = sum(x[v.col] for v in hh.shed) * inp.period_hours
    shortfall = sum(x[v.col] for v in hh.shortfall.values())
    return obj, new_soc, float(x[hh.peak_out.col]), unserved, shortfall


def run_decisions(inp: PolicyInputs, values, decide, name: str, import_cap_kw=None,
                  proportional_shedding=False) -> PathOutcome:
    """Simulate ``decide(HourState, Observation) -> battery power (N,)`` on paths ``values`` (S, T, V)."""
    values = np.asarray(values, dtype=float)
    S, T, _ = values.shape
    B = len(inp.battery_sites)
    cost, peak_out, unserved, shortfall = np.zeros(S), np.zeros(S), np.zeros(S), np.zeros(S)
    socs = np.zeros((S, T + 1, B))
    for s in range(S):
        soc = inp.initial_soc_kwh()
        peak = 0.0
        socs[s, 0] = soc
        for t in range(T):
            net = decide(HourState(soc, peak), Observation(s, t, values[s, t]))
            c, soc, peak, u, sf = evaluate_hour(inp, t, values[s, t], soc, peak, net, import_cap_kw,
                                                proportional_shedding)
            cost[s] += c
            unserved[s] += u
            shortfall[s] += sf
            socs[s, t + 1] = soc
        peak_out[s] = peak
    overrun = inp.overrun_charge_eur_per_kw * np.maximum(peak_out - inp.overrun_threshold_kw, 0.0)
    return PathOutcome(name, cost, peak_out, overrun, unserved, shortfall, socs)


def window_lp(inp: PolicyInputs, t0: int, values, soc0, peak0):
    """Deterministic LP over periods t0..T-1 on ``values`` (T - t0, V); returns
    (objective, battery power (T - t0, N), discharge positive). Built once per t0."""
    key = ("window", t0)
    T = inp.n_periods
    bs = inp.battery_sites
    if key not in inp.lp_cache:
        lp = LinearProgram()
        soc_in = {i: lp.add_variable(None, None) for i in bs}
        peak_in = lp.add_variable(None, None)
        soc, peak = soc_in, peak_in
        handles = []
        for t in range(t0, T):
            hh = add_hour(lp, inp, t, soc, peak, terminal=(t == T - 1))
            handles.append(hh)
            soc, peak = hh.soc_out, hh.peak_out
        inp.lp_cache[key] = (lp, handles, soc_in, peak_in)
    lp, handles, soc_in, peak_in = inp.lp_cache[key]
    for j, i in enumerate(bs):
        lp.set_bounds(soc_in[i], float(soc0[j]), float(soc0[j]))
    lp.set_bounds(peak_in, float(peak0), float(peak0))
    for k, hh in enumerate(handles):
        apply_values(lp, inp, t0 + k, hh, values[k])
    lp.constant = -inp.overrun_charge_eur_per_kw * max(0.0, peak0 - inp.overrun_threshold_kw)
    obj, x = lp.solve()
    net = np.zeros((T - t0, inp.n_sites))
    for k, hh in enumerate(handles):
        for i in bs:
            net[k, i] = x[hh.discharge[i].col] - x[hh.charge[i].col]
    return obj, net
