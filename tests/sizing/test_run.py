"""run_sizing's checks of its inputs: the subscription note, unknown methods."""

from __future__ import annotations

import dataclasses

import pytest

from planner.sizing.methods import METHODS, method
from planner.sizing.run import subscription_note


def test_subscription_note_when_overrunning_is_cheaper(default_case):
    cheap = dataclasses.replace(default_case.contract, overrun_charge_eur_per_kw=6.37)
    note = subscription_note(cheap)
    assert note is not None and "overrun_charge_eur_per_kw above 9.95" in note


def test_methods_are_registered_by_name():
    assert sorted(METHODS) == ["decomposed", "ef", "ph"]
    assert method("ph") is METHODS["ph"]
    with pytest.raises(ValueError, match="method must be one of"):
        method("benders")
