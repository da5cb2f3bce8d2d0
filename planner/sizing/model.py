"""The sizing MILP: first-stage sizes (PV modules, turbines of a chosen type, battery kWh/kW, generator kW,
subscribed power P) and, per scenario, operation on representative days over blocks of years with ageing.

Ageing stays linear in the decisions:
- PV available output x (1 - d_pv) ** year, wind x (1 - d_wind) ** year (mean over a block's years);
- battery: ``cap[y]`` (kWh usable at the start of year y) with ``cap[0] <= E`` and
  ``end[y] = cap[y] - calendar_fade * E - cycle_fade * throughput[y]`` (kWh lost per year at rest,
  plus per kWh discharged: cycle_fade per full equivalent cycle = per E kWh discharged); the state of
  charge of a block is bounded by the smallest ``end[y]`` of its years, so using the battery shrinks
  what the following years can use. A replacement binary ``r[y]`` installs a new battery of E kWh at
  the start of year y, at a cost ``c(y) * E`` that declines over time; without replacement the battery
  must not cross the end-of-life threshold (``end[y - 1] >= eol * E``, also in the last year).
  The replacements are modelled as a choice of battery lives (a path through the years, see
  ``planner.ageing.lives.build_battery_lives``): each life carries its own capacity and share of the
  throughput, so in the LP relaxation a fractional replacement is a fraction of a whole new battery, not
  a cheap partial refresh of the old one, and lives that calendar fade alone would take below end of
  life are left out.
Operation: per site and hour, grid exchange within the connection, renewables used <= available,
battery, generator (continuous dispatch: minimum load and start-ups are ignored over the long horizon),
links with losses, global purchases at p0 and resale at p2 (= p0 minus the contract's mean resale
discount and fee), energy charge f2 on imports, monthly overrun charge f3 on each month's peak above
threshold x P (a typical day constrains the peak of every month whose days it stands for), demand charge
f1 x P per billing period. Demand = each typical day's load column: base load + the production lines'
power scheduled by the day-ahead model on that day (``include_lines=True``, ``planner.sizing.lines``) or
their daily average power (``include_lines=False``); the model itself reads the load as given.
The battery's state-of-charge change, the links' inflow and the site balance are the physics of
``planner.blocks`` (``BatteryParameters.soc_change_kwh``, ``link_in_kw``, ``site_supply_kw``); the
blocks themselves are not used as they are: here sizes are variables, typical days are cyclic and the
generator has no unit commitment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from planner.ageing.lives import build_battery_lives
from planner.blocks.battery import battery_parameters
from planner.blocks.links import link_in_kw
from planner.blocks.site import site_supply_kw
from planner.case import Battery
import planner.sizing.economics as eco
from planner.sizing.inputs import DayTable, candidate_turbines, pv_module
from planner.stochastic.names import scenario_names_creator
from scenarios.wind import power_curve

DEFAULT_FUEL_EUR_PER_MWH = 95.0
OBJECTIVE_SCALE = 1e-3  # the solver sees kEUR (better scaled); results are reported in EUR
HOURS_PER_DAY = 24
PERIOD_HOURS = 1.0  # hourly typical days


@dataclass(frozen=True)
class SizingOptions:
    """How the sizing model is built."""

    years: int = 20
    years_per_block: int = 5
    ageing: bool = True
    integer: bool = True
    include_lines: bool = False  # True: the lines' scheduled profile is in the days' load (planner.sizing.lines)
    mip_rel_gap: float = 1e-3

    def blocks(self) -> list[list[int]]:
        return eco.year_blocks(self.years, self.years_per_block)


@dataclass
class SiteData:
    """What the model needs about a site's equipment and limits."""

    name: str
    module: dict
    n_modules_max: int
    pv_existing_kwp: float
    turbine_types: list
    turbine_kw: dict
    turbines_existing: dict
    max_turbines: int
    battery: Battery
    battery_existing_kwh: float
    battery_existing_kw: float
    max_battery_kwh: float
    max_battery_kw: float
    generator_existing_kw: float
    max_generator_kw: float
    fuel_eur_per_mwh: float
    grid_connection_kw: float

    @property
    def battery_possible(self) -> bool:
        return self.battery_existing_kwh + self.max_battery_kwh > 0

    @property
    def battery_max_total_kwh(self) -> float:
        return self.battery_existing_kwh + self.max_battery_kwh


def site_data(site) -> SiteData:
    """Equipment, candidates and limits of a site from the case."""
    lim = site.sizing
    mg = site.microgrid
    module = pv_module(lim.pv_module if lim is not None else None)
    if mg.pv is not None and mg.pv.module and lim is not None and lim.pv_module is None:
        module = pv_module(mg.pv.module)
    n_max = 0
    if lim is not None and lim.max_pv_kwp > 0:
        n_max = int(math.floor(lim.max_pv_kwp / module["kwp"] + 1e-9))
        if lim.roof_area_m2 is not None:
            n_max = min(n_max, int(math.floor(lim.roof_area_m2 / module["area_m2"] + 1e-9)))
    types = candidate_turbines(site)
    existing = {t: 0 for t in types}
    for w in mg.wind:
        existing[w.turbine_type] += int(w.count)
    bat = mg.battery if mg.battery is not None else Battery(energy_kwh=0.0, power_kw=0.0)
    gen = site.generator
    return SiteData(
        name=site.name, module=module, n_modules_max=n_max,
        pv_existing_kwp=float(mg.pv.kwp) if mg.pv is not None else 0.0,
        turbine_types=types, turbine_kw={t: float(power_curve(t)[2]) for t in types},
        turbines_existing=existing, max_turbines=int(lim.max_turbines) if lim is not None else 0,
        battery=bat, battery_existing_kwh=float(bat.energy_kwh), battery_existing_kw=float(bat.power_kw),
        max_battery_kwh=float(lim.max_battery_kwh) if lim is not None else 0.0,
        max_battery_kw=float(lim.max_battery_kw) if lim is not None else 0.0,
        generator_existing_kw=float(gen.capacity_kw) if gen is not None else 0.0,
        max_generator_kw=float(lim.max_generator_kw) if lim is not None else 0.0,
        fuel_eur_per_mwh=float(gen.fuel_cost_eur_per_mwh) if gen is not None else DEFAULT_FUEL_EUR_PER_MWH,
        grid_connection_kw=float(site.grid_connection_kw),
    )


# ------------------------------------------------------------------------------------------------
# First stage
# ------------------------------------------------------------------------------------------------
def build_first_stage(m: pyo.ConcreteModel, case, sites: list[SiteData], options: SizingOptions) -> None:
    """Size variables and their cost (capital, fixed O&M over the horizon, salvage, demand charge)."""
    add_size_variables(m, sites, options)
    add_installed_capacities(m)
    add_first_stage_cost(m, case, options)


def add_size_variables(m, sites: list[SiteData], options: SizingOptions) -> None:
    """What is built per site (PV modules, turbines of at most one type, battery kWh/kW, generator kW)
    and the subscribed power P."""
    domain = pyo.NonNegativeIntegers if options.integer else pyo.NonNegativeReals
    bdomain = pyo.Binary if options.integer else pyo.UnitInterval
    m.SITES = pyo.Set(initialize=[s.name for s in sites], ordered=True)
    sd = {s.name: s for s in sites}
    m.site_data = sd
    m.n_pv_modules = pyo.Var(m.SITES, domain=domain, bounds=lambda m, i: (0, sd[i].n_modules_max))
    pairs = [(s.name, t) for s in sites for t in s.turbine_types]
    m.WT = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.n_turbines = pyo.Var(m.WT, domain=domain, bounds=lambda m, i, t: (0, sd[i].max_turbines))
    m.turbine_choice = pyo.Var(m.WT, domain=bdomain)
    m.one_turbine_type = pyo.Constraint(
        m.SITES, rule=lambda m, i: sum(m.turbine_choice[i, t] for t in sd[i].turbine_types) <= 1
        if sd[i].turbine_types else pyo.Constraint.Skip)
    m.turbines_of_chosen_type = pyo.Constraint(
        m.WT, rule=lambda m, i, t: m.n_turbines[i, t] <= sd[i].max_turbines * m.turbine_choice[i, t])
    m.battery_new_kwh = pyo.Var(m.SITES, bounds=lambda m, i: (0.0, sd[i].max_battery_kwh))
    m.battery_new_kw = pyo.Var(m.SITES, bounds=lambda m, i: (0.0, sd[i].max_battery_kw))
    m.generator_new_kw = pyo.Var(m.SITES, bounds=lambda m, i: (0.0, sd[i].max_generator_kw))
    conn = sum(s.grid_connection_kw for s in sites)
    m.subscribed_kw = pyo.Var(bounds=(0.0, None if math.isinf(conn) else conn))


def add_installed_capacities(m) -> None:
    """New and total (existing + new) capacities per site, in kWp, kW and kWh."""
    sd = m.site_data
    m.pv_new_kwp = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].module["kwp"] * m.n_pv_modules[i])
    m.wind_new_kw = pyo.Expression(
        m.SITES, rule=lambda m, i: sum(sd[i].turbine_kw[t] * m.n_turbines[i, t] for t in sd[i].turbine_types))
    m.battery_kwh = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].battery_existing_kwh + m.battery_new_kwh[i])
    m.battery_kw = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].battery_existing_kw + m.battery_new_kw[i])
    m.generator_kw = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].generator_existing_kw + m.generator_new_kw[i])
    m.pv_kwp = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].pv_existing_kwp + m.pv_new_kwp[i])
    m.wind_kw = pyo.Expression(m.SITES, rule=lambda m, i: sum(
        sd[i].turbine_kw[t] * sd[i].turbines_existing[t] for t in sd[i].turbine_types) + m.wind_new_kw[i])


def add_first_stage_cost(m, case, options: SizingOptions) -> None:
    """Capital costs, fixed O&M over the horizon, salvage of PV, wind and generators, demand charge."""
    e = case.economics
    Y = options.years
    r = e.discount_rate
    annuity = eco.annuity_factor(Y, r)
    end_df = eco.end_discount_factor(Y, r)
    pv_salv = eco.linear_salvage_fraction(e.pv_lifetime_years, Y, e.salvage) * end_df
    wind_salv = eco.linear_salvage_fraction(e.wind_lifetime_years, Y, e.salvage) * end_df
    gen_salv = eco.linear_salvage_fraction(e.generator_lifetime_years, Y, e.salvage) * end_df
    m.capex_pv_eur = pyo.Expression(expr=sum(e.pv_capex_eur_per_kwp * m.pv_new_kwp[i] for i in m.SITES))
    m.capex_wind_eur = pyo.Expression(expr=sum(e.wind_capex_eur_per_kw * m.wind_new_kw[i] for i in m.SITES))
    m.capex_battery_eur = pyo.Expression(expr=sum(e.battery_capex_eur_per_kwh * m.battery_new_kwh[i]
                                                  + e.battery_capex_eur_per_kw * m.battery_new_kw[i] for i in m.SITES))
    m.capex_generator_eur = pyo.Expression(expr=sum(e.generator_capex_eur_per_kw * m.generator_new_kw[i] for i in m.SITES))
    m.fixed_om_eur = pyo.Expression(expr=annuity * sum(
        e.pv_opex_eur_per_kwp_year * m.pv_kwp[i] + e.wind_opex_eur_per_kw_year * m.wind_kw[i]
        + e.battery_opex_eur_per_kwh_year * m.battery_kwh[i] + e.generator_opex_eur_per_kw_year * m.generator_kw[i]
        for i in m.SITES))
    m.salvage_fixed_eur = pyo.Expression(expr=pv_salv * m.capex_pv_eur + wind_salv * m.capex_wind_eur
                                         + gen_salv * m.capex_generator_eur)
    c = case.contract
    periods_per_year = 365.0 / c.billing_period_days
    m.demand_charge_eur = pyo.Expression(expr=annuity * periods_per_year * c.demand_charge_eur_per_kw_month * m.subscribed_kw)
    m.first_stage_cost = pyo.Expression(
        expr=m.capex_pv_eur + m.capex_wind_eur + m.capex_battery_eur + m.capex_generator_eur
        + m.fixed_om_eur - m.salvage_fixed_eur + m.demand_charge_eur)


def first_stage_vars(m) -> list:
    """The nonanticipative variables (for mpi-sppy), integers first."""
    out = [m.n_pv_modules[i] for i in m.SITES] + [m.n_turbines[k] for k in m.WT] + [m.turbine_choice[k] for k in m.WT]
    out += [m.battery_new_kwh[i] for i in m.SITES] + [m.battery_new_kw[i] for i in m.SITES]
    out += [m.generator_new_kw[i] for i in m.SITES] + [m.subscribed_kw]
    return out


# ------------------------------------------------------------------------------------------------
# Second stage: one scenario, one function per constraint family
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Horizon:
    """A scenario's years grouped into blocks operated on the same typical days, and their discounting."""

    years: int
    blocks: list            # years of each block
    n_days: int             # typical days
    weights: np.ndarray     # days of the year each typical day stands for
    block_of: dict          # year -> block
    df_block: np.ndarray    # discount factor of a block's yearly cash flow (sum over its years)
    df_start: np.ndarray    # discount factor at the start of each year (replacements)
    end_df: float           # discount factor at the horizon's end (salvage)


def horizon(case, days: DayTable, options: SizingOptions) -> Horizon:
    """The blocks, typical days and discount factors of a scenario (``case.economics.discount_rate``)."""
    r = case.economics.discount_rate
    blocks = options.blocks()
    df_year = eco.year_discount_factors(options.years, r)
    return Horizon(years=options.years, blocks=blocks, n_days=days.n_days, weights=days.weights,
                   block_of={y: k for k, blk in enumerate(blocks) for y in blk},
                   df_block=np.array([df_year[blk].sum() for blk in blocks]),
                   df_start=eco.start_discount_factors(options.years, r),
                   end_df=eco.end_discount_factor(options.years, r))


def build_scenario_block(b: pyo.Block, m, case, days: DayTable, options: SizingOptions) -> pyo.Block:
    """Operation and ageing of one scenario over the horizon (years grouped into blocks)."""
    hz = horizon(case, days, options)
    b.B = pyo.Set(initialize=range(len(hz.blocks)), ordered=True)
    b.T = pyo.Set(initialize=[(k, d, h) for k in b.B for d in range(hz.n_days) for h in range(HOURS_PER_DAY)],
                  dimen=3, ordered=True)
    b.BAT = pyo.Set(initialize=[i for i in m.SITES if m.site_data[i].battery_possible], ordered=True)
    b.GEN = pyo.Set(initialize=[i for i in m.SITES if m.site_data[i].generator_existing_kw
                                + m.site_data[i].max_generator_kw > 0], ordered=True)
    add_sizes_per_block(b, m)
    add_renewables(b, m, case, days, options)
    add_battery_operation(b, m)
    add_battery_ageing(b, m, hz, options)
    add_generators(b)
    add_links(b, case)
    add_site_balance(b, m, case, days)
    add_contract(b, m, case, days)
    add_operating_costs(b, m, case, days, hz, options)
    b.block_of_year = hz.block_of
    return b


def add_sizes_per_block(b, m) -> None:
    """Local copies of the sizes, one per year block, for the hourly limits: each size column then has
    a few hundred entries instead of one per hour of every scenario, which keeps the extensive form's
    LP relaxation sparse for the interior point method (dense columns made it grow superlinearly with
    the number of scenarios). Equalities tie the copies to the first-stage variables."""
    b.pv_kwp_k = pyo.Var(m.SITES, b.B)
    b.pv_kwp_k_def = pyo.Constraint(m.SITES, b.B, rule=lambda b, i, k: b.pv_kwp_k[i, k] == m.pv_kwp[i])
    b.turbines_k = pyo.Var(m.WT, b.B)
    b.turbines_k_def = pyo.Constraint(m.WT, b.B, rule=lambda b, i, t, k: b.turbines_k[i, t, k] == m.n_turbines[i, t])
    b.battery_kw_k = pyo.Var(b.BAT, b.B)
    b.battery_kw_k_def = pyo.Constraint(b.BAT, b.B, rule=lambda b, i, k: b.battery_kw_k[i, k] == m.battery_kw[i])
    b.generator_kw_k = pyo.Var(b.GEN, b.B)
    b.generator_kw_k_def = pyo.Constraint(b.GEN, b.B, rule=lambda b, i, k: b.generator_kw_k[i, k] == m.generator_kw[i])


def add_renewables(b, m, case, days: DayTable, options: SizingOptions) -> None:
    """Renewables used <= available: PV kWp x capacity factor and turbines x output per turbine, each
    derated by its yearly degradation (mean over a block's years)."""
    e = case.economics
    sd = m.site_data
    blocks = options.blocks()
    pv_derate = eco.derate_by_block(blocks, e.pv_degradation_per_year if options.ageing else 0.0)
    wind_derate = eco.derate_by_block(blocks, e.wind_degradation_per_year if options.ageing else 0.0)
    pv_cf = {i: days.values[f"pv_kw_per_kwp:{i}"] for i in m.SITES}
    wind_cf = {(i, t): days.values[f"wind_kw_per_turbine:{i}:{t}"] for i in m.SITES for t in sd[i].turbine_types}
    b.renewables_kw = pyo.Var(m.SITES, b.T, bounds=(0.0, None))

    def available(b, i, k, d, h):
        avail = pv_derate[k] * pv_cf[i][d, h] * b.pv_kwp_k[i, k]
        for t in sd[i].turbine_types:
            per = wind_derate[k] * wind_cf[i, t][d, h]
            avail = avail + per * (sd[i].turbines_existing[t] + b.turbines_k[i, t, k])
        return b.renewables_kw[i, k, d, h] <= avail

    b.renewables_limit = pyo.Constraint(m.SITES, b.T, rule=available)


def add_battery_operation(b, m) -> None:
    """Charge and discharge within the battery's power; state of charge by ``planner.blocks``' battery
    physics, each typical day cyclic (the hour before 0 is 23)."""
    physics = {i: battery_parameters(m.site_data[i].battery) for i in b.BAT}
    b.charge_kw = pyo.Var(b.BAT, b.T, bounds=(0.0, None))
    b.discharge_kw = pyo.Var(b.BAT, b.T, bounds=(0.0, None))
    b.soc_kwh = pyo.Var(b.BAT, b.T, bounds=(0.0, None))
    b.charge_limit = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.charge_kw[i, k, d, h] <= b.battery_kw_k[i, k])
    b.discharge_limit = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.discharge_kw[i, k, d, h] <= b.battery_kw_k[i, k])
    b.soc_balance = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.soc_kwh[i, k, d, h]
                                   == b.soc_kwh[i, k, d, (h - 1) % HOURS_PER_DAY]
                                   + physics[i].soc_change_kwh(b.charge_kw[i, k, d, h], b.discharge_kw[i, k, d, h],
                                                               PERIOD_HOURS))


def add_battery_ageing(b, m, hz: Horizon, options: SizingOptions) -> None:
    """Usable capacity per year (battery lives with replacements when ageing, else the installed kWh),
    each block's capacity the smallest of its years', and the state-of-charge window within it."""
    sd = m.site_data
    w, nd = hz.weights, hz.n_days
    b.Y = pyo.Set(initialize=range(hz.years), ordered=True)
    b.Y1 = pyo.Set(initialize=range(1, hz.years), ordered=True)
    b.block_capacity_kwh = pyo.Var(b.BAT, b.B, bounds=(0.0, None))
    b.throughput_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, y: sum(
        w[d] * b.discharge_kw[i, hz.block_of[y], d, h] * PERIOD_HOURS for d in range(nd) for h in range(HOURS_PER_DAY)))
    if options.ageing:
        bat = {i: sd[i].battery for i in b.BAT}
        build_battery_lives(b, m.battery_new_kwh, existing_kwh={i: sd[i].battery_existing_kwh for i in b.BAT},
                            max_new_kwh={i: sd[i].max_battery_kwh for i in b.BAT},
                            cal={i: bat[i].calendar_fade_per_year for i in b.BAT},
                            cyc={i: bat[i].cycle_fade_per_cycle for i in b.BAT},
                            eol={i: bat[i].end_of_life_soh for i in b.BAT}, years=hz.years, integer=options.integer)
    else:
        b.capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, y: m.battery_kwh[i])
        b.end_capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, y: m.battery_kwh[i])
    b.BAT_Y = pyo.Set(initialize=[(i, y) for i in b.BAT for y in b.Y], dimen=2, ordered=True)
    b.block_capacity_def = pyo.Constraint(
        b.BAT_Y, rule=lambda b, i, y: b.block_capacity_kwh[i, hz.block_of[y]] <= b.end_capacity_kwh[i, y])
    # typical days are cyclic, so only the SoC window matters: soc_kwh counts the energy above the
    # minimum state of charge, within (soc_max - soc_min) x the block's usable capacity
    b.soc_max = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.soc_kwh[i, k, d, h]
                               <= (sd[i].battery.soc_max_fraction - sd[i].battery.soc_min_fraction)
                               * b.block_capacity_kwh[i, k])


def add_generators(b) -> None:
    """Continuous generator dispatch within the installed power (no minimum load or start-ups over the
    long horizon, unlike ``planner.blocks.generator``)."""
    b.generator_kw = pyo.Var(b.GEN, b.T, bounds=(0.0, None))
    b.generator_limit = pyo.Constraint(b.GEN, b.T, rule=lambda b, i, k, d, h: b.generator_kw[i, k, d, h] <= b.generator_kw_k[i, k])


def add_links(b, case) -> None:
    """Power sent over each link in each direction (s = 0: site_a -> site_b, s = 1: back), within its capacity."""
    cap = [float(ln.capacity_kw) for ln in case.links]
    b.L = pyo.Set(initialize=[(j, s) for j in range(len(cap)) for s in (0, 1)], dimen=2, ordered=True)
    b.flow_kw = pyo.Var(b.L, b.T, bounds=lambda b, j, s, k, d, h: (0.0, cap[j]))


def add_site_balance(b, m, case, days: DayTable) -> None:
    """Per site and hour: grid + links + generator + renewables + battery = demand (``site_supply_kw``),
    the grid exchange within the site's connection."""
    sd = m.site_data
    load = {i: days.values[f"load_kw:{i}"] for i in m.SITES}
    ends = [(ln.site_a, ln.site_b, ln.loss_fraction) for ln in case.links]
    n_links = len(ends)

    def grid_bounds(b, i, k, d, h):
        cap = sd[i].grid_connection_kw
        return (None, None) if math.isinf(cap) else (-cap, cap)

    b.grid_kw = pyo.Var(m.SITES, b.T, bounds=grid_bounds)

    def balance(b, i, k, d, h):
        links_kw = link_in_kw(ends, i, [b.flow_kw[j, 0, k, d, h] for j in range(n_links)],
                              [b.flow_kw[j, 1, k, d, h] for j in range(n_links)])
        supply = site_supply_kw(
            b.grid_kw[i, k, d, h], links_kw,
            generator_kw=b.generator_kw[i, k, d, h] if i in b.GEN else 0.0,
            renewables_kw=b.renewables_kw[i, k, d, h],
            battery_net_kw=b.discharge_kw[i, k, d, h] - b.charge_kw[i, k, d, h] if i in b.BAT else 0.0)
        return supply == float(load[i][d, h])

    b.balance = pyo.Constraint(m.SITES, b.T, rule=balance)


def add_contract(b, m, case, days: DayTable) -> None:
    """Global purchases and resale (their difference = the sites' grid exchange), the hard peak cap,
    the monthly peaks of purchases and their overrun above threshold x P."""
    c = case.contract
    nb, nd = len(b.B), days.n_days
    b.buy_kw = pyo.Var(b.T, bounds=(0.0, None))
    b.sell_kw = pyo.Var(b.T, bounds=(0.0, None))
    b.contract_balance = pyo.Constraint(
        b.T, rule=lambda b, k, d, h: b.buy_kw[k, d, h] - b.sell_kw[k, d, h] == sum(b.grid_kw[i, k, d, h] for i in m.SITES))
    if c.peak_cap_kw is not None:
        b.peak_cap = pyo.Constraint(b.T, rule=lambda b, k, d, h: b.buy_kw[k, d, h] <= c.peak_cap_kw)
    months = [mo for mo in range(12) if days.month_days[mo].sum() > 0]
    b.MONTHS = pyo.Set(initialize=months, ordered=True)
    b.peak_kw = pyo.Var(b.B, b.MONTHS, bounds=(0.0, None))
    b.overrun_kw = pyo.Var(b.B, b.MONTHS, bounds=(0.0, None))
    b.BD = pyo.Set(initialize=[(k, d) for k in range(nb) for d in range(nd)], dimen=2, ordered=True)
    b.day_peak_kw = pyo.Var(b.BD, bounds=(0.0, None))
    b.day_peak_def = pyo.Constraint(b.T, rule=lambda b, k, d, h: b.day_peak_kw[k, d] >= b.buy_kw[k, d, h])
    b.PEAK_D = pyo.Set(initialize=[(k, mo, d) for k in range(nb) for mo in months for d in range(nd)
                                   if days.month_days[mo, d] > 0], dimen=3, ordered=True)
    b.peak_def = pyo.Constraint(
        b.PEAK_D, rule=lambda b, k, mo, d: b.peak_kw[k, mo] >= b.day_peak_kw[k, d])
    b.overrun_def = pyo.Constraint(b.B, b.MONTHS, rule=lambda b, k, mo: b.overrun_kw[k, mo]
                                   >= b.peak_kw[k, mo] - c.overrun_threshold * m.subscribed_kw)


def add_operating_costs(b, m, case, days: DayTable, hz: Horizon, options: SizingOptions) -> None:
    """Each block's yearly operating cost (EUR/year: purchases, resale, energy and overrun charges,
    fuel), their present values, battery replacements and salvage; ``cost_eur`` = the scenario's cost."""
    e = case.economics
    c = case.contract
    sd = m.site_data
    w, nd, H = hz.weights, hz.n_days, HOURS_PER_DAY
    price = days.values["p0_eur_per_mwh"]
    rs = c.resale
    resale = price - rs.discount_ratio_mean * np.abs(price) - rs.fee_eur_per_mwh
    months_factor = 365.0 / (12.0 * c.billing_period_days)
    b.purchase_eur = pyo.Expression(b.B, rule=lambda b, k: sum(
        w[d] * price[d, h] * PERIOD_HOURS / 1000.0 * b.buy_kw[k, d, h] for d in range(nd) for h in range(H)))
    b.resale_eur = pyo.Expression(b.B, rule=lambda b, k: sum(
        w[d] * resale[d, h] * PERIOD_HOURS / 1000.0 * b.sell_kw[k, d, h] for d in range(nd) for h in range(H)))
    b.energy_charge_eur = pyo.Expression(b.B, rule=lambda b, k: c.energy_charge_eur_per_kwh * sum(
        w[d] * PERIOD_HOURS * b.buy_kw[k, d, h] for d in range(nd) for h in range(H)))
    b.overrun_charge_eur = pyo.Expression(b.B, rule=lambda b, k: months_factor * c.overrun_charge_eur_per_kw
                                          * sum(b.overrun_kw[k, mo] for mo in b.MONTHS))
    b.fuel_eur = pyo.Expression(b.B, rule=lambda b, k: sum(
        sd[i].fuel_eur_per_mwh * PERIOD_HOURS / 1000.0 * w[d] * b.generator_kw[i, k, d, h]
        for i in b.GEN for d in range(nd) for h in range(H)))
    b.demand_mwh = float(sum(np.sum(w[:, None] * days.values[f"load_kw:{i}"]) for i in m.SITES)) * PERIOD_HOURS / 1000.0
    # discounted components (EUR, present value)
    df_block = hz.df_block
    b.pv_purchase_eur = pyo.Expression(expr=sum(df_block[k] * b.purchase_eur[k] for k in b.B))
    b.pv_resale_eur = pyo.Expression(expr=sum(df_block[k] * b.resale_eur[k] for k in b.B))
    b.pv_energy_charge_eur = pyo.Expression(expr=sum(df_block[k] * b.energy_charge_eur[k] for k in b.B))
    b.pv_overrun_charge_eur = pyo.Expression(expr=sum(df_block[k] * b.overrun_charge_eur[k] for k in b.B))
    b.pv_fuel_eur = pyo.Expression(expr=sum(df_block[k] * b.fuel_eur[k] for k in b.B))
    Y = hz.years
    if options.ageing:
        b.pv_replacement_eur = pyo.Expression(expr=sum(
            hz.df_start[y] * eco.battery_unit_cost_eur_per_kwh(e, y) * b.replaced_kwh[i, y] for i in b.BAT for y in range(1, Y)))
    else:
        b.pv_replacement_eur = pyo.Expression(expr=0.0)
    # battery salvage: remaining life above end of life, valued at the (declined) cost at the horizon
    if e.salvage == "linear":
        eol = {i: sd[i].battery.end_of_life_soh for i in b.BAT}
        b.pv_battery_salvage_eur = pyo.Expression(expr=hz.end_df * sum(
            eco.battery_unit_cost_eur_per_kwh(e, Y) / (1.0 - eol[i])
            * (b.end_capacity_kwh[i, Y - 1] - eol[i] * m.battery_kwh[i]) for i in b.BAT))
    else:
        b.pv_battery_salvage_eur = pyo.Expression(expr=0.0)
    b.pv_demand_mwh = float(sum(df_block[k] for k in range(len(hz.blocks)))) * b.demand_mwh
    b.cost_eur = pyo.Expression(expr=b.pv_purchase_eur - b.pv_resale_eur + b.pv_energy_charge_eur
                                + b.pv_overrun_charge_eur + b.pv_fuel_eur + b.pv_replacement_eur - b.pv_battery_salvage_eur)


# ------------------------------------------------------------------------------------------------
# Whole models
# ------------------------------------------------------------------------------------------------
def build_extensive_form(case, day_tables: list, probabilities, options: SizingOptions, names=None) -> pyo.ConcreteModel:
    """First stage + one block per scenario; objective: expected NPV of cost.

    Built here rather than by ``planner.stochastic.ef.build_ef`` (mpi-sppy's ``create_EF``): create_EF
    copies the sizes into every scenario and ties the copies by equalities, while this form shares one
    first stage among the scenario blocks (a smaller LP) and is the one EF-shaped model that
    relax-and-fix, the decomposed and PH methods load their answers into and ``extract_result`` reads."""
    m = pyo.ConcreteModel("sizing_ef")
    build_first_stage(m, case, [site_data(s) for s in case.sites], options)
    names = list(names) if names is not None else scenario_names_creator(len(day_tables))
    m.SCEN = pyo.Set(initialize=names, ordered=True)
    m.scen = pyo.Block(m.SCEN)
    m.probability = dict(zip(names, map(float, probabilities)))
    for name, days in zip(names, day_tables):
        build_scenario_block(m.scen[name], m, case, days, options)
    m.npv_eur = pyo.Expression(expr=m.first_stage_cost + sum(m.probability[s] * m.scen[s].cost_eur for s in m.SCEN))
    m.objective = pyo.Objective(expr=OBJECTIVE_SCALE * m.npv_eur, sense=pyo.minimize)
    return m


def build_scenario_model(case, days: DayTable, options: SizingOptions, name: str = "scen0",
                         probability: float = 1.0) -> pyo.ConcreteModel:
    """First stage + one scenario (the model mpi-sppy's scenario_creator returns)."""
    m = pyo.ConcreteModel(name)
    build_first_stage(m, case, [site_data(s) for s in case.sites], options)
    m.SCEN = pyo.Set(initialize=[name], ordered=True)
    m.scen = pyo.Block(m.SCEN)
    m.probability = {name: probability}
    build_scenario_block(m.scen[name], m, case, days, options)
    m.npv_eur = pyo.Expression(expr=m.first_stage_cost + m.scen[name].cost_eur)
    m.objective = pyo.Objective(expr=OBJECTIVE_SCALE * m.npv_eur, sense=pyo.minimize)
    return m
