"""Cut files round trip, Level-1 cut selection keeps the bound, and multi-cut
gives the same bound as single-cut."""

from __future__ import annotations

import json

import numpy as np

import pytest

import sddp
from sddp.cuts import CutSet
from sddp.examples import hydro_thermal, hydro_valley, random_problem
from sddp.solver import new_highs

H1 = 25000 / 3


def test_cut_file_round_trip(tmp_path):
    model = hydro_thermal()
    res = sddp.train(model, iteration_limit=20, print_level=0, random_state=1)
    path = tmp_path / "cuts.json"
    sddp.write_cuts(model, path)
    data = json.loads(path.read_text())
    # SDDP.jl layout: list of nodes, each with cuts {intercept, coefficients, state}
    assert [e["node"] for e in data] == ["1", "2", "3"]
    cut = data[0]["single_cuts"][0]
    assert set(cut) == {"intercept", "coefficients", "state"}
    assert set(cut["coefficients"]) == {"volume"} and set(cut["state"]) == {"volume"}
    assert data[2]["single_cuts"] == []  # the last stage has no cost-to-go
    fresh = hydro_thermal()
    assert sddp.calculate_bound(fresh) < H1 - 1.0  # untrained: a weak bound
    sddp.read_cuts(fresh, path)
    assert sddp.calculate_bound(fresh) == pytest.approx(res.bound, rel=1e-9)
    assert sddp.calculate_bound(fresh) == pytest.approx(H1, rel=1e-6)


def test_cut_file_round_trip_max_and_multi(tmp_path):
    model = hydro_valley(True, True)
    res = sddp.train(model, iteration_limit=30, cut_type="multi", print_level=0, random_state=1)
    path = tmp_path / "cuts.json"
    sddp.write_cuts(model, path)
    fresh = hydro_valley(True, True)
    sddp.read_cuts(fresh, path)
    assert fresh.cut_type == "multi"
    assert sddp.calculate_bound(fresh) == pytest.approx(res.bound, rel=1e-9)
    assert res.bound == pytest.approx(855.0, rel=1e-6)


def test_level1_selection_keeps_bound_and_removes_cuts():
    kept, full = hydro_thermal(5), hydro_thermal(5)
    a = sddp.train(kept, iteration_limit=40, cut_selection=True, print_level=0, random_state=0)
    b = sddp.train(full, iteration_limit=40, cut_selection=False, print_level=0, random_state=0)
    de = sddp.deterministic_equivalent(kept)
    assert a.bound == pytest.approx(de, rel=1e-6)
    assert b.bound == pytest.approx(de, rel=1e-6)
    assert kept.num_cuts() < full.num_cuts() / 4
    assert full.num_cuts() == 40 * 4


def test_level1_selection_keeps_highest_cut_at_each_point():
    model = hydro_thermal()
    sddp.train(model, iteration_limit=25, print_level=0, random_state=2)
    cs = model.nodes[0].cuts[0]
    heights = cs.intercepts[: cs.n, None] + cs.coefs[: cs.n] @ cs.points[: cs.n_points].T
    best = heights.max(axis=0)
    active = heights[cs.active[: cs.n]].max(axis=0)
    assert active == pytest.approx(best)
    # only the active cuts are rows of the LP (2 base rows), with their own data
    h = model.nodes[0].sp.highs
    assert h.getNumRow() == 2 + cs.n_active
    lp = h.getLp()
    for i in range(cs.n):
        if cs.active[i]:
            assert lp.row_lower_[int(cs.rows[i])] == pytest.approx(cs.intercepts[i])
        else:
            assert cs.rows[i] == -1


def test_level1_selection_matches_brute_force_with_three_states():
    model = random_problem(0, 3, 4, 3, 1, "max")
    sddp.train(model, iteration_limit=60, print_level=0, random_state=3)
    for nd in model.nodes:
        for cs in nd.cuts or ():
            H = cs.intercepts[: cs.n, None] + cs.coefs[: cs.n] @ cs.points[: cs.n_points].T
            best = H.max(axis=0)
            act = cs.active[: cs.n]
            tol = 1e-8 * np.maximum(1.0, np.abs(best))
            # the kept cuts reach the best height at every point ...
            assert np.all(H[act].max(axis=0) >= best - tol)
            # ... and each kept cut is (within tolerance) the highest at one point or more
            assert np.all((H[act] >= best - tol).any(axis=1))


def test_multi_cut_equals_single_cut():
    for risk, expected in ((sddp.Expectation(), H1), (sddp.AVaR(0.5), 40000 / 3)):
        single = sddp.train(hydro_thermal(), iteration_limit=30, risk_measure=risk,
                            print_level=0, random_state=1)
        multi = sddp.train(hydro_thermal(), iteration_limit=30, risk_measure=risk,
                           cut_type="multi", print_level=0, random_state=1)
        assert multi.bound == pytest.approx(single.bound, rel=1e-9)
        assert multi.bound == pytest.approx(expected, rel=1e-6)


def test_multi_cut_equals_single_cut_markov_max_risk_averse():
    risk = sddp.AVaR(0.5)
    single = sddp.train(hydro_valley(True, True), iteration_limit=40, risk_measure=risk,
                        print_level=0, random_state=2)
    multi = sddp.train(hydro_valley(True, True), iteration_limit=40, risk_measure=risk,
                       cut_type="multi", print_level=0, random_state=2)
    assert multi.bound == pytest.approx(single.bound, rel=1e-9)
    # risk aversion in a maximisation lowers the value below the risk-neutral 855
    assert single.bound < 855.0 - 1.0


def test_cut_type_cannot_change():
    model = hydro_thermal()
    sddp.train(model, iteration_limit=2, print_level=0)
    with pytest.raises(ValueError):
        sddp.train(model, iteration_limit=2, cut_type="multi", print_level=0)


def _brute_force_level1(cs):
    """Cuts that are the highest (ties: the oldest) at one sampled point or more."""
    H = cs.intercepts[: cs.n, None] + cs.coefs[: cs.n] @ cs.points[: cs.n_points].T
    return set(H.argmax(axis=0).tolist()), H


def _check_lp_rows(cs, base_rows):
    h = cs.h
    assert h.getNumRow() == base_rows + cs.n_active
    lp = h.getLp()
    rows = [int(cs.rows[i]) for i in range(cs.n) if cs.active[i]]
    assert sorted(rows) == list(range(base_rows, base_rows + cs.n_active))
    for i in range(cs.n):
        if cs.active[i]:
            r = int(cs.rows[i])
            assert lp.row_lower_[r] == cs.intercepts[i]
        else:
            assert cs.rows[i] == -1


@pytest.mark.parametrize("n_states", [1, 2])
def test_incremental_level1_equals_brute_force_cut_by_cut(n_states):
    """The backward pass adds one cut and its trial point, then selects (the fast
    path); after every step the LP must hold exactly the brute-force Level-1 set."""
    rng = np.random.default_rng(7)
    h = new_highs()
    h.addVars(1 + n_states, np.zeros(1 + n_states), np.full(1 + n_states, 100.0))
    h.addRow(0.0, 1e30, 1, np.array([0], dtype=np.int32), np.array([1.0]))  # a base row
    cs = CutSet(h, 0, np.arange(1, 1 + n_states, dtype=np.int32))
    center = rng.uniform(20, 80, n_states)
    for step in range(120):
        x = rng.uniform(0, 100, n_states)
        # tangent of a convex function, perturbed so that old cuts get dominated or not
        slope = 2 * (x - center) + rng.normal(0, 5, n_states)
        value = float(((x - center) ** 2).sum()) + rng.normal(0, 50)
        cs.add(value - float(slope @ x), slope, x)
        cs.add_point(x)
        cs.select()
        keep, H = _brute_force_level1(cs)
        # no near-ties in this random data, so the tolerance of the incremental rule is moot
        if cs.n > 1:
            srt = np.sort(H, axis=0)
            assert np.all(srt[-1] - srt[-2] > 1e-6 * np.maximum(1.0, np.abs(srt[-1])))
        assert set(np.flatnonzero(cs.active[: cs.n]).tolist()) == keep
        _check_lp_rows(cs, 1)
    assert 1 < cs.n_active < cs.n


def test_level1_in_training_equals_brute_force_one_state():
    model = hydro_thermal(6, costs=[50.0 + 10 * t for t in range(1, 7)],
                          inflows=[100.0 * i / 9 for i in range(10)])
    sddp.train(model, iteration_limit=60, print_level=0, random_state=4)
    for nd in model.nodes:
        for cs in nd.cuts or ():
            keep, H = _brute_force_level1(cs)
            act = cs.active[: cs.n]
            best = H.max(axis=0)
            tol = 1e-8 * np.maximum(1.0, np.abs(best))
            # kept cuts are the highest at every point, and each is highest somewhere
            assert np.all(H[act].max(axis=0) >= best - tol)
            assert np.all((H[act] >= best - tol).any(axis=1))
            assert keep <= set(np.flatnonzero(act).tolist()) | {
                i for i in range(cs.n) if (H[i] >= best - tol).any()}
            _check_lp_rows(cs, 2)
