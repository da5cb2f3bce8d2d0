"""Stage subproblems and policy graphs: noise on every kind of coefficient, constants, the objective
sense, graph validation; a stage that cannot be solved raises a named error after recovery attempts."""

from __future__ import annotations

import pytest

import sddp


def one_stage(build_extra):
    """A single-stage problem: built, trained (no cost-to-go) and solved."""

    def build(sp, t):
        sp.add_state("s", lower=0.0, upper=0.0, initial=0.0)
        build_extra(sp)

    return sddp.LinearPolicyGraph(build, 1, lower_bound=-1e6)


def test_noise_changes_rhs_bounds_costs_and_coefficients():
    # min c*x + y  s.t.  a*x + y >= b,  0 <= x <= u,  y >= 0
    support = [dict(b=4.0, u=10.0, c=1.0, a=1.0),   # x = 4, cost 4
               dict(b=4.0, u=1.0, c=1.0, a=1.0),    # x = 1, y = 3: cost 4
               dict(b=4.0, u=10.0, c=0.5, a=2.0),   # x = 2: cost 1
               dict(b=6.0, u=10.0, c=3.0, a=1.0)]   # y = 6: cost 6

    def extra(sp):
        x = sp.add_variable(0.0, 10.0, cost=1.0, name="x")
        y = sp.add_variable(cost=1.0, name="y")
        row = sp.add_constraint(x + y, ">=", 0.0)

        def param(sp, w):
            sp.set_rhs(row, w["b"])
            sp.set_bounds(x, 0.0, w["u"])
            sp.set_objective_coefficient(x, w["c"])
            sp.set_coefficient(row, x, w["a"])

        sp.parameterize(support, [0.1, 0.2, 0.3, 0.4], param)

    model = one_stage(extra)
    expected = 0.1 * 4 + 0.2 * 4 + 0.3 * 1 + 0.4 * 6
    assert sddp.calculate_bound(model) == pytest.approx(expected)
    assert sddp.deterministic_equivalent(model) == pytest.approx(expected)


def test_constraint_with_constants_and_expression_rhs():
    # x - 2 >= y + 1 with y fixed at 3  ->  x >= 6
    def extra(sp):
        x = sp.add_variable(cost=1.0)
        y = sp.add_variable(3.0, 3.0)
        sp.add_constraint(x - 2, ">=", y + 1)

    assert sddp.calculate_bound(one_stage(extra)) == pytest.approx(6.0)


def test_set_stage_objective_with_constant_and_max_sense():
    def build(sp, t):
        sp.add_state("s", lower=0.0, upper=0.0)
        x = sp.add_variable(0.0, 2.0)
        sp.set_stage_objective(3 * x + 5)

    model = sddp.LinearPolicyGraph(build, 2, sense="max", upper_bound=100.0)
    res = sddp.train(model, iteration_limit=3, print_level=0)
    assert res.bound == pytest.approx(2 * (3 * 2 + 5))
    assert sddp.simulate(model, 3).mean == pytest.approx(22.0)
    assert sddp.deterministic_equivalent(model) == pytest.approx(22.0)


def test_graph_validation():
    with pytest.raises(ValueError, match="lower_bound"):
        sddp.LinearPolicyGraph(lambda sp, t: None, 2)

    def build(sp, t):
        sp.add_state("a" if t == 1 else "b")

    with pytest.raises(ValueError, match="states"):
        sddp.LinearPolicyGraph(build, 2, lower_bound=0.0)
    with pytest.raises(ValueError, match="sum to 1"):
        sddp.LinearPolicyGraph(lambda sp, t: sp.parameterize([1, 2], [0.5, 0.6]), 1,
                               lower_bound=0.0)


def test_markov_graph_structure():
    model = sddp.MarkovianPolicyGraph(
        lambda sp, node: sp.add_state("x"), [[[1.0]], [[0.6, 0.4]], [[0.6, 0.4], [0.3, 0.7]]],
        lower_bound=0.0)
    assert [nd.key for nd in model.nodes] == [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2)]
    n = model.nodes[model.index[(2, 2)]]
    assert [(model.nodes[c].key, p) for c, p in n.children] == [((3, 1), 0.3), ((3, 2), 0.7)]
    assert model.node((3, 2)).markov_state == 2 and model.node((3, 2)).stage == 3


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
