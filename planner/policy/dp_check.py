"""An independent exact check of the SDDP battery policy: stochastic dynamic programming on a
state-of-charge grid for a one-site battery case on the same Markov lattice and node noise.

The DP restricts the state of charge to a uniform grid (so its value is an upper bound of the
continuous optimum that decreases as the grid is refined); the recourse of an hour given the
battery power is solved in closed form (buy at p1 above the day-ahead purchase, resell at p2 below
it, energy charge f2 on the import, free curtailment of PV). The grid is refined until two
successive values differ by less than ``tolerance`` (0.1 %); the SDDP lower bound must then lie
within 0.5 % of it. The case must have one site with a battery and PV, no generator and no links,
and a subscribed power that the import can never exceed (no overrun term).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

import sddp
from planner.blocks.battery import BatteryParameters
from planner.case import Case, case_from_dict
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.model import (
    MAX_NOISE_PER_NODE,
    PolicyInputs,
    add_initial_cuts,
    build_policy_model,
    node_noise,
    policy_inputs,
)


def one_site_case(base_load_kw: float = 400.0, pv_kwp: float = 300.0, battery_kwh: float = 1000.0,
                  battery_kw: float = 500.0, day: str = "2019-06-12") -> Case:
    """A one-site battery case for the check (flat base load, PV, battery, no lines)."""
    return case_from_dict({
        "name": "dp_check",
        "description": "one site, PV and battery: the exact DP check of the SDDP policy",
        "contract": {"subscribed_power_kw": 10_000.0},
        "scenarios": {"day": day},
        "sites": [{
            "name": "plant", "latitude": 45.7, "longitude": 4.9, "grid_connection_kw": 5_000.0,
            "base_load": {"mean_kw": base_load_kw, "profile": "flat"},
            "microgrid": {"pv": {"kwp": pv_kwp},
                          "battery": {"energy_kwh": battery_kwh, "power_kw": battery_kw}},
        }],
    })


def check_inputs(inp: PolicyInputs) -> BatteryParameters:
    """The battery of a case the DP can solve; ValueError naming the field otherwise."""
    if inp.n_sites != 1 or inp.links or inp.generator[0] is not None or inp.battery[0] is None:
        raise ValueError("the DP check needs one site with a battery, no generator and no links "
                         "(sites, links, sites[0].generator, sites[0].microgrid.battery)")
    b = inp.battery[0]
    top = float(inp.load_kw.max()) + b.power_kw
    if top >= inp.overrun_threshold_kw or (inp.peak_cap_kw is not None and top >= inp.peak_cap_kw):
        raise ValueError(f"contract.subscribed_power_kw: the import can reach {top:.0f} kW, above the "
                         f"overrun threshold {inp.overrun_threshold_kw:.0f} kW; the DP has no peak state")
    if top >= inp.connection_kw[0] or (inp.pv_kwp[0] + b.power_kw) >= inp.connection_kw[0]:
        raise ValueError("sites[0].grid_connection_kw must exceed load + battery power (never binding)")
    return b


def hour_cost(inp: PolicyInputs, t: int, value, battery_kw):
    """Least cost of hour t for battery consumption ``battery_kw`` (array; charge positive)."""
    h = inp.period_hours
    p1, p2 = float(value[1]), float(value[2])
    ren = float(inp.renewables_kw(np.asarray(value))[0])
    da = float(inp.day_ahead_kw[t])
    f2 = inp.energy_charge_eur_per_kwh
    g0 = inp.load_kw[t, 0] - ren + battery_kw

    def cost(g):
        return (p1 * np.maximum(g - da, 0.0) - p2 * np.maximum(da - g, 0.0)) * h / 1000.0 \
            + f2 * h * np.maximum(g, 0.0)

    best = np.minimum(cost(g0), cost(g0 + ren))
    for knot in (da, 0.0):  # breakpoints of the convex piecewise-linear cost inside [g0, g0 + ren]
        inside = (g0 <= knot) & (knot <= g0 + ren)
        best = np.where(inside, np.minimum(best, cost(np.full_like(g0, knot))), best)
    return best


def solve_sdp(inp: PolicyInputs, lattice, n_intervals: int) -> float:
    """Expected cost of the optimal policy with the SoC on a grid of ``n_intervals`` steps
    between the SoC bounds (the initial SoC and the target must be grid points), on the lattice's
    nodes and their noise (``planner.policy.model.node_noise``)."""
    b = check_inputs(inp)
    lo, hi = b.soc_min_kwh, b.soc_max_kwh
    step = (hi - lo) / n_intervals
    grid = lo + step * np.arange(n_intervals + 1)
    target = inp.soc_target_kwh(0)
    for name, kwh in (("soc0", b.initial_soc_kwh), ("target", target)):
        k = (kwh - lo) / step
        if abs(k - round(k)) > 1e-6:
            unit = (hi - lo) / np.gcd.reduce([int(round(hi - lo)), int(round(kwh - lo)) or 1])
            raise ValueError(f"n_intervals = {n_intervals}: the battery's {name} ({kwh} kWh) is not "
                             f"on the grid; choose a multiple of {unit}")
    h = inp.period_hours
    eta_c, eta_d = b.charge_efficiency, b.discharge_efficiency
    up = int(np.floor(b.power_kw * eta_c * h / step + 1e-9))
    down = int(np.floor(b.power_kw * h / eta_d / step + 1e-9))
    delta = np.arange(-down, up + 1)
    battery_kw = np.where(delta >= 0, delta * step / (eta_c * h), delta * step * eta_d / h)
    T = inp.n_periods
    G = n_intervals + 1
    penalty = inp.terminal_penalty_eur_per_mwh / 1000.0 * np.maximum(target - grid, 0.0)
    value_next = None  # (K_{t+1}, G)
    for t in range(T - 1, -1, -1):
        nodes = lattice.node_values[t]
        if t == T - 1:
            future = np.tile(penalty, (nodes.shape[0], 1))
        else:
            future = lattice.transition_matrices[t + 1] @ value_next
        value = np.zeros((nodes.shape[0], G))
        for k in range(nodes.shape[0]):
            padded = np.concatenate([np.full(down, np.inf), future[k], np.full(up, np.inf)])
            windows = np.lib.stride_tricks.sliding_window_view(padded, len(delta))  # (G, len(delta))
            # the node's noise is known when the hour decides: the best move for each realisation,
            # averaged with the noise probabilities
            for v, p in zip(*node_noise(lattice, t, k)):
                stage = hour_cost(inp, t, v, battery_kw)  # (len(delta),)
                value[k] += p * np.min(windows + stage[None, :], axis=1)
        value_next = value
    i0 = int(round((b.initial_soc_kwh - lo) / step))
    return float(lattice.transition_matrices[0][0] @ value_next[:, i0])


def grid_refinement(inp: PolicyInputs, lattice, intervals=(170, 340, 680, 1360)) -> pd.DataFrame:
    """DP values on successively finer grids and the relative change from the previous grid."""
    rows = []
    prev = None
    for n in intervals:
        v = solve_sdp(inp, lattice, n)
        rows.append({"intervals": n, "step_kwh": (inp.battery[0].soc_max_kwh - inp.battery[0].soc_min_kwh) / n,
                     "value_eur": v, "relative_change": np.nan if prev is None else abs(v - prev) / abs(v)})
        prev = v
    return pd.DataFrame(rows)


@dataclass
class DPCheck:
    """Result of :func:`dp_check`."""

    refinement: pd.DataFrame
    dp_value_eur: float
    sddp_lower_bound_eur: float
    relative_difference: float
    iterations: int

    @property
    def grid_error_below(self) -> float:
        return float(self.refinement["relative_change"].iloc[-1])


def dp_check(scenarios, case: Case | None = None, n_states: int = 4, iterations: int = 150,
             random_state: int = 0, intervals=(170, 340, 680, 1360), *,
             max_noise: int = MAX_NOISE_PER_NODE) -> DPCheck:
    """Train SDDP on the one-site case's lattice (nodes with up to ``max_noise`` residual
    realisations) and compare its bound with the DP value on the same lattice and noise."""
    case = case or one_site_case()
    inp = policy_inputs(case, FixedSchedule.from_rule(case, scenarios), scenarios)
    model = build_policy_model(inp, scenarios, n_states=n_states, random_state=random_state, max_noise=max_noise)
    ref = grid_refinement(inp, model.lattice, intervals)
    with tempfile.TemporaryDirectory() as tmp:
        add_initial_cuts(model, f"{tmp}/initial_cuts.json")
    res = sddp.train(model.graph, iteration_limit=iterations, print_level=0, random_state=random_state)
    dp = float(ref["value_eur"].iloc[-1])
    return DPCheck(ref, dp, res.bound, abs(dp - res.bound) / abs(dp), res.iterations)
