"""The farmer problem (Birge and Louveaux) as an mpi-sppy module, to test the EF/PH/VSS/EVPI code path.

500 acres of wheat, corn and sugar beets; yields below average / average / above average with
probability 1/3 each (scenarios ``scen0``, ``scen1``, ``scen2``); minimise planting and purchase
cost minus sales. Known values: RP -108390 with acres (170, 80, 250), EV -118600, EEV -107240,
WS -115405.56.
"""

from __future__ import annotations

import pyomo.environ as pyo
from mpisppy.utils import sputils

from planner.stochastic.names import scenario_index, scenario_names_creator  # noqa: F401 (a module hook)

CROPS = ("wheat", "corn", "beets")
YIELDS_T_PER_ACRE = {
    "below": {"wheat": 2.0, "corn": 2.4, "beets": 16.0},
    "average": {"wheat": 2.5, "corn": 3.0, "beets": 20.0},
    "above": {"wheat": 3.0, "corn": 3.6, "beets": 24.0},
}
LEVELS = ("below", "average", "above")
PLANTING_EUR_PER_ACRE = {"wheat": 150.0, "corn": 230.0, "beets": 260.0}
FEED_T = {"wheat": 200.0, "corn": 240.0}
PURCHASE_EUR_PER_T = {"wheat": 238.0, "corn": 210.0}
SELL_EUR_PER_T = {"wheat": 170.0, "corn": 150.0}
BEETS_QUOTA_T, BEETS_PRICE, BEETS_PRICE_ABOVE_QUOTA = 6000.0, 36.0, 10.0
TOTAL_ACRES = 500.0


def build_farmer(yields: dict, name: str = "farmer") -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name)
    m.C = pyo.Set(initialize=CROPS, ordered=True)
    m.G = pyo.Set(initialize=("wheat", "corn"), ordered=True)
    m.acres = pyo.Var(m.C, bounds=(0.0, TOTAL_ACRES))
    m.bought_t = pyo.Var(m.G, bounds=(0.0, None))
    m.sold_t = pyo.Var(m.G, bounds=(0.0, None))
    m.beets_quota_t = pyo.Var(bounds=(0.0, BEETS_QUOTA_T))
    m.beets_extra_t = pyo.Var(bounds=(0.0, None))
    m.land = pyo.Constraint(expr=sum(m.acres[c] for c in m.C) <= TOTAL_ACRES)
    m.feed = pyo.Constraint(m.G, rule=lambda m, g: yields[g] * m.acres[g] + m.bought_t[g] - m.sold_t[g] >= FEED_T[g])
    m.beets = pyo.Constraint(expr=m.beets_quota_t + m.beets_extra_t <= yields["beets"] * m.acres["beets"])
    m.planting_cost = pyo.Expression(expr=sum(PLANTING_EUR_PER_ACRE[c] * m.acres[c] for c in m.C))
    m.obj = pyo.Objective(expr=m.planting_cost
                          + sum(PURCHASE_EUR_PER_T[g] * m.bought_t[g] - SELL_EUR_PER_T[g] * m.sold_t[g] for g in m.G)
                          - BEETS_PRICE * m.beets_quota_t - BEETS_PRICE_ABOVE_QUOTA * m.beets_extra_t)
    return m


def scenario_creator(scenario_name, num_scens=3):
    m = build_farmer(YIELDS_T_PER_ACRE[LEVELS[scenario_index(scenario_name) % 3]], scenario_name)
    sputils.attach_root_node(m, m.planting_cost, [m.acres])
    m._mpisppy_probability = 1.0 / num_scens
    return m


def average_scenario_creator(scenario_name="average0", num_scens=3):
    """All yields at their expected value (the expected-value problem)."""
    levels = [LEVELS[i % 3] for i in range(num_scens)]
    mean = {c: sum(YIELDS_T_PER_ACRE[l][c] for l in levels) / num_scens for c in CROPS}
    m = build_farmer(mean, scenario_name)
    sputils.attach_root_node(m, m.planting_cost, [m.acres])
    m._mpisppy_probability = 1.0
    return m


def inparser_adder(cfg):
    cfg.num_scens_required()


def kw_creator(cfg):
    return {"num_scens": cfg.get("num_scens", 3)}


def scenario_denouement(rank, scenario_name, scenario):
    pass
