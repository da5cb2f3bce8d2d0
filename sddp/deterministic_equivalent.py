"""The deterministic equivalent: the whole scenario tree of a small policy graph
as one HiGHS LP, used to check the SDDP engine (risk-neutral only)."""

from __future__ import annotations

import numpy as np

from .problem import SubproblemError
from .solver import OPTIMAL, new_highs

__all__ = ["deterministic_equivalent"]


def deterministic_equivalent(graph, max_tree_nodes=200_000, return_model=False):
    """Optimal expected objective (problem sense) of the full tree LP.

    Every tree node is a copy of its stage LP with its noise applied (starting
    from the model as built, so a parameterisation should set every value it
    changes). Incoming states are linked to the parent's outgoing states. An objective state is
    advanced along the tree (``update(parent value, omega)``) and the noise re-applied at each tree
    node's value, so the LP is the exact tree problem.
    """
    col_lo, col_hi, col_cost = [], [], []
    row_lo, row_hi, r_start, r_idx, r_val = [], [], [], [], []
    const = 0.0
    n_tree = 0
    # stack of (graph node index, noise index, probability, parent out cols or None, parent's y)
    y0 = graph.initial_objective_state if graph.objective_state_names else None
    stack = []
    for c, pc in graph.root_children:
        for k, pk in enumerate(graph.nodes[c].sp.noise_probs):
            if pc * pk > 0:
                stack.append((c, k, pc * pk, None, y0))
    while stack:
        i, k, prob, parent_out, y_in = stack.pop()
        n_tree += 1
        if n_tree > max_tree_nodes:
            raise ValueError(f"the scenario tree has more than {max_tree_nodes} nodes")
        nd = graph.nodes[i]
        sp = nd.sp
        lo, hi, cost = list(sp.col_lo), list(sp.col_hi), list(sp.col_cost)
        rlo, rhi = list(sp.row_lo), list(sp.row_hi)
        rows = [dict(r) for r in sp.rows]
        if y_in is None:
            y = None
            sp.noise_changes[k].apply_to_data(lo, hi, cost, rlo, rhi, rows)
        else:
            y = sp.objective_state_def.advance(y_in, sp.noise_support[k])
            sp.record(sp.noise_support[k]).apply_to_data(lo, hi, cost, rlo, rhi, rows)
        off = len(col_lo)
        col_lo.extend(lo)
        col_hi.extend(hi)
        col_cost.extend(prob * c for c in cost)
        const += prob * graph.sign * sp.objective_constant
        for r, row in enumerate(rows):
            r_start.append(len(r_idx))
            row_lo.append(rlo[r])
            row_hi.append(rhi[r])
            for col, v in row.items():
                r_idx.append(off + col)
                r_val.append(v)
        in_cols = [off + int(c) for c in nd.in_cols]
        if parent_out is None:
            for c, x in zip(in_cols, graph.initial_state):
                col_lo[c] = col_hi[c] = float(x)
        else:
            for a, b in zip(in_cols, parent_out):
                r_start.append(len(r_idx))
                row_lo.append(0.0)
                row_hi.append(0.0)
                r_idx.extend((a, b))
                r_val.extend((1.0, -1.0))
        out_cols = [off + int(c) for c in nd.out_cols]
        for c, pc in nd.children:
            for kk, pk in enumerate(graph.nodes[c].sp.noise_probs):
                if pc * pk > 0:
                    stack.append((c, kk, prob * pc * pk, out_cols, y))
    h = new_highs()
    n = len(col_lo)
    h.addVars(n, np.array(col_lo), np.array(col_hi))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(col_cost))
    if row_lo:
        h.addRows(len(row_lo), np.array(row_lo), np.array(row_hi), len(r_idx),
                  np.array(r_start, dtype=np.int32), np.array(r_idx, dtype=np.int32),
                  np.array(r_val, dtype=float))
    h.run()
    if h.getModelStatus() != OPTIMAL:
        raise SubproblemError("deterministic equivalent not optimal: "
                              + h.modelStatusToString(h.getModelStatus()))
    value = graph.sign * (h.getObjectiveValue() + const)
    return (value, h) if return_model else value
