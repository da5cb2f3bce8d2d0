"""PV and wind block: available output from the scenario, used output with curtailment.

Port: ``power_kw[t]`` = PV used + wind used; ``curtailed_kw[t]`` for reporting.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo


def build_renewables_block(b: pyo.Block, pv_available_kw, wind_available_kw) -> pyo.Block:
    """``pv_available_kw`` and ``wind_available_kw``: arrays (periods,) of available power (kW)."""
    pv = np.asarray(pv_available_kw, dtype=float)
    wind = np.asarray(wind_available_kw, dtype=float)
    b.T = pyo.Set(initialize=range(len(pv)), ordered=True)
    b.pv_available_kw = pyo.Param(b.T, initialize=dict(enumerate(np.maximum(pv, 0.0))), mutable=True)
    b.wind_available_kw = pyo.Param(b.T, initialize=dict(enumerate(np.maximum(wind, 0.0))), mutable=True)
    b.pv_kw = pyo.Var(b.T, bounds=(0.0, None))
    b.wind_kw = pyo.Var(b.T, bounds=(0.0, None))
    b.pv_limit = pyo.Constraint(b.T, rule=lambda b, t: b.pv_kw[t] <= b.pv_available_kw[t])
    b.wind_limit = pyo.Constraint(b.T, rule=lambda b, t: b.wind_kw[t] <= b.wind_available_kw[t])
    b.power_kw = pyo.Expression(b.T, rule=lambda b, t: b.pv_kw[t] + b.wind_kw[t])
    b.curtailed_kw = pyo.Expression(
        b.T, rule=lambda b, t: b.pv_available_kw[t] + b.wind_available_kw[t] - b.pv_kw[t] - b.wind_kw[t])
    return b
