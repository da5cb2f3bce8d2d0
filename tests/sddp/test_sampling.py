"""Sampling schemes: training through out-of-sample and historical sampling converges to the optimum."""

from __future__ import annotations

import pytest

import sddp
from sddp.examples import hydro_thermal

H1 = 25000 / 3  # SDDP.jl's hydro-thermal optimum


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
