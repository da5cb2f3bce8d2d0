"""Plots shared by the stages: scenario fans (quantile bands of each variable over the periods)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> np.ndarray:
    """Quantiles over axis 0 of ``values`` (scenarios, periods) with scenario weights."""
    order = np.argsort(values, axis=0)
    sorted_values = np.take_along_axis(values, order, axis=0)
    cum = np.cumsum(weights[order], axis=0)
    cum = cum / cum[-1]
    out = np.empty((len(qs), values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.interp(qs, cum[:, j] - 0.5 * weights[order[:, j]] / weights.sum(), sorted_values[:, j])
    return out


LABELS = {"p0_eur_per_mwh": "day-ahead price p0\n(EUR/MWh)", "p1_eur_per_mwh": "intraday price p1\n(EUR/MWh)",
          "p2_eur_per_mwh": "resale price p2\n(EUR/MWh)", "pv_kw_per_kwp": "PV {site}\n(kW per kWp)",
          "wind_kw_per_turbine": "wind {site}\n(kW per turbine)"}


def label(variable: str) -> str:
    """A readable axis label with units for a scenario variable (``pv_kw_per_kwp:foundry``)."""
    name, _, site = variable.partition(":")
    return LABELS.get(name, variable).format(site=site)


def plot_fan(scenario_set, variables, path, title: str = "", observed: dict | None = None,
             n_paths: int = 5, observed_label: str = "observed") -> Path:
    """One panel per variable: 5-95 % and 25-75 % bands, median, a few sample paths, and a reference
    curve (``observed``, drawn in red with ``observed_label``)."""
    variables = list(variables)
    fig, axes = plt.subplots(len(variables), 1, figsize=(9, 2.6 * len(variables)), sharex=True, squeeze=False)
    hours = np.arange(scenario_set.n_periods + 1) * scenario_set.period_hours

    def closed(a):  # repeat the last period's value so steps cover the whole horizon
        return np.concatenate([a, a[..., -1:]], axis=-1)

    for ax, var in zip(axes[:, 0], variables):
        values = closed(scenario_set[var])
        q = weighted_quantiles(values, scenario_set.probabilities, [0.05, 0.25, 0.5, 0.75, 0.95])
        ax.fill_between(hours, q[0], q[4], color="tab:blue", alpha=0.18, step="post", label="5-95 %")
        ax.fill_between(hours, q[1], q[3], color="tab:blue", alpha=0.35, step="post", label="25-75 %")
        ax.step(hours, q[2], where="post", color="tab:blue", lw=1.8, label="median")
        for i in range(min(n_paths, scenario_set.n_scenarios)):
            ax.step(hours, values[i], where="post", color="0.3", lw=0.6, alpha=0.6)
        if observed and var in observed:
            ax.step(hours, closed(np.asarray(observed[var])), where="post", color="tab:red", lw=1.5,
                    label=observed_label)
        ax.set_ylabel(label(var), fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize=7, ncol=4)
    axes[-1, 0].set_xlabel("hour")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
