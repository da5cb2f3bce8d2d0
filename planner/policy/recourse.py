"""Comparison policies for the battery: the fixed schedule replayed, a rolling look-ahead on
expected values, the median-price rule and the load-shedding rule, and the SDDP policy itself,
all simulated on given paths with the same hour model (``planner.policy.model.add_hour``).

Every non-SDDP policy decides the battery power of the hour; the rest of the hour (generator,
links, intraday purchase and resale, curtailment, unserved load) is then the least-cost recourse
of that hour on the observed values, with the overrun charge paid as the running peak grows.

* fixed schedule: the plan's battery power (``FixedSchedule.battery_net_kw``; idle without one),
  clipped to what the state of charge allows.
* look-ahead: each hour, an LP over the remaining hours with the observed values for the current
  hour and, for later hours, the expected values conditional on the current lattice node; the
  first hour's battery power is applied.
* median-price rule (a): charge at full power in hours whose day-ahead price is below the day's
  median, discharge above it, never discharging below what the remaining cheap hours can recharge
  to the end-of-day target.
* load-shedding rule (b): battery idle; whenever the contract's import would exceed the subscribed
  power P, every site's load is cut by the same fraction (unserved energy at the value of lost
  load), the generator and links being used first when cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.policy.model import (
    LinearProgram,
    PolicyInputs,
    PolicyModel,
    add_hour,
    apply_values,
)


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


def clip_battery(inp: PolicyInputs, soc: np.ndarray, net_kw) -> np.ndarray:
    """Battery power (N,) (discharge positive) clipped to the power and SoC limits."""
    h = inp.period_hours
    out = np.zeros(inp.n_sites)
    for j, i in enumerate(inp.battery_sites):
        b = inp.battery[i]
        x = float(net_kw[i])
        if x > 0:
            out[i] = min(x, b["power_kw"], max(soc[j] - b["soc_min"], 0.0) * b["eta_d"] / h * (1 - 1e-9))
        elif x < 0:
            out[i] = -min(-x, b["power_kw"], max(b["soc_max"] - soc[j], 0.0) / (b["eta_c"] * h) * (1 - 1e-9))
    return out


def _cache(inp: PolicyInputs) -> dict:
    if not hasattr(inp, "_lp_cache"):
        inp._lp_cache = {}
    return inp._lp_cache


def _hour_model(inp: PolicyInputs, t: int, import_cap_kw, proportional_shedding):
    """The one-period recourse LP of period t, built once and changed in place afterwards."""
    key = ("hour", t, import_cap_kw, proportional_shedding)
    cache = _cache(inp)
    if key not in cache:
        lp = LinearProgram()
        soc_in = {i: lp.add_variable(None, None) for i in inp.battery_sites}
        peak_in = lp.add_variable(None, None)
        hh = add_hour(lp, inp, t, soc_in, peak_in, terminal=(t == inp.n_periods - 1), overrun=True,
                      import_cap_kw=import_cap_kw, proportional_shedding=proportional_shedding)
        cache[key] = (lp, hh, soc_in, peak_in)
    return cache[key]


def evaluate_hour(inp: PolicyInputs, t: int, values, soc: np.ndarray, peak: float, net_kw,
                  import_cap_kw=None, proportional_shedding=False):
    """Least-cost recourse of period ``t`` with the battery power fixed; returns
    (cost EUR, new soc, new peak, unserved kWh, shortfall kWh)."""
    lp, hh, soc_in, peak_in = _hour_model(inp, t, import_cap_kw, proportional_shedding)
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
    """Simulate ``decide(s, t, soc, peak) -> battery power (N,)`` on paths ``values`` (S, T, V)."""
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
            net = decide(s, t, soc, peak)
            c, soc, peak, u, sf = evaluate_hour(inp, t, values[s, t], soc, peak, net, import_cap_kw,
                                                proportional_shedding)
            cost[s] += c
            unserved[s] += u
            shortfall[s] += sf
            socs[s, t + 1] = soc
        peak_out[s] = peak
    overrun = inp.overrun_charge_eur_per_kw * np.maximum(peak_out - inp.overrun_threshold_kw, 0.0)
    return PathOutcome(name, cost, peak_out, overrun, unserved, shortfall, socs)


# ---------------------------------------------------------------------------------------------
def fixed_schedule_policy(inp: PolicyInputs, values) -> PathOutcome:
    """Replay the schedule's battery power (idle without one) with hourly recourse."""
    plan = inp.schedule.battery_net_kw
    zero = np.zeros(inp.n_sites)
    return run_decisions(inp, values, lambda s, t, soc, peak: zero if plan is None else plan[t],
                         "fixed schedule")


def median_price_rule(inp: PolicyInputs, values) -> PathOutcome:
    """Rule (a): charge below the day's median day-ahead price, discharge above (module doc)."""
    values = np.asarray(values, dtype=float)
    h = inp.period_hours
    p0 = values[:, :, 0]
    median = np.median(p0, axis=1)

    def decide(s, t, soc, peak):
        net = np.zeros(inp.n_sites)
        cheap_left = int(np.sum(p0[s, t + 1:] < median[s]))
        for j, i in enumerate(inp.battery_sites):
            b = inp.battery[i]
            if p0[s, t] < median[s]:
                net[i] = -b["power_kw"]
            elif p0[s, t] > median[s]:
                reserve = max(b["soc_min"], b["target"] - cheap_left * b["power_kw"] * b["eta_c"] * h)
                net[i] = min(b["power_kw"], max(soc[j] - reserve, 0.0) * b["eta_d"] / h)
        return net

    return run_decisions(inp, values, decide, "median-price rule")


def load_shedding_rule(inp: PolicyInputs, values) -> PathOutcome:
    """Rule (b): battery idle, proportional load shedding above the subscribed power."""
    zero = np.zeros(inp.n_sites)
    return run_decisions(inp, values, lambda s, t, soc, peak: zero, "load-shedding rule",
                         import_cap_kw=inp.case.contract.subscribed_power_kw, proportional_shedding=True)


def window_lp(inp: PolicyInputs, t0: int, values, soc0, peak0):
    """Deterministic LP over periods t0..T-1 on ``values`` (T - t0, V); returns
    (objective, battery power (T - t0, N), discharge positive). Built once per t0."""
    key = ("window", t0)
    cache = _cache(inp)
    T = inp.n_periods
    bs = inp.battery_sites
    if key not in cache:
        lp = LinearProgram()
        soc_in = {i: lp.add_variable(None, None) for i in bs}
        peak_in = lp.add_variable(None, None)
        soc, peak = soc_in, peak_in
        handles = []
        for t in range(t0, T):
            hh = add_hour(lp, inp, t, soc, peak, terminal=(t == T - 1))
            handles.append(hh)
            soc, peak = hh.soc_out, hh.peak_out
        cache[key] = (lp, handles, soc_in, peak_in)
    lp, handles, soc_in, peak_in = cache[key]
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


def lookahead_policy(model: PolicyModel, values) -> PathOutcome:
    """Rolling look-ahead on expected values conditional on the current lattice node."""
    inp = model.inputs
    values = np.asarray(values, dtype=float)
    nodes = model.assign_nodes(values)
    cm = model.conditional_means()

    def decide(s, t, soc, peak):
        window = cm[t][nodes[s, t], t:].copy()
        window[0] = values[s, t]
        return window_lp(inp, t, window, soc, peak)[1][0]

    return run_decisions(inp, values, decide, "look-ahead (expected values)")


def expected_value_battery_schedule(case, schedule, scenarios) -> np.ndarray:
    """Open-loop battery power (T, N) optimal on the scenarios' expected path."""
    from planner.policy.model import policy_inputs

    inp = policy_inputs(case, schedule, scenarios)
    mean = scenarios.select_variables(list(inp.variables)).mean()
    return window_lp(inp, 0, mean, inp.initial_soc_kwh(), 0.0)[1]


def sddp_policy(model: PolicyModel, values) -> PathOutcome:
    """The trained SDDP policy simulated on the paths (each period mapped to its lattice node,
    the observed values applied to the node's subproblem)."""
    from sddp import simulate_historical

    inp = model.inputs
    values = np.asarray(values, dtype=float)
    S, T, _ = values.shape
    names = list(model.state_names) + [f"shed_kw:{n}" for n in inp.site_names]
    res = simulate_historical(model.graph, model.paths(values), variables=names)
    df = res.data
    wide = df.pivot_table(index=["replication", "stage"], columns="variable", values="value")
    socs = np.zeros((S, T + 1, len(inp.battery_sites)))
    socs[:, 0] = inp.initial_soc_kwh()
    for j, i in enumerate(inp.battery_sites):
        socs[:, 1:, j] = wide[f"soc:{inp.site_names[i]}"].to_numpy().reshape(S, T)
    peak = wide["peak_kw"].to_numpy().reshape(S, T)[:, -1]
    shed = sum(wide[f"shed_kw:{n}"].to_numpy().reshape(S, T) for n in inp.site_names)
    targets = np.array([inp.battery[i]["target"] for i in inp.battery_sites])
    shortfall = np.maximum(targets - socs[:, -1], 0.0).sum(axis=1) if len(targets) else np.zeros(S)
    overrun = inp.overrun_charge_eur_per_kw * np.maximum(peak - inp.overrun_threshold_kw, 0.0)
    return PathOutcome("SDDP", np.asarray(res.costs, dtype=float), peak, overrun,
                       shed.sum(axis=1) * inp.period_hours, shortfall, socs)
