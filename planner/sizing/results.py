"""Sizing results: sizes per site, NPV breakdown, LCOE, state of health by year, replacement years, bounds
and gap, sensitivity table; and the plots of the report (``plot_soh``, ``plot_npv_breakdown``,
``plot_sizes``, ``plot_sensitivity``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from planner.results import relative_gap
from planner.sizing.economics import capital_recovery_factor


@dataclass
class SizingResult:
    """What ``run_sizing`` returns (money in EUR, present values at the start of the horizon)."""

    lower_bound_eur: float
    upper_bound_eur: float
    sizes: pd.DataFrame                 # one row per site
    subscribed_power_kw: float
    npv_breakdown: pd.Series            # expected present value per component (costs > 0, revenues < 0)
    lcoe_eur_per_mwh: float
    annualised_cost_eur_per_year: float
    soh: pd.DataFrame                   # scenario, site, year, soh_start, soh_end, replaced
    replacement_years: dict             # site -> {scenario: [years]}
    sensitivity: pd.DataFrame | None = None
    dispatch: dict = field(default_factory=dict, repr=False)   # battery SoC per scenario/site, for replay
    info: dict = field(default_factory=dict)
    # the first block's operation, expected over the scenarios (``predicted_operation``): per calendar
    # day its typical day's energy cost; per month the overrun charge; per scenario and typical day the
    # day's peak purchase and overrun above threshold x P
    daily_prediction: pd.DataFrame | None = None
    monthly_prediction: pd.DataFrame | None = None
    typical_day_peaks: pd.DataFrame | None = None
    # the re-plan / re-size loop (``planner.sizing.loop``): one row per round; every typical day re-planned
    # with the round before's system (rounds 2 on); the final system re-planned (the operation check)
    rounds: pd.DataFrame | None = None
    replanned_days: pd.DataFrame | None = None
    operation_check: pd.DataFrame | None = None

    @property
    def gap(self) -> float:
        """(upper - lower) / |upper| (``planner.results.relative_gap``)."""
        return relative_gap(self.lower_bound_eur, self.upper_bound_eur)

    @property
    def npv_eur(self) -> float:
        return self.upper_bound_eur

    def summary(self) -> str:
        lines = [f"sizing ({self.info.get('method', '?')}): NPV of cost {self.upper_bound_eur / 1e6:.3f} MEUR, "
                 f"lower bound {self.lower_bound_eur / 1e6:.3f} MEUR, gap {100 * self.gap:.2f} %",
                 f"LCOE {self.lcoe_eur_per_mwh:.1f} EUR/MWh, annualised {self.annualised_cost_eur_per_year / 1e6:.3f} MEUR/yr, "
                 f"subscribed power {self.subscribed_power_kw:.0f} kW",
                 f"demand: {self.info.get('load', 'not recorded')}",
                 f"rounds: {self.info.get('rounds', 1)} ({self.info.get('stop_reason', 'one round')})",
                 self.sizes.round(1).to_string()]
        return "\n".join(lines)

    def save(self, output_dir) -> Path:
        """Tables (CSV) and a JSON summary in ``output_dir``."""
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.sizes.to_csv(out / "sizing_sizes.csv")
        self.npv_breakdown.rename("eur").to_csv(out / "sizing_npv_breakdown.csv")
        self.soh.to_csv(out / "sizing_soh.csv", index=False)
        if self.sensitivity is not None:
            self.sensitivity.to_csv(out / "sizing_sensitivity.csv", index=False)
        for name, table in (("days", self.daily_prediction), ("months", self.monthly_prediction),
                            ("typical_days", self.typical_day_peaks)):
            if table is not None:
                table.to_csv(out / f"sizing_prediction_{name}.csv", index=False)
        for name, table in (("rounds", self.rounds), ("replanned_days", self.replanned_days),
                            ("operation_check", self.operation_check)):
            if table is not None:
                table.to_csv(out / f"sizing_{name}.csv", index=False)
        summary = {"lower_bound_eur": self.lower_bound_eur, "upper_bound_eur": self.upper_bound_eur,
                   "gap": self.gap, "lcoe_eur_per_mwh": self.lcoe_eur_per_mwh,
                   "annualised_cost_eur_per_year": self.annualised_cost_eur_per_year,
                   "subscribed_power_kw": self.subscribed_power_kw,
                   "replacement_years": self.replacement_years,
                   "info": {k: v for k, v in self.info.items() if isinstance(v, (int, float, str, bool, list, type(None)))}}
        (out / "sizing_summary.json").write_text(json.dumps(summary, indent=2, default=float))
        return out


def _v(x) -> float:
    v = pyo.value(x, exception=False)
    return 0.0 if v is None else float(v)


def predicted_operation(m, case, day_tables) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What the solved model predicts for its first block of years (the first ``years_per_block`` years),
    expected over the scenarios (EUR, kW):

    - per calendar day (0..364) of the year: the energy cost of the typical day standing for it
      (purchases at p0 - resale at p2 + energy charge f2 + generator fuel);
    - per month: the overrun charge f3 x max(0, month's peak - threshold x P), scaled like the model's
      by 365 / (12 x billing_period_days), and the month's expected peak purchase;
    - per scenario and typical day: the day's peak purchase (its largest hourly purchase) and its overrun
      above threshold x P.
    The demand charge f1 x P is not in them (a first-stage cost: f1 x P per billing period)."""
    c = case.contract
    rs = c.resale
    months_factor = 365.0 / (12.0 * c.billing_period_days)
    thr_kw = c.overrun_threshold * _v(m.subscribed_kw)
    prob = m.probability
    n_cal = None
    daily, monthly, peaks = None, {}, []
    for s, days in zip(m.SCEN, day_tables):
        b = m.scen[s]
        price = np.asarray(days.values["p0_eur_per_mwh"], dtype=float)
        resale = price - rs.discount_ratio_mean * np.abs(price) - rs.fee_eur_per_mwh
        buy = np.array([[_v(b.buy_kw[0, d, h]) for h in range(24)] for d in range(days.n_days)])
        sell = np.array([[_v(b.sell_kw[0, d, h]) for h in range(24)] for d in range(days.n_days)])
        fuel = np.zeros(days.n_days)
        for i in b.GEN:
            rate = m.site_data[i].fuel_eur_per_mwh / 1000.0
            fuel += rate * np.array([sum(_v(b.generator_kw[i, 0, d, h]) for h in range(24)) for d in range(days.n_days)])
        energy = (np.sum(price * buy - resale * sell, axis=1) / 1000.0 + c.energy_charge_eur_per_kwh * buy.sum(axis=1)
                  + fuel)  # hourly typical days: kW x 1 h
        doy = np.asarray(days.day_of_year, dtype=int)
        n_cal = len(doy)
        daily = (0.0 if daily is None else daily) + prob[s] * energy[doy]
        for mo in b.MONTHS:
            row = monthly.setdefault(int(mo) + 1, {"overrun_eur": 0.0, "overrun_kw": 0.0, "peak_kw": 0.0})
            row["overrun_kw"] += prob[s] * _v(b.overrun_kw[0, mo])
            row["overrun_eur"] += prob[s] * months_factor * c.overrun_charge_eur_per_kw * _v(b.overrun_kw[0, mo])
            row["peak_kw"] += prob[s] * _v(b.peak_kw[0, mo])
        for d in range(days.n_days):
            # the day's largest purchase (the model's day_peak_kw may sit above it where no month's overrun binds)
            peak = float(buy[d].max())
            peaks.append({"scenario": s, "typical_day": d, "weight_days": float(days.weights[d]), "peak_kw": peak,
                          "overrun_kw": max(0.0, peak - thr_kw)})
    dates = pd.date_range("2025-01-01", periods=n_cal, freq="D")  # a non-leap calendar year
    daily_table = pd.DataFrame({"day_of_year": np.arange(n_cal), "month": dates.month, "energy_eur": daily})
    monthly_table = pd.DataFrame([{"month": mo, **row} for mo, row in sorted(monthly.items())])
    return daily_table, monthly_table, pd.DataFrame(peaks)


def extract_result(m, case, options, day_tables, info: dict) -> SizingResult:
    """Read a solved EF-shaped model (first stage + one block per scenario)."""
    sd = m.site_data
    rows = []
    for i in m.SITES:
        types = sd[i].turbine_types
        n_t = {t: round(_v(m.n_turbines[i, t])) for t in types}
        chosen = [t for t in types if n_t[t] > 0]
        rows.append({
            "site": i,
            "pv_module": sd[i].module["name"],
            "pv_modules_new": round(_v(m.n_pv_modules[i])),
            "pv_new_kwp": _v(m.pv_new_kwp[i]),
            "pv_total_kwp": _v(m.pv_kwp[i]),
            "pv_area_m2": round(_v(m.n_pv_modules[i])) * sd[i].module["area_m2"],
            "turbine_type": chosen[0] if chosen else "",
            "turbines_new": sum(n_t.values()),
            "wind_new_kw": _v(m.wind_new_kw[i]),
            "wind_total_kw": _v(m.wind_kw[i]),
            "battery_new_kwh": _v(m.battery_new_kwh[i]),
            "battery_new_kw": _v(m.battery_new_kw[i]),
            "battery_total_kwh": _v(m.battery_kwh[i]),
            "battery_total_kw": _v(m.battery_kw[i]),
            "generator_new_kw": _v(m.generator_new_kw[i]),
            "generator_total_kw": _v(m.generator_kw[i]),
        })
    sizes = pd.DataFrame(rows).set_index("site")
    prob = m.probability

    def expected(name):
        return sum(prob[s] * _v(getattr(m.scen[s], name)) for s in m.SCEN)

    breakdown = pd.Series({
        "capex_pv": _v(m.capex_pv_eur), "capex_wind": _v(m.capex_wind_eur),
        "capex_battery": _v(m.capex_battery_eur), "capex_generator": _v(m.capex_generator_eur),
        "fixed_om": _v(m.fixed_om_eur), "demand_charge_f1": _v(m.demand_charge_eur),
        "energy_purchases": expected("pv_purchase_eur"), "resale_revenue": -expected("pv_resale_eur"),
        "energy_charge_f2": expected("pv_energy_charge_eur"), "overrun_charge_f3": expected("pv_overrun_charge_eur"),
        "generator_fuel": expected("pv_fuel_eur"), "battery_replacements": expected("pv_replacement_eur"),
        "salvage": -_v(m.salvage_fixed_eur) - expected("pv_battery_salvage_eur"),
    }, name="npv_eur")
    npv = float(breakdown.sum())
    e = case.economics
    demand_pv = sum(prob[s] * m.scen[s].pv_demand_mwh for s in m.SCEN)
    lcoe = npv / demand_pv if demand_pv > 0 else float("nan")
    annual = npv * capital_recovery_factor(options.years, e.discount_rate)
    soh_rows, repl, dispatch = [], {}, {}
    for s in m.SCEN:
        b = m.scen[s]
        for i in b.BAT:
            E = _v(m.battery_kwh[i])
            years_replaced = []
            for y in b.Y:
                replaced = bool(y > 0 and options.ageing and E > 1e-6 and _v(b.replace[i, y]) > 0.5)
                if replaced:
                    years_replaced.append(int(y))
                soh_rows.append({"scenario": s, "site": i, "year": int(y),
                                 "soh_start": _v(b.capacity_kwh[i, y]) / E if E > 1e-6 else float("nan"),
                                 "soh_end": _v(b.end_capacity_kwh[i, y]) / E if E > 1e-6 else float("nan"),
                                 "throughput_kwh": _v(b.throughput_kwh[i, y]),
                                 "full_cycles": _v(b.throughput_kwh[i, y]) / E if E > 1e-6 else 0.0,
                                 "replaced": replaced})
            repl.setdefault(i, {})[s] = years_replaced
            nb = len(b.B)
            nd = day_tables[list(m.SCEN).index(s)].n_days
            soc = np.array([[[_v(b.soc_kwh[i, k, d, h]) for h in range(24)] for d in range(nd)] for k in range(nb)])
            dispatch[(s, i)] = {"soc_kwh": soc, "energy_kwh": E,
                                "soc_min_fraction": sd[i].battery.soc_min_fraction,
                                "block_capacity_kwh": np.array([_v(b.block_capacity_kwh[i, k]) for k in range(nb)])}
    soh = pd.DataFrame(soh_rows, columns=["scenario", "site", "year", "soh_start", "soh_end", "throughput_kwh",
                                          "full_cycles", "replaced"])
    info = dict(info)
    info.setdefault("years", options.years)
    daily, monthly, peaks = predicted_operation(m, case, day_tables)
    info["predicted_first_year_operating_eur"] = float(
        daily["energy_eur"].sum() + monthly["overrun_eur"].sum()
        + case.contract.demand_charge_eur_per_kw_month * _v(m.subscribed_kw) * 365.0 / case.contract.billing_period_days)
    return SizingResult(
        lower_bound_eur=float(info["lower_eur"]), upper_bound_eur=float(info["upper_eur"]), sizes=sizes,
        subscribed_power_kw=_v(m.subscribed_kw), npv_breakdown=breakdown, lcoe_eur_per_mwh=lcoe,
        annualised_cost_eur_per_year=annual, soh=soh, replacement_years=repl, dispatch=dispatch, info=info,
        daily_prediction=daily, monthly_prediction=monthly, typical_day_peaks=peaks)


# ------------------------------------------------------------------------------------------------
# Plots
# ------------------------------------------------------------------------------------------------
def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def plot_soh(result: SizingResult, ax=None, scenario=None):
    """State of health (usable capacity / installed) over the years per site, with replacements marked."""
    ax = _axes(ax)
    soh = result.soh
    if soh.empty:
        ax.text(0.5, 0.5, "no battery", ha="center", transform=ax.transAxes)
        return ax
    scen = scenario or soh["scenario"].iloc[0]
    curves = {}
    for site, g in soh[soh.scenario == scen].groupby("site"):
        g = g.sort_values("year")
        key = (tuple(g.year), tuple(np.round(g.soh_start, 6)), tuple(np.round(g.soh_end, 6)))
        curves.setdefault(key, []).append(site)  # sites whose batteries age identically share one curve
    lowest = 1.0
    for (years, starts, ends), sites in curves.items():
        x = np.concatenate([[y, y + 1] for y in years])
        yv = np.concatenate([[a, b] for a, b in zip(starts, ends)])
        line, = ax.plot(x, 100 * yv, label=", ".join(sites) + (" (identical)" if len(sites) > 1 else ""))
        g = soh[(soh.scenario == scen) & (soh.site == sites[0])].sort_values("year")
        for y in g.year[g.replaced]:
            ax.axvline(y, color=line.get_color(), ls=":", lw=1)
        lowest = min(lowest, float(np.min(yv)))
    eol = result.info.get("end_of_life_soh")
    if eol:
        ax.axhline(100 * eol, color="grey", ls="--", lw=1, label="end of life")
        if lowest < eol - 1e-6:
            ax.text(0.99, 0.97, f"lowest {100 * lowest:.1f} %: replacements happen at the start of a year,\n"
                    "so the year before one ends below end of life", transform=ax.transAxes, fontsize=7,
                    color="0.3", ha="right", va="top")
    ax.set_xlabel("year")
    ax.set_ylabel("state of health (%)")
    ax.set_title(f"Battery state of health, scenario {scen}; dotted: replacement", fontsize=10)
    ax.legend(fontsize=8)
    return ax


NPV_LABELS = {"capex_pv": "PV investment", "capex_wind": "wind investment", "capex_battery": "battery investment",
              "capex_generator": "generator investment", "fixed_om": "fixed O&M", "demand_charge_f1": "demand charge (f1)",
              "energy_purchases": "energy purchases", "resale_revenue": "resale revenue",
              "energy_charge_f2": "energy charge (f2)", "overrun_charge_f3": "overrun charge (f3)",
              "generator_fuel": "generator fuel", "battery_replacements": "battery replacements",
              "salvage": "salvage value"}


def plot_npv_breakdown(result: SizingResult, ax=None):
    """Present value of each cost component (revenues and salvage negative)."""
    ax = _axes(ax)
    s = result.npv_breakdown / 1e6
    colors = ["tab:green" if v < 0 else "tab:red" for v in s]
    labels = [NPV_LABELS.get(name, name.replace("_", " ")) for name in s.index]
    ax.barh(labels, s.values, color=colors)
    ax.set_xlabel("present value (MEUR; costs > 0, revenues and salvage < 0)")
    ax.set_title(f"NPV of cost: {s.sum():.2f} MEUR")
    return ax


def plot_sizes(result: SizingResult, ax=None):
    """Capacities per site, one panel per unit (PV kWp, power kW, battery kWh), existing equipment and
    what sizing adds stacked. ``ax`` is split into the three panels; returns them."""
    ax = _axes(ax)
    fig = ax.figure
    grid = ax.get_subplotspec().subgridspec(1, 3, wspace=0.45)
    ax.remove()
    panels = [("PV (kWp)", [("pv", "pv_total_kwp", "pv_new_kwp")]),
              ("power (kW)", [("wind", "wind_total_kw", "wind_new_kw"), ("battery", "battery_total_kw", "battery_new_kw"),
                              ("generator", "generator_total_kw", "generator_new_kw")]),
              ("battery energy (kWh)", [("battery", "battery_total_kwh", "battery_new_kwh")])]
    sizes = result.sizes
    axes = []
    for k, (title, items) in enumerate(panels):
        pax = fig.add_subplot(grid[0, k])
        labels, existing, new = [], [], []
        for site in sizes.index:
            for name, total_col, new_col in items:
                total, added = float(sizes.at[site, total_col]), float(sizes.at[site, new_col])
                labels.append(f"{site}\n{name}" if len(items) > 1 else str(site))
                existing.append(total - added)
                new.append(added)
        y = np.arange(len(labels))
        pax.barh(y, existing, color="0.65", label="existing")
        pax.barh(y, new, left=existing, color="tab:green", label="new (sizing)")
        pax.set_yticks(y, labels, fontsize=6)
        pax.invert_yaxis()
        pax.set_title(title, fontsize=9)
        pax.tick_params(axis="x", labelsize=7)
        axes.append(pax)
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].set_title(f"power (kW); subscribed {result.subscribed_power_kw:,.0f} kW", fontsize=9)
    return axes


def plot_sensitivity(result: SizingResult, ax=None):
    """NPV change of each sensitivity case against the base."""
    ax = _axes(ax)
    table = result.sensitivity
    if table is None or table.empty:
        ax.text(0.5, 0.5, "no sensitivity table", ha="center", transform=ax.transAxes)
        return ax
    labels = table["parameter"] + " " + table["value"].astype(str)
    ax.barh(labels, table["npv_change_pct"])
    ax.set_xlabel("NPV of cost change (%)")
    ax.set_title("Sensitivity")
    return ax
