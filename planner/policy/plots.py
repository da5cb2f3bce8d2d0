"""Figures of the battery policy: bound convergence, state-of-charge paths, policy comparison.

Each function takes a :class:`planner.policy.compare.PolicyResult` and a path, writes a PNG and
returns the path.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _figure(*args, **kwargs):
    """pyplot and a new figure, drawn off screen unless inline in a notebook."""
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    return plt, plt.subplots(*args, **kwargs)


def plot_bound_convergence(result, path) -> Path:
    """Lower bound per iteration with the simulated mean and its 95 % interval."""
    plt, (fig, ax) = _figure(figsize=(7, 4))
    it = np.arange(1, len(result.bound_history) + 1)
    ax.plot(it, result.bound_history, label="lower bound (SDDP)")
    lo, hi = result.upper_bound_ci
    ax.axhspan(lo, hi, color="tab:orange", alpha=0.25, label="simulated mean, 95 % CI")
    ax.axhline(result.upper_bound, color="tab:orange")
    ax.set_xlabel("iteration")
    ax.set_ylabel("operating cost of the day (EUR)")
    ax.set_title(f"{result.case_name}: gap {100 * result.gap:.2f} % after {result.iterations} iterations")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_soc_spaghetti(result, path, max_paths: int = 60) -> Path:
    """State of charge of each battery along the simulated paths under the SDDP policy."""
    socs = result.soc_paths
    B = socs.shape[2] if socs.ndim == 3 else 0
    plt, (fig, axes) = _figure(max(B, 1), 1, figsize=(7, 2.4 * max(B, 1)), squeeze=False)
    hours = np.arange(socs.shape[1]) * result.period_hours if B else np.arange(1)
    for j in range(B):
        ax = axes[j, 0]
        for s in range(min(max_paths, socs.shape[0])):
            ax.plot(hours, socs[s, :, j], color="tab:blue", alpha=0.25, lw=0.8)
        ax.plot(hours, socs[:, :, j].mean(axis=0), color="black", lw=2, label="mean")
        ax.set_ylabel(f"SoC {result.battery_sites[j]} (kWh)")
        ax.legend(loc="upper right")
    axes[-1, 0].set_xlabel("hour")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_policy_comparison(result, path) -> Path:
    """Top: mean operating cost with its 95 % interval for each policy, bars from zero (a truncated axis
    would turn a 4 % difference into a threefold one). Bottom: the paired difference of each policy to
    the fixed schedule on the same paths, with its 95 % interval: what the comparison rests on."""
    table = result.comparison if result.real_days is None else pd.concat([result.comparison, result.real_days])
    groups = list(dict.fromkeys(table["paths"]))
    plt, (fig, axes) = _figure(2, len(groups), figsize=(5.5 * len(groups), 6.5), squeeze=False)
    for col, g in enumerate(groups):
        sub = table[table["paths"] == g]
        y = np.arange(len(sub))
        mean, low, high = (sub[c].to_numpy() for c in ("mean_cost_eur", "ci_low_eur", "ci_high_eur"))
        ax = axes[0, col]
        ax.barh(y, mean, xerr=np.vstack([mean - low, high - mean]), color="tab:green", capsize=3)
        ax.set_yticks(y, sub["policy"])
        ax.set_xlim(min(0.0, float(low.min()) * 1.05), max(0.0, float(high.max()) * 1.05))
        ax.axvline(0.0, color="k", lw=0.6)
        ax.set_xlabel("mean operating cost of the day (EUR), axis from 0")
        ax.set_title(f"{g} ({int(sub['n'].iloc[0])} paths)")
        ax = axes[1, col]
        if "vs_fixed_schedule_eur" in sub:
            diff = sub["vs_fixed_schedule_eur"].to_numpy(dtype=float)
            half = sub["vs_fixed_schedule_ci_half_eur"].to_numpy(dtype=float)
            ok = np.isfinite(diff)
            ax.errorbar(diff[ok], y[ok], xerr=np.nan_to_num(half[ok]), fmt="o", color="tab:purple", capsize=3)
            ax.axvline(0.0, color="k", lw=0.8)
            ax.set_yticks(y, sub["policy"])
            ax.set_xlabel("paired difference to the fixed schedule\n(EUR, same paths, 95 % interval; < 0: cheaper)")
        else:
            ax.set_axis_off()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
