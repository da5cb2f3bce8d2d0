"""Objective states: SDDP bounds against scenario-tree LPs built here (scipy's LP interface, with the
price process advanced along the tree), in minimisation and maximisation, on a Markov graph and under
a nested AVaR; cuts stay valid bounds at sampled objective states; cut files and simulation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

import sddp

INF = np.inf


# ---------------------------------------------------------------------------------------------------
# the reference: a scenario-tree LP written independently of the engine
class TreeLP:
    """Columns with bounds and costs, rows ``lo <= a @ x <= hi``; solved by scipy's ``linprog``."""

    def __init__(self):
        self.lo, self.hi, self.cost = [], [], []
        self.rows = []  # (dict col -> coef, lo, hi)

    def var(self, lo=0.0, hi=INF, cost=0.0):
        self.lo.append(lo)
        self.hi.append(hi)
        self.cost.append(cost)
        return len(self.lo) - 1

    def row(self, terms, lo, hi):
        self.rows.append((terms, lo, hi))

    def minimise(self):
        eq_r, eq_c, eq_v, b_eq, ub_r, ub_c, ub_v, b_ub = [], [], [], [], [], [], [], []
        for terms, lo, hi in self.rows:
            if lo == hi:
                for c, v in terms.items():
                    eq_r.append(len(b_eq)), eq_c.append(c), eq_v.append(v)
                b_eq.append(lo)
                continue
            if hi < INF:
                for c, v in terms.items():
                    ub_r.append(len(b_ub)), ub_c.append(c), ub_v.append(v)
                b_ub.append(hi)
            if lo > -INF:
                for c, v in terms.items():
                    ub_r.append(len(b_ub)), ub_c.append(c), ub_v.append(-v)
                b_ub.append(-lo)
        n = len(self.lo)
        kw = {}
        if b_eq:
            kw.update(A_eq=coo_matrix((eq_v, (eq_r, eq_c)), shape=(len(b_eq), n)), b_eq=b_eq)
        if b_ub:
            kw.update(A_ub=coo_matrix((ub_v, (ub_r, ub_c)), shape=(len(b_ub), n)), b_ub=b_ub)
        res = linprog(self.cost, bounds=list(zip(self.lo, self.hi)), method="highs", **kw)
        assert res.status == 0, res.message
        return res.fun


class TreeProblem:
    """A small multistage problem with an objective state: ``stage(lp, t, m, x_in, y, w)`` adds one
    tree node's columns and rows and returns (stage objective terms, outgoing state columns)."""

    def __init__(self, stages, transitions, support, probs, update, stage, x0, y0, sign):
        self.T, self.transitions, self.support, self.probs = stages, transitions, support, probs
        self.update, self.stage, self.x0, self.y0, self.sign = update, stage, x0, y0, sign

    def children(self, t, m):
        """(markov state, noise index, probability) of the nodes of stage t + 1 after (t, m)."""
        row = self.transitions[t][0 if m is None else m - 1]
        return [(j + 1, k, pj * pk) for j, pj in enumerate(row) if pj > 0
                for k, pk in enumerate(self.probs)]

    def _risk(self, lp, kids, beta):
        """The (internal, minimisation) risk-adjusted value of the children: columns and constant."""
        if beta == 1.0:
            return {v: p for p, v in kids}
        eta = lp.var(-INF, INF)
        terms = {eta: 1.0}
        for p, v in kids:
            z = lp.var(0.0, INF)
            lp.row({z: 1.0, v: -1.0, eta: 1.0}, 0.0, INF)  # z >= v - eta
            terms[z] = p / beta
        return terms

    def _node(self, lp, t, m, x_in, y_parent, k, beta):
        """The internal value column of the tree node (stage t, Markov state m, noise k)."""
        w = self.support[k]
        y = self.update(m, y_parent, w)
        terms, x_out = self.stage(lp, t, m, x_in, y, w)
        v = lp.var(-INF, INF)
        row = {v: 1.0}
        for c, a in terms.items():
            row[c] = row.get(c, 0.0) - self.sign * a
        if t < self.T:
            kids = [(p, self._node(lp, t + 1, m2, x_out, y, k2, beta))
                    for m2, k2, p in self.children(t, m)]
            for c, a in self._risk(lp, kids, beta).items():
                row[c] = row.get(c, 0.0) - a
        lp.row(row, 0.0, 0.0)
        return v

    def value(self, beta=1.0):
        """Optimal value of the whole tree (problem sense): expectation over the first stage."""
        lp = TreeLP()
        x_in = [lp.var(x, x) for x in self.x0]
        for m, k, p in self.children(0, None):
            lp.cost[self._node(lp, 1, m, x_in, self.y0, k, beta)] += p
        return self.sign * lp.minimise()

    def cost_to_go(self, t, m, x, y, beta=1.0):
        """True cost-to-go (problem sense) of node (t, m) at outgoing state x and its objective state y."""
        lp = TreeLP()
        x_in = [lp.var(v, v) for v in np.atleast_1d(x)]
        kids = [(p, self._node(lp, t + 1, m2, x_in, y, k, beta)) for m2, k, p in self.children(t, m)]
        for c, a in self._risk(lp, kids, beta).items():
            lp.cost[c] += a
        return self.sign * lp.minimise()


# ---------------------------------------------------------------------------------------------------
# problem A (minimisation, one-dimensional price): buy at price y to meet demand, store in between
SUP_A = [(-1.0, 3.0), (0.5, 1.0), (1.5, 4.0)]  # (price shock, demand)
P_A = [0.3, 0.5, 0.2]
DRIFT = {None: 2.0, 1: 1.5, 2: 3.0}  # price drift per Markov state (None: linear graph)


def update_a(m, y, w):
    return 0.6 * y + DRIFT[m] + w[0]


def stage_a(lp, t, m, x_in, y, w):
    s = lp.var(0.0, 6.0)
    u = lp.var(0.0, 5.0)
    short = lp.var(0.0, INF)
    lp.row({s: 1.0, x_in[0]: -1.0, u: -1.0, short: -1.0}, -w[1], -w[1])
    return {u: y, short: 20.0, s: 0.1}, [s]


def build_a(markov=False, support=SUP_A):
    def build(sp, node):
        m = node[1] if markov else None
        s_in, s_out = sp.add_state("s", 0.0, 6.0, initial=2.0)
        u = sp.add_variable(0.0, 5.0, name="u")
        short = sp.add_variable(0.0, None, name="short")
        balance = sp.add_constraint(s_out - s_in - u - short, "==", 0.0)
        sp.set_stage_objective(20.0 * short + 0.1 * s_out)
        sp.add_objective_state(lambda y, w: 0.6 * y + DRIFT[m] + w[0], initial=5.0, lipschitz=10.0,
                               lower=0.0, upper=12.0)

        def fn(sp, w):
            sp.set_rhs(balance, -w[1])
            sp.set_objective_coefficient(u, sp.objective_state)

        sp.parameterize(support, P_A, fn)
    return build


def problem_a(stages, markov=None, support=SUP_A):
    if markov is None:
        return TreeProblem(stages, [[[1.0]]] * (stages + 1), support, P_A,
                           lambda m, y, w: update_a(None, y, w), stage_a, [2.0], 5.0, 1.0)
    return TreeProblem(stages, markov + [[[0.0]]], support, P_A, update_a, stage_a, [2.0], 5.0, 1.0)


# problem B (maximisation, two-dimensional price): sell stored water in two markets
SUP_B = [(-1.0, 0.5, 1.0), (1.0, -0.5, 3.0), (0.5, 1.0, 0.0), (-0.5, -1.0, 2.0)]  # shocks, inflow
P_B = [0.25, 0.25, 0.25, 0.25]


def update_b(m, y, w):
    return (0.5 * y[0] + 0.2 * y[1] + 3.0 + w[0], 0.3 * y[0] + 0.4 * y[1] + 2.0 + w[1])


def stage_b(lp, t, m, x_in, y, w):
    s = lp.var(0.0, 8.0)
    u1 = lp.var(0.0, 3.0)
    u2 = lp.var(0.0, 3.0)
    spill = lp.var(0.0, INF)
    lp.row({s: 1.0, x_in[0]: -1.0, u1: 1.0, u2: 1.0, spill: 1.0}, w[2], w[2])
    return {u1: y[0], u2: y[1], s: -0.05}, [s]


def build_b(sp, t):
    s_in, s_out = sp.add_state("s", 0.0, 8.0, initial=4.0)
    u1 = sp.add_variable(0.0, 3.0, name="u1")
    u2 = sp.add_variable(0.0, 3.0, name="u2")
    spill = sp.add_variable(0.0, None, name="spill")
    inflow = sp.add_constraint(s_out - s_in + u1 + u2 + spill, "==", 0.0)
    sp.set_stage_objective(-0.05 * s_out)
    sp.add_objective_state(lambda y, w: update_b(None, y, w), initial=(6.0, 5.0), lipschitz=(30.0, 30.0),
                           lower=(0.0, 0.0), upper=(20.0, 20.0), names=("p1", "p2"))

    def fn(sp, w):
        sp.set_rhs(inflow, w[2])
        p1, p2 = sp.objective_state
        sp.set_objective_coefficient(u1, p1)
        sp.set_objective_coefficient(u2, p2)

    sp.parameterize(SUP_B, P_B, fn)


MARKOV = [[[0.5, 0.5]], [[0.8, 0.2], [0.3, 0.7]], [[0.6, 0.4], [0.1, 0.9]]]


def _train(model, iterations, **kw):
    return sddp.train(model, iteration_limit=iterations, print_level=0, random_state=3, **kw)


# ---------------------------------------------------------------------------------------------------
def test_minimisation_matches_the_tree():
    tree = problem_a(4).value()
    model = sddp.LinearPolicyGraph(build_a(), 4, lower_bound=0.0)
    assert sddp.deterministic_equivalent(model) == pytest.approx(tree, abs=1e-6)
    res = _train(model, 250)  # reaches the tree value at iteration 151
    assert res.bound == pytest.approx(tree, abs=1e-6)
    assert all(b <= tree + 1e-7 for b in res.bound_history)  # a lower bound at every iteration


def test_maximisation_two_dimensional_matches_the_tree():
    tree = problem_b_tree()
    model = sddp.LinearPolicyGraph(build_b, 3, sense="max", upper_bound=500.0)
    assert model.objective_state_names == ["p1", "p2"]
    assert sddp.deterministic_equivalent(model) == pytest.approx(tree, abs=1e-6)
    res = _train(model, 200)  # reaches the tree value at iteration 144
    assert res.bound == pytest.approx(tree, abs=1e-6)
    assert all(b >= tree - 1e-7 for b in res.bound_history)  # an upper bound at every iteration


def problem_b_tree():
    return TreeProblem(3, [[[1.0]]] * 4, SUP_B, P_B, update_b, stage_b, [4.0], (6.0, 5.0), -1.0).value()


def test_markov_graph_matches_the_tree():
    tree = problem_a(3, MARKOV[:3]).value()
    model = sddp.MarkovianPolicyGraph(build_a(markov=True), MARKOV[:3], lower_bound=0.0)
    assert sddp.deterministic_equivalent(model) == pytest.approx(tree, abs=1e-6)
    res = _train(model, 200)
    assert res.bound == pytest.approx(tree, abs=1e-6)


# noise on the price only: every cost-to-go is non-decreasing in the price, so the AVaR tail is the
# same set of children at every price and the risk-adjusted cost-to-go stays concave in it
SUP_PRICE = [(-1.0, 2.5), (0.5, 2.5), (1.5, 2.5)]


@pytest.mark.parametrize("beta", [0.5, 0.3])
def test_nested_avar_matches_the_tree(beta):
    tree = problem_a(3, support=SUP_PRICE).value(beta)
    assert tree > problem_a(3, support=SUP_PRICE).value() + 0.1  # the risk measure matters here
    model = sddp.LinearPolicyGraph(build_a(support=SUP_PRICE), 3, lower_bound=0.0)
    res = _train(model, 100, risk_measure=sddp.AVaR(beta))
    assert res.bound == pytest.approx(tree, abs=1e-6)


def test_risk_averse_interpolation_is_not_a_bound_without_concavity():
    """The documented limit: with demand noise the AVaR tail changes with the price, the risk-adjusted
    cost-to-go is not concave in it, and the interpolated cuts overshoot (here at x = 2.95, y = 5.5:
    the chord of the values at the sampled prices 4.0 and 6.5 lies above the true value)."""
    tree = problem_a(2)
    x, lo, mid, hi = 2.95, 4.0, 5.5, 6.5
    chord = tree.cost_to_go(1, None, x, lo, 0.3) + (mid - lo) / (hi - lo) * (
        tree.cost_to_go(1, None, x, hi, 0.3) - tree.cost_to_go(1, None, x, lo, 0.3))
    assert chord > tree.cost_to_go(1, None, x, mid, 0.3) + 1e-3
    model = sddp.LinearPolicyGraph(build_a(), 2, lower_bound=0.0)
    res = _train(model, 100, risk_measure=sddp.AVaR(0.3))
    assert res.bound > tree.value(0.3) + 1e-3


@pytest.mark.parametrize("sense", ["min", "max"])
def test_cuts_are_valid_bounds_at_sampled_objective_states(sense):
    """Partly trained policies: at outgoing states and objective states met in simulation, and at
    random points of the box, the cut approximation lies below (min) / above (max) the true
    cost-to-go computed on the tree."""
    rng = np.random.default_rng(5)
    if sense == "min":
        model = sddp.LinearPolicyGraph(build_a(), 4, lower_bound=0.0)
        prob, state, names, s_hi, y_box = problem_a(4), "s", ["objective_state"], 6.0, (2.0, 9.0)
    else:
        model = sddp.LinearPolicyGraph(build_b, 3, sense="max", upper_bound=500.0)
        prob = TreeProblem(3, [[[1.0]]] * 4, SUP_B, P_B, update_b, stage_b, [4.0], (6.0, 5.0), -1.0)
        state, names, s_hi, y_box = "s", ["objective_state"], 8.0, (2.0, 12.0)
    _train(model, 6)
    sim = sddp.simulate(model, 6, variables=[state] + names, random_state=11)
    wide = sim.data.pivot_table(index=["replication", "stage"], columns="variable", values="value",
                                aggfunc="first")
    points = [(int(t), float(r[state]), r["objective_state"]) for (_, t), r in wide.iterrows()
              if t < prob.T]
    for t in range(1, prob.T):
        for _ in range(2):
            y = rng.uniform(*y_box, size=len(np.atleast_1d(prob.y0)))
            points.append((t, rng.uniform(0.0, s_hi), float(y[0]) if len(y) == 1 else tuple(y)))
    for t, x, y in points:
        approx = sddp.cost_to_go(model, t, [x], y)
        true = prob.cost_to_go(t, None, x, y)
        if sense == "min":
            assert approx <= true + 1e-7, (t, x, y)
        else:
            assert approx >= true - 1e-7, (t, x, y)


def test_cut_file_round_trip(tmp_path):
    model = sddp.LinearPolicyGraph(build_b, 3, sense="max", upper_bound=500.0)
    res = _train(model, 20)
    path = tmp_path / "cuts.json"
    sddp.write_cuts(model, path)
    data = json.loads(path.read_text())
    cut = data[0]["single_cuts"][0]
    assert set(cut["objective_state"]) == {"p1", "p2"}
    fresh = sddp.LinearPolicyGraph(build_b, 3, sense="max", upper_bound=500.0)
    sddp.read_cuts(fresh, path)
    assert sddp.calculate_bound(fresh) == pytest.approx(res.bound, abs=1e-9)
    for t, x, y in [(1, 2.0, (7.0, 6.0)), (2, 5.5, (9.0, 4.0))]:
        assert sddp.cost_to_go(fresh, t, [x], y) == pytest.approx(sddp.cost_to_go(model, t, [x], y),
                                                                   abs=1e-9)
    # the same simulated costs from the read policy
    a = sddp.simulate(model, 5, random_state=4).costs
    b = sddp.simulate(fresh, 5, random_state=4).costs
    assert np.allclose(a, b, atol=1e-7)
    # a cut file without the objective state does not load into this model
    for e in data:
        for c in e["single_cuts"]:
            del c["objective_state"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="objective state"):
        sddp.read_cuts(sddp.LinearPolicyGraph(build_b, 3, sense="max", upper_bound=500.0), path)


def test_simulation_records_the_objective_state():
    model = sddp.MarkovianPolicyGraph(build_a(markov=True), MARKOV[:3], lower_bound=0.0)
    _train(model, 30)
    sim = sddp.simulate(model, 8, variables=["objective_state", "noise", "u", "short", "s",
                                             "stage_objective"], random_state=2)
    df = sim.data
    for r in range(8):
        rows = df[df.replication == r]
        y_prev = 5.0
        total = 0.0
        for t in (1, 2, 3):
            at = rows[rows.stage == t].set_index("variable").value
            m = rows[rows.stage == t].node.iloc[0][1]
            y = 0.6 * y_prev + DRIFT[m] + at["noise"][0]  # the update, by hand
            assert at["objective_state"] == pytest.approx(y, abs=1e-12)
            # the stage cost uses the recorded price
            assert at["stage_objective"] == pytest.approx(
                y * at["u"] + 20.0 * at["short"] + 0.1 * at["s"], abs=1e-7)
            total += at["stage_objective"]
            y_prev = y
        assert total == pytest.approx(sim.costs[r], abs=1e-7)
    # a two-dimensional state is recorded as a tuple
    model_b = sddp.LinearPolicyGraph(build_b, 2, sense="max", upper_bound=500.0)
    _train(model_b, 5)
    rec = sddp.simulate(model_b, 1, variables=["objective_state", "noise"], random_state=1).data
    y1 = rec[(rec.stage == 1) & (rec.variable == "objective_state")].value.iloc[0]
    w1 = rec[(rec.stage == 1) & (rec.variable == "noise")].value.iloc[0]
    assert y1 == pytest.approx(update_b(None, (6.0, 5.0), w1))


def test_bad_objective_state_input_is_named():
    def build(sp, t):
        sp.add_state("s", 0.0, 1.0)
        if t == 1:
            sp.add_objective_state(lambda y, w: y, initial=1.0, lipschitz=1.0)
    with pytest.raises(ValueError, match="add_objective_state in every node"):
        sddp.LinearPolicyGraph(build, 2, lower_bound=0.0)

    def build_dim(sp, t):
        sp.add_objective_state(lambda y, w: y, initial=(1.0, 2.0), lipschitz=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="lipschitz has 3 values, expected 2"):
        sddp.LinearPolicyGraph(build_dim, 2, lower_bound=0.0)
    model = sddp.LinearPolicyGraph(build_a(), 2, lower_bound=0.0)
    with pytest.raises(ValueError, match="cut_type='single'"):
        sddp.train(model, iteration_limit=1, cut_type="multi", print_level=0)
    with pytest.raises(KeyError, match="no objective state"):
        sddp.simulate(sddp.LinearPolicyGraph(lambda sp, t: sp.add_state("s"), 2, lower_bound=0.0), 1,
                      variables=["objective_state"])


MPI_SCRIPT = """
import json
from mpi4py import MPI
import sddp
from tests.sddp.test_objective_state import build_a
model = sddp.LinearPolicyGraph(build_a(), 4, lower_bound=0.0)
res = sddp.train(model, iteration_limit=100, print_level=0, random_state=5, parallel="mpi")
sim = sddp.simulate(model, 10, variables=["objective_state"], random_state=1, parallel="mpi")
out = dict(rank=MPI.COMM_WORLD.Get_rank(), bound=res.bound, cuts=int(model.nodes[0].cuts[0].n),
           again=sddp.calculate_bound(model), prices=len(sim.data))
print("RESULT " + json.dumps(out), flush=True)
"""


@pytest.mark.mpi
@pytest.mark.slow  # two ranks each importing the project: 6-14 s on the shared machine
def test_mpi_training_shares_the_objective_state_of_the_cuts(two_ranks):
    """Two ranks: every rank holds the cuts of both (with their objective states) and the bound
    reaches the tree's value."""
    results = two_ranks(MPI_SCRIPT)
    assert sorted(r["rank"] for r in results) == [0, 1]
    tree = problem_a(4).value()
    for r in results:
        assert r["bound"] == pytest.approx(tree, abs=1e-6)
        assert r["again"] == pytest.approx(r["bound"], abs=1e-9)
        assert r["cuts"] == 200  # 100 iterations x 2 ranks, every cut kept
        assert r["prices"] == 10 * 4
