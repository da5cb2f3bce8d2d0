"""The links block: power exchanged between sites in both directions, with losses on arrival.

Port: ``link_in_kw[site, t]`` expression of the net power each site receives (after losses).
"""

from __future__ import annotations

import pyomo.environ as pyo


def link_in_kw(links, site, flow_ab, flow_ba):
    """Net power ``site`` receives over ``links`` after losses on arrival: (1 - loss) * flow towards
    it - flow away from it. ``links``: rows (site_a, site_b, loss_fraction); ``flow_ab[k]`` and
    ``flow_ba[k]``: the flows of link k (numbers, Pyomo or ``sddp`` expressions)."""
    total = 0.0
    for k, (site_a, site_b, loss_fraction) in enumerate(links):
        keep = 1.0 - float(loss_fraction)
        if site_b == site:
            total += keep * flow_ab[k] - flow_ba[k]
        if site_a == site:
            total += keep * flow_ba[k] - flow_ab[k]
    return total


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

    ends = [(link.site_a, link.site_b, link.loss_fraction) for link in links]

    def inflow(b, s, t):
        return link_in_kw(ends, s, [b.flow_kw[k, "ab", t] for k in b.L], [b.flow_kw[k, "ba", t] for k in b.L])

    b.link_in_kw = pyo.Expression(b.S, b.T, rule=inflow)
    return b
