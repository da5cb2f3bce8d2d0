"""Tests of scenarios.calibration: the forecast bias correction learns only from the past (the data
readers are exercised through the shared fixtures of conftest.py by the model tests)."""

import pandas as pd
import pytest

from scenarios.calibration import rolling_bias_corrected


def test_rolling_bias_correction_uses_only_the_past():
    idx = pd.date_range("2016-01-01", periods=40 * 24, freq="h", tz="UTC")
    forecast = pd.Series(0.2, index=idx)
    actual = pd.Series(0.3, index=idx)
    actual.loc["2016-02-01":] = 0.1  # a change the correction may only learn afterwards
    out = rolling_bias_corrected(forecast, actual, window_days=7)
    assert out.loc["2016-01-01"].eq(0.2).all()  # no past: unchanged
    assert out.loc["2016-01-20"].iloc[0] == pytest.approx(0.3)  # ratio 1.5 learnt from the past
    assert out.loc["2016-02-01"].iloc[0] == pytest.approx(0.3)  # the future is not used
    assert out.loc["2016-02-09"].iloc[0] == pytest.approx(0.1)
