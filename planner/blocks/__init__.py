"""Pyomo blocks of the day-ahead model: site, line, battery, generator, renewables, contract, links.

Each ``build_*`` function fills a ``pyo.Block`` with its own variables and constraints and exposes a
few *ports* (Vars or Expressions indexed by period, in kW) through which blocks are connected.
Elastic mode: a block given ``elastic={family, ...}`` adds penalised slack variables to the
constraints of those families (used by ``planner.dayahead.feasibility`` to diagnose infeasible models).
"""

ELASTIC_FAMILIES = {
    "production_plan": "production plan (daily quantity per material)",
    "storage_limits": "material storage limits and deliveries",
    "link_capacity": "link capacity",
    "grid_connection": "grid connection capacity",
    "peak_cap": "contract hard peak cap",
    "battery_target": "battery end-of-day state-of-charge target",
}
