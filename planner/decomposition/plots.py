"""Figures of the site decompositions: lower and upper bounds per iteration, with the gap."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from planner.decomposition.method import DecompositionResult


def plot_bounds(result: DecompositionResult, path=None, ax=None):
    """Lower and upper bounds per iteration (and the gap on a second axis); saved to ``path`` if given."""
    it = [r.iteration for r in result.history]
    lb = [r.lower_bound for r in result.history]
    ub = [r.upper_bound if math.isfinite(r.upper_bound) else np.nan for r in result.history]
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(it, lb, "o-", label="lower bound (dual)")
    ax.plot(it, ub, "s-", label="upper bound (feasible plan)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("expected cost (EUR)")
    ax.set_title(f"{result.method} decomposition: {result.n_sites} sites, {result.n_scenarios} scenario(s)")
    if len(it) == 1:  # one iteration: the certified interval, labelled, not two dots on an empty axis
        if math.isfinite(lb[0]) and not np.isnan(ub[0]):
            ax.vlines(it[0], lb[0], ub[0], color="tab:grey", lw=6, alpha=0.4, label="certified interval")
        for value, name in ((lb[0], "lower bound"), (ub[0], "upper bound")):
            if not np.isnan(value):
                ax.annotate(f"{name} {value:,.0f} EUR", (it[0], value), xytext=(8, 0), textcoords="offset points",
                            va="center", fontsize=8)
        ax.set_xlim(it[0] - 1, it[0] + 2)
        ax.set_title(ax.get_title() + f"\none iteration: gap {100 * result.gap:.2f} %", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
        return _finish(ax, path, own)
    ax.legend(loc="lower right")
    ax2 = ax.twinx()
    gaps = [100 * r.gap if math.isfinite(r.gap) else np.nan for r in result.history]
    ax2.plot(it, gaps, ":", color="grey", label="gap %")
    ax2.set_ylabel("gap (%)")
    ax2.set_yscale("log")
    return _finish(ax, path, own)


def _finish(ax, path, own: bool):
    """Save the figure of ``ax`` to ``path`` (if given), close it when this module created it."""
    fig = ax.figure
    if path is not None:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    if own and path is not None:
        plt.close(fig)
    return fig
