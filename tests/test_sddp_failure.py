"""A stage that cannot be solved raises a clear error naming stage, node and
noise, after the recovery attempts, and writes the LP to a file."""

from __future__ import annotations

import pytest

import sddp


def infeasible_model(tmp_path):
    def build(sp, t):
        x_in, x_out = sp.add_state("volume", lower=0.0, upper=200.0, initial=200.0)
        g = sp.add_variable(upper=1000.0, cost=10.0, name="thermal")
        h = sp.add_variable(name="hydro")
        balance = sp.add_constraint(x_out - x_in + h, "==", 0.0)
        sp.add_constraint(h + g, "==", 150.0)
        demand = sp.add_constraint(g, ">=", 0.0)

        def param(sp, w):
            sp.set_rhs(balance, w)
            # at stage 2 the "drought" outcome asks for more thermal than its capacity
            sp.set_rhs(demand, 2000.0 if (t == 2 and w == 7.0) else 0.0)

        sp.parameterize([0.0, 7.0], None, param)
        sp.failure_dir = str(tmp_path)

    return sddp.LinearPolicyGraph(build, 3, lower_bound=0.0)


def test_infeasible_stage_raises_named_error(tmp_path):
    model = infeasible_model(tmp_path)
    with pytest.raises(sddp.SubproblemError) as err:
        sddp.train(model, iteration_limit=5, print_level=0, random_state=0)
    msg = str(err.value)
    assert "stage 2" in msg
    assert "noise 7.0" in msg
    assert "Infeasible" in msg
    written = list(tmp_path.glob("sddp_failed_stage2_*.lp"))
    assert len(written) == 1 and written[0].stat().st_size > 0


def test_model_still_usable_after_failure(tmp_path):
    model = infeasible_model(tmp_path)
    with pytest.raises(sddp.SubproblemError):
        sddp.train(model, iteration_limit=5, print_level=0, random_state=0)
    # solver options are restored: a feasible solve works again
    sp = model.node(2)
    sp.noise_changes[0].apply(sp.highs)
    sp.solve(0.0)


class FlakyHighs:
    """Wraps a Highs model; the first run() stops after zero simplex iterations,
    which leaves a non-optimal status, as a numerical failure would."""

    def __init__(self, h):
        self._h = h
        self.failures_left = 1

    def run(self):
        if self.failures_left:
            self.failures_left -= 1
            self._h.clearSolver()
            self._h.setOptionValue("simplex_iteration_limit", 0)
            status = self._h.run()
            self._h.setOptionValue("simplex_iteration_limit", 2**31 - 1)
            return status
        return self._h.run()

    def __getattr__(self, name):
        return getattr(self._h, name)


def test_recovery_path_retries_and_succeeds():
    def build(sp, t):
        sp.add_state("s", lower=0.0, upper=0.0)
        x = sp.add_variable(cost=1.0)
        y = sp.add_variable(cost=2.0)
        sp.add_constraint(x + y, ">=", 3.0)
        sp.add_constraint(x - y, "<=", 1.0)

    model = sddp.LinearPolicyGraph(build, 1, lower_bound=0.0)
    sp = model.node(1)
    sp.highs = FlakyHighs(sp.highs)
    # optimum: x - y = 1, x + y = 3 -> x = 2, y = 1, cost 4
    assert sddp.calculate_bound(model) == pytest.approx(4.0)
    assert sp.recoveries == 1 and sp.highs.failures_left == 0
    assert sp.highs.getOptionValue("presolve")[-1] == "off"
