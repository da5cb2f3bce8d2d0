"""Rounds of (size -> replay the battery dispatch through BLAST-Lite -> refit the linear fade) until the
linear model and BLAST-Lite agree on the state of health after ``check_years`` years."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from planner.ageing.blast_replay import full_cycles, recalibrate_from_dispatch, replay_soc, soc_year_from_dispatch
from planner.sizing.run import run_sizing


def _with_battery_coefficients(case, site_name: str, calendar: float, cycle: float):
    sites = []
    for s in case.sites:
        if s.name == site_name and s.microgrid.battery is not None:
            bat = dataclasses.replace(s.microgrid.battery, calendar_fade_per_year=calendar, cycle_fade_per_cycle=cycle)
            s = dataclasses.replace(s, microgrid=dataclasses.replace(s.microgrid, battery=bat))
        sites.append(s)
    return case.replace(sites=sites)


def dispatch_soc_year(result, site_name: str, scenario: str = "scen0") -> np.ndarray:
    """Hourly SoC fraction of the first year of a sizing result's battery at a site."""
    d = result.dispatch[(scenario, site_name)]
    table = result.dispatch["_day_tables"][scenario]
    return soc_year_from_dispatch(d["soc_kwh"][0], table.day_of_year, d["block_capacity_kwh"][0], d["soc_min_fraction"])


def recalibrate_sizing(case, site_name: str, rounds: int = 4, tolerance: float = 0.02, check_years: int = 10,
                       temperature_c: float = 25.0, **sizing_kwargs):
    """Alternate sizing and BLAST-Lite replay; returns (final case, final result, table of rounds).

    Each round: size with the current linear coefficients; replay the battery's first-year dispatch for
    ``check_years`` years through BLAST-Lite; compare SoH after ``check_years`` years with the linear
    model's (same dispatch, no replacement); stop when they differ by less than ``tolerance``, else refit
    the coefficients on the replay and size again.
    """
    site = case.site(site_name)
    if site.microgrid.battery is None:
        raise ValueError(f"site {site_name!r} has no battery to check")
    rows, result = [], None
    for r in range(rounds):
        bat = case.site(site_name).microgrid.battery
        result = run_sizing(case, **sizing_kwargs)
        soc = dispatch_soc_year(result, site_name)
        fec = full_cycles(np.append(soc, soc[0]))
        blast = replay_soc(soc, bat.chemistry, check_years, temperature_c)
        soh_blast = float(blast["soh_blast"].iloc[-1])
        soh_linear = 1.0 - (bat.calendar_fade_per_year + bat.cycle_fade_per_cycle * fec) * check_years
        rep = result.replacement_years.get(site_name, {}).get("scen0", [])
        eol = bat.end_of_life_soh
        below = blast.year[blast.soh_blast < eol]
        rows.append({"round": r, "calendar_fade_per_year": bat.calendar_fade_per_year,
                     "cycle_fade_per_cycle": bat.cycle_fade_per_cycle, "full_cycles_per_year": fec,
                     f"soh_linear_{check_years}y": soh_linear, f"soh_blast_{check_years}y": soh_blast,
                     "difference_points": 100 * (soh_linear - soh_blast),
                     "model_replacement_years": rep,
                     "blast_end_of_life_year": int(below.iloc[0]) if len(below) else None,
                     "linear_end_of_life_year": float((1 - eol) / max(bat.calendar_fade_per_year + bat.cycle_fade_per_cycle * fec, 1e-12)),
                     "npv_eur": result.upper_bound_eur,
                     "battery_kwh": float(result.sizes.loc[site_name, "battery_total_kwh"])})
        if abs(soh_linear - soh_blast) < tolerance:
            break
        calendar, cycle, _ = recalibrate_from_dispatch(soc, bat.chemistry, check_years, temperature_c)
        case = _with_battery_coefficients(case, site_name, calendar, cycle)
    return case, result, pd.DataFrame(rows)
