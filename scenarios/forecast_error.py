"""Conditional scenarios of actual PV or wind output given a day-ahead forecast: errors in logit space,
heteroscedastic by forecast level, an empirical marginal and AR(1) persistence across hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .base import ScenarioModel, check_positive_int, check_range
from .metrics import as_generator, energy_score, rank_histogram
from .renewables import from_uniform, quantile_table, read_json, scenario_names, to_uniform, write_json
from .scenario_set import ScenarioSet


def _logit(x, eps):
    x = np.clip(np.asarray(x, dtype=float), eps, 1 - eps)
    return np.log(x / (1 - x))


def _expit(z):
    return 1.0 / (1.0 + np.exp(-z))


class ForecastErrorModel(ScenarioModel):
    """Scenarios of an actual capacity factor given its day-ahead forecast (both in 0..1).

    Error ``e = logit(actual) - logit(forecast)`` (values clipped to [epsilon, 1 - epsilon]).
    Its mean and spread depend on the forecast level (``n_level_bins`` quantile bins, linear
    interpolation between bin centres) and then on the hour of day (UTC; 24 means and standard
    deviations of the level-standardised error, which absorb diurnal biases such as a
    time-stamp convention differing between forecast and measurement; ``by_hour=False`` turns this
    off); the standardised error has an empirical marginal and a
    Gaussian copula with AR(1) correlation ``hourly_ar_`` between consecutive hours. Hours whose
    forecast is at most ``inactive_threshold`` (PV at night) give an output of 0.
    Output is ``capacity_kw`` x capacity factor, named ``variable``.
    """

    def __init__(self, variable: str = "pv_kw_per_kwp", capacity_kw: float = 1.0, *,
                 n_level_bins: int = 8, epsilon: float = 0.005, inactive_threshold: float = 0.002,
                 by_hour: bool = True):
        self.variable = variable
        self.capacity_kw = capacity_kw
        self.n_level_bins = n_level_bins
        self.epsilon = epsilon
        self.inactive_threshold = inactive_threshold
        self.by_hour = by_hour

    def check_params(self) -> None:
        if not isinstance(self.variable, str) or not self.variable:
            raise ValueError(f"variable must be a non-empty name such as 'pv_kw_per_kwp'; got {self.variable!r}")
        check_range("capacity_kw", self.capacity_kw, 0, 1e7, low_open=True)
        check_positive_int("n_level_bins", self.n_level_bins)
        check_range("epsilon", self.epsilon, 0, 0.1, low_open=True)
        check_range("inactive_threshold", self.inactive_threshold, 0, 0.5)

    @staticmethod
    def _aligned(forecast, actual) -> pd.DataFrame:
        for name, s in (("forecast", forecast), ("actual", actual)):
            if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
                raise ValueError(f"{name} must be a pandas Series of capacity factors with a DatetimeIndex")
        frame = pd.concat({"f": forecast.astype(float), "a": actual.astype(float)}, axis=1, join="inner").dropna()
        if len(frame) < 24 * 7:
            raise ValueError(f"forecast and actual share only {len(frame)} hours; need at least a week")
        if frame.min().min() < 0 or frame.max().max() > 1:
            raise ValueError("forecast and actual must be capacity factors in [0, 1]")
        return frame

    def _moments(self, f: np.ndarray, hours: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the logit error at forecast levels ``f`` and UTC ``hours``."""
        x = _logit(f, self.epsilon)
        mu = np.interp(x, self.bin_centres_, self.error_mean_)
        sd = np.interp(x, self.bin_centres_, self.error_std_)
        if hours is not None:
            hours = np.asarray(hours, dtype=int)
            mu = mu + sd * self.hour_mean_[hours]
            sd = sd * self.hour_std_[hours]
        return mu, sd

    def fit(self, forecast: pd.Series, actual: pd.Series) -> "ForecastErrorModel":
        """Learn the error law from hourly forecast and actual capacity factors (joined on their index)."""
        self.check_params()
        frame = self._aligned(forecast, actual)
        active = frame["f"].to_numpy() > self.inactive_threshold
        x = _logit(frame["f"].to_numpy(), self.epsilon)
        e = _logit(frame["a"].to_numpy(), self.epsilon) - x
        xa, ea = x[active], e[active]
        edges = np.quantile(xa, np.linspace(0, 1, self.n_level_bins + 1))
        which = np.clip(np.searchsorted(edges, xa, side="right") - 1, 0, self.n_level_bins - 1)
        centres, means, stds = [], [], []
        for b in range(self.n_level_bins):
            sel = which == b
            if sel.sum() < 10:
                continue
            centres.append(np.median(xa[sel]))
            means.append(np.mean(ea[sel]))
            stds.append(max(np.std(ea[sel]), 1e-3))
        self.bin_centres_ = np.array(centres)
        self.error_mean_ = np.array(means)
        self.error_std_ = np.array(stds)
        hours = frame.index.hour.to_numpy()[active]
        self.hour_mean_, self.hour_std_ = np.zeros(24), np.ones(24)
        if self.by_hour:
            mu, sd = self._moments(frame["f"].to_numpy()[active])
            z0 = pd.Series((ea - mu) / sd)
            stats_by_hour = z0.groupby(hours).agg(["mean", "std", "size"])
            good = stats_by_hour[stats_by_hour["size"] >= 30]
            self.hour_mean_[good.index.to_numpy()] = good["mean"].to_numpy()
            self.hour_std_[good.index.to_numpy()] = np.maximum(good["std"].to_numpy(), 0.05)
        mu, sd = self._moments(frame["f"].to_numpy()[active], hours)
        z = (ea - mu) / sd
        self.standardised_error_quantiles_ = quantile_table(z)
        g = stats.norm.ppf(to_uniform(z, self.standardised_error_quantiles_))
        # AR(1) between consecutive active hours one hour apart
        t = frame.index[active]
        gap = (t[1:] - t[:-1]) == pd.Timedelta(hours=1)
        self.hourly_ar_ = float(np.clip(np.corrcoef(g[:-1][gap], g[1:][gap])[0, 1], 0.0, 0.99))
        self.n_hours_fitted_ = int(active.sum())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "hourly_ar_"):
            raise RuntimeError("ForecastErrorModel is not fitted: call fit(forecast, actual) first")

    def standardised_errors(self, forecast: pd.Series, actual: pd.Series) -> pd.Series:
        """Errors of ``actual`` against ``forecast`` in the model's standard units (active hours only)."""
        self._check_fitted()
        frame = self._aligned(forecast, actual)
        frame = frame[frame["f"] > self.inactive_threshold]
        mu, sd = self._moments(frame["f"].to_numpy(), frame.index.hour.to_numpy())
        e = _logit(frame["a"].to_numpy(), self.epsilon) - _logit(frame["f"].to_numpy(), self.epsilon)
        return pd.Series((e - mu) / sd, index=frame.index)

    def sample(self, n: int, forecast, start=None, *, random_state=None,
               spread_scale: float = 1.0) -> ScenarioSet:
        """``n`` equiprobable scenarios of actual output for the hourly ``forecast`` (capacity factors).

        ``forecast``: array (T,) or Series (its first timestamp becomes the set's start).
        ``spread_scale`` multiplies the error spread (e.g. the recent root-mean-square of
        :meth:`standardised_errors`, see :func:`evaluate_by_day`).
        """
        self._check_fitted()
        n = check_positive_int("n", n)
        spread_scale = check_range("spread_scale", spread_scale, 0, 10, low_open=True)
        if isinstance(forecast, pd.Series):
            if not isinstance(forecast.index, pd.DatetimeIndex):
                raise ValueError("a forecast Series must have a DatetimeIndex (UTC or naive UTC)")
            start = forecast.index[0] if start is None and len(forecast) else start
            hours = forecast.index.hour.to_numpy()
        else:
            if start is None:
                raise ValueError("start must be given (hour of the first forecast value, UTC) "
                                 "when forecast is not a time-indexed Series")
            hours = None
        f = np.asarray(forecast, dtype=float).reshape(-1)
        if f.size == 0 or not np.all(np.isfinite(f)) or f.min() < 0 or f.max() > 1:
            raise ValueError("forecast must be a non-empty sequence of capacity factors in [0, 1]")
        rng = as_generator(random_state)
        T = f.size
        if hours is None:
            t0 = pd.Timestamp(start)
            t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
            hours = pd.date_range(t0, periods=T, freq="h").hour.to_numpy()
        e = rng.standard_normal((n, T))
        g = np.empty((n, T))
        g[:, 0] = e[:, 0]
        s = np.sqrt(1 - self.hourly_ar_**2)
        for t in range(1, T):
            g[:, t] = self.hourly_ar_ * g[:, t - 1] + s * e[:, t]
        z = from_uniform(stats.norm.cdf(g), self.standardised_error_quantiles_)
        mu, sd = self._moments(f, hours)
        sd = sd * spread_scale
        cf = _expit(_logit(f, self.epsilon) + mu + sd * z)
        cf = np.where(f > self.inactive_threshold, cf, 0.0)
        cf = np.where(cf <= self.epsilon * 1.0001, 0.0, cf)
        values = (cf * self.capacity_kw)[:, :, None]
        return ScenarioSet(values, np.full(n, 1.0 / n), (self.variable,), scenario_names(n), 1.0, start,
                           {"model": "ForecastErrorModel"})

    def to_json(self, path=None) -> str:
        self._check_fitted()
        payload = {"model": "ForecastErrorModel", "params": self.params_in_signature_order(), "fitted": {
            "bin_centres": self.bin_centres_, "error_mean": self.error_mean_, "error_std": self.error_std_,
            "standardised_error_quantiles": self.standardised_error_quantiles_,
            "hour_mean": self.hour_mean_, "hour_std": self.hour_std_,
            "hourly_ar": self.hourly_ar_, "n_hours_fitted": self.n_hours_fitted_}}
        return write_json(payload, path)

    @classmethod
    def from_json(cls, source, **overrides) -> "ForecastErrorModel":
        data = read_json(source)
        if data.get("model") != "ForecastErrorModel":
            raise ValueError(f"not a ForecastErrorModel JSON (model = {data.get('model')!r})")
        model = cls(**{**data["params"], **overrides})
        model.check_params()
        f = data["fitted"]
        model.bin_centres_ = np.asarray(f["bin_centres"], float)
        model.error_mean_ = np.asarray(f["error_mean"], float)
        model.error_std_ = np.asarray(f["error_std"], float)
        model.standardised_error_quantiles_ = np.asarray(f["standardised_error_quantiles"], float)
        model.hour_mean_ = np.asarray(f["hour_mean"], float)
        model.hour_std_ = np.asarray(f["hour_std"], float)
        model.hourly_ar_ = float(f["hourly_ar"])
        model.n_hours_fitted_ = int(f["n_hours_fitted"])
        return model


__all__ = ["ForecastErrorModel", "evaluate_by_day"]


def evaluate_by_day(model: ForecastErrorModel, forecast: pd.Series, actual: pd.Series,
                    unconditional: np.ndarray | None = None, unconditional_index=None, n_scenarios: int = 50,
                    random_state=0, adaptive_spread_days: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Score day-by-day conditional scenarios (24 h, UTC days) against actual capacity factors.

    With ``adaptive_spread_days`` = w, each day's error spread is scaled by the root-mean-square
    of the standardised errors of the previous w days (past actuals only, as an operator would;
    1 until a week of past is available; clipped to [0.5, 3]).

    Returns (per-day frame with ``energy_score_conditional`` and, when ``unconditional`` (S, T)
    capacity factors on ``unconditional_index`` are given, ``energy_score_unconditional``; rank
    histogram counts (n_scenarios + 1 bins) of the actual among the conditional scenarios over
    the active hours (forecast above the model's threshold)).
    """
    rng = as_generator(random_state)
    frame = ForecastErrorModel._aligned(forecast, actual)
    frame = frame[frame.groupby(frame.index.floor("D"))["f"].transform("size") == 24]
    if unconditional is not None:
        pos = pd.Series(np.arange(len(unconditional_index)), index=pd.DatetimeIndex(unconditional_index))
    scale = pd.Series(1.0, index=frame.index.floor("D").unique())
    if adaptive_spread_days is not None:
        w = check_positive_int("adaptive_spread_days", adaptive_spread_days)
        z2 = model.standardised_errors(frame["f"], frame["a"]) ** 2
        daily = z2.groupby(z2.index.floor("D")).agg(["sum", "size"]).reindex(scale.index).fillna(0.0)
        past = daily.rolling(w, min_periods=1).sum().shift(1)
        enough = (daily["size"] > 0).rolling(w, min_periods=1).sum().shift(1) >= min(7, w)
        rms = np.sqrt(past["sum"] / past["size"].replace(0, np.nan))
        scale = rms.where(enough, 1.0).fillna(1.0).clip(0.5, 3.0)
    rows, members, observations = [], [], []
    for day, block in frame.groupby(frame.index.floor("D")):
        f, a = block["f"].to_numpy(), block["a"].to_numpy()
        sc = model.sample(n_scenarios, block["f"], random_state=rng,
                          spread_scale=float(scale.loc[day])).values[:, :, 0] / model.capacity_kw
        row = {"day": day, "energy_score_conditional": energy_score(sc, a), "spread_scale": float(scale.loc[day])}
        if unconditional is not None:
            cols = pos.reindex(block.index).to_numpy()
            if not np.any(np.isnan(cols)):
                row["energy_score_unconditional"] = energy_score(unconditional[:, cols.astype(int)], a)
        rows.append(row)
        act = f > model.inactive_threshold
        members.append(sc[:, act].T)
        observations.append(a[act])
    counts = rank_histogram(np.vstack(members), np.concatenate(observations), random_state=rng)
    return pd.DataFrame(rows).set_index("day"), counts
