"""Probabilistic PV or wind output of one day from its day-ahead capacity-factor forecast: an empirical
error law of the nearest past hours (forecast level, hour of day), recalibrated daily on past actuals.

For each hour h of day D whose forecast f_h exceeds ``inactive_threshold``, the errors
e = logit(actual) - logit(forecast) of the active hours of the ``window_days`` days before D are ranked
by the distance |logit f - logit f_h| + ``hour_weight`` x (circular hour distance); the
``n_neighbours`` nearest give the hour's error distribution (empirical quantiles, Hazen positions).
Scenarios add a draw of that law to logit(f_h) and map back through the logistic function; the hours
are tied by a Gaussian AR(1) copula whose lag-one correlation is that of the past errors' normal
scores on consecutive active hours. Inactive hours (PV at night) give 0.

Daily recalibration of the levels (``recalibration_days`` = N > 0): the probability integral transforms
(PITs) u = F_d,h(actual) that the law gave the active hours of the N days before D, each day's law fitted
with actuals up to its own d-1 (out of sample), have an empirical cdf G. Day D's quantile of level tau is
the law's quantile of level G^-1(tau) (quantile recalibration, Kuleshov, Fenner and Ermon 2018): when
past realisations fell in the law's tails too often (a U-shaped rank histogram, spread too narrow) the
bands widen, and a drift of the bias shifts them. The recalibrated PIT of an actual is G(u).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr, ndtri

from .base import ScenarioModel, check_positive_int, check_range
from .metrics import as_generator
from .scenario_set import ScenarioSet

__all__ = ["RenewableForecaster"]


def _logit(x, eps: float) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=float), eps, 1 - eps)
    return np.log(x / (1 - x))


def _hourly_series(s, name: str) -> pd.Series:
    if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
        raise ValueError(f"{name} must be a pandas Series of capacity factors (0..1) with an hourly "
                         "DatetimeIndex (UTC)")
    return s.astype(float)


class RenewableForecaster(ScenarioModel):
    """Scenarios of a day's actual capacity factor (x ``capacity_kw``) given its day-ahead forecast.

    Parameters
    ----------
    variable : name of the output variable (``pv_kw_per_kwp``, ``wind_kw_per_turbine``...).
    capacity_kw : installed capacity the capacity factors multiply (kW).
    window_days : days of past forecasts and actuals the error law is taken from.
    n_neighbours : past active hours whose errors make each hour's law.
    hour_weight : weight of one hour of clock distance against one unit of logit forecast level in the
        neighbour search (0 for wind, whose errors hardly depend on the hour).
    epsilon : capacity factors are clipped to [epsilon, 1 - epsilon] before the logit.
    inactive_threshold : hours forecast at or below it produce 0 (PV at night).
    recalibration_days : days of past out-of-sample PITs whose empirical cdf recalibrates the levels
        (0: none). ``fit`` computes them with :meth:`pit_history` unless ``pits`` are passed.
    """

    def __init__(self, variable: str = "pv_kw_per_kwp", capacity_kw: float = 1.0, window_days: int = 28,
                 n_neighbours: int = 150, hour_weight: float = 0.3, epsilon: float = 0.01,
                 inactive_threshold: float = 0.03, recalibration_days: int = 0):
        self.variable = variable
        self.capacity_kw = capacity_kw
        self.window_days = window_days
        self.n_neighbours = n_neighbours
        self.hour_weight = hour_weight
        self.epsilon = epsilon
        self.inactive_threshold = inactive_threshold
        self.recalibration_days = recalibration_days

    def check_params(self) -> None:
        if not isinstance(self.variable, str) or not self.variable:
            raise ValueError(f"variable must be a non-empty name such as 'pv_kw_per_kwp'; got {self.variable!r}")
        check_range("capacity_kw", self.capacity_kw, 0, 1e7, low_open=True)
        check_positive_int("window_days", self.window_days)
        check_positive_int("n_neighbours", self.n_neighbours)
        if self.n_neighbours < 20:
            raise ValueError(f"n_neighbours must be >= 20 (the 5 % and 95 % quantiles need them); "
                             f"got {self.n_neighbours}")
        check_range("hour_weight", self.hour_weight, 0, 10)
        check_range("epsilon", self.epsilon, 0, 0.1, low_open=True)
        check_range("inactive_threshold", self.inactive_threshold, 0, 0.5)
        if isinstance(self.recalibration_days, bool) or not isinstance(self.recalibration_days, (int, np.integer)) \
                or self.recalibration_days < 0:
            raise ValueError("recalibration_days must be an integer >= 0 (days of past PITs; 0 turns the "
                             f"recalibration off); got {self.recalibration_days!r}")

    def fit(self, forecast, actual, day, pits=None) -> "RenewableForecaster":
        """Learn the error law of ``day`` (UTC date) from forecasts and actuals strictly before it.

        ``forecast`` must hold the 24 hourly values of ``day``; ``actual`` is read only before ``day``.
        ``pits``: out-of-sample PITs from :meth:`pit_history` covering the ``recalibration_days`` before
        ``day`` (computed here when None); only those strictly before ``day`` are read.
        """
        self._fit_law(forecast, actual, day)
        self.recalibration_pits_ = None
        n_days = int(self.recalibration_days)
        if n_days:
            start = self.day_ - pd.Timedelta(days=n_days)
            if pits is None:
                pits = self.pit_history(forecast, actual, start, self.day_ - pd.Timedelta(days=1))
            if not isinstance(pits, pd.Series) or not isinstance(pits.index, pd.DatetimeIndex):
                raise ValueError("pits must be the Series of RenewableForecaster.pit_history (UTC index)")
            pool = pits.loc[start:self.day_ - pd.Timedelta(hours=1)].dropna().to_numpy()
            if len(pool) < 48:
                raise ValueError(f"only {len(pool)} past PITs in the {n_days} days before {self.day_.date()} "
                                 "(recalibration_days); need 48: pass pit_history over those days, start "
                                 "later, or set recalibration_days = 0")
            self.recalibration_pits_ = np.sort(pool)
        return self

    def pit_history(self, forecast, actual, start, end) -> pd.Series:
        """Out-of-sample PITs of the active hours of the UTC days ``start``..``end``: each day's
        actuals under the (not recalibrated) law fitted with data before that day. Days without their
        24 forecasts, their actuals or enough past are skipped."""
        base = type(self)(**{**self.params_in_signature_order(), "recalibration_days": 0})
        forecast = _hourly_series(forecast, "forecast")
        actual = _hourly_series(actual, "actual")
        tz = forecast.index.tz
        out = []
        for day in pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D"):
            day = day.tz_localize("UTC") if day.tzinfo is None and tz is not None else day
            hours = pd.date_range(day, periods=24, freq="h")
            y = actual.reindex(hours).to_numpy()
            try:
                base._fit_law(forecast, actual, day)
            except ValueError:
                continue
            act = base.active_ & ~np.isnan(y)
            if act.any():
                out.append(pd.Series(base._law_pit(y)[act], index=hours[act]))
        return pd.concat(out) if out else pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz=tz))

    def _law_pit(self, y: np.ndarray) -> np.ndarray:
        """PIT of the 24 capacity factors ``y`` under the fitted error law (before recalibration)."""
        k = self.n_neighbours
        positions = (np.arange(k) + 0.5) / k
        e = _logit(y, self.epsilon) - _logit(self.forecast_, self.epsilon)
        return np.array([np.interp(e[h], self.sorted_errors_[h], positions, left=0.0, right=1.0)
                         for h in range(24)])

    def predict_pit(self, actual) -> np.ndarray:
        """Recalibrated PIT G(u) of the day's 24 actual capacity factors (NaN at inactive hours)."""
        self._check_fitted()
        y = np.asarray(actual, dtype=float).reshape(-1)
        if y.size != 24:
            raise ValueError(f"actual must hold the day's 24 hourly capacity factors; got {y.size} values")
        u = self._law_pit(y)
        if self.recalibration_pits_ is not None:
            pool = self.recalibration_pits_
            u = (np.searchsorted(pool, u, side="left") + np.searchsorted(pool, u, side="right") + 1.0) \
                / (2.0 * (len(pool) + 1.0))
        return np.where(self.active_, u, np.nan)

    def _fit_law(self, forecast, actual, day) -> None:
        self.check_params()
        forecast = _hourly_series(forecast, "forecast")
        actual = _hourly_series(actual, "actual")
        day = pd.Timestamp(day)
        day = (day.tz_localize("UTC") if day.tzinfo is None and forecast.index.tz is not None else day).normalize()
        hours = pd.date_range(day, periods=24, freq="h")
        today = forecast.reindex(hours).to_numpy()
        if np.isnan(today).any():
            raise ValueError(f"forecast must hold the 24 hourly values of {day.date()}")
        start = day - pd.Timedelta(days=int(self.window_days))
        past = pd.concat({"f": forecast.loc[start:day - pd.Timedelta(hours=1)],
                          "a": actual.loc[start:day - pd.Timedelta(hours=1)]}, axis=1, join="inner").dropna()
        past = past[past["f"] > self.inactive_threshold]
        if len(past) < self.n_neighbours:
            raise ValueError(f"only {len(past)} active past hours with forecast and actual in the "
                             f"{self.window_days} days before {day.date()}; need n_neighbours = "
                             f"{self.n_neighbours}")
        x = _logit(past["f"], self.epsilon)
        e = _logit(past["a"], self.epsilon) - x
        clock = past.index.hour.to_numpy()
        self.day_ = day
        self.forecast_ = np.clip(today, 0.0, 1.0)
        self.active_ = self.forecast_ > self.inactive_threshold
        self.sorted_errors_ = np.zeros((24, self.n_neighbours))
        xt = _logit(self.forecast_, self.epsilon)
        for h in np.flatnonzero(self.active_):
            dh = np.abs(clock - hours[h].hour)
            distance = np.abs(x - xt[h]) + self.hour_weight * np.minimum(dh, 24 - dh)
            nearest = np.argsort(distance, kind="stable")[:self.n_neighbours]
            self.sorted_errors_[h] = np.sort(e[nearest])
        # lag-one correlation of the errors' normal scores on consecutive active hours
        ranks = np.argsort(np.argsort(e, kind="stable"), kind="stable")
        z = ndtri((ranks + 1.0) / (len(e) + 1.0))
        consecutive = np.diff(past.index.asi8) == 3600 * 10**9
        self.hourly_ar_ = float(np.clip(np.corrcoef(z[:-1][consecutive], z[1:][consecutive])[0, 1], 0.0, 0.99)) \
            if consecutive.sum() > 2 else 0.0

    def _check_fitted(self) -> None:
        if not hasattr(self, "sorted_errors_"):
            raise RuntimeError("RenewableForecaster is not fitted: call fit(forecast, actual, day) first")

    def _output(self, u: np.ndarray) -> np.ndarray:
        """Output (kW) at levels u (..., 24)."""
        k = self.n_neighbours
        positions = (np.arange(k) + 0.5) / k
        pool = getattr(self, "recalibration_pits_", None)
        if pool is not None:  # level tau -> G^-1(tau), G the cdf of the recent out-of-sample PITs
            u = np.interp(u, (np.arange(len(pool)) + 0.5) / len(pool), pool)
        e = np.empty_like(u, dtype=float)
        for h in range(24):
            e[..., h] = np.interp(u[..., h], positions, self.sorted_errors_[h])
        cf = expit(_logit(self.forecast_, self.epsilon) + e)
        cf = np.where(self.active_, cf, 0.0)
        return cf * self.capacity_kw

    def predict_quantiles(self, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
        """Quantiles of each hour's output (kW): rows the 24 UTC hours of the day, columns the levels."""
        self._check_fitted()
        levels = np.asarray(quantiles, dtype=float).reshape(-1)
        if levels.size == 0 or np.any(~(levels > 0)) or np.any(~(levels < 1)):
            raise ValueError(f"quantiles must be levels strictly between 0 and 1; got {quantiles!r}")
        values = self._output(np.broadcast_to(levels[:, None], (levels.size, 24))).T
        return pd.DataFrame(values, index=pd.date_range(self.day_, periods=24, freq="h"), columns=levels)

    def sample(self, n: int, *, random_state=None) -> ScenarioSet:
        """``n`` equiprobable scenarios of the day's 24 hourly outputs (kW), AR(1) Gaussian copula."""
        self._check_fitted()
        n = check_positive_int("n", n)
        rng = as_generator(random_state)
        eps = rng.standard_normal((n, 24))
        g = np.empty((n, 24))
        g[:, 0] = eps[:, 0]
        s = np.sqrt(1 - self.hourly_ar_ ** 2)
        for t in range(1, 24):
            g[:, t] = self.hourly_ar_ * g[:, t - 1] + s * eps[:, t]
        values = self._output(ndtr(g))
        return ScenarioSet(values[:, :, None], np.full(n, 1.0 / n), (self.variable,), start=self.day_,
                           metadata={"model": "RenewableForecaster", "day": str(self.day_.date())})
