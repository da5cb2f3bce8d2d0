"""Plots of a day-ahead plan: Gantt chart of the production schedule, day-ahead volumes, dispatch."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

COLORS = {"M1": "#1f77b4", "M2": "#ff7f0e", "M3": "#2ca02c"}


def edges(n_periods: int, period_hours: float) -> np.ndarray:
    """Period start times plus the end of the horizon, so that steps cover the last period too."""
    return np.arange(n_periods + 1) * period_hours


def closed(values) -> np.ndarray:
    """Values per period with the last one repeated (for ``step(where="post")`` over ``edges``)."""
    values = np.asarray(values, dtype=float)
    return np.concatenate([values, values[..., -1:]], axis=-1)

def plot_gantt(result, path, scenario: str | None = None):
    """Bars per line and period coloured by material; the shade is the share of the period spent
    producing (dark: the whole period; pale: on but not producing, e.g. changeover or restart)."""
    sched = result.schedule
    scenario = scenario or (sched.scenario.iloc[0] if len(sched) else "scen0")
    rows = sched[sched.scenario == scenario]
    lines = sorted({(r.site, r.line) for r in rows.itertuples()})
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.8 + 0.4 * len(lines))))
    for y, (site, line) in enumerate(lines):
        for r in rows[(rows.site == site) & (rows.line == line)].itertuples():
            ax.barh(y, result.period_hours, left=r.period * result.period_hours, color=COLORS.get(r.material, "grey"),
                    alpha=0.25 + 0.75 * r.run, edgecolor="k", linewidth=0.3)
    ax.set_yticks(range(len(lines)), [f"{s} / {l}" for s, l in lines])
    ax.set_xlabel("hour")
    recourse = sched.scenario.nunique() > 1
    ax.set_title(f"Production schedule in scenario {scenario}" + (" (production is recourse: other scenarios differ)"
                                                                   if recourse else "")
                 + "\nshade = share of the period producing (dark = all of it, pale = none)", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLORS.values()]
    ax.legend(handles, list(COLORS), loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_day_ahead(result, path):
    """Day-ahead volume (first stage) against the net import of every scenario and the p0 fan."""
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    hours = np.arange(len(result.day_ahead)) * result.period_hours
    ends = edges(len(result.day_ahead), result.period_hours)
    total = result.day_ahead.sum(axis=1).to_numpy()
    ax.bar(hours, total, width=0.8 * result.period_hours, align="edge", color="#4c72b0", label="day-ahead purchase (kW)")
    for i, frame in enumerate(result.dispatch.values()):
        ax.step(ends, closed(frame["net_import_kw"]), where="post", color="k", alpha=0.25, lw=0.8,
                label="net grid import, one line per scenario" if i == 0 else None)
    ax.set_ylabel("kW")
    ax.legend(fontsize=8)
    prices = np.array([f["p0_eur_per_mwh"].to_numpy() for f in result.dispatch.values()])
    ax2.fill_between(ends, closed(prices.min(0)), closed(prices.max(0)), step="post", alpha=0.3,
                     label="day-ahead price p0, range over scenarios")
    ax2.step(ends, closed(prices.mean(0)), where="post", label="day-ahead price p0, mean")
    p1 = np.array([f["p1_eur_per_mwh"].to_numpy() for f in result.dispatch.values()]).mean(0)
    ax2.step(ends, closed(p1), where="post", ls="--", label="intraday price p1, mean")
    ax2.set_ylabel("EUR/MWh")
    ax2.set_xlabel("hour")
    ax2.legend(fontsize=8)
    ax.set_title(f"Day-ahead plan: LB {result.lower_bound:,.0f} / UB {result.upper_bound:,.0f} EUR "
                 f"(gap {100 * result.gap:.2f} %)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_bounds(result, path):
    """Lower and upper bounds against time from the solve's log of (iteration, LB, UB, seconds);
    None when the log holds fewer than two such records (a single EF solve)."""
    rows = [r for r in result.log if isinstance(r, tuple) and len(r) == 4
            and all(isinstance(v, (int, float)) for v in r)]
    if len(rows) < 2:
        return None
    t = np.array([r[3] for r in rows], dtype=float)
    lb = np.array([r[1] for r in rows], dtype=float)
    ub = np.array([r[2] if np.isfinite(r[2]) else np.nan for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.step(t, lb, where="post", marker="o", ms=3, label="lower bound")
    ax.step(t, np.fmin.accumulate(np.nan_to_num(ub, nan=np.inf)), where="post", marker="s", ms=3,
            label="upper bound (best plan so far)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("expected cost (EUR)")
    ax.set_title(f"{result.method}\nbounds against time (final gap {100 * result.gap:.2f} %)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_dispatch(result, path, scenario: str | None = None):
    """Supply stack of the whole system (every site added up) in one scenario against the demand."""
    scenario = scenario or next(iter(result.dispatch))
    f = result.dispatch[scenario]
    hours = edges(len(f), result.period_hours)

    def total(suffix):
        cols = [c for c in f.columns if c.endswith(":" + suffix)]
        return f[cols].sum(axis=1).to_numpy() if cols else np.zeros(len(f))

    parts = {"day-ahead": f["day_ahead_kw"].to_numpy(), "intraday": f["intraday_kw"].to_numpy(),
             "generator": total("generator_kw"), "PV": total("pv_kw"), "wind": total("wind_kw"),
             "battery discharge": np.clip(total("battery_kw"), 0, None)}
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.stackplot(hours, *(closed(v) for v in parts.values()), labels=list(parts), step="post", alpha=0.8)
    demand = total("base_load_kw") + total("lines_kw") + np.clip(-total("battery_kw"), 0, None) + f["resale_kw"].to_numpy()
    ax.step(hours, closed(demand), where="post", color="k", label="base load + lines + charging + resale")
    ax.set_xlabel("hour")
    ax.set_ylabel("kW")
    ax.set_title(f"Dispatch of all sites together, scenario {scenario} "
                 f"(cost {f.attrs.get('total_cost_eur', float('nan')):,.0f} EUR)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_study(table, path):
    """In- and out-of-sample cost and VSS/EVPI against the number of scenarios."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    g = table.groupby("n_scenarios")
    for col, label in (("in_sample_eur", "in-sample"), ("out_of_sample_eur", "out-of-sample")):
        ax.errorbar(g[col].mean().index, g[col].mean(), yerr=g[col].std().fillna(0), capsize=3, label=label)
    ax.set_xlabel("scenarios")
    ax.set_ylabel("EUR")
    ax.legend()
    for col in ("VSS", "EVPI"):
        if col in table:
            ax2.plot(g[col].mean().index, g[col].mean(), marker="o", label=col)
    ax2.set_xlabel("scenarios")
    ax2.set_ylabel("EUR")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


#: The figures of a plan in the report: (file stem, caption, function(result, path) -> path or None).
PLAN_FIGURES = (
    ("plan_day_ahead", "Day-ahead purchases against prices", plot_day_ahead),
    ("plan_gantt", "Production schedule per line in the first scenario (Gantt chart; shade = share of the "
                   "period producing)", plot_gantt),
    ("plan_dispatch", "Dispatch of all sites together in the first scenario", plot_dispatch),
    ("plan_bounds", "Lower and upper bounds against time", plot_bounds),
)
