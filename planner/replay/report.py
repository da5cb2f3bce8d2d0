"""Figures and the HTML page of a replay (matplotlib, Agg): cumulative saving against the rule with its
95 % week-block band, monthly bill breakdown, state of charge and the month's running peak, forecast
coverage by day. :func:`write_report` writes them into the replay's output folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from planner.case import Case
from planner.replay.compare import block_bootstrap_mean, week_blocks
from planner.replay.day import RULE
from planner.report import Report


def pyplot():
    """pyplot drawing off screen unless inline in a notebook."""
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    return plt


def cumulative_savings(daily: pd.DataFrame, n_boot: int = 500, random_state: int = 0) -> pd.DataFrame:
    """Per policy and date: saving against the rule accumulated since the first day (EUR), and its 95 %
    interval = days x the week-block bootstrap interval of the mean daily saving up to that date
    (NaN while fewer than two weeks are covered)."""
    wide = daily.pivot(index="date", columns="policy", values="cost_eur").sort_index()
    blocks = week_blocks(wide.index)
    rows = []
    for policy in wide.columns:
        if policy == RULE:
            continue
        d = (wide[RULE] - wide[policy]).to_numpy()
        for k in range(1, len(d) + 1):
            lo, hi = block_bootstrap_mean(d[:k], blocks[:k], n_boot, random_state)
            rows.append({"date": wide.index[k - 1], "policy": policy, "saving_eur": float(d[:k].sum()),
                         "ci_low_eur": lo * k, "ci_high_eur": hi * k})
    return pd.DataFrame(rows)


def plot_cumulative_savings(daily: pd.DataFrame, path, random_state: int = 0) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    cum = cumulative_savings(daily, random_state=random_state)
    for policy, g in cum.groupby("policy", sort=False):
        x = pd.to_datetime(g["date"])
        line, = ax.plot(x, g["saving_eur"], label=policy)
        ax.fill_between(x, g["ci_low_eur"], g["ci_high_eur"], color=line.get_color(), alpha=0.15, linewidth=0)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("cumulative saving against the rule (EUR)")
    ax.set_xlabel("day")
    ax.set_title("Saving against the load-shedding rule (band: 95 % week-block bootstrap, from 2 weeks on)")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_monthly_bills(monthly: pd.DataFrame, path) -> Path:
    """Stacked bars from 0 per month and policy: energy (day-ahead + intraday/resale/f2/penalties, net of
    the overrun), demand charge f1 * P (prorated), overrun charge f3."""
    plt = pyplot()
    policies = list(dict.fromkeys(monthly["policy"]))
    months = sorted(monthly["month"].unique())
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(months) * len(policies) / 3), 4.5))
    width = 0.8 / len(policies)
    parts = (("energy", "tab:blue"), ("demand charge", "tab:gray"), ("overrun", "tab:red"))
    for j, policy in enumerate(policies):
        g = monthly[monthly["policy"] == policy].set_index("month").reindex(months)
        x = np.arange(len(months)) + (j - (len(policies) - 1) / 2) * width
        values = {"energy": (g["day_ahead_energy_eur"] + g["operating_eur"]).to_numpy(),
                  "demand charge": g["demand_charge_eur"].to_numpy(), "overrun": g["overrun_eur"].to_numpy()}
        bottom = np.zeros(len(months))
        for name, color in parts:
            ax.bar(x, values[name], width, bottom=bottom, color=color, edgecolor="white", linewidth=0.5,
                   label=name if j == 0 else None)
            bottom = bottom + values[name]
        for xi in x:
            ax.text(xi, 0, f"{j + 1}", ha="center", va="bottom", fontsize=7, color="white")
    ax.set_xticks(np.arange(len(months)), months)
    ax.set_ylabel("monthly bill (EUR)")
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.set_title(textwrap.fill("Monthly bill by policy: " + "; ".join(
        f"{j + 1} = {p}" for j, p in enumerate(policies)), 110), fontsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_state(daily: pd.DataFrame, case: Case, path) -> Path:
    """End-of-day state of charge (kWh, all batteries) and the month's running import peak (kW) with
    the overrun threshold and the subscribed power."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for policy, g in daily.groupby("policy", sort=False):
        x = pd.to_datetime(g["date"])
        a1.plot(x, g["soc_end_kwh"], marker=".", label=policy)
        a2.plot(x, g["month_peak_kw"], marker=".", label=policy)
    c = case.contract
    a2.axhline(c.overrun_threshold * c.subscribed_power_kw, color="red", linestyle="--", linewidth=0.8,
               label=f"overrun threshold {c.overrun_threshold:g} x P")
    a2.axhline(c.subscribed_power_kw, color="black", linestyle=":", linewidth=0.8, label="subscribed power P")
    a1.set_ylabel("SoC at end of day (kWh)")
    a1.set_ylim(bottom=0.0)
    a2.set_ylabel("month's running peak (kW)")
    a2.set_ylim(bottom=0.0)
    a2.set_xlabel("day")
    a1.legend(fontsize=7)
    a2.legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_forecast_coverage(daily: pd.DataFrame, path) -> Path:
    """Share of the day's hours whose realised value lies inside the forecast scenarios' range (%), for
    the day-ahead price and PV, by day (one row per day: the rule's row carries the day's scores)."""
    plt = pyplot()
    day = daily[daily["policy"] == RULE].sort_values("date")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = pd.to_datetime(day["date"])
    for col, label in (("forecast_p0_range_coverage", "day-ahead price"), ("forecast_pv_range_coverage", "PV")):
        if col in day.columns:
            ax.plot(x, 100.0 * day[col], marker="o", label=f"{label}: mean {100 * day[col].mean():.0f} %")
    ax.set_ylim(0, 105)
    ax.set_ylabel("hours inside the scenarios' range (%)")
    ax.set_xlabel("day")
    ax.set_title("Forecast coverage by day (a known day-ahead price covers 100 %; PV night hours, 0 in every "
                 "scenario and realised, count as covered)", fontsize=9)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def write_report(daily: pd.DataFrame, monthly: pd.DataFrame, savings: pd.DataFrame, case: Case, output_dir,
                 random_state: int = 0, planner: pd.DataFrame | None = None) -> Path:
    """The four figures in ``output_dir/figures`` and ``report.html`` with the savings table and the planner's
    paired comparison (``planner.replay.compare.planner_table``) when given."""
    report = Report(output_dir, f"Replay of case {case.name}: {daily['date'].min()} .. {daily['date'].max()}")
    s = report.section("Savings against the load-shedding rule")
    s.paragraphs.append("Saving = rule cost - policy cost on the same realised days (paired), EUR; 95 % intervals "
                        "from a bootstrap resampling whole ISO weeks. Share of the perfect-foresight saving: the "
                        "policy's saving over the saving of the cheaper hindsight policy replayed (the month LP or the "
                        "per-day hindsight; with production lines neither bounds every policy).")
    report.add_table(s, "Savings", savings.set_index("policy"), "savings")
    if planner is not None and len(planner):
        s.paragraphs.append("The planner (two-stage plan + SDDP operation) against each other policy on the same days: "
                            "saving = that policy's cost - the planner's, EUR/day, 95 % week-block interval; "
                            "beats_it = the interval excludes 0 on the planner's side.")
        report.add_table(s, "The planner against the other policies",
                         planner.drop(columns="policy").set_index("reference"), "planner_against")
    s.figures.append(("Cumulative saving (EUR)", plot_cumulative_savings(
        daily, report.figure_path("cumulative_saving"), random_state)))
    b = report.section("Monthly bills")
    b.figures.append(("Monthly bill breakdown (EUR)", plot_monthly_bills(monthly, report.figure_path("monthly_bills"))))
    st = report.section("State carried from day to day")
    st.figures.append(("State of charge and month's running peak", plot_state(daily, case, report.figure_path("state"))))
    f = report.section("Forecasts")
    f.figures.append(("Forecast coverage by day", plot_forecast_coverage(daily, report.figure_path("forecast_coverage"))))
    return report.write()
