"""Shared machinery of the PV, wind and forecast-error models: a two-scale Gaussian process
(daily level + hourly fluctuation), hourly series helpers, marginal transforms and JSON round trips.

The models themselves live in :mod:`scenarios.pv`, :mod:`scenarios.wind` and
:mod:`scenarios.forecast_error`; the readers of the real data and the fit of the France defaults
in :mod:`scenarios.calibration`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HOURS_PER_DAY = 24


# -- hourly series ----------------------------------------------------------------------------------
def hourly_utc_series(history, name: str, column: str | None = None) -> pd.Series:
    """A float Series on an hourly UTC index from a Series or a DataFrame (``column`` or its only one).

    Naive timestamps are taken as UTC. Raises a ValueError naming ``name`` if the input is not a
    time-indexed series or frame.
    """
    if isinstance(history, pd.DataFrame):
        if column is not None and column in history.columns:
            s = history[column]
        elif history.shape[1] == 1:
            s = history.iloc[:, 0]
        else:
            raise ValueError(
                f"{name} must be a Series or a DataFrame with a column {column!r}; "
                f"got columns {list(history.columns)}"
            )
    elif isinstance(history, pd.Series):
        s = history
    else:
        raise ValueError(f"{name} must be a pandas Series or DataFrame with a DatetimeIndex")
    if not isinstance(s.index, pd.DatetimeIndex):
        raise ValueError(f"{name} must have a DatetimeIndex (hourly timestamps); got {type(s.index).__name__}")
    s = s.astype(float)
    idx = s.index.tz_localize("UTC") if s.index.tz is None else s.index.tz_convert("UTC")
    s = pd.Series(s.to_numpy(), index=idx, name=s.name).sort_index()
    s = s[~s.index.duplicated()]
    if len(s) < 48:
        raise ValueError(f"{name} must hold at least two days of hourly values; got {len(s)} rows")
    return s


def day_matrix(series: pd.Series) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(days, hours) matrix of an hourly UTC series, NaN where an hour is missing."""
    days = series.index.floor("D")
    frame = pd.DataFrame({"day": days, "hour": series.index.hour, "v": series.to_numpy()})
    mat = frame.pivot_table(index="day", columns="hour", values="v", aggfunc="mean", dropna=False)
    mat = mat.reindex(columns=range(HOURS_PER_DAY))
    return pd.DatetimeIndex(mat.index), mat.to_numpy(dtype=float)


def sample_times(start, days: int) -> pd.DatetimeIndex:
    """Hourly UTC timestamps (interval start) of ``days`` whole days from ``start``'s date."""
    if start is None:
        raise ValueError("start must be given (a date such as '2016-01-01'); sampling is calendar-aware")
    t0 = pd.Timestamp(start)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    return pd.date_range(t0.floor("D"), periods=days * HOURS_PER_DAY, freq="h")


def scenario_names(n: int) -> tuple[str, ...]:
    return tuple(f"scen{i}" for i in range(n))


# -- marginal transforms -----------------------------------------------------------------------------
QUANTILE_LEVELS = np.linspace(0.0, 1.0, 41)


def normal_scores_by_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standard-normal scores of ``values`` from their ranks within each group (NaN kept)."""
    out = np.full(values.shape, np.nan)
    for g in np.unique(groups[~np.isnan(values)]):
        m = (groups == g) & ~np.isnan(values)
        r = stats.rankdata(values[m])
        out[m] = stats.norm.ppf((r - 0.5) / m.sum())
    return out


def quantile_table(values: np.ndarray) -> np.ndarray:
    """Quantiles of ``values`` at :data:`QUANTILE_LEVELS` (min and max at the ends)."""
    return np.quantile(values[~np.isnan(values)], QUANTILE_LEVELS)


def from_uniform(u: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Inverse of the piecewise-linear distribution given by a quantile ``table``."""
    return np.interp(u, QUANTILE_LEVELS, table)


def to_uniform(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Piecewise-linear distribution function of a quantile ``table`` (strictly inside (0, 1))."""
    t = np.maximum.accumulate(table + np.arange(table.size) * 1e-12)
    u = np.interp(x, t, QUANTILE_LEVELS)
    return np.clip(u, 1e-4, 1 - 1e-4)


# -- the two-scale Gaussian process -----------------------------------------------------------------
def _mean_ar1_variance(phi: float, n: np.ndarray) -> np.ndarray:
    """Variance of the mean of n consecutive values of a unit-variance AR(1) with coefficient phi."""
    n = np.asarray(n, dtype=float)
    table = np.empty(HOURS_PER_DAY + 1)
    k = np.arange(1, HOURS_PER_DAY + 1)
    for nn in range(1, HOURS_PER_DAY + 1):
        kk = k[k < nn]
        table[nn] = (nn + 2.0 * np.sum((nn - kk) * phi ** kk)) / nn**2
    table[0] = 1.0
    return table[np.clip(n, 0, HOURS_PER_DAY).astype(int)]


def _cross_day_mean_cov(phi: float) -> float:
    """Covariance of consecutive 24-hour means of a unit-variance AR(1)."""
    if phi <= 0:
        return 0.0
    i = np.arange(HOURS_PER_DAY)
    lags = HOURS_PER_DAY + i[None, :] - i[:, None]
    return float(np.sum(phi ** lags) / HOURS_PER_DAY**2)


@dataclass(frozen=True)
class TwoScaleGaussian:
    """Standard-normal hourly scores ``y = b z_day + sqrt(1 - b^2) u_hour``.

    ``z`` is an AR(1) across days (``daily_ar``), ``u`` an AR(1) across hours (``hourly_ar``),
    both of unit variance, so every ``y`` is N(0, 1); ``loading`` is b.
    """

    loading: float
    hourly_ar: float
    daily_ar: float
    smooth_level: bool = False

    @classmethod
    def fit_smooth(cls, hourly_scores: np.ndarray) -> "TwoScaleGaussian":
        """Fit of the smooth-level variant on a continuous hourly score series (wind).

        The level is interpolated linearly between day centres, so its autocorrelation at lag k
        (hours) is about ``1 - (1 - daily_ar) k / 24`` for k <= 24 and ``daily_ar^(k/24)`` at
        whole days; ``rho_k = b^2 rho_level(k) + (1 - b^2) phi^k`` is fitted by least squares on
        lags 1..24, 36, 48 and 72 (lag 1 weighted ten times) over a grid of (phi, daily_ar).
        """
        y = np.asarray(hourly_scores, dtype=float).reshape(-1)
        y = y / np.sqrt(np.nanmean(y**2))
        lags = np.r_[np.arange(1, 25), 36, 48, 72]
        rho = np.array([np.nanmean(y[:-k] * y[k:]) for k in lags])
        w = np.where(lags == 1, 10.0, 1.0)
        best = (np.inf, 0.0, 0.0, 0.0)
        for phi_d in np.linspace(0.0, 0.95, 39):
            level = np.where(lags <= 24, 1 - (1 - phi_d) * lags / 24.0, phi_d ** (lags / 24.0))
            for phi in np.linspace(0.0, 0.99, 100):
                basis = phi ** lags
                d = level - basis
                b2 = float(np.clip(np.sum(w * d * (rho - basis)) / max(np.sum(w * d * d), 1e-12), 0.0, 0.999))
                err = float(np.sum(w * (rho - basis - b2 * d) ** 2))
                if err < best[0]:
                    best = (err, phi, b2, phi_d)
        _, phi_h, b2, phi_d = best
        return cls(float(np.sqrt(b2)), float(phi_h), float(phi_d), True)

    @classmethod
    def fit(cls, scores: np.ndarray) -> "TwoScaleGaussian":
        """Moment fit on a (days, 24) matrix of normal scores (NaN where unobserved).

        Within-day autocorrelations ``rho_k = b^2 + (1 - b^2) phi^k`` at lags 1..8 are matched by
        least squares (lag 1 weighted ten times, so the hourly persistence is reproduced); the
        lag-one-day correlation of daily means, corrected for the hourly AR(1)'s carry-over, gives
        the daily AR coefficient.
        """
        y = np.asarray(scores, dtype=float)
        y = y / np.sqrt(np.nanmean(y**2))  # unit variance even if the marginal fit is imperfect
        lags = np.arange(1, 9)
        rho = np.full(lags.size, np.nan)
        for i, k in enumerate(lags):
            a, b = y[:, :-k].reshape(-1), y[:, k:].reshape(-1)
            m = ~np.isnan(a) & ~np.isnan(b)
            if m.sum() >= 20:
                rho[i] = float(np.mean(a[m] * b[m]))
        if np.isnan(rho[0]):
            raise ValueError("history too short or empty to fit hourly persistence (need >= 20 hour pairs)")
        weights = np.where(lags == 1, 10.0, 1.0)[~np.isnan(rho)]
        lk, rk = lags[~np.isnan(rho)], rho[~np.isnan(rho)]
        n = np.sum(~np.isnan(y), axis=1)
        ok = n > 0
        ybar = np.full(len(y), np.nan)
        ybar[ok] = np.nanmean(y[ok], axis=1)
        best = (np.inf, 0.0, 0.0)
        for phi in np.linspace(0.0, 0.995, 400):
            basis = phi ** lk
            d = 1.0 - basis
            b2 = float(np.clip(np.sum(weights * d * (rk - basis)) / max(np.sum(weights * d * d), 1e-12),
                               0.0, 0.999))
            err = float(np.sum(weights * (rk - basis - b2 * d) ** 2))
            if err < best[0]:
                best = (err, phi, b2)
        _, phi_h, b2 = best
        pair = ok[:-1] & ok[1:]
        phi_d = 0.0
        if b2 > 1e-6 and pair.sum() > 5:
            cov = float(np.mean(ybar[:-1][pair] * ybar[1:][pair]))
            phi_d = (cov - (1 - b2) * _cross_day_mean_cov(phi_h)) / b2
        return cls(float(np.sqrt(b2)), float(phi_h), float(np.clip(phi_d, 0.0, 0.98)))

    def daily_scores(self, scores: np.ndarray) -> np.ndarray:
        """Standardised daily means of a (days, 24) score matrix: the daily level's normal scores."""
        y = np.asarray(scores, dtype=float)
        n = np.sum(~np.isnan(y), axis=1)
        with np.errstate(invalid="ignore"):
            ybar = np.nanmean(np.where(n[:, None] > 0, y, 0.0), axis=1)
        b2 = self.loading**2
        var = b2 + (1 - b2) * _mean_ar1_variance(self.hourly_ar, np.maximum(n, 1))
        z = ybar / np.sqrt(var)
        z[n == 0] = np.nan
        return z

    def simulate(self, n: int, days: int, rng: np.random.Generator, latent=None) -> np.ndarray:
        """Scores of shape (n, days * 24). ``latent`` (n, days) replaces the daily level draws."""
        if latent is None:
            e = rng.standard_normal((n, days))
            z = np.empty((n, days))
            z[:, 0] = e[:, 0]
            s = np.sqrt(1 - self.daily_ar**2)
            for d in range(1, days):
                z[:, d] = self.daily_ar * z[:, d - 1] + s * e[:, d]
        else:
            z = np.asarray(latent, dtype=float)
            if z.shape != (n, days):
                raise ValueError(f"latent must have shape (n, days) = ({n}, {days}); got {z.shape}")
            if not np.all(np.isfinite(z)):
                raise ValueError("latent must hold finite standard-normal scores")
        T = days * HOURS_PER_DAY
        if self.smooth_level:
            level = self._interpolate_level(z)
        else:
            level = np.repeat(z, HOURS_PER_DAY, axis=1)
        e = rng.standard_normal((n, T))
        u = np.empty((n, T))
        u[:, 0] = e[:, 0]
        s = np.sqrt(1 - self.hourly_ar**2)
        for t in range(1, T):
            u[:, t] = self.hourly_ar * u[:, t - 1] + s * e[:, t]
        b = self.loading
        return b * level + np.sqrt(1 - b**2) * u

    def _interpolate_level(self, z: np.ndarray) -> np.ndarray:
        """Hourly level interpolated linearly between day centres, rescaled to unit variance."""
        n, days = z.shape
        padded = np.concatenate([z[:, :1], z, z[:, -1:]], axis=1)  # edge days repeated
        pos = (np.arange(days * HOURS_PER_DAY) + 0.5) / HOURS_PER_DAY - 0.5  # in day-centre units
        left = np.floor(pos).astype(int)
        frac = pos - left
        lo, hi = padded[:, left + 1], padded[:, left + 2]
        r = self.daily_ar
        scale = np.sqrt((1 - frac) ** 2 + frac**2 + 2 * frac * (1 - frac) * r)
        return ((1 - frac) * lo + frac * hi) / scale

    def to_dict(self) -> dict:
        return {"loading": self.loading, "hourly_ar": self.hourly_ar, "daily_ar": self.daily_ar,
                "smooth_level": self.smooth_level}


# -- JSON -------------------------------------------------------------------------------------------------
def to_jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return round(float(obj), 8)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, TwoScaleGaussian):
        return to_jsonable(obj.to_dict())
    return obj


def write_json(payload: dict, path=None) -> str:
    text = json.dumps(to_jsonable(payload), indent=1)
    # innermost lists of numbers on one line each, so the file stays short and readable
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return text


def read_json(source) -> dict:
    """A dict from a JSON string, a path to a JSON file, or a dict."""
    if isinstance(source, dict):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        return json.loads(Path(source).read_text())
    return json.loads(source)
