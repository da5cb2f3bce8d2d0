"""The links block: power exchanged between sites in both directions, with losses on arrival.

Port: ``link_in_kw[site, t]`` expression of the net power each site receives (after losses).
"""

from __future__ import annotations

import pyomo.environ as pyo


def build_links_block(b: pyo.Block, links, site_names, periods: int, elastic=frozenset()) -> pyo.Block:
    b.T = pyo.Set(initialize=range(periods), ordered=True)
    b.L = pyo.Set(initialize=range(len(links)), ordered=True)
    b.DIR = pyo.Set(initialize=["ab", "ba"], ordered=True)
    cap = {k: float(link.capacity_kw) for k, link in enumerate(links)}
    if "link_capacity" in elastic:
        b.flow_kw = pyo.Var(b.L, b.DIR, b.T, bounds=(0.0, None))
        b.slack_link_capacity = pyo.Var(b.L, b.T, bounds=(0.0, None))
        b.capacity = pyo.Constraint(
            b.L, b.DIR, b.T, rule=lambda b, k, d, t: b.flow_kw[k, d, t] <= cap[k] + b.slack_link_capacity[k, t])
    else:
        b.flow_kw = pyo.Var(b.L, b.DIR, b.T, bounds=lambda b, k, d, t: (0.0, cap[k]))
    b.S = pyo.Set(initialize=list(site_names), ordered=True)

    def inflow(b, s, t):
        total = 0.0
        for k, link in enumerate(links):
            keep = 1.0 - float(link.loss_fraction)
            if link.site_b == s:
                total += keep * b.flow_kw[k, "ab", t] - b.flow_kw[k, "ba", t]
            if link.site_a == s:
                total += keep * b.flow_kw[k, "ba", t] - b.flow_kw[k, "ab", t]
        return total

    b.link_in_kw = pyo.Expression(b.S, b.T, rule=inflow)
    return b
