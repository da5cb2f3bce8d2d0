"""Prediction decomposition (interaction prediction): the coordinator predicts the interactions.

The interaction variables are each site's supply profile (its grid exchange plus exchange flows,
per scenario). The coordinator predicts them, prices them at its marginal cost of delivering the
prediction (duals of its contract-and-links LP with the supplies pinned to the prediction), each
site optimises given those prices, and the coordinator updates its prediction towards the sites'
answers with a diminishing step (2 / (k + 2), an averaging that damps the oscillation of
bang-bang site answers) until prediction and answers are consistent. The sites' answers are
Lagrangian subproblems, so every iteration gives a valid lower bound; the feasible plan comes from
the column-selection recovery over the sites' answers.
"""

from __future__ import annotations

import numpy as np

from planner.decomposition.method import DecompositionMethod


class PredictionDecomposition(DecompositionMethod):
    """Options: ``penalty_eur_per_mwh`` (elastic pin penalty of the coordinator, 3000),
    ``consistency_tol`` (relative mismatch between prediction and answers, 0.01), ``start`` ("lp": the
    LP relaxation's supplies as the first prediction, default; "day_ahead")."""

    name = "prediction"

    def run(self):
        p = self.problem
        penalty = float(self.options.get("penalty_eur_per_mwh", 3000.0))
        tol = float(self.options.get("consistency_tol", 0.01))
        lam0, supply0 = self.warm_start()
        _, sols, _, _, _ = self.lagrangian(lam0)
        prediction = np.array([s.supply_kw for s in sols]) if supply0 is None else np.array(supply0, copy=True)
        self.recover()
        self.record(0, "initial prediction")
        it = 0
        for it in range(1, self.max_iterations + 1):
            if self.done():
                it -= 1
                break
            _, lam, short, _ = self.coordinator.solve_supply(prediction, penalty)
            _, sols, _, _, _ = self.lagrangian(lam)
            answers = np.array([s.supply_kw for s in sols])
            mismatch = float(np.abs(answers - prediction).sum() / max(np.abs(prediction).sum(), 1e-9))
            prediction = prediction + 2.0 / (it + 2.0) * (answers - prediction)
            if it % self.recover_every == 0:
                self.recover()
            self.record(it, f"mismatch {100 * mismatch:.2f} %")
            if mismatch <= tol:
                break
        self.recover()
        return self.result(it)
