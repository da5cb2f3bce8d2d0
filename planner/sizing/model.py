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
  ``_build_battery_lives``): each life carries its own capacity and share of the throughput, so in the
  LP relaxation a fractional replacement is a fraction of a whole new battery, not a cheap partial
  refresh of the old one, and lives that calendar fade alone would take below end of life are left out.
Operation: per site and hour, grid exchange within the connection, renewables used <= available,
battery, generator (continuous dispatch: minimum load and start-ups are ignored over the long horizon),
links with losses, global purchases at p0 and resale at p2 (= p0 minus the contract's mean resale
discount and fee), energy charge f2 on imports, monthly overrun charge f3 on each month's peak above
threshold x P (a typical day constrains the peak of every month whose days it stands for), demand charge
f1 x P per billing period. Demand = base load + the lines' average power (``include_lines=False``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from planner.case import Battery
from planner.sizing import economics as eco
from planner.sizing.inputs import DayTable, candidate_turbines, pv_module

DEFAULT_FUEL_EUR_PER_MWH = 95.0
OBJECTIVE_SCALE = 1e-3  # the solver sees kEUR (better scaled); results are reported in EUR


@dataclass(frozen=True)
class SizingOptions:
    """How the sizing model is built."""

    years: int = 20
    years_per_block: int = 5
    ageing: bool = True
    integer: bool = True
    include_lines: bool = False
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
    from scenarios.wind import power_curve

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
    e = case.economics
    Y = options.years
    r = e.discount_rate
    annuity = eco.annuity_factor(Y, r)
    end_df = eco.end_discount_factor(Y, r)
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
    m.pv_new_kwp = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].module["kwp"] * m.n_pv_modules[i])
    m.wind_new_kw = pyo.Expression(
        m.SITES, rule=lambda m, i: sum(sd[i].turbine_kw[t] * m.n_turbines[i, t] for t in sd[i].turbine_types))
    m.battery_kwh = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].battery_existing_kwh + m.battery_new_kwh[i])
    m.battery_kw = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].battery_existing_kw + m.battery_new_kw[i])
    m.generator_kw = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].generator_existing_kw + m.generator_new_kw[i])
    m.pv_kwp = pyo.Expression(m.SITES, rule=lambda m, i: sd[i].pv_existing_kwp + m.pv_new_kwp[i])
    m.wind_kw = pyo.Expression(m.SITES, rule=lambda m, i: sum(
        sd[i].turbine_kw[t] * sd[i].turbines_existing[t] for t in sd[i].turbine_types) + m.wind_new_kw[i])

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
# Second stage: one scenario
# ------------------------------------------------------------------------------------------------
def build_scenario_block(b: pyo.Block, m, case, days: DayTable, options: SizingOptions) -> pyo.Block:
    """Operation and ageing of one scenario over the horizon (years grouped into blocks)."""
    e = case.economics
    c = case.contract
    sd = m.site_data
    Y = options.years
    blocks = options.blocks()
    nb, nd = len(blocks), days.n_days
    r = e.discount_rate
    df_year = eco.year_discount_factors(Y, r)
    df_block = np.array([df_year[blk].sum() for blk in blocks])
    df_start = eco.start_discount_factors(Y, r)
    end_df = eco.end_discount_factor(Y, r)
    pv_rate = e.pv_degradation_per_year if options.ageing else 0.0
    wind_rate = e.wind_degradation_per_year if options.ageing else 0.0
    pv_derate = eco.derate_by_block(blocks, pv_rate)
    wind_derate = eco.derate_by_block(blocks, wind_rate)
    w = days.weights
    H = 24
    T = [(k, d, h) for k in range(nb) for d in range(nd) for h in range(H)]
    b.B = pyo.Set(initialize=range(nb), ordered=True)
    b.T = pyo.Set(initialize=T, dimen=3, ordered=True)
    sites = list(m.SITES)
    price = days.values["p0_eur_per_mwh"]
    rs = case.contract.resale
    resale = price - rs.discount_ratio_mean * np.abs(price) - rs.fee_eur_per_mwh

    def grid_bounds(b, i, k, d, h):
        cap = sd[i].grid_connection_kw
        return (None, None) if math.isinf(cap) else (-cap, cap)

    b.grid_kw = pyo.Var(m.SITES, b.T, bounds=grid_bounds)
    b.renewables_kw = pyo.Var(m.SITES, b.T, bounds=(0.0, None))
    pv_cf = {i: days.values[f"pv_kw_per_kwp:{i}"] for i in sites}
    wind_cf = {(i, t): days.values[f"wind_kw_per_turbine:{i}:{t}"] for i in sites for t in sd[i].turbine_types}
    load = {i: days.values[f"load_kw:{i}"] for i in sites}

    # Local copies of the sizes, one per year block, for the hourly limits: each size column then has a
    # few hundred entries instead of one per hour of every scenario, which keeps the extensive form's
    # LP relaxation sparse for the interior point method (dense columns made it grow superlinearly
    # with the number of scenarios). Equalities tie the copies to the first-stage variables.
    b.pv_kwp_k = pyo.Var(m.SITES, b.B)
    b.pv_kwp_k_def = pyo.Constraint(m.SITES, b.B, rule=lambda b, i, k: b.pv_kwp_k[i, k] == m.pv_kwp[i])
    b.turbines_k = pyo.Var(m.WT, b.B)
    b.turbines_k_def = pyo.Constraint(m.WT, b.B, rule=lambda b, i, t, k: b.turbines_k[i, t, k] == m.n_turbines[i, t])

    def ren_rule(b, i, k, d, h):
        avail = pv_derate[k] * pv_cf[i][d, h] * b.pv_kwp_k[i, k]
        for t in sd[i].turbine_types:
            per = wind_derate[k] * wind_cf[i, t][d, h]
            avail = avail + per * (sd[i].turbines_existing[t] + b.turbines_k[i, t, k])
        return b.renewables_kw[i, k, d, h] <= avail

    b.renewables_limit = pyo.Constraint(m.SITES, b.T, rule=ren_rule)

    bat_sites = [i for i in sites if sd[i].battery_possible]
    gen_sites = [i for i in sites if sd[i].generator_existing_kw + sd[i].max_generator_kw > 0]
    b.BAT = pyo.Set(initialize=bat_sites, ordered=True)
    b.GEN = pyo.Set(initialize=gen_sites, ordered=True)
    b.charge_kw = pyo.Var(b.BAT, b.T, bounds=(0.0, None))
    b.discharge_kw = pyo.Var(b.BAT, b.T, bounds=(0.0, None))
    b.soc_kwh = pyo.Var(b.BAT, b.T, bounds=(0.0, None))
    b.battery_kw_k = pyo.Var(b.BAT, b.B)
    b.battery_kw_k_def = pyo.Constraint(b.BAT, b.B, rule=lambda b, i, k: b.battery_kw_k[i, k] == m.battery_kw[i])
    b.charge_limit = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.charge_kw[i, k, d, h] <= b.battery_kw_k[i, k])
    b.discharge_limit = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.discharge_kw[i, k, d, h] <= b.battery_kw_k[i, k])

    def soc_rule(b, i, k, d, h):
        bat = sd[i].battery
        prev = b.soc_kwh[i, k, d, (h - 1) % H]  # each typical day is cyclic
        return b.soc_kwh[i, k, d, h] == prev + bat.charge_efficiency * b.charge_kw[i, k, d, h] \
            - b.discharge_kw[i, k, d, h] / bat.discharge_efficiency

    b.soc_balance = pyo.Constraint(b.BAT, b.T, rule=soc_rule)
    # ageing of the battery: usable capacity per year
    b.Y = pyo.Set(initialize=range(Y), ordered=True)
    b.Y1 = pyo.Set(initialize=range(1, Y), ordered=True)
    b.block_capacity_kwh = pyo.Var(b.BAT, b.B, bounds=(0.0, None))
    block_of = {y: k for k, blk in enumerate(blocks) for y in blk}
    b.throughput_kwh = pyo.Expression(
        b.BAT, b.Y, rule=lambda b, i, y: sum(w[d] * b.discharge_kw[i, block_of[y], d, h] for d in range(nd) for h in range(H)))
    cal = {i: (sd[i].battery.calendar_fade_per_year if options.ageing else 0.0) for i in bat_sites}
    cyc = {i: (sd[i].battery.cycle_fade_per_cycle if options.ageing else 0.0) for i in bat_sites}
    eol = {i: sd[i].battery.end_of_life_soh for i in bat_sites}
    if options.ageing:
        _build_battery_lives(m, b, bat_sites, sd, cal, cyc, eol, Y, options.integer)
    else:
        b.capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, y: m.battery_kwh[i])
        b.end_capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, y: m.battery_kwh[i])
    b.BAT_Y = pyo.Set(initialize=[(i, y) for i in bat_sites for y in range(Y)], dimen=2, ordered=True)
    b.block_capacity_def = pyo.Constraint(
        b.BAT_Y, rule=lambda b, i, y: b.block_capacity_kwh[i, block_of[y]] <= b.end_capacity_kwh[i, y])
    # typical days are cyclic, so only the SoC window matters: soc_kwh counts the energy above the
    # minimum state of charge, within (soc_max - soc_min) x the block's usable capacity
    b.soc_max = pyo.Constraint(b.BAT, b.T, rule=lambda b, i, k, d, h: b.soc_kwh[i, k, d, h]
                               <= (sd[i].battery.soc_max_fraction - sd[i].battery.soc_min_fraction)
                               * b.block_capacity_kwh[i, k])

    b.generator_kw = pyo.Var(b.GEN, b.T, bounds=(0.0, None))
    b.generator_kw_k = pyo.Var(b.GEN, b.B)
    b.generator_kw_k_def = pyo.Constraint(b.GEN, b.B, rule=lambda b, i, k: b.generator_kw_k[i, k] == m.generator_kw[i])
    b.generator_limit = pyo.Constraint(b.GEN, b.T, rule=lambda b, i, k, d, h: b.generator_kw[i, k, d, h] <= b.generator_kw_k[i, k])

    links = [(j, ln.site_a, ln.site_b, ln.capacity_kw, ln.loss_fraction) for j, ln in enumerate(case.links)]
    b.L = pyo.Set(initialize=[(j, s) for j, *_ in links for s in (0, 1)], dimen=2, ordered=True)
    b.flow_kw = pyo.Var(b.L, b.T, bounds=lambda b, j, s, k, d, h: (0.0, links[j][3]))

    def link_in(b, i, k, d, h):
        total = 0.0
        for j, a, bb, _, loss in links:
            if i == a:  # s=0: a -> b ; s=1: b -> a
                total = total - b.flow_kw[j, 0, k, d, h] + (1 - loss) * b.flow_kw[j, 1, k, d, h]
            elif i == bb:
                total = total + (1 - loss) * b.flow_kw[j, 0, k, d, h] - b.flow_kw[j, 1, k, d, h]
        return total

    def balance(b, i, k, d, h):
        supply = b.grid_kw[i, k, d, h] + b.renewables_kw[i, k, d, h] + link_in(b, i, k, d, h)
        if i in bat_sites:
            supply = supply + b.discharge_kw[i, k, d, h] - b.charge_kw[i, k, d, h]
        if i in gen_sites:
            supply = supply + b.generator_kw[i, k, d, h]
        return supply == float(load[i][d, h])

    b.balance = pyo.Constraint(m.SITES, b.T, rule=balance)
    b.buy_kw = pyo.Var(b.T, bounds=(0.0, None))
    b.sell_kw = pyo.Var(b.T, bounds=(0.0, None))
    b.contract_balance = pyo.Constraint(
        b.T, rule=lambda b, k, d, h: b.buy_kw[k, d, h] - b.sell_kw[k, d, h] == sum(b.grid_kw[i, k, d, h] for i in sites))
    if c.peak_cap_kw is not None:
        b.peak_cap = pyo.Constraint(b.T, rule=lambda b, k, d, h: b.buy_kw[k, d, h] <= c.peak_cap_kw)
    # monthly peaks and overrun
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
    # yearly operating cost of each block (EUR/year), then discounted
    months_factor = 365.0 / (12.0 * c.billing_period_days)
    b.purchase_eur = pyo.Expression(b.B, rule=lambda b, k: sum(
        w[d] * price[d, h] / 1000.0 * b.buy_kw[k, d, h] for d in range(nd) for h in range(H)))
    b.resale_eur = pyo.Expression(b.B, rule=lambda b, k: sum(
        w[d] * resale[d, h] / 1000.0 * b.sell_kw[k, d, h] for d in range(nd) for h in range(H)))
    b.energy_charge_eur = pyo.Expression(b.B, rule=lambda b, k: c.energy_charge_eur_per_kwh * sum(
        w[d] * b.buy_kw[k, d, h] for d in range(nd) for h in range(H)))
    b.overrun_charge_eur = pyo.Expression(b.B, rule=lambda b, k: months_factor * c.overrun_charge_eur_per_kw
                                          * sum(b.overrun_kw[k, mo] for mo in months))
    b.fuel_eur = pyo.Expression(b.B, rule=lambda b, k: sum(
        sd[i].fuel_eur_per_mwh / 1000.0 * w[d] * b.generator_kw[i, k, d, h] for i in gen_sites for d in range(nd) for h in range(H)))
    b.demand_mwh = float(sum(np.sum(w[:, None] * load[i]) for i in sites)) / 1000.0
    # discounted components (EUR, present value)
    b.pv_purchase_eur = pyo.Expression(expr=sum(df_block[k] * b.purchase_eur[k] for k in b.B))
    b.pv_resale_eur = pyo.Expression(expr=sum(df_block[k] * b.resale_eur[k] for k in b.B))
    b.pv_energy_charge_eur = pyo.Expression(expr=sum(df_block[k] * b.energy_charge_eur[k] for k in b.B))
    b.pv_overrun_charge_eur = pyo.Expression(expr=sum(df_block[k] * b.overrun_charge_eur[k] for k in b.B))
    b.pv_fuel_eur = pyo.Expression(expr=sum(df_block[k] * b.fuel_eur[k] for k in b.B))
    if options.ageing:
        b.pv_replacement_eur = pyo.Expression(expr=sum(
            df_start[y] * eco.battery_unit_cost_eur_per_kwh(e, y) * b.replaced_kwh[i, y] for i in bat_sites for y in range(1, Y)))
    else:
        b.pv_replacement_eur = pyo.Expression(expr=0.0)
    # battery salvage: remaining life above end of life, valued at the (declined) cost at the horizon
    if e.salvage == "linear":
        b.pv_battery_salvage_eur = pyo.Expression(expr=end_df * sum(
            eco.battery_unit_cost_eur_per_kwh(e, Y) / (1.0 - eol[i])
            * (b.end_capacity_kwh[i, Y - 1] - eol[i] * m.battery_kwh[i]) for i in bat_sites))
    else:
        b.pv_battery_salvage_eur = pyo.Expression(expr=0.0)
    b.pv_demand_mwh = float(sum(df_block[k] for k in range(nb))) * b.demand_mwh
    b.cost_eur = pyo.Expression(expr=b.pv_purchase_eur - b.pv_resale_eur + b.pv_energy_charge_eur
                                + b.pv_overrun_charge_eur + b.pv_fuel_eur + b.pv_replacement_eur - b.pv_battery_salvage_eur)
    b.block_of_year = block_of
    return b


# ------------------------------------------------------------------------------------------------
# Whole models
# ------------------------------------------------------------------------------------------------
def build_extensive_form(case, day_tables: list, probabilities, options: SizingOptions, names=None) -> pyo.ConcreteModel:
    """First stage + one block per scenario; objective: expected NPV of cost."""
    if options.include_lines:
        raise NotImplementedError(
            "include_lines=True is not available in sizing yet: the model uses base load + the lines' "
            "average power (include_lines=False), which is the documented choice for long horizons")
    m = pyo.ConcreteModel("sizing_ef")
    build_first_stage(m, case, [site_data(s) for s in case.sites], options)
    names = list(names) if names is not None else [f"scen{k}" for k in range(len(day_tables))]
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
    if options.include_lines:
        raise NotImplementedError("include_lines=True is not available in sizing (see build_extensive_form)")
    m = pyo.ConcreteModel(name)
    build_first_stage(m, case, [site_data(s) for s in case.sites], options)
    m.SCEN = pyo.Set(initialize=[name], ordered=True)
    m.scen = pyo.Block(m.SCEN)
    m.probability = {name: probability}
    build_scenario_block(m.scen[name], m, case, days, options)
    m.npv_eur = pyo.Expression(expr=m.first_stage_cost + m.scen[name].cost_eur)
    m.objective = pyo.Objective(expr=OBJECTIVE_SCALE * m.npv_eur, sense=pyo.minimize)
    return m


def stretches(cal: float, eol: float, years: int) -> list[tuple[int, int]]:
    """The battery lives (a, b) a replacement schedule can hold: a battery installed at the start of year
    a (a = 0: the one in place) serving years a..b-1, replaced at b (or b = years: to the end). One that
    starts a year at capacity E keeps at most E (1 - n cal) after n years, so a life followed by a
    replacement needs (n - 1) cal <= 1 - eol (the end-of-life check of its last year but one) and
    n cal <= 1; a life to the horizon's end needs n cal <= 1 - eol."""
    out = []
    tol = 1e-12
    for a in range(years):
        for b_ in range(a + 1, years + 1):
            n = b_ - a
            if b_ == years:
                ok = n * cal <= 1.0 - eol + tol
            else:
                ok = (n - 1) * cal <= 1.0 - eol + tol and n * cal <= 1.0 + tol
            if ok:
                out.append((a, b_))
    return out


def replacement_schedules(lives, years: int, limit: int = 64) -> list[tuple[int, ...]]:
    """Replacement years of the schedules with the fewest replacements (paths from year 0 to the
    horizon's end through the battery lives ``(a, z)``, in lexicographic order, at most ``limit``), then
    the schedule with one more replacement spread evenly, when its lives are allowed."""
    succ, allowed = {}, set(lives)
    for a, z in lives:
        succ.setdefault(a, []).append(z)
    inf = 10 ** 9
    need = {years: 0}
    for a in range(years - 1, -1, -1):
        need[a] = min((1 + need[z] for z in succ.get(a, []) if need[z] < inf), default=inf)
    if need[0] >= inf:
        return []
    out = []

    def walk(a, path):
        if len(out) >= limit:
            return
        if a == years:
            out.append(tuple(path))
            return
        for z in sorted(succ.get(a, [])):
            if need[z] == need[a] - 1:
                walk(z, path + ([z] if z < years else []))

    walk(0, [])
    k = need[0] + 1  # lives in the evenly spread schedule
    even = tuple(sorted({int(round(j * years / k)) for j in range(1, k)}))
    bounds = (0,) + even + (years,)
    if len(even) == k - 1 and all((a, z) in allowed for a, z in zip(bounds[:-1], bounds[1:])) and even not in out:
        out.append(even)
    return out


def _build_battery_lives(m, b, bat_sites, sd, cal, cyc, eol, Y, integer) -> None:
    """Battery ageing with replacements as a choice of lives (a path through the years, see ``stretches``).

    ``x[i, a, b]`` selects the life (a, b); a flow from year 0 to the horizon's end (inflow = outflow =
    ``replace[i, y]`` at every replacement year y) makes the lives a partition of the years. Each life
    carries its own capacity ``E_ab = existing x + u`` (u = new kWh x x, disaggregated: sum of the u of
    the lives covering a year = the new kWh) and its own share ``thr_ab`` of each year's throughput, so
    its end capacity ``E_ab (1 - (t - a + 1) cal) - cyc sum_t thr_ab`` and its end-of-life check scale
    with x. In the LP relaxation a fractional replacement is a fraction of a whole new life, not a
    cheap partial refresh of the old battery (the gap of the simpler ``cap[y] <= end[y-1] + r E``
    form). With integer ``replace`` the lives are integral (the flow has one way through the
    replacement years)."""
    lives = {}
    for i in bat_sites:
        lives[i] = stretches(cal[i], eol[i], Y)
        if not replacement_schedules(lives[i], Y, limit=1):  # no battery lives out a year: every life, E = 0
            lives[i] = [(a, z) for a in range(Y) for z in range(a + 1, Y + 1)]
    b.LIFE = pyo.Set(initialize=[(i, a, z) for i in bat_sites for (a, z) in lives[i]], dimen=3, ordered=True)
    b.LIFE_YEAR = pyo.Set(initialize=[(i, a, z, t) for (i, a, z) in b.LIFE for t in range(a, z)], dimen=4, ordered=True)
    b.replace = pyo.Var(b.BAT, b.Y1, domain=pyo.Binary if integer else pyo.UnitInterval)
    b.life = pyo.Var(b.LIFE, bounds=(0.0, 1.0))
    ex = {i: sd[i].battery_existing_kwh for i in bat_sites}
    mnew = {i: sd[i].max_battery_kwh for i in bat_sites}
    b.life_new_kwh = pyo.Var(b.LIFE, bounds=lambda b, i, a, z: (0.0, mnew[i]))
    b.life_new_ub = pyo.Constraint(b.LIFE, rule=lambda b, i, a, z: b.life_new_kwh[i, a, z] <= mnew[i] * b.life[i, a, z])
    covering = {}
    for (i, a, z) in b.LIFE:
        for t in range(a, z):
            covering.setdefault((i, t), []).append((a, z))
    b.life_new_sum = pyo.Constraint(b.BAT, b.Y, rule=lambda b, i, t: sum(
        b.life_new_kwh[i, a, z] for (a, z) in covering[i, t]) == m.battery_new_kwh[i])
    b.life_start = pyo.Constraint(b.BAT, rule=lambda b, i: sum(b.life[i, a, z] for (a, z) in covering[i, 0] if a == 0) == 1)
    b.life_in = pyo.Constraint(b.BAT, b.Y1, rule=lambda b, i, y: sum(
        b.life[i, a, y] for (a, z) in lives[i] if z == y) == b.replace[i, y])
    b.life_out = pyo.Constraint(b.BAT, b.Y1, rule=lambda b, i, y: sum(
        b.life[i, y, z] for (a, z) in lives[i] if a == y) == b.replace[i, y])
    b.life_kwh = pyo.Expression(b.LIFE, rule=lambda b, i, a, z: ex[i] * b.life[i, a, z] + b.life_new_kwh[i, a, z])
    with_cycles = [i for i in bat_sites if cyc[i] > 0]
    b.LIFE_YEAR_C = pyo.Set(initialize=[key for key in b.LIFE_YEAR if key[0] in with_cycles], dimen=4, ordered=True)
    b.life_throughput_kwh = pyo.Var(b.LIFE_YEAR_C, bounds=(0.0, None))
    b.throughput_split = pyo.Constraint(
        [(i, t) for i in with_cycles for t in range(Y)], rule=lambda b, i, t: sum(
            b.life_throughput_kwh[i, a, z, t] for (a, z) in covering[i, t]) == b.throughput_kwh[i, t])

    def life_end(b, i, a, z, t):  # capacity of life (a, z) at the end of year t
        worn = sum(b.life_throughput_kwh[i, a, z, tau] for tau in range(a, t + 1)) if i in with_cycles else 0.0
        return b.life_kwh[i, a, z] * (1.0 - (t - a + 1) * cal[i]) - cyc[i] * worn

    b.life_end_kwh = pyo.Expression(b.LIFE_YEAR, rule=life_end)
    b.life_nonnegative = pyo.Constraint(b.LIFE, rule=lambda b, i, a, z: b.life_end_kwh[i, a, z, z - 1] >= 0)
    # end of life: a battery replaced at z must be above eol at the end of year z - 2 (the check of year
    # z - 1, the last it serves in full), one that lasts to the horizon at the end of the last year
    b.LIFE_EOL = pyo.Set(initialize=[(i, a, z) for (i, a, z) in b.LIFE if z == Y or z - a >= 2], dimen=3, ordered=True)
    b.life_end_of_life = pyo.Constraint(b.LIFE_EOL, rule=lambda b, i, a, z: b.life_end_kwh[
        i, a, z, (Y - 1 if z == Y else z - 2)] >= eol[i] * b.life_kwh[i, a, z])
    # usable capacity at the start and end of each year: the lives covering it
    b.capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, t: sum(
        b.life_end_kwh[i, a, z, t] + cal[i] * b.life_kwh[i, a, z]
        + (cyc[i] * b.life_throughput_kwh[i, a, z, t] if i in with_cycles else 0.0) for (a, z) in covering[i, t]))
    b.end_capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, t: sum(
        b.life_end_kwh[i, a, z, t] for (a, z) in covering[i, t]))
    # replaced kWh: the capacity of the lives starting that year (= replace x E when integral)
    b.replaced_kwh = pyo.Var(b.BAT, b.Y1, bounds=(0.0, None))
    b.replaced_def = pyo.Constraint(b.BAT, b.Y1, rule=lambda b, i, y: b.replaced_kwh[i, y] == sum(
        b.life_kwh[i, y, z] for (a, z) in lives[i] if a == y))
