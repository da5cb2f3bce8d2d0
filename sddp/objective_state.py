"""Objective states (SDDP.jl's ``ObjectiveState``; Downward, Dowson and Philpott, Oper. Res. Lett. 2020):
a price-like state that evolves by a user function of its previous value and the stage noise.

What the engine does, exactly
-----------------------------
A node with an objective state of dimension ``N`` has, after its noise ``omega`` is observed,

    y = update(y_parent, omega)            (``y_parent``: the parent node's y, or ``initial`` at the root)

and ``fn(sp, omega)`` of :meth:`~sddp.problem.Subproblem.parameterize` reads ``sp.objective_state`` (a
float when ``N == 1``, else a tuple) to set objective coefficients. ``y`` must not enter constraints.
The cost-to-go of a node, ``V(x, y) = E[Q_child(x, update_child(y, omega))]`` (risk-adjusted under a
risk measure), is convex in the resource state ``x`` and, when every update is affine in ``y`` and the
problem risk neutral, concave in ``y`` (internal minimisation sense; for ``sense='max'`` read concave /
convex the other way round). Cut ``k``, computed in the backward pass at the node's trial point
``(x_k, y_k)``, is ``theta + y_k' mu >= alpha_k + beta_k' x`` (``alpha_k + beta_k' x`` is the usual
Benders cut of ``V(., y_k)``), and the node's LP minimises ``stage cost + theta + y' mu`` with
``-L <= mu <= L`` (``L``: the user's ``lipschitz``). Eliminating ``theta`` and ``mu`` gives

    V_hat(x, y) = min_{|mu_i| <= L_i} max_k [alpha_k + beta_k' x + (y - y_k)' mu]
                = max_{lambda in simplex} [sum_k lambda_k (alpha_k + beta_k' x)
                                           - sum_i L_i |y_i - sum_k lambda_k y_k,i|]

(LP duality): an outer (lower) approximation in ``x`` and, in ``y``, the upper concave envelope of the
cuts' values at the sampled ``y_k`` extended with slope ``L`` — a saddle function. It is a valid lower
bound of ``V`` wherever ``V(x, .)`` is concave and ``L_i``-Lipschitz in ``y_i`` (weighted l1 norm). The
initial bound is written the same way: ``theta + y_v' mu >= lower_bound`` at every vertex ``y_v`` of the
box ``[lower, upper]`` (the box's two corners when ``N >= 5``; an infinite bound is replaced by the
initial value), so the cost-to-go column itself is free; ``lower``/``upper`` are hints, not constraints.

Not exact (documented limits): with a risk measure other than the expectation the risk-adjusted
``V`` is a maximum over the risk set of concave functions and need not be concave in ``y``: it stays
concave when the worst children are the same at every ``y`` (e.g. costs monotone in the price and noise
that moves only the price, tested against nested AVaR trees), otherwise the interpolation in ``y`` can
overshoot (the cuts at each sampled ``y_k`` remain exact; tests/sddp/test_objective_state.py shows a
case). A non-affine update (e.g. clipping the price) or a too small ``lipschitz`` also voids the
guarantee. Level-1 cut selection compares only cuts and points with the same ``y`` (as
SDDP.jl); since ``y`` is continuous, nodes with an objective state keep every cut in the LP. Multi-cut
is not supported with objective states; under MPI the cuts are shared with their ``y_k``.
"""

from __future__ import annotations

from itertools import product

import numpy as np

__all__ = ["ObjectiveState", "box_vertices"]


def _vector(value, n, field):
    """``value`` as a float array of length ``n`` (a scalar is repeated)."""
    arr = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
    if arr.size == 1 and n > 1:
        arr = np.full(n, float(arr[0]))
    if arr.size != n:
        raise ValueError(f"objective state {field} has {arr.size} values, expected {n} (one per "
                         f"dimension of the initial value); pass a scalar or a sequence of length {n}")
    return arr


class ObjectiveState:
    """The definition of a node's objective state and its current value ``value`` (a float array).

    ``update(previous, omega)`` returns the new state (a float for one dimension, else a sequence);
    ``previous`` is passed as a float when the state has one dimension and as a tuple otherwise."""

    __slots__ = ("update", "initial", "lower", "upper", "lipschitz", "names", "value")

    def __init__(self, update, initial, lipschitz, lower=None, upper=None, names=None):
        if not callable(update):
            raise TypeError("objective state update must be a function update(previous, omega) -> state")
        self.initial = np.atleast_1d(np.asarray(initial, dtype=float)).ravel()
        n = self.initial.size
        if n == 0:
            raise ValueError("objective state initial value is empty; give one value per dimension")
        self.lipschitz = _vector(lipschitz, n, "lipschitz")
        if np.any(~np.isfinite(self.lipschitz)) or np.any(self.lipschitz < 0):
            raise ValueError("objective state lipschitz must be finite and >= 0 (the largest change of "
                             "the cost-to-go per unit change of the state, in objective units)")
        self.lower = _vector(-np.inf if lower is None else lower, n, "lower")
        self.upper = _vector(np.inf if upper is None else upper, n, "upper")
        if np.any(self.lower > self.upper):
            raise ValueError("objective state lower bound exceeds its upper bound")
        if names is None:
            names = ["objective_state"] if n == 1 else [f"objective_state[{i}]" for i in range(n)]
        self.names = [str(v) for v in names]
        if len(self.names) != n or len(set(self.names)) != n:
            raise ValueError(f"objective state names must be {n} distinct names")
        self.update = update
        self.value = self.initial.copy()

    @property
    def dim(self):
        return self.initial.size

    def advance(self, previous, omega):
        """Set ``value`` to ``update(previous, omega)`` and return it (a new float array)."""
        arg = float(previous[0]) if previous.size == 1 else tuple(previous.tolist())
        y = np.atleast_1d(np.asarray(self.update(arg, omega), dtype=float)).ravel()
        if y.size != self.initial.size or not np.all(np.isfinite(y)):
            raise ValueError(f"objective state update returned {y.tolist()}; expected "
                             f"{self.initial.size} finite value(s)")
        self.value = y
        return y

    def user_value(self):
        """The current value as the user sees it: a float (one dimension) or a tuple."""
        return float(self.value[0]) if self.value.size == 1 else tuple(self.value.tolist())


def box_vertices(lower, upper, initial):
    """Points where the initial bound is written: the vertices of the box (its two corners from five
    dimensions on, as SDDP.jl), infinite bounds replaced by the initial value."""
    lo = np.where(np.isfinite(lower), lower, initial)
    hi = np.where(np.isfinite(upper), upper, initial)
    if lo.size < 5:
        pts = {tuple(p) for p in product(*zip(lo.tolist(), hi.tolist()))}
    else:
        pts = {tuple(lo.tolist()), tuple(hi.tolist())}
    return [np.array(p) for p in sorted(pts)]
