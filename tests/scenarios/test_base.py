"""Tests of scenarios.base: every scenario model keeps scikit-learn's estimator contract, and the
argument checks name the argument and the allowed values."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone

from scenarios.base import ScenarioModel, check_positive_int, check_range, check_site_name
from scenarios.forecast_error import ForecastErrorModel
from scenarios.forecast_price import DayAheadPriceForecaster
from scenarios.forecast_renewables import RenewableForecaster
from scenarios.intraday import IntradayResaleModel
from scenarios.joint import JointModel
from scenarios.lattice import MarkovLattice, StagewiseIndependent
from scenarios.price import DayAheadPriceModel
from scenarios.pv import PVModel
from scenarios.wind import WindModel

MODELS = [DayAheadPriceModel(), IntradayResaleModel(), PVModel(), WindModel(), ForecastErrorModel(),
          JointModel({"price": DayAheadPriceModel()}), MarkovLattice(), StagewiseIndependent(),
          DayAheadPriceForecaster(), RenewableForecaster()]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_every_model_reads_its_parameters_from_init(model):
    assert isinstance(model, ScenarioModel)
    names = list(inspect.signature(type(model).__init__).parameters)[1:]
    assert list(model.params_in_signature_order()) == names
    assert sorted(model.get_params(deep=True)) == sorted(names)
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    assert list(copy.params_in_signature_order()) == names
    # __init__ stores every argument unchanged, even a nonsensical one: fit checks them
    marker = object()
    unchecked = type(model)(**{**model.get_params(deep=False), names[-1]: marker})
    assert getattr(unchecked, names[-1]) is marker
    assert repr(model).startswith(f"{type(model).__name__}(")


def test_checks_name_the_argument_and_the_allowed_values():
    assert check_range("x", "2.5", 0, 3) == 2.5
    with pytest.raises(ValueError, match=r"tilt_deg must lie in \[0, 90\]; got 95"):
        check_range("tilt_deg", 95, 0, 90)
    with pytest.raises(ValueError, match=r"epsilon must lie in \(0, 0.1\]; got 0"):
        check_range("epsilon", 0, 0, 0.1, low_open=True)
    with pytest.raises(ValueError, match="latitude must be a number; got 'north'"):
        check_range("latitude", "north", -90, 90)
    assert check_positive_int("n", np.int64(3)) == 3
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            check_positive_int("n", bad)
    check_site_name(None)
    check_site_name("foundry")
    for bad in ("", "a:b", 3):
        with pytest.raises(ValueError, match="site_name must be a non-empty string without ':'"):
            check_site_name(bad)
