"""Probabilistic day-ahead price forecasts: a LEAR median (LASSO per hour on variance-stabilised prices,
recalibrated daily on rolling windows) dressed with past errors and a Gaussian copula over the 24 hours.

Median (Lago, Marcjasz, De Schutter and Weron 2021, "LEAR"). For the forecast day D and each hour h the
target is price(D, h); the 247 features (with two exogenous series) are the prices of D-1, D-2, D-3 and
D-7 (24 each), each exogenous day-ahead forecast for D, D-1 and D-7 (24 each) and 7 day-of-week dummies.
Every feature column and every hour's target is normalised by the median and the MAD (scaled to a
standard deviation, x 1.4826) of the calibration window, then passed through asinh: the
variance-stabilising transform of Uniejewski, Weron and Ziel (2018), scale-free, so a crisis regime
(2022) needs no hand cap. Per hour, the LASSO path is computed by LARS on the window's Gram matrix and
the penalty chosen by the corrected Akaike criterion AICc (n log(RSS/n) + 2 k + 2 k (k + 1) / (n - k - 1),
k the active features; the correction keeps short windows with n < p from interpolating). Point
forecasts from several calibration windows (56, 84, 1092 and 1456 days by default, as in the LEAR
ensemble) are averaged. Each window is refitted every ``refit_every_days`` days (1: daily recalibration)
on data up to D-1 only; between refits its coefficients are kept and only the features move.

Bands. Errors are measured in a scale-free space: T_d(x) = asinh((x - m_d) / s_d), m_d and s_d the
median and MAD x 1.4826 of the hourly prices of the ``scale_window_days`` days before d. The errors
e(d, h) = T_d(price) - T_d(median) of the ``error_window_days`` days before D (out of sample: each
median was forecast with data up to d-1) give per hour an empirical distribution; the quantile of level
tau of day D is T_D^-1(T_D(median(D, h)) + F_h^-1(tau)). The defaults (errors not recentred, sample
correlation, no level recalibration) were chosen on validation weeks before each test period
(2014-11-17..2015-01-03 on the epftoolbox data, 2021-11-15..2021-12-31 on the ENTSO-E data). The 24
hours are tied by a Gaussian copula: the correlation of the errors' normal scores Phi^-1(F_h(e)).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.covariance import LedoitWolf
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lars_path_gram

from .base import ScenarioModel, check_positive_int
from .history import History
from .metrics import as_generator
from .scenario_set import ScenarioSet

__all__ = [
    "P0",
    "PRICE_COLUMN",
    "EXOGENOUS_CANDIDATES",
    "DEFAULT_QUANTILES",
    "daily_matrix",
    "lear_features",
    "LearFit",
    "fit_lear",
    "DayAheadPriceForecaster",
    "level_state_paths",
]

P0 = "p0_eur_per_mwh"
PRICE_COLUMN = "price_eur_per_mwh"
EXOGENOUS_CANDIDATES = ("load_forecast_mw", "generation_forecast_mw", "solar_forecast_mw",
                        "wind_onshore_forecast_mw")
DEFAULT_QUANTILES = tuple(np.round(np.arange(1, 100) / 100, 2))
PRICE_LAGS_DAYS = (1, 2, 3, 7)
EXOGENOUS_LAGS_DAYS = (0, 1, 7)
MAD_TO_SD = 1.4826


# -- data shaping -------------------------------------------------------------------------------------
def _as_frame(history) -> pd.DataFrame:
    if isinstance(history, History):
        return history.frame
    if isinstance(history, pd.DataFrame) and isinstance(history.index, pd.DatetimeIndex):
        return history
    raise TypeError("history must be a scenarios.history.History or a DataFrame with an hourly "
                    f"DatetimeIndex (local wall clock, 24 hours a day); got {type(history).__name__}")


def daily_matrix(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Days x 24 matrix of one hourly column (index: every calendar day of the frame, NaN if absent)."""
    if column not in frame.columns:
        raise KeyError(f"history lacks column {column!r}; it has {list(frame.columns)}")
    s = frame[column]
    wide = pd.DataFrame({"day": s.index.normalize(), "hour": s.index.hour, "v": s.to_numpy(dtype=float)})
    wide = wide.pivot_table(index="day", columns="hour", values="v", aggfunc="first", dropna=False)
    days = pd.date_range(wide.index.min(), wide.index.max(), freq="D")
    return wide.reindex(index=days, columns=range(24))


def _shift_rows(a: np.ndarray, k: int) -> np.ndarray:
    """Row t of the result is row t - k of ``a`` (NaN where t - k < 0)."""
    if k == 0:
        return a.copy()
    out = np.full_like(a, np.nan)
    out[k:] = a[:-k]
    return out


def lear_features(prices: np.ndarray, exogenous: list[np.ndarray], days: pd.DatetimeIndex):
    """LEAR feature matrix of every day: (days, 24 * (4 + 3 * len(exogenous)) + 7) and column names.

    ``prices`` and each exogenous array are (days, 24) on consecutive calendar ``days``. Row t holds
    the prices of days t-1, t-2, t-3, t-7, each exogenous series of days t, t-1, t-7 and the
    day-of-week dummies of day t; it never holds a price of day t itself.
    """
    blocks, names = [], []
    for k in PRICE_LAGS_DAYS:
        blocks.append(_shift_rows(prices, k))
        names += [f"price_d-{k}_h{h}" for h in range(24)]
    for j, e in enumerate(exogenous):
        for k in EXOGENOUS_LAGS_DAYS:
            blocks.append(_shift_rows(e, k))
            names += [f"exog{j}_d-{k}_h{h}" for h in range(24)]
    dow = np.zeros((len(days), 7))
    dow[np.arange(len(days)), pd.DatetimeIndex(days).dayofweek] = 1.0
    blocks.append(dow)
    names += [f"dow{d}" for d in range(7)]
    return np.hstack(blocks), names


# -- the LASSO on variance-stabilised data --------------------------------------------------------------
def _median_mad(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column medians and MADs x 1.4826 (a zero MAD falls back to the standard deviation, then 1)."""
    med = np.median(a, axis=0)
    mad = MAD_TO_SD * np.median(np.abs(a - med), axis=0)
    sd = a.std(axis=0)
    mad = np.where(mad > 1e-9, mad, np.where(sd > 1e-9, sd, 1.0))
    return med, mad


class LearFit:
    """One calibration window's LASSO per hour, in the asinh-normalised space of that window."""

    def __init__(self, x_median, x_mad, n_scaled, x_mean, y_median, y_mad, y_mean, coef, alpha, n_active):
        self.x_median, self.x_mad, self.n_scaled = x_median, x_mad, n_scaled
        self.x_mean, self.y_median, self.y_mad, self.y_mean = x_mean, y_median, y_mad, y_mean
        self.coef, self.alpha, self.n_active = coef, alpha, n_active

    def transform_features(self, x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=float, copy=True)
        k = self.n_scaled
        x[..., :k] = np.arcsinh((x[..., :k] - self.x_median) / self.x_mad)
        # an unknown feature takes the window's median (0 after the transform)
        return np.where(np.isnan(x), 0.0, x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Prices (rows, 24) in EUR/MWh for feature rows ``x`` (rows, p)."""
        z = (self.transform_features(x) - self.x_mean) @ self.coef + self.y_mean
        return self.y_median + self.y_mad * np.sinh(z)


def fit_lear(X: np.ndarray, Y: np.ndarray, n_dummies: int = 7, max_steps: int = 150) -> LearFit:
    """LASSO per hour of asinh-normalised ``Y`` (n, 24) on asinh-normalised ``X`` (n, p), AICc penalty.

    The last ``n_dummies`` columns of ``X`` (day-of-week) are not normalised. The LARS-lasso path of
    each hour is followed for at most ``max_steps`` steps on the shared Gram matrix; the point of the
    path with the smallest AICc is the hour's solution (an exact LASSO solution: a knot of the path).
    """
    n, p = X.shape
    k = p - n_dummies
    x_median, x_mad = _median_mad(X[:, :k])
    Xt = X.copy()
    Xt[:, :k] = np.arcsinh((X[:, :k] - x_median) / x_mad)
    y_median, y_mad = _median_mad(Y)
    Yt = np.arcsinh((Y - y_median) / y_mad)
    x_mean, y_mean = Xt.mean(axis=0), Yt.mean(axis=0)
    Xc, Yc = Xt - x_mean, Yt - y_mean
    gram = Xc.T @ Xc
    xy = Xc.T @ Yc
    yy = np.sum(Yc * Yc, axis=0)
    coef = np.zeros((p, 24))
    alpha = np.zeros(24)
    n_active = np.zeros(24, dtype=int)
    for h in range(24):
        if yy[h] <= 1e-12:
            continue
        with warnings.catch_warnings():
            # collinear lags make LARS drop degenerate regressors; the path stays a LASSO path
            warnings.simplefilter("ignore", ConvergenceWarning)
            alphas, _, path = lars_path_gram(xy[:, h], gram, n_samples=n, method="lasso",
                                             max_iter=min(max_steps, max(n - 2, 1)))
        rss = yy[h] - 2.0 * (path.T @ xy[:, h]) + np.sum(path * (gram @ path), axis=0)
        rss = np.maximum(rss, 1e-12 * yy[h])
        df = np.count_nonzero(path, axis=0)
        with np.errstate(divide="ignore"):
            aicc = n * np.log(rss / n) + 2 * df + np.where(n - df - 1 > 0, 2.0 * df * (df + 1) / (n - df - 1),
                                                           np.inf)
        best = int(np.argmin(aicc))
        coef[:, h] = path[:, best]
        alpha[h] = alphas[best]
        n_active[h] = df[best]
    return LearFit(x_median, x_mad, k, x_mean, y_median, y_mad, y_mean, coef, alpha, n_active)


# -- the forecaster ---------------------------------------------------------------------------------------
class DayAheadPriceForecaster(ScenarioModel):
    """Probabilistic forecast of the 24 day-ahead prices of one day from what is known on day D-1.

    Parameters
    ----------
    price_column : history column of the day-ahead price, EUR/MWh.
    exogenous_columns : history columns of day-ahead forecasts (MW) known before the auction (load,
        generation, solar, wind). None takes those of ``EXOGENOUS_CANDIDATES`` the history has.
    calibration_windows_days : lengths of the rolling calibration windows whose LEAR forecasts are
        averaged into the median (days).
    error_window_days : days of past out-of-sample errors that make the bands and the copula.
    scale_window_days : days of past prices whose median and MAD define the error space T_d.
    refit_every_days : a window's LASSO is refitted every this many days (1: daily recalibration), one
        integer for all windows or one per window; None (default) refits windows shorter than a year
        daily and longer ones every 7 days (between refits the features still move daily).
    max_lasso_steps : at most this many LARS steps per hour. On the France data the long windows'
        AICc optimum lies at 50 to 120 active features, so 150 truncates a few hours' paths.
    recentre_errors : if True each hour's past errors are shifted to a zero median, so the 0.5
        quantile is the LEAR point forecast and the errors give only the spread; if False (default)
        the errors' median also corrects the point forecast's recent bias.
    correlation_shrinkage : estimate of the copula's 24 x 24 correlation from the errors' normal
        scores: a weight in [0, 1] of the identity (default 0: the sample correlation) or
        'ledoit_wolf' (shrunk towards the identity by the Ledoit-Wolf intensity).
    recalibrate_levels : if True, a nominal level tau is replaced by the tau-quantile of the PITs that
        the band rule gave the pool's own later days (judged by the days before each): bands widen
        when errors have recently been growing, narrow when shrinking.

    ``fit(history, day)`` learns, with the prices up to ``day`` - 1 only, the median of ``day`` and
    the bands (running :meth:`walk_forward` over the ``error_window_days`` before, unless the
    ``medians`` of those days are passed); :meth:`predict_quantiles` and :meth:`sample` then give
    the day's distribution, :meth:`sample_paths` paths over the next days.
    """

    def __init__(self, price_column: str = PRICE_COLUMN, exogenous_columns=None,
                 calibration_windows_days=(56, 84, 1092, 1456), error_window_days: int = 91,
                 scale_window_days: int = 28, refit_every_days=None, max_lasso_steps: int = 150,
                 recentre_errors: bool = False, correlation_shrinkage=0.0,
                 recalibrate_levels: bool = False):
        self.price_column = price_column
        self.exogenous_columns = exogenous_columns
        self.calibration_windows_days = calibration_windows_days
        self.error_window_days = error_window_days
        self.scale_window_days = scale_window_days
        self.refit_every_days = refit_every_days
        self.max_lasso_steps = max_lasso_steps
        self.recentre_errors = recentre_errors
        self.correlation_shrinkage = correlation_shrinkage
        self.recalibrate_levels = recalibrate_levels

    def check_params(self) -> None:
        if not isinstance(self.price_column, str) or not self.price_column:
            raise ValueError(f"price_column must be the name of a history column; got {self.price_column!r}")
        if self.exogenous_columns is not None and (
                isinstance(self.exogenous_columns, str)
                or not all(isinstance(c, str) for c in self.exogenous_columns)):
            raise ValueError("exogenous_columns must be None or a sequence of column names such as "
                             f"('load_forecast_mw',); got {self.exogenous_columns!r}")
        windows = self.calibration_windows_days
        if isinstance(windows, (int, np.integer)) or not len(windows) or any(
                isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 14 for w in windows):
            raise ValueError("calibration_windows_days must be a non-empty sequence of integers >= 14 "
                             f"(days); got {windows!r}")
        for name in ("error_window_days", "scale_window_days", "max_lasso_steps"):
            check_positive_int(name, getattr(self, name))
        self._refit_periods()
        for name in ("recentre_errors", "recalibrate_levels"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}")
        shrink = self.correlation_shrinkage
        if not (shrink == "ledoit_wolf" or (isinstance(shrink, (int, float)) and not isinstance(shrink, bool)
                                            and 0 <= shrink <= 1)):
            raise ValueError("correlation_shrinkage must be 'ledoit_wolf' or a weight in [0, 1] of the "
                             f"identity (0: the sample correlation); got {shrink!r}")
        if self.error_window_days < 20:
            raise ValueError(f"error_window_days must be >= 20 days (the 5 % and 95 % band quantiles need "
                             f"them); got {self.error_window_days}")

    def _refit_periods(self) -> list[int]:
        """The refit period (days) of each calibration window."""
        every, windows = self.refit_every_days, self.calibration_windows_days
        if every is None:
            return [1 if int(w) < 365 else 7 for w in windows]
        if isinstance(every, (int, np.integer)) and not isinstance(every, bool):
            every = [every] * len(windows)
        try:
            periods = [check_positive_int("refit_every_days", e) for e in every]
        except (TypeError, ValueError):
            periods = []
        if len(periods) != len(windows):
            raise ValueError("refit_every_days must be a positive integer (days) or one per calibration "
                             f"window ({len(windows)}); got {self.refit_every_days!r}")
        return periods

    # -------------------------------------------------------------------------------- data
    def _columns(self, frame: pd.DataFrame) -> list[str]:
        if self.exogenous_columns is None:
            return [c for c in EXOGENOUS_CANDIDATES if c in frame.columns]
        missing = [c for c in self.exogenous_columns if c not in frame.columns]
        if missing:
            raise KeyError(f"history lacks the exogenous column(s) {missing} (day-ahead forecasts in MW); "
                           f"it has {list(frame.columns)}; pass exogenous_columns=... or None")
        return list(self.exogenous_columns)

    def _daily(self, history):
        frame = _as_frame(history)
        prices = daily_matrix(frame, self.price_column)
        columns = self._columns(frame)
        exog = [daily_matrix(frame, c).reindex(prices.index).to_numpy() for c in columns]
        return prices, exog, columns

    # ---------------------------------------------------------------------------- medians
    def walk_forward(self, history, start, end, progress=None) -> pd.DataFrame:
        """Out-of-sample LEAR-ensemble medians of the days ``start``..``end`` (days x 24, EUR/MWh).

        Each day's forecast uses the prices up to the day before only (and the exogenous forecasts
        of the day itself and before); window ``w`` is refitted on its last ``w`` days every
        ``refit_every_days`` days. ``progress``: optional callable receiving a text line every 28 days.
        """
        self.check_params()
        prices, exog, _ = self._daily(history)
        start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        if start > end:
            raise ValueError(f"start ({start.date()}) must not be after end ({end.date()})")
        days = prices.index
        if end > days[-1]:
            raise ValueError(f"history ends on {days[-1].date()}: it must hold the exogenous forecasts "
                             f"of {end.date()} (and the prices up to the day before)")
        P = prices.to_numpy()
        X, _ = lear_features(P, exog, days)
        valid = ~np.isnan(X).any(axis=1) & ~np.isnan(P).any(axis=1)
        first = int(days.get_indexer([start])[0]) if start >= days[0] else -1
        windows = [int(w) for w in self.calibration_windows_days]
        if first < 0 or valid[:first].sum() < 2 * 7:
            raise ValueError(f"history must hold complete prices and forecasts before {start.date()} "
                             f"(it starts on {days[0].date()})")
        last = int(days.get_indexer([end])[0])
        out = np.full((last - first + 1, 24), np.nan)
        periods = self._refit_periods()
        fits: dict[int, tuple[int, LearFit]] = {}
        for t in range(first, last + 1):
            members = []
            for i, w in enumerate(windows):
                fitted = fits.get(i)
                if fitted is None or t - fitted[0] >= periods[i]:
                    rows = np.arange(max(0, t - w), t)
                    rows = rows[valid[rows]]
                    if len(rows) < 14:
                        continue
                    fits[i] = (t, fit_lear(X[rows], P[rows], max_steps=self.max_lasso_steps))
                members.append(fits[i][1].predict(X[t:t + 1])[0])
            if not members:
                raise ValueError(f"fewer than 14 complete days before {days[t].date()} to calibrate on")
            out[t - first] = np.mean(members, axis=0)
            if progress is not None and (t - first) % 28 == 27:
                progress(f"medians up to {days[t].date()} ({t - first + 1}/{last - first + 1} days)")
        return pd.DataFrame(out, index=days[first:last + 1], columns=range(24))

    # ---------------------------------------------------------------------------- bands
    def _scale(self, P: np.ndarray, t: int) -> tuple[float, float]:
        """(m, s) of day t: median and MAD x 1.4826 of the hourly prices of the scale window before t."""
        block = P[max(0, t - self.scale_window_days):t].reshape(-1)
        block = block[np.isfinite(block)]
        if block.size < 24:
            raise ValueError("need at least one complete day of prices in the scale window")
        m = float(np.median(block))
        s = MAD_TO_SD * float(np.median(np.abs(block - m)))
        return m, max(s, 1e-3 * max(1.0, abs(m)), 1e-6)

    def fit(self, history, day=None, medians: pd.DataFrame | None = None) -> "DayAheadPriceForecaster":
        """Learn the distribution of ``day``'s 24 prices from ``history`` known on ``day`` - 1.

        day : the day to forecast; default the day after the last day with 24 prices.
        medians : optional out-of-sample medians (from :meth:`walk_forward`) covering the
            ``error_window_days`` days before ``day`` and ``day`` itself; computed when None.
        Prices of ``day`` and later in ``history`` are never read.
        """
        self.check_params()
        prices, exog, columns = self._daily(history)
        P = prices.to_numpy()
        days = prices.index
        if day is None:
            complete = np.flatnonzero(~np.isnan(P).any(axis=1))
            if len(complete) == 0:
                raise ValueError(f"history holds no day with 24 values of {self.price_column!r}")
            day = days[complete[-1]] + pd.Timedelta(days=1)
        day = pd.Timestamp(day).normalize()
        if day > days[-1] or day < days[0]:
            raise ValueError(f"history (from {days[0].date()} to {days[-1].date()}) must cover {day.date()} "
                             "(its exogenous day-ahead forecasts) and the days before")
        t = int(days.get_indexer([day])[0])
        R = self.error_window_days
        pool_start = day - pd.Timedelta(days=R)
        if medians is None:
            medians = self.walk_forward(history, pool_start, day)
        need = pd.date_range(pool_start, day, freq="D")
        missing = need.difference(medians.dropna().index)
        if day in missing:
            raise ValueError(f"medians must hold the forecast of {day.date()} itself")
        pool_days = need[:-1].difference(missing)
        if len(pool_days) < 20:
            raise ValueError(f"only {len(pool_days)} of the {R} days before {day.date()} have a median and "
                             "24 prices: the bands need at least 20")
        errors = []
        for d in pool_days:
            i = int(days.get_indexer([d])[0])
            if np.isnan(P[i]).any():
                continue
            m, s = self._scale(P, i)
            errors.append(np.arcsinh((P[i] - m) / s) - np.arcsinh((medians.loc[d].to_numpy() - m) / s))
        if len(errors) < 20:
            raise ValueError(f"only {len(errors)} complete days of errors before {day.date()}; need 20")
        E = np.array(errors)
        self.level_map_ = self._recalibration_pits(E) if self.recalibrate_levels else None
        if self.recentre_errors:
            E = E - np.median(E, axis=0)
        self.day_ = day
        self.exogenous_columns_ = tuple(columns)
        self.median_eur_per_mwh_ = medians.loc[day].to_numpy(dtype=float)
        self.scale_center_eur_per_mwh_, self.scale_eur_per_mwh_ = self._scale(P, t)
        self.sorted_errors_ = np.sort(E, axis=0)
        self.n_error_days_ = int(len(E))
        ranks = np.argsort(np.argsort(E, axis=0), axis=0)
        scores = ndtri((ranks + 1.0) / (len(E) + 1.0))
        if self.correlation_shrinkage == "ledoit_wolf":
            cov = LedoitWolf().fit(scores).covariance_
        else:
            w = float(self.correlation_shrinkage)
            cov = (1 - w) * np.cov(scores, rowvar=False) + w * np.eye(24)
        sd = np.sqrt(np.diag(cov))
        self.correlation_ = cov / np.outer(sd, sd)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "correlation_"):
            raise RuntimeError("DayAheadPriceForecaster is not fitted: call fit(history, day) first")

    def _recalibration_pits(self, E: np.ndarray) -> np.ndarray:
        """Sorted PITs of each pool day's errors under the errors of the pool days before it.

        Day k (from the 20th on) is judged by the band rule applied to days 0..k-1 (recentred if
        ``recentre_errors``): a calibrated rule gives uniform PITs; their empirical quantile function
        maps a nominal level to the level that was right recently (Kuleshov et al. 2018).
        """
        pits = []
        for k in range(20, len(E)):
            past, now = E[:k], E[k]
            if self.recentre_errors:
                centre = np.median(past, axis=0)
                past, now = past - centre, now - centre
            srt = np.sort(past, axis=0)
            positions = (np.arange(k) + 0.5) / k
            pits.append([np.interp(now[h], srt[:, h], positions, left=0.0, right=1.0) for h in range(24)])
        return np.sort(np.asarray(pits).reshape(-1))

    def _levels(self, u: np.ndarray) -> np.ndarray:
        """Nominal levels mapped through the recalibration (identity without it)."""
        if self.level_map_ is None or len(self.level_map_) == 0:
            return u
        return np.quantile(self.level_map_, u)

    def _error_quantiles(self, u: np.ndarray) -> np.ndarray:
        """F_h^-1(u) for u (..., 24): Hazen plotting positions, clamped at the extreme errors."""
        u = self._levels(u)
        n = self.n_error_days_
        positions = (np.arange(n) + 0.5) / n
        out = np.empty_like(u, dtype=float)
        for h in range(24):
            out[..., h] = np.interp(u[..., h], positions, self.sorted_errors_[:, h])
        return out

    def _to_prices(self, e: np.ndarray, median: np.ndarray | None = None) -> np.ndarray:
        m, s = self.scale_center_eur_per_mwh_, self.scale_eur_per_mwh_
        median = self.median_eur_per_mwh_ if median is None else median
        return m + s * np.sinh(np.arcsinh((median - m) / s) + e)

    def predict_quantiles(self, quantiles=DEFAULT_QUANTILES) -> pd.DataFrame:
        """Quantiles of each hour's price (EUR/MWh): rows hours 0..23, columns the levels in (0, 1)."""
        self._check_fitted()
        levels = np.asarray(quantiles, dtype=float).reshape(-1)
        if levels.size == 0 or np.any(~(levels > 0)) or np.any(~(levels < 1)):
            raise ValueError(f"quantiles must be levels strictly between 0 and 1; got {quantiles!r}")
        u = np.broadcast_to(levels[:, None], (levels.size, 24))
        values = self._to_prices(self._error_quantiles(u)).T
        out = pd.DataFrame(values, index=pd.RangeIndex(24, name="hour"), columns=levels)
        out.attrs["day"] = str(self.day_.date())
        return out

    def predict_median(self) -> np.ndarray:
        """The LEAR-ensemble point forecast of the 24 hours (EUR/MWh)."""
        self._check_fitted()
        return self.median_eur_per_mwh_.copy()

    def sample(self, n: int, *, random_state=None) -> ScenarioSet:
        """``n`` equiprobable 24-hour price scenarios of the fitted day (Gaussian copula, EUR/MWh)."""
        self._check_fitted()
        n = check_positive_int("n", n)
        rng = as_generator(random_state)
        root = np.linalg.cholesky(self.correlation_ + 1e-10 * np.eye(24))
        z = rng.standard_normal((n, 24)) @ root.T
        prices = self._to_prices(self._error_quantiles(ndtr(z)))
        return ScenarioSet(prices[:, :, None], np.full(n, 1.0 / n), (P0,), start=self.day_,
                           metadata={"model": "DayAheadPriceForecaster", "day": str(self.day_.date()),
                                     "timezone": "Europe/Paris", "wall_clock_24h": True})

    def sample_paths(self, n: int, n_days: int, history, *, random_state=None) -> ScenarioSet:
        """``n`` price paths of ``n_days`` days from the fitted day on (hourly, EUR/MWh).

        Day 1 is :meth:`sample`'s distribution. Each later day is the LEAR ensemble (refitted here on
        each calibration window up to the fitted day - 1) applied to the path's own simulated
        prices as lags, plus an error drawn from the same copula and error law: the spread widens
        with lead time as simulated errors feed the lags. The exogenous day-ahead forecasts of a day
        come from ``history`` when it holds them, else from the same weekday one week earlier.
        Prices of the fitted day and later in ``history`` are never read.
        """
        self._check_fitted()
        n = check_positive_int("n", n)
        n_days = check_positive_int("n_days", n_days)
        prices, exog, _ = self._daily(history)
        days = prices.index
        t0 = int(days.get_indexer([self.day_])[0])
        if t0 < 0:
            raise ValueError(f"history must cover the fitted day {self.day_.date()}")
        total = t0 + n_days
        P = prices.to_numpy()[:t0]
        extended = []
        for e in exog:
            ext = np.full((total, 24), np.nan)
            ext[:min(total, len(e))] = e[:total]
            for r in range(t0, total):
                if np.isnan(ext[r]).any():
                    ext[r] = np.where(np.isnan(ext[r]), ext[r - 7], ext[r])
            extended.append(ext)
        X, _ = lear_features(P, [e[:t0] for e in extended], days[:t0])
        valid = ~np.isnan(X).any(axis=1) & ~np.isnan(P).any(axis=1)
        fits = []
        for w in self.calibration_windows_days:
            rows = np.arange(max(0, t0 - int(w)), t0)
            rows = rows[valid[rows]]
            if len(rows) >= 14:
                fits.append(fit_lear(X[rows], P[rows], max_steps=self.max_lasso_steps))
        rng = as_generator(random_state)
        root = np.linalg.cholesky(self.correlation_ + 1e-10 * np.eye(24))
        calendar = pd.date_range(self.day_, periods=n_days, freq="D")
        sim = np.empty((n, n_days, 24))
        for k in range(n_days):
            r = t0 + k
            if k == 0:
                median = self.median_eur_per_mwh_
            else:
                blocks = [sim[:, r - lag - t0] if r - lag >= t0 else np.broadcast_to(P[r - lag], (n, 24))
                          for lag in PRICE_LAGS_DAYS]
                blocks += [np.broadcast_to(e[r - lag], (n, 24)) for e in extended for lag in EXOGENOUS_LAGS_DAYS]
                dow = np.zeros((n, 7))
                dow[:, calendar[k].dayofweek] = 1.0
                features = np.hstack(blocks + [dow])
                median = np.mean([f.predict(features) for f in fits], axis=0)
            z = rng.standard_normal((n, 24)) @ root.T
            sim[:, k] = self._to_prices(self._error_quantiles(ndtr(z)), median)
        return ScenarioSet(sim.reshape(n, n_days * 24, 1), np.full(n, 1.0 / n), (P0,), start=self.day_,
                           metadata={"model": "DayAheadPriceForecaster", "day": str(self.day_.date()),
                                     "n_days": n_days, "timezone": "Europe/Paris", "wall_clock_24h": True})

    def sample_level_paths(self, n: int, n_days: int, history, *, window_days: int = 364,
                           same_weekday: bool = True, random_state=None) -> ScenarioSet:
        """``n`` paths of ``n_days`` days: day 1 from :meth:`sample`, later days from the price-level
        state of :func:`level_state_paths` (prices of the fitted day and later are never read)."""
        self._check_fitted()
        rng = as_generator(random_state)
        first = self.sample(n, random_state=rng).values[:, :, 0]
        prices = daily_matrix(_as_frame(history), self.price_column)
        return level_state_paths(first, prices, self.day_, n_days, window_days=window_days,
                                 scale_window_days=self.scale_window_days, same_weekday=same_weekday,
                                 random_state=rng)


# -- multi-day paths with a price-level state -------------------------------------------------------------
def _scale_of(P: np.ndarray, t: int, window: int) -> tuple[float, float]:
    """Median and MAD x 1.4826 of the finite hourly prices of the ``window`` days before row t."""
    block = P[max(0, t - window):t].reshape(-1)
    block = block[np.isfinite(block)]
    if block.size < 24:
        return np.nan, np.nan
    m = float(np.median(block))
    s = MAD_TO_SD * float(np.median(np.abs(block - m)))
    return m, max(s, 1e-3 * max(1.0, abs(m)), 1e-6)


def level_state_paths(first_day, prices: pd.DataFrame, day, n_days: int, *, window_days: int = 364,
                      scale_window_days: int = 28, same_weekday: bool = True, random_state=None) -> ScenarioSet:
    """Hourly price paths over ``n_days`` days from ``day``, whose daily level is a state that widens
    with lead time.

    first_day : (n, 24) scenarios of ``day``'s prices (EUR/MWh), e.g. ``DayAheadPriceForecaster.sample``.
    prices : days x 24 matrix of past day-ahead prices (:func:`daily_matrix`); only days before ``day``
        are read.

    Space: T(x) = asinh((x - m) / s), m and s the median and MAD x 1.4826 of the hourly prices of the
    ``scale_window_days`` days before the origin (each past origin uses its own m and s, so a crisis
    level needs no cap). A day's level is the mean of T over its 24 hours, its shape T - level.
    Past origins o are the days of the ``window_days`` before ``day`` (the same weekday as ``day`` if
    ``same_weekday``) whose ``n_days`` days all lie before ``day``. Path j draws one origin o_j: its day
    1 is ``first_day[j]``; its day k >= 2 has level L_j + (l_o(k) - l_o(1)) and the shape of the o's day
    k, where L_j is the level of ``first_day[j]`` and l_o(k) the realised level of day o + k - 1. The
    level state therefore moves by the realised multi-day level changes of the past (a block bootstrap
    of whole trajectories, which keeps their weekly pattern and persistence), so the spread of the daily
    level grows with lead time as the data's did.
    """
    first = np.asarray(first_day, dtype=float)
    if first.ndim != 2 or first.shape[1] != 24 or not np.all(np.isfinite(first)):
        raise ValueError(f"first_day must be a finite (n, 24) array of prices (EUR/MWh); got shape {first.shape}")
    n_days = check_positive_int("n_days", n_days)
    window_days = check_positive_int("window_days", window_days)
    scale_window_days = check_positive_int("scale_window_days", scale_window_days)
    day = pd.Timestamp(day).normalize()
    days = pd.DatetimeIndex(prices.index)
    P = prices.to_numpy(dtype=float)[days < day]
    days = days[days < day]
    t0 = len(days)
    if t0 == 0 or days[-1] != day - pd.Timedelta(days=1):
        raise ValueError(f"prices must hold the days up to {(day - pd.Timedelta(days=1)).date()} (the day before "
                         f"{day.date()}), as consecutive calendar days")
    n = len(first)
    m, s = _scale_of(P, t0, scale_window_days)
    if not np.isfinite(m):
        raise ValueError(f"prices need at least one complete day in the {scale_window_days} days before {day.date()}")
    Tf = np.arcsinh((first - m) / s)
    sim = np.empty((n, n_days, 24))
    sim[:, 0] = first
    if n_days > 1:
        origins = [o for o in range(max(scale_window_days, t0 - window_days), t0 - n_days + 1)
                   if (not same_weekday or days[o].dayofweek == day.dayofweek)
                   and np.isfinite(P[o:o + n_days]).all()]
        if len(origins) < 5:
            raise ValueError(f"only {len(origins)} complete past trajectories of {n_days} days in the "
                             f"{window_days} days before {day.date()} (window_days); need 5: pass more "
                             "history or a larger window_days")
        levels, shapes = [], []
        for o in origins:
            mo, so = _scale_of(P, o, scale_window_days)
            T = np.arcsinh((P[o:o + n_days] - mo) / so)
            lv = T.mean(axis=1)
            levels.append(lv - lv[0])
            shapes.append(T - lv[:, None])
        levels, shapes = np.array(levels), np.array(shapes)
        rng = as_generator(random_state)
        pick = rng.integers(0, len(origins), size=n)
        state = Tf.mean(axis=1)[:, None] + levels[pick]
        sim[:, 1:] = m + s * np.sinh(state[:, 1:, None] + shapes[pick, 1:])
    return ScenarioSet(sim.reshape(n, n_days * 24, 1), np.full(n, 1.0 / n), (P0,), start=day,
                       metadata={"model": "level_state_paths", "day": str(day.date()), "n_days": n_days,
                                 "timezone": "Europe/Paris", "wall_clock_24h": True})
