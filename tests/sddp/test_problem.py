"""The modelling API: expressions, noise on every kind of coefficient, the
objective sense, sampling schemes, stopping rules and the progress table."""

from __future__ import annotations

import io

import numpy as np
import pytest

import sddp
from sddp.examples import hydro_thermal

H1 = 25000 / 3


def test_linear_expressions():
    x, y = sddp.Variable(0), sddp.Variable(1)
    e = 2 * x + y * 3 - 4 + x
    assert e.terms == {0: 3.0, 1: 3.0} and e.constant == -4.0
    e = 10 - (x - y) / 2
    assert e.terms == {0: -0.5, 1: 0.5} and e.constant == 10.0
    assert sddp.quicksum([x, y, 2 * x, 1.0]).terms == {0: 3.0, 1: 1.0}
    assert sum([x, y]).terms == {0: 1.0, 1: 1.0}


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


def test_out_of_sample_and_historical_training():
    # training on the in-sample support through the other schemes still converges
    def sampler(node, rng):
        return [0.0, 50.0, 100.0][rng.integers(3)]

    model = hydro_thermal()
    res = sddp.train(model, iteration_limit=30, print_level=0, random_state=0,
                     sampling_scheme=sddp.OutOfSample(sampler))
    assert res.bound == pytest.approx(H1, rel=1e-6)
    paths = [[(1, a), (2, b), (3, 0.0)] for a in (0.0, 50.0, 100.0) for b in (0.0, 50.0, 100.0)]
    model = hydro_thermal()
    res = sddp.train(model, iteration_limit=30, print_level=0, random_state=0,
                     sampling_scheme=sddp.Historical(paths))
    assert res.bound == pytest.approx(H1, rel=1e-6)


def test_out_of_sample_simulation_uses_new_noise():
    model = hydro_thermal()
    sddp.train(model, iteration_limit=20, print_level=0, random_state=0)
    sim = sddp.simulate(model, 5, variables=["noise"], random_state=0,
                        sampling_scheme=sddp.OutOfSample(lambda node, rng: 1000.0))
    assert np.allclose(sim.costs, 0.0)  # plenty of water: no thermal
    assert np.allclose(sim.data.value, 1000.0)


def test_stopping_rules():
    model = hydro_thermal()
    res = sddp.train(model, stopping_rules=[sddp.BoundStalling(5, 1e-8)], print_level=0,
                     random_state=0)
    assert res.status == "bound stalling"
    hist = res.bound_history
    assert max(hist[-6:]) - min(hist[-6:]) <= 1e-8
    assert res.bound == pytest.approx(H1, rel=1e-6)
    res = sddp.train(hydro_thermal(), time_limit=0.0, print_level=0)
    assert res.status == "time limit" and res.iterations == 1
    rule = sddp.Statistical(num_replications=200, period=10, random_state=1)
    res = sddp.train(hydro_thermal(), stopping_rules=[rule], iteration_limit=50, print_level=0,
                     random_state=0)
    assert res.status == "statistical" and res.iterations == 10
    lo, hi = rule.last.ci
    assert lo <= res.bound <= hi


def test_progress_table_and_silence(capsys):
    sddp.train(hydro_thermal(), iteration_limit=3, print_level=1, random_state=0)
    out = capsys.readouterr().out.splitlines()
    assert "iteration" in out[1] and "lower bound" in out[1] and "cuts" in out[1]
    rows = [line.split() for line in out[2:5]]
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    assert "stopped: iteration limit" in out[-1]
    sddp.train(hydro_thermal(), iteration_limit=3, print_level=0, random_state=0)
    assert capsys.readouterr().out == ""
    buf = io.StringIO()
    p = sddp.Progress(1, "max", stream=buf)
    p.header()
    assert "upper bound" in buf.getvalue()


def test_randomness_only_through_random_state():
    a = sddp.train(hydro_thermal(), iteration_limit=5, print_level=0, random_state=42)
    b = sddp.train(hydro_thermal(), iteration_limit=5, print_level=0, random_state=42)
    assert a.bound_history == b.bound_history
    assert [r.simulation_value for r in a.log] == [r.simulation_value for r in b.log]
