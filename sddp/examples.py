"""Small reference problems with known optima (hydro-thermal, hydro valley,
stock) and random problems, used by the tests and the benchmark."""

from __future__ import annotations

import math

import numpy as np

from .problem import LinearPolicyGraph, MarkovianPolicyGraph

__all__ = ["hydro_thermal", "hydro_valley", "stock", "random_problem"]


def hydro_thermal(stages=3, costs=None, inflows=(0.0, 50.0, 100.0), demand=150.0,
                  capacity=200.0, initial=200.0):
    """One reservoir, thermal + hydro meet ``demand``; spill allowed.
    Defaults are SDDP.jl's first tutorial (optimum 8333.333)."""
    costs = list(costs) if costs is not None else [50.0 * t for t in range(1, stages + 1)]

    def build(sp, t):
        x_in, x_out = sp.add_state("volume", lower=0.0, upper=capacity, initial=initial)
        g = sp.add_variable(cost=costs[t - 1], name="thermal")
        h = sp.add_variable(name="hydro")
        s = sp.add_variable(name="spill")
        balance = sp.add_constraint(x_out - x_in + h + s, "==", 0.0)
        sp.add_constraint(h + g, "==", demand)
        sp.parameterize(list(inflows), None, lambda sp, w: sp.set_rhs(balance, w))

    return LinearPolicyGraph(build, stages, sense="min", lower_bound=0.0)


_HV_PRICES = [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [3.0, 4.0, 0.0]]
_HV_MARKOV = [[[1.0]], [[0.6, 0.4]], [[0.6, 0.4], [0.3, 0.7]]]


def hydro_valley(stochastic_inflows=False, markov_price=False):
    """SDDP.jl's hydro valley: two cascaded reservoirs, maximise revenue minus
    spill penalties. Optima: 835 (deterministic), 838.333 (inflows),
    851.8 (Markov price), 855 (both)."""
    F = (50.0, 60.0, 70.0)
    P = (55.0, 65.0, 70.0)
    rain = [(0.0, 0.0), (20.0, 0.0), (50.0, 20.0)]

    def build(sp, node):
        if markov_price:
            t, m = node
        else:
            t, m = node, 1
        price = _HV_PRICES[t - 1][m - 1]
        r = [sp.add_state(f"reservoir{k + 1}", lower=0.0, upper=200.0, initial=200.0)
             for k in range(2)]
        inflow = [sp.add_variable(0.0, 0.0, name=f"inflow{k + 1}") for k in range(2)]
        spill = [sp.add_variable(cost=-1000.0, name=f"spill{k + 1}") for k in range(2)]
        q = []
        for k in range(2):
            d = [sp.add_variable(0.0, 1.0, cost=price * P[l], name=f"d{k + 1}{l + 1}")
                 for l in range(3)]
            sp.add_constraint(d[0] + d[1] + d[2], "<=", 1.0)
            qk = sp.add_variable(name=f"flow{k + 1}")
            sp.add_constraint(qk - (F[0] * d[0] + F[1] * d[1] + F[2] * d[2]), "==", 0.0)
            q.append(qk)
        sp.add_constraint(r[0].outgoing - r[0].incoming - inflow[0] + q[0] + spill[0], "==", 0.0)
        sp.add_constraint(r[1].outgoing - r[1].incoming - inflow[1] + q[1] + spill[1]
                          - q[0] - spill[0], "==", 0.0)

        def param(sp, w):
            sp.set_bounds(inflow[0], 0.0, w[0])
            sp.set_bounds(inflow[1], 0.0, w[1])

        if stochastic_inflows and t > 1:
            sp.parameterize(rain, None, param)
        else:
            sp.parameterize([rain[0]], None, param)

    if markov_price:
        return MarkovianPolicyGraph(build, _HV_MARKOV, sense="max", upper_bound=1e6)
    return LinearPolicyGraph(build, 3, sense="max", upper_bound=1e6)


def stock(stages=5, n_noise=10):
    """StochDynamicProgramming.jl's stock problem (optimum -1.471075)."""

    def build(sp, t):
        x_in, x_out = sp.add_state("stock", lower=0.0, upper=1.0, initial=0.5)
        u = sp.add_variable(0.0, 0.5, cost=math.sin(3 * t) - 1.0, name="control")
        dyn = sp.add_constraint(x_out - x_in + u, "==", 0.0)
        sp.parameterize([i / 30 for i in range(n_noise)], None,
                        lambda sp, w: sp.set_rhs(dyn, w))

    return LinearPolicyGraph(build, stages, sense="min", lower_bound=-10.0)


def random_problem(seed, n_states=2, stages=4, n_noise=3, markov_states=1, sense="min",
                   coefficient_noise=True):
    """A random feasible LP policy graph (complete recourse through penalised
    slacks) where noise changes right-hand sides, bounds, costs and a matrix
    coefficient. ``markov_states > 1`` gives a Markovian graph."""
    rng = np.random.default_rng(seed)
    d = n_states
    n_u = d + 1
    B = [rng.uniform(0.5, 1.0, size=(d, d)) * np.eye(d) + rng.uniform(-0.1, 0.1, size=(d, d))
         for _ in range(stages)]
    C = [rng.uniform(-1.0, 1.0, size=(d, n_u)) for _ in range(stages)]
    base_cost = [rng.uniform(-2.0, 3.0, size=(markov_states, n_u)) for _ in range(stages)]
    hold = [rng.uniform(-0.5, 1.0, size=d) for _ in range(stages)]
    W = [rng.uniform(-2.0, 4.0, size=(n_noise, d)) for _ in range(stages)]
    caps = [rng.uniform(2.0, 6.0, size=n_noise) for _ in range(stages)]
    cmult = [rng.uniform(0.5, 1.5, size=n_noise) for _ in range(stages)]
    coef = [rng.uniform(0.5, 1.5, size=n_noise) for _ in range(stages)]
    probs = [rng.dirichlet(np.full(n_noise, 4.0)) for _ in range(stages)]
    x0 = rng.uniform(0.0, 5.0, size=d)
    sgn = 1.0 if sense == "min" else -1.0

    def build(sp, node):
        t, m = (node if markov_states > 1 else (node, 1))
        i = t - 1
        xs = [sp.add_state(f"x{j}", lower=0.0, upper=10.0, initial=x0[j]) for j in range(d)]
        u = [sp.add_variable(0.0, 3.0, cost=sgn * base_cost[i][m - 1, k], name=f"u{k}")
             for k in range(n_u)]
        sp_ = [sp.add_variable(cost=sgn * 20.0) for _ in range(d)]
        sm_ = [sp.add_variable(cost=sgn * 20.0) for _ in range(d)]
        for x in xs:
            sp.set_objective_coefficient(x.outgoing, sgn * 0.0)
        dyn = []
        for j in range(d):
            e = xs[j].outgoing - sp_[j] + sm_[j]
            for jj in range(d):
                e = e - B[i][j, jj] * xs[jj].incoming
            for k in range(n_u):
                e = e - C[i][j, k] * u[k]
            dyn.append(sp.add_constraint(e, "==", 0.0))
        for j in range(d):
            sp.set_objective_coefficient(xs[j].outgoing, sgn * hold[i][j])
        cap = sp.add_constraint(sum(u[1:], u[0] * 1.0), "<=", 5.0)

        def param(sp, w):
            for j in range(d):
                sp.set_rhs(dyn[j], W[i][w, j])
            sp.set_bounds(u[0], 0.0, caps[i][w])
            sp.set_objective_coefficient(u[1], sgn * base_cost[i][m - 1, 1] * cmult[i][w])
            if coefficient_noise:
                sp.set_coefficient(cap, u[0], coef[i][w])

        sp.parameterize(list(range(n_noise)), probs[i], param)

    if markov_states == 1:
        return LinearPolicyGraph(build, stages, sense=sense, lower_bound=-1e4,
                                 upper_bound=1e4)
    mats = [rng.dirichlet(np.full(markov_states, 4.0))[None, :]]
    for _ in range(stages - 1):
        mats.append(rng.dirichlet(np.full(markov_states, 4.0), size=markov_states))
    return MarkovianPolicyGraph(build, mats, sense=sense, lower_bound=-1e4, upper_bound=1e4)
