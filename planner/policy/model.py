"""The SDDP model of the hour-by-hour battery policy: one stage per period, a Markov lattice of
(day-ahead, intraday and resale prices, PV, wind) as the policy graph, batteries and the running
import peak as states.

Lattice (:class:`ResidualLattice`, :func:`fit_lattice`):

* clustering: at each hour, k-means on the training paths' values standardised by that hour's mean
  and standard deviation over the paths (each variable has unit variance within the hour), so wind
  (kW per turbine, large within-hour spread) does not decide the clusters alone against p1 (whose
  spread is mostly its daily shape);
* noise: each node carries the training realisations assigned to it (up to ``MAX_NOISE_PER_NODE``
  = 5; beyond that the means and masses of a k-means within the node, which keep the node's mean)
  as stagewise-independent noise given the node: SDDP samples it in the forward pass and averages
  over it in the backward pass (as SDDP.jl's Markovian graphs with noise terms), so the policy sees
  the variation inside a node, not only its centroid;
* enough paths per node: ``n_states = min(requested, n_paths // 30)`` (``MIN_PATHS_PER_NODE``,
  at least 1 state; ``n_paths`` the effective number of training paths); a reduced request warns
  and adds a note to the report.

Stage model (period t, lattice node k; powers in kW averaged over the period, costs in EUR):

* states: the state of charge ``soc:<site>`` (kWh) of every battery, ``peak_kw``, the running
  maximum of the contract's net grid import (``peak' >= peak``, ``peak' >= import_t``), and
  ``overrun_kw``, the running overrun ``max(0, peak - threshold * P)`` (``o' >= o``,
  ``o' >= peak' - threshold * P``). The overrun charge is paid when incurred: each stage costs
  f3 * (o' - o), linear in the incoming state, so the cuts carry slope f3 in the overrun from the
  first iteration on; over the day the charges add up to f3 * max(0, peak - threshold * P), the
  terminal charge (exact and convex). (A tie-breaking cost of 1e-7 EUR per kW and period keeps
  ``peak'`` at the running maximum; without it an untrained policy may raise the peak state to its
  upper bound at no apparent cost.)
  The demand window (15 min) is shorter than an hour: the power is taken flat within a period, so
  the window average equals the period average.
* per site: battery charge/discharge (efficiencies, power, SoC bounds), generator output in
  [0, capacity] (continuous relaxation: min load, start-up cost and on/off are ignored inside SDDP),
  grid flow within the connection, PV/wind curtailment, unserved load at the value of lost load;
  links carry power both ways within their capacity, losing ``loss_fraction`` on the way.
* contract: sum of site grid flows = day-ahead purchase (fixed) + intraday purchase (price p1)
  - resale (price p2); energy charge f2 on the positive net import; optional hard ``peak_cap_kw``.
* terminal: SoC below the end-of-day target (``final_soc_min_fraction``, default the initial SoC)
  costs ``terminal_penalty_eur_per_mwh`` per MWh short (a penalty keeps complete recourse).

The day-ahead energy cost (p0 times the fixed purchases) and the monthly demand charge f1 * P do not
depend on any hourly decision; they are left out of the SDDP objective and reported separately.
Material stocks are not states: the production schedule is fixed (``FixedSchedule``).
Simultaneous charge and discharge is not excluded (an LP); it only pays at negative prices.

Training helpers: the cost-to-go bound given to the engine is the least suffix sum of each stage's
least cost over all incoming states (not a loose constant), and :func:`add_initial_cuts` loads one
flat cut per node, E[sum of the later stages' least costs | node], through a cut file, so the lower
bound starts near the unavoidable cost (each node's least stage cost averaged over its noise). On
observed paths (simulation, real days) each period is mapped to the nearest reachable lattice node
(distance in the clustering's hourly standardisation) and the node's subproblem is solved with the
observed values (:meth:`PolicyModel.paths`).

The battery, site-balance and link physics are those of ``planner.blocks`` (``BatteryParameters``,
``site_supply_kw``, ``link_in_kw``), written here on an ``sddp`` stage instead of a Pyomo block.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from planner.blocks.battery import BatteryParameters, battery_parameters
from planner.blocks.links import link_in_kw
from planner.blocks.site import site_supply_kw
from planner.case import Case
from planner.load_profiles import base_load_kw
from planner.policy.fixed_schedule import FixedSchedule
from planner.policy.linear_program import LinearProgram
from planner.scenario_inputs import case_scenarios
from scenarios.lattice import MarkovLattice
from scenarios.scenario_set import ScenarioSet
from sddp import MarkovianPolicyGraph, quicksum, read_cuts

#: Value of lost load (EUR/MWh): the order of magnitude of the cost of unserved energy behind
#: France's 3-hour loss-of-load expectation standard (RTE uses about 20,000 EUR/MWh).
VALUE_OF_LOST_LOAD_EUR_PER_MWH = 20_000.0
#: Penalty per MWh of state of charge short of the end-of-day target.
TERMINAL_PENALTY_EUR_PER_MWH = 1_000.0

#: Cost per kW of the running peak per period: breaks ties so that peak' is the running maximum
#: (adds at most 1e-7 * periods * peak EUR, e.g. 0.02 EUR on the default case).
PEAK_TIE_BREAK_EUR_PER_KW = 1e-7

#: Least number of training paths per lattice node: :func:`fit_lattice` uses
#: ``n_states = min(requested, n_paths // MIN_PATHS_PER_NODE)`` (at least 1; ``n_paths`` is the
#: effective number of paths 1 / sum(p^2), the number of paths when they are equiprobable) and warns
#: when it reduces the request.
MIN_PATHS_PER_NODE = 30
#: Noise realisations kept per lattice node: a node's support is its training realisations, reduced
#: by a k-means within the node (means and masses of the sub-clusters) when it has more.
MAX_NOISE_PER_NODE = 5
#: Floor of a variable's within-hour standard deviation used to scale the clustering, as a fraction
#: of its standard deviation over all hours (keeps a nearly constant hour, e.g. PV at dawn, from
#: being blown up to unit variance).
HOUR_STD_FLOOR = 0.01

P0, P1, P2 = "p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"
INF = float("inf")


def policy_scenarios(case: Case, n_scenarios: int, random_state: int = 0):
    """Day paths of the case's uncertain inputs from ``planner.scenario_inputs.case_scenarios``."""
    return case_scenarios(case, n_scenarios, random_state)


# ---------------------------------------------------------------------------------------------
@dataclass
class PolicyInputs:
    """Everything the stage model needs, as arrays (sites in case order)."""

    case: Case
    schedule: FixedSchedule
    period_hours: float
    load_kw: np.ndarray                 # (T, N) base + lines
    day_ahead_kw: np.ndarray            # (T,)
    variables: tuple                    # names of the uncertain variables used (lattice order)
    pv_kwp: np.ndarray                  # (N,)
    pv_index: list                      # per site: index in variables or None
    turbines: np.ndarray                # (N,)
    wind_index: list
    battery: list                       # per site: planner.blocks.battery.BatteryParameters or None
    generator: list                     # per site: (capacity_kw, fuel EUR/MWh) or None
    connection_kw: np.ndarray           # (N,)
    links: list                         # (a, b, capacity_kw, loss_fraction)
    energy_charge_eur_per_kwh: float
    overrun_charge_eur_per_kw: float
    overrun_threshold_kw: float
    peak_cap_kw: float | None
    value_of_lost_load_eur_per_mwh: float = VALUE_OF_LOST_LOAD_EUR_PER_MWH
    terminal_penalty_eur_per_mwh: float = TERMINAL_PENALTY_EUR_PER_MWH
    notes: list = field(default_factory=list)
    #: the recourse and window LPs of ``planner.policy.recourse``, built once per inputs and changed in place
    lp_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_periods(self) -> int:
        return self.load_kw.shape[0]

    @property
    def n_sites(self) -> int:
        return self.load_kw.shape[1]

    @property
    def site_names(self) -> tuple:
        return self.case.site_names

    @property
    def battery_sites(self) -> list:
        return [i for i, b in enumerate(self.battery) if b is not None]

    @property
    def trade_cap_kw(self) -> float:
        return float(np.sum(self.connection_kw)) + float(np.max(self.day_ahead_kw, initial=0.0))

    def renewables_kw(self, values) -> np.ndarray:
        """(…, N) renewable output of each site for value vectors (…, V)."""
        values = np.asarray(values, dtype=float)
        out = np.zeros(values.shape[:-1] + (self.n_sites,))
        for i in range(self.n_sites):
            if self.pv_index[i] is not None:
                out[..., i] += self.pv_kwp[i] * np.maximum(values[..., self.pv_index[i]], 0.0)
            if self.wind_index[i] is not None:
                out[..., i] += self.turbines[i] * np.maximum(values[..., self.wind_index[i]], 0.0)
        return out

    def index(self, name: str) -> int:
        return self.variables.index(name)

    def initial_soc_kwh(self) -> np.ndarray:
        return np.array([b.initial_soc_kwh for b in self.battery if b is not None])

    def soc_target_kwh(self, site: int) -> float:
        """End-of-day SoC target of a site's battery, at most its upper SoC bound (kWh)."""
        b = self.battery[site]
        return min(b.final_soc_min_kwh, b.soc_max_kwh)

    def day_ahead_cost_eur(self, p0_paths) -> np.ndarray:
        """Cost of the fixed day-ahead purchases on price paths (…, T)."""
        return np.asarray(p0_paths) @ self.day_ahead_kw * self.period_hours / 1000.0

    def demand_charge_eur(self) -> float:
        c = self.case.contract
        days = self.case.horizon_hours / 24.0
        return c.demand_charge_eur_per_kw_month * c.subscribed_power_kw * days / c.billing_period_days


def policy_inputs(case: Case, schedule: FixedSchedule | None = None, scenarios=None,
                  site_weather: dict | None = None,
                  value_of_lost_load_eur_per_mwh: float = VALUE_OF_LOST_LOAD_EUR_PER_MWH,
                  terminal_penalty_eur_per_mwh: float = TERMINAL_PENALTY_EUR_PER_MWH) -> PolicyInputs:
    """Arrays of the stage model from a case and a fixed schedule (the rule schedule by default).

    ``site_weather`` maps a site name to the site whose PV/wind variables it uses (default: itself);
    the benchmark uses it for replicated sites.
    """
    if not isinstance(case, Case):
        raise TypeError(f"case must be a planner.case.Case; got {type(case).__name__}")
    for name, value in (("value_of_lost_load_eur_per_mwh", value_of_lost_load_eur_per_mwh),
                        ("terminal_penalty_eur_per_mwh", terminal_penalty_eur_per_mwh)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} = {value}: must be a positive finite number")
    site_weather = dict(site_weather or {})
    for k, v in site_weather.items():
        if k not in case.site_names:
            raise ValueError(f"site_weather key {k!r}: no such site; sites are {list(case.site_names)}")
    if schedule is None:
        schedule = FixedSchedule.from_rule(case, scenarios)
    schedule.check_case(case)
    T, N, h = case.n_periods, len(case.sites), case.period_hours
    load = schedule.line_load_kw.copy()
    for i, site in enumerate(case.sites):
        load[:, i] += base_load_kw(site.base_load, case.scenarios.day, case.period_minutes, T)
    variables = [P0, P1, P2]
    pv_kwp, pv_index, turbines, wind_index = np.zeros(N), [], np.zeros(N), []
    for i, site in enumerate(case.sites):
        w = site_weather.get(site.name, site.name)
        mg = site.microgrid
        if mg.pv is not None and mg.pv.kwp > 0:
            name = f"pv_kw_per_kwp:{w}"
            if name not in variables:
                variables.append(name)
            pv_kwp[i] = mg.pv.kwp
            pv_index.append(variables.index(name))
        else:
            pv_index.append(None)
        n_t = sum(t.count for t in mg.wind)
        if n_t:
            name = f"wind_kw_per_turbine:{w}"
            if name not in variables:
                variables.append(name)
            turbines[i] = n_t
            wind_index.append(variables.index(name))
        else:
            wind_index.append(None)
    batteries = []
    for site in case.sites:
        b = site.microgrid.battery
        usable = b is not None and b.energy_kwh > 0 and b.power_kw > 0
        batteries.append(battery_parameters(b) if usable else None)
    generators = [None if s.generator is None else (s.generator.capacity_kw, s.generator.fuel_cost_eur_per_mwh)
                  for s in case.sites]
    conn = np.array([s.grid_connection_kw if np.isfinite(s.grid_connection_kw) else 1e6 for s in case.sites])
    idx = {n: i for i, n in enumerate(case.site_names)}
    links = [(idx[l.site_a], idx[l.site_b], l.capacity_kw, l.loss_fraction) for l in case.links]
    c = case.contract
    notes = ["generator: continuous output in [0, capacity]; min load, start-up cost and on/off ignored",
             "15-minute demand window taken as the period average (power flat within a period)",
             "overrun charge f3 paid in full on the horizon's peak above threshold * P (SDDP stages "
             "charge it in the period where it is incurred)"]
    if c.day_ahead_scope == "per_site":
        notes.append("day_ahead_scope = per_site: the day-ahead purchases are pooled over the sites")
    return PolicyInputs(
        case=case, schedule=schedule, period_hours=h, load_kw=load,
        day_ahead_kw=schedule.day_ahead_kw.copy(), variables=tuple(variables), pv_kwp=pv_kwp,
        pv_index=pv_index, turbines=turbines, wind_index=wind_index, battery=batteries,
        generator=generators, connection_kw=conn, links=links,
        energy_charge_eur_per_kwh=c.energy_charge_eur_per_kwh,
        overrun_charge_eur_per_kw=c.overrun_charge_eur_per_kw,
        overrun_threshold_kw=c.overrun_threshold * c.subscribed_power_kw, peak_cap_kw=c.peak_cap_kw,
        value_of_lost_load_eur_per_mwh=value_of_lost_load_eur_per_mwh,
        terminal_penalty_eur_per_mwh=terminal_penalty_eur_per_mwh, notes=notes)


# ---------------------------------------------------------------------------------------------
# One period of the stage model, written against a builder with the sddp.Subproblem interface
# (add_variable, add_constraint, set_rhs, set_bounds, set_objective_coefficient).
# ---------------------------------------------------------------------------------------------
@dataclass
class HourHandles:
    soc_out: dict           # site index -> variable
    peak_out: object
    charge: dict
    discharge: dict
    generator: dict
    grid: list
    shed: list
    curtail: list
    buy: object
    sell: object
    balance: list
    contract: object
    overrun: object = None
    shortfall: dict = field(default_factory=dict)
    flows: list = field(default_factory=list)
    shed_fraction: object = None
    overrun_out: object = None


def add_hour(m, inp: PolicyInputs, t: int, soc_in: dict, peak_in, soc_out: dict | None = None,
             peak_out=None, terminal: bool = False, battery_fixed=None, import_cap_kw=None,
             proportional_shedding: bool = False, overrun: bool | None = None, overrun_in=None,
             overrun_out=None) -> HourHandles:
    """Variables and constraints of period ``t``. ``soc_in``/``peak_in`` are variables or numbers;
    ``soc_out``/``peak_out`` given (SDDP states) or created here. Values are applied later by
    :func:`apply_values`. ``battery_fixed`` (N,) fixes discharge - charge of each battery (kW).
    ``terminal`` adds the end-of-day SoC penalty; ``overrun`` (default: ``terminal``) charges
    f3 * max(0, peak_out - threshold) in this period. ``overrun_in`` (a variable: the overrun state
    entering the period) charges the overrun when incurred instead, f3 * (overrun_out - overrun_in)
    with ``overrun_out >= overrun_in`` and ``overrun_out >= peak_out - threshold`` (``overrun_out``
    given as an SDDP state or created here)."""
    if overrun is None:
        overrun = terminal
    h = inp.period_hours
    N = inp.n_sites

    soc_out = dict(soc_out or {})
    charge, discharge, gens, shortfall = {}, {}, {}, {}
    for i in inp.battery_sites:
        b: BatteryParameters = inp.battery[i]
        c = m.add_variable(0.0, b.power_kw, 0.0, f"charge_kw:{t}:{i}")
        d = m.add_variable(0.0, b.power_kw, 0.0, f"discharge_kw:{t}:{i}")
        if battery_fixed is not None:
            net = float(battery_fixed[i])
            m.set_bounds(c, max(-net, 0.0), max(-net, 0.0))
            m.set_bounds(d, max(net, 0.0), max(net, 0.0))
        if i not in soc_out:
            soc_out[i] = m.add_variable(b.soc_min_kwh, b.soc_max_kwh, 0.0, f"soc_kwh:{t}:{i}")
        m.add_constraint(soc_out[i] - soc_in[i] - b.soc_change_kwh(c, d, h), "==", 0.0)
        charge[i], discharge[i] = c, d
        if terminal:
            s = m.add_variable(0.0, INF, inp.terminal_penalty_eur_per_mwh / 1000.0, f"shortfall_kwh:{i}")
            m.add_constraint(s + soc_out[i], ">=", inp.soc_target_kwh(i))
            shortfall[i] = s
    grid, shed, curt = [], [], []
    voll = inp.value_of_lost_load_eur_per_mwh * h / 1000.0
    shed_fraction = None
    if proportional_shedding:
        shed_fraction = m.add_variable(0.0, 1.0, 0.0, f"shed_fraction:{t}")
    for i in range(N):
        grid.append(m.add_variable(-inp.connection_kw[i], inp.connection_kw[i], 0.0, f"grid_kw:{t}:{i}"))
        load = float(inp.load_kw[t, i])
        s = m.add_variable(0.0, max(load, 0.0), voll, f"shed_kw:{t}:{i}")
        if proportional_shedding:
            m.add_constraint(s - load * shed_fraction, "==", 0.0)
        shed.append(s)
        curt.append(m.add_variable(0.0, 0.0, 0.0, f"curtail_kw:{t}:{i}"))
        g = inp.generator[i]
        if g is not None:
            gens[i] = m.add_variable(0.0, g[0], g[1] * h / 1000.0, f"generator_kw:{t}:{i}")
    flows = []
    for j, (a, b_, cap, loss) in enumerate(inp.links):
        fab = m.add_variable(0.0, cap, 0.0, f"link_kw:{t}:{j}:ab")
        fba = m.add_variable(0.0, cap, 0.0, f"link_kw:{t}:{j}:ba")
        flows.append((fab, fba))
    ends = [(a, b_, loss) for a, b_, _, loss in inp.links]
    balance = []
    for i in range(N):
        link_in = link_in_kw(ends, i, [f[0] for f in flows], [f[1] for f in flows])
        battery_net = discharge[i] - charge[i] if i in discharge else 0.0
        # the renewables' available output is on the right side (set by apply_values): the supply
        # counts minus the curtailment, plus the unserved load
        supply = site_supply_kw(grid[i], link_in, gens.get(i, 0.0), -curt[i], battery_net) + shed[i]
        balance.append(m.add_constraint(supply, "==", float(inp.load_kw[t, i])))  # rhs set by apply_values
    cap = inp.trade_cap_kw
    buy = m.add_variable(0.0, cap, 0.0, f"intraday_buy_kw:{t}")
    sell = m.add_variable(0.0, cap, 0.0, f"resale_kw:{t}")
    total = quicksum(grid)
    contract = m.add_constraint(total - buy + sell, "==", float(inp.day_ahead_kw[t]))
    imp = m.add_variable(0.0, INF, inp.energy_charge_eur_per_kwh * h, f"import_kw:{t}")
    m.add_constraint(imp - total, ">=", 0.0)
    limit = inp.peak_cap_kw
    if import_cap_kw is not None:
        limit = import_cap_kw if limit is None else min(limit, import_cap_kw)
    if limit is not None:
        m.add_constraint(total, "<=", float(limit))
    if peak_out is None:
        peak_out = m.add_variable(0.0, INF, 0.0, f"peak_kw:{t}")
    # tie-break: where the cuts are flat in the peak (all trial peaks below the threshold), any
    # peak' above the running maximum would be optimal and HiGHS may pick the state's upper bound
    m.set_objective_coefficient(peak_out, PEAK_TIE_BREAK_EUR_PER_KW)
    m.add_constraint(peak_out - peak_in, ">=", 0.0)
    m.add_constraint(peak_out - total, ">=", 0.0)
    if overrun_in is not None:
        f3 = inp.overrun_charge_eur_per_kw
        if overrun_out is None:
            overrun_out = m.add_variable(0.0, INF, 0.0, f"overrun_state_kw:{t}")
        # f3 * (o' - o): o is fixed in a stage, so only o' > o costs. The cost-to-go falls by at most
        # f3 per kW of o' (the next stage's -f3 * o), so raising o' early can tie with raising it
        # when incurred; the tie-break keeps o' at max(o, peak' - threshold)
        m.set_objective_coefficient(overrun_out, f3 + PEAK_TIE_BREAK_EUR_PER_KW)
        m.set_objective_coefficient(overrun_in, -f3)
        m.add_constraint(overrun_out - overrun_in, ">=", 0.0)
        m.add_constraint(overrun_out - peak_out, ">=", -inp.overrun_threshold_kw)
    over = None
    if overrun:
        over = m.add_variable(0.0, INF, inp.overrun_charge_eur_per_kw, "overrun_kw")
        m.add_constraint(over - peak_out, ">=", -inp.overrun_threshold_kw)
    return HourHandles(soc_out, peak_out, charge, discharge, gens, grid, shed, curt, buy, sell,
                       balance, contract, over, shortfall, flows, shed_fraction, overrun_out)


def apply_values(m, inp: PolicyInputs, t: int, hh: HourHandles, values) -> None:
    """Set the period's uncertain data: renewables (balance rhs, curtailment bound), p1, p2."""
    h = inp.period_hours
    values = np.asarray(values, dtype=float)
    ren = inp.renewables_kw(values)
    for i in range(inp.n_sites):
        m.set_rhs(hh.balance[i], float(inp.load_kw[t, i] - ren[i]))
        m.set_bounds(hh.curtail[i], 0.0, float(ren[i]))
    m.set_objective_coefficient(hh.buy, float(values[1]) * h / 1000.0)
    m.set_objective_coefficient(hh.sell, -float(values[2]) * h / 1000.0)


# ---------------------------------------------------------------------------------------------
@dataclass
class PolicyModel:
    """A built policy graph with its inputs and lattice."""

    graph: object
    inputs: PolicyInputs
    lattice: object
    scale: tuple            # (mean, std) per variable, to map observed values to lattice nodes
    state_names: tuple
    recorded: tuple
    stage_minima: list = None   # least stage cost per (stage, node), from stage_minimum_costs

    def assign_nodes(self, values) -> np.ndarray:
        """Lattice node (0-based) of each path and period for observed values (S, T, V): at each
        period the nearest node among those reachable from the previous one, distances in the
        lattice's clustering scale (each hour's standard deviation for a :class:`ResidualLattice`,
        ``scale`` otherwise)."""
        values = np.asarray(values, dtype=float)
        lat = self.lattice
        S, T, _ = values.shape
        if hasattr(lat, "hour_mean_"):  # the lattice's own clustering scale, hour by hour
            mean, std = lat.hour_mean_, lat.hour_std_
        else:
            mean, std = np.broadcast_to(self.scale[0], (T, values.shape[2])), \
                np.broadcast_to(self.scale[1], (T, values.shape[2]))
        out = np.zeros((S, T), dtype=int)
        for s in range(S):
            prev = 0
            for t in range(T):
                nodes = (lat.node_values[t] - mean[t]) / std[t]
                x = (values[s, t] - mean[t]) / std[t]
                d = ((nodes - x) ** 2).sum(axis=1)
                reach = lat.transition_matrices[t][prev] > 0
                d[~reach] = np.inf
                prev = int(np.argmin(d))
                out[s, t] = prev
        return out

    def paths(self, values) -> list:
        """Paths for ``sddp.simulate_historical``: [(node_key, omega)] per observed path."""
        values = np.asarray(values, dtype=float)
        nodes = self.assign_nodes(values)
        return [[((t + 1, int(nodes[s, t]) + 1), values[s, t]) for t in range(values.shape[1])]
                for s in range(values.shape[0])]

    def conditional_means(self) -> list:
        """E[values at period u | node k at period t] as arrays (K_t, T, V), for the look-ahead."""
        lat = self.lattice
        T = len(lat.node_values)
        out = []
        for t in range(T):
            K = lat.node_values[t].shape[0]
            arr = np.zeros((K, T, lat.node_values[0].shape[1]))
            dist = np.eye(K)
            for u in range(t, T):
                if u > t:
                    dist = dist @ lat.transition_matrices[u]
                arr[:, u] = dist @ lat.node_values[u]
            out.append(arr)
        return out


def hour_scale(values, probabilities, std_floor: float = HOUR_STD_FLOOR):
    """Per hour and variable, the probability-weighted mean and standard deviation over the paths
    (T, V) each; a standard deviation below ``std_floor`` times the variable's all-hours standard
    deviation is raised to it (a variable constant over all hours gets 1)."""
    values = np.asarray(values, dtype=float)
    w = np.asarray(probabilities, dtype=float) / np.sum(probabilities)
    mean = np.einsum("s,stv->tv", w, values)
    std = np.sqrt(np.einsum("s,stv->tv", w, (values - mean) ** 2))
    overall = np.sqrt(np.einsum("s,stv->v", w, (values - mean.mean(axis=0)) ** 2) / values.shape[1])
    overall[overall <= 1e-12] = 1.0
    return mean, np.maximum(std, std_floor * overall)


def node_support(points, weights, scaled, max_noise: int, random_state: int = 0):
    """The noise support of one lattice node: its distinct realisations ``points`` (M, V) with their
    masses, or, with more than ``max_noise`` of them, the means and masses of ``max_noise`` weighted
    k-means clusters of the ``scaled`` points (which keeps the node's mean). Returns
    (support (M', V), probabilities (M',) summing to 1), sorted lexicographically."""
    points = np.asarray(points, dtype=float)
    weights = np.asarray(weights, dtype=float)
    distinct, inverse = np.unique(points, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    if distinct.shape[0] <= max_noise:
        mass = np.bincount(inverse, weights=weights, minlength=distinct.shape[0])
        support = distinct
    else:
        with threadpool_limits(1):
            labels = KMeans(n_clusters=max_noise, n_init=2, random_state=random_state).fit(
                scaled, sample_weight=weights / weights.sum()).labels_
        present = np.unique(labels)
        mass = np.array([weights[labels == c].sum() for c in present])
        support = np.array([weights[labels == c] @ points[labels == c] / m for c, m in zip(present, mass)])
        order = np.lexsort(support.T[::-1])
        support, mass = support[order], mass[order]
    keep = mass > 0
    return support[keep], mass[keep] / mass[keep].sum()


class ResidualLattice(MarkovLattice):
    """A Markov lattice of day paths whose nodes carry their within-cluster realisations as noise.

    Clustering: at each hour, probability-weighted k-means on the values standardised by that
    hour's mean and standard deviation over the paths (:func:`hour_scale`), so every variable has
    unit variance within the hour and none (wind in kW per turbine, against p1 whose variance is
    mostly its daily shape) dominates the clusters. Transitions are counted between consecutive
    hours as in :class:`scenarios.lattice.MarkovLattice`. ``node_values_`` are the nodes' mean
    values (original units).

    Noise: the node's support is the set of training realisations assigned to it, or, beyond
    ``max_noise`` distinct ones, the means of ``max_noise`` k-means sub-clusters with their masses
    (:func:`node_support`); the noise is stagewise independent given the node (SDDP samples it in
    the forward pass and averages over it in the backward pass, as SDDP.jl's Markovian graphs with
    noise terms).

    Learned attributes besides those of ``MarkovLattice``: ``noise_values_[t][k]`` (M, V),
    ``noise_probabilities_[t][k]`` (M,), ``hour_mean_`` and ``hour_std_`` (T, V).
    """

    def __init__(self, n_states=5, max_noise: int = MAX_NOISE_PER_NODE, std_floor: float = HOUR_STD_FLOOR,
                 n_init: int = 4, random_state=0):
        self.n_states = n_states
        self.max_noise = max_noise
        self.std_floor = std_floor
        self.n_init = n_init
        self.random_state = random_state

    def check_params(self) -> None:
        super().check_params()
        if isinstance(self.max_noise, bool) or not isinstance(self.max_noise, (int, np.integer)) or self.max_noise < 1:
            raise ValueError(f"max_noise = {self.max_noise!r}: must be a whole number >= 1 (noise points per node)")
        if not (0.0 < float(self.std_floor) <= 1.0):
            raise ValueError(f"std_floor = {self.std_floor!r}: must lie in (0, 1] (fraction of the all-hours std)")

    def fit(self, history, variables=None) -> "ResidualLattice":
        """Fit on a ScenarioSet of day paths (its probabilities weigh the paths)."""
        self.check_params()
        if not isinstance(history, ScenarioSet):
            raise TypeError(f"history must be a scenarios.ScenarioSet of day paths; got {type(history).__name__}")
        values, probs = history.values, history.probabilities
        mean, std = hour_scale(values, probs, float(self.std_floor))
        scaled = (values - mean) / std
        inner = MarkovLattice(n_states=self.n_states, standardise=False, n_init=self.n_init,
                              random_state=self.random_state).fit(
            ScenarioSet(scaled, probs, history.variables, period_hours=history.period_hours))
        labels = inner.labels_
        rng = np.random.default_rng(self.random_state if isinstance(self.random_state, (int, np.integer)) else 0)
        node_values, noise_values, noise_probs = [], [], []
        for t in range(values.shape[1]):
            K = inner.node_values_[t].shape[0]
            means, supports, masses = np.zeros((K, values.shape[2])), [], []
            for k in range(K):
                members = labels[:, t] == k
                w = probs[members]
                means[k] = w @ values[members, t] / w.sum()
                pts, p = node_support(values[members, t], w, scaled[members, t], int(self.max_noise),
                                      int(rng.integers(2**31 - 1)))
                supports.append(pts)
                masses.append(p)
            node_values.append(means)
            noise_values.append(supports)
            noise_probs.append(masses)
        self.transition_matrices_ = inner.transition_matrices_
        self.labels_ = labels
        self.variables_ = tuple(history.variables)
        self.period_hours_ = history.period_hours
        self.node_values_ = node_values
        self.noise_values_ = noise_values
        self.noise_probabilities_ = noise_probs
        self.hour_mean_, self.hour_std_ = mean, std
        return self


def node_noise(lattice, t: int, k: int):
    """(support (M, V), probabilities (M,)) of lattice node k at period t (0-based): the node's
    residual noise for a :class:`ResidualLattice`, its single value otherwise."""
    if hasattr(lattice, "noise_values_"):
        return lattice.noise_values_[t][k], lattice.noise_probabilities_[t][k]
    return lattice.node_values[t][k][None, :], np.ones(1)


def effective_paths(probabilities) -> float:
    """Effective number of paths, 1 / sum(p^2) (the number of paths when they are equiprobable)."""
    p = np.asarray(probabilities, dtype=float)
    p = p / p.sum()
    return float(1.0 / np.sum(p ** 2))


def allowed_states(n_states: int, n_paths: float, min_paths_per_node: int = MIN_PATHS_PER_NODE) -> int:
    """The rule for enough training paths per node: min(n_states, n_paths // min_paths_per_node), at least 1."""
    return max(1, min(int(n_states), int(np.floor(n_paths / min_paths_per_node + 1e-9))))


def fit_lattice(inputs: PolicyInputs, scenarios, n_states: int = 5, random_state: int = 0, *,
                max_noise: int = MAX_NOISE_PER_NODE, min_paths_per_node: int = MIN_PATHS_PER_NODE):
    """A :class:`ResidualLattice` fitted on the day paths of ``scenarios`` restricted to the model's
    variables, and the all-hours (mean, std) of each variable. ``n_states`` is cut to
    ``n_paths // min_paths_per_node`` (:func:`allowed_states`) with a warning and a note in
    ``inputs.notes``."""
    missing = [v for v in inputs.variables if v not in scenarios.variables]
    if missing:
        raise ValueError(f"scenarios lack the variables {missing} needed by the case; "
                         f"they have {list(scenarios.variables)}")
    if scenarios.n_periods != inputs.n_periods:
        raise ValueError(f"scenarios have {scenarios.n_periods} periods; the case has {inputs.n_periods}")
    if isinstance(min_paths_per_node, bool) or not isinstance(min_paths_per_node, (int, np.integer)) \
            or min_paths_per_node < 1:
        raise ValueError(f"min_paths_per_node = {min_paths_per_node!r}: must be a whole number >= 1")
    sub = scenarios.select_variables(list(inputs.variables))
    n_paths = effective_paths(sub.probabilities)
    used = allowed_states(n_states, n_paths, min_paths_per_node)
    if used < n_states:
        note = (f"lattice: n_states = {n_states} reduced to {used}: {n_paths:.0f} training paths and at least "
                f"{min_paths_per_node} paths per node; give {n_states * min_paths_per_node} training paths "
                f"for {n_states} states")
        warnings.warn(note, stacklevel=2)
        if note not in inputs.notes:
            inputs.notes.append(note)
    note = (f"lattice: k-means on values standardised by each hour's standard deviation over the paths; "
            f"each node carries up to {max_noise} of its training realisations as noise (stagewise "
            f"independent given the node); at least {min_paths_per_node} training paths per node "
            f"(n_states = min(requested, paths // {min_paths_per_node}) = {used})")
    if note not in inputs.notes:
        inputs.notes.append(note)
    lattice = ResidualLattice(n_states=used, max_noise=max_noise, random_state=random_state).fit(sub)
    flat = sub.values.reshape(-1, sub.values.shape[2])
    w = np.repeat(sub.probabilities, sub.n_periods) / sub.n_periods
    mean = w @ flat
    std = np.sqrt(w @ (flat - mean) ** 2)
    std[std <= 1e-9 * np.maximum(1.0, np.abs(mean))] = 1.0
    return lattice, (mean, std)


def build_policy_model(inputs: PolicyInputs, scenarios=None, lattice=None, scale=None,
                       n_states: int = 5, random_state: int = 0, *, max_noise: int = MAX_NOISE_PER_NODE,
                       min_paths_per_node: int = MIN_PATHS_PER_NODE) -> PolicyModel:
    """The Markovian policy graph of the battery policy (module docstring). The lattice is fitted on
    ``scenarios`` (:func:`fit_lattice`: ``n_states`` cut to ``n_paths // min_paths_per_node``, up to
    ``max_noise`` residual realisations per node) unless a fitted ``lattice`` is given; each node's
    subproblem has the node's noise support (:func:`node_noise`)."""
    if lattice is None:
        if scenarios is None:
            raise ValueError("give scenarios (a ScenarioSet of day paths) or a fitted lattice")
        if not (isinstance(n_states, int) and n_states >= 1):
            raise ValueError(f"n_states = {n_states!r}: must be a whole number >= 1")
        lattice, scale = fit_lattice(inputs, scenarios, n_states, random_state, max_noise=max_noise,
                                     min_paths_per_node=min_paths_per_node)
    if tuple(lattice.variables) != tuple(inputs.variables):
        raise ValueError(f"lattice variables {lattice.variables} differ from the model's {inputs.variables}")
    if scale is None:
        allv = np.concatenate(lattice.node_values)
        scale = (allv.mean(axis=0), np.where(allv.std(axis=0) > 1e-9, allv.std(axis=0), 1.0))
    T = inputs.n_periods
    if len(lattice.node_values) != T:
        raise ValueError(f"the lattice has {len(lattice.node_values)} stages; the case has {T} periods")
    bsites = inputs.battery_sites
    names = [f"soc:{inputs.site_names[i]}" for i in bsites] + ["peak_kw", "overrun_kw"]
    peak_hi = float(np.sum(inputs.connection_kw))
    stage_mins = stage_minimum_costs(inputs, lattice)
    lower_bound = cost_to_go_lower_bound(stage_mins)

    def build(sp, node):
        t, k = node
        soc_in, soc_out = {}, {}
        for i in bsites:
            b = inputs.battery[i]
            st = sp.add_state(f"soc:{inputs.site_names[i]}", b.soc_min_kwh, b.soc_max_kwh, b.initial_soc_kwh)
            soc_in[i], soc_out[i] = st.incoming, st.outgoing
        pk = sp.add_state("peak_kw", 0.0, peak_hi, 0.0)
        ov = sp.add_state("overrun_kw", 0.0, peak_hi, 0.0)
        hh = add_hour(sp, inputs, t - 1, soc_in, pk.incoming, soc_out, pk.outgoing, terminal=(t == T),
                      overrun=False, overrun_in=ov.incoming, overrun_out=ov.outgoing)
        support, probabilities = node_noise(lattice, t - 1, k - 1)
        sp.parameterize(list(support), probabilities, lambda sp_, w: apply_values(sp_, inputs, t - 1, hh, w))
        # names for recording (same in every node)
        sp.names["intraday_buy_kw"] = hh.buy
        sp.names["resale_kw"] = hh.sell
        for i in range(inputs.n_sites):
            sp.names[f"grid_kw:{inputs.site_names[i]}"] = hh.grid[i]
            sp.names[f"shed_kw:{inputs.site_names[i]}"] = hh.shed[i]
        for i, g in hh.generator.items():
            sp.names[f"generator_kw:{inputs.site_names[i]}"] = g
        for i in bsites:
            sp.names[f"charge_kw:{inputs.site_names[i]}"] = hh.charge[i]
            sp.names[f"discharge_kw:{inputs.site_names[i]}"] = hh.discharge[i]

    graph = MarkovianPolicyGraph(build, lattice.transition_matrices, sense="min", lower_bound=lower_bound)
    recorded = tuple(names) + ("intraday_buy_kw", "resale_kw", "stage_objective") + tuple(
        f"shed_kw:{n}" for n in inputs.site_names)
    return PolicyModel(graph, inputs, lattice, scale, tuple(names), recorded, stage_mins)


def add_initial_cuts(model: PolicyModel, path) -> None:
    """Warm start: a flat cut per node, theta >= E[sum of the later stages' least costs | node],
    written as a cut file and loaded with ``sddp.read_cuts`` (valid for every state)."""
    lat = model.lattice
    mins = model.stage_minima
    T = len(mins)
    below = np.zeros(lat.node_values[T - 1].shape[0])  # bound on cost-to-go after the last stage
    bounds = [None] * T
    bounds[T - 1] = below
    for t in range(T - 2, -1, -1):
        bounds[t] = lat.transition_matrices[t + 1] @ (mins[t + 1] + bounds[t + 1])
    x0 = dict(zip(model.graph.state_names, model.graph.initial_state.tolist()))
    entries = []
    for nd in model.graph.nodes:
        t, k = nd.key
        cuts = []
        if t < T:
            cuts.append({"intercept": float(bounds[t - 1][k - 1]),
                         "coefficients": {n: 0.0 for n in model.graph.state_names}, "state": x0})
        entries.append({"node": str(nd.key), "single_cuts": cuts, "multi_cuts": [], "risk_set_cuts": []})
    with open(path, "w") as f:
        json.dump(entries, f)
    read_cuts(model.graph, path)


def stage_minimum_costs(inputs: PolicyInputs, lattice) -> list:
    """Expected least cost of each stage and lattice node over every incoming state (relaxed
    states), with the stage model of :func:`build_policy_model` (overrun charged when incurred):
    the least cost of each noise realisation of the node, averaged with the noise probabilities
    (the noise is known when the stage decides, so this is a valid bound of the expected cost)."""
    T = inputs.n_periods
    peak_hi = float(np.sum(inputs.connection_kw))
    out = []
    for t in range(T):
        lp = LinearProgram()  # one LP per stage, its data changed in place (warm starts)
        soc_in = {i: lp.add_variable(inputs.battery[i].soc_min_kwh, inputs.battery[i].soc_max_kwh)
                  for i in inputs.battery_sites}
        peak_in = lp.add_variable(0.0, peak_hi)
        overrun_in = lp.add_variable(0.0, peak_hi)
        hh = add_hour(lp, inputs, t, soc_in, peak_in, terminal=(t == T - 1), overrun=False,
                      overrun_in=overrun_in)
        row = []
        for k in range(lattice.node_values[t].shape[0]):
            support, probabilities = node_noise(lattice, t, k)
            least = []
            for value in support:
                apply_values(lp, inputs, t, hh, value)
                least.append(lp.solve()[0])
            row.append(float(np.dot(probabilities, least)))
        out.append(np.array(row))
    return out


def cost_to_go_lower_bound(stage_minima) -> float:
    """A valid lower bound on every cost-to-go: the least suffix sum of the stages' least costs."""
    mins = [float(np.min(r)) for r in stage_minima]
    suffix = np.cumsum(mins[::-1])[::-1]
    return float(min(0.0, suffix[1:].min() if len(suffix) > 1 else 0.0)) - 1.0
