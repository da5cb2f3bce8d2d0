"""The SDDP policy: the trained policy graph simulated on observed paths, each period mapped to its
lattice node and the observed values applied to the node's subproblem (``sddp.simulate_historical``)."""

from __future__ import annotations

import numpy as np

from planner.policy.base import Policy
from planner.policy.recourse import PathOutcome
from sddp import simulate_historical


class SDDPPolicy(Policy):
    """The policy of the cuts of ``model.graph`` (trained, or loaded from a cut file)."""

    name = "SDDP"

    def simulate(self, values) -> PathOutcome:
        model = self.model
        inp = model.inputs
        values = np.asarray(values, dtype=float)
        S, T, _ = values.shape
        names = list(model.state_names) + [f"shed_kw:{n}" for n in inp.site_names]
        res = simulate_historical(model.graph, model.paths(values), variables=names)
        wide = res.data.pivot_table(index=["replication", "stage"], columns="variable", values="value")
        socs = np.zeros((S, T + 1, len(inp.battery_sites)))
        socs[:, 0] = inp.initial_soc_kwh()
        for j, i in enumerate(inp.battery_sites):
            socs[:, 1:, j] = wide[f"soc:{inp.site_names[i]}"].to_numpy().reshape(S, T)
        peak = wide["peak_kw"].to_numpy().reshape(S, T)[:, -1]
        shed = sum(wide[f"shed_kw:{n}"].to_numpy().reshape(S, T) for n in inp.site_names)
        targets = np.array([inp.soc_target_kwh(i) for i in inp.battery_sites])
        shortfall = np.maximum(targets - socs[:, -1], 0.0).sum(axis=1) if len(targets) else np.zeros(S)
        overrun = inp.overrun_charge_eur_per_kw * np.maximum(peak - inp.overrun_threshold_kw, 0.0)
        return PathOutcome(self.name, np.asarray(res.costs, dtype=float), peak, overrun,
                           shed.sum(axis=1) * inp.period_hours, shortfall, socs)
