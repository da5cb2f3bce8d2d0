"""Day-ahead price (p0) scenarios: calendar profiles + a Gaussian copula over the 24 hours of a day.

Unconditional mode generates whole calendar periods (days or years) with day-to-day persistence;
conditional mode generates the 24 prices of one day from what is known the day before.

Model. For day d and hour h, price(d, h) = profile(month, day type, h) + residual(d, h), and
residual / profile**0.5 has empirical marginals per (season, hour), so spikes and negative prices come from
the data's own tails. Their normal scores z(d, .) = Phi^-1(F_{season,h}(residual / profile**0.5)) are jointly
Gaussian with a Ledoit-Wolf-shrunk 24 x 24 correlation C. The daily level factor
f_d = mean_h z(d, h) / sd follows an AR(1) across days (persistence); given f_d, the 24 scores are
Gaussian with mean b f_d and covariance C - b b' (b = C w / sd). Conditional mode replaces the AR(1)
by a ridge regression of z(D, .) on the scores of D-1 and D-7 and on the day-ahead load, solar and
wind forecasts of D, with a shrunk covariance of the regression residuals, and rescales the day
by the ratio of the trailing 28 days' mean price to the model's expectation (regime shifts).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import RidgeCV

from .base import ScenarioModel, check_range
from .history import History, french_public_holidays
from .scenario_set import ScenarioSet

P0 = "p0_eur_per_mwh"
PRICE_COLUMN = "price_eur_per_mwh"
LOAD_FORECAST_COLUMN = "load_forecast_mw"
SOLAR_FORECAST_COLUMN = "solar_forecast_mw"
WIND_FORECAST_COLUMN = "wind_onshore_forecast_mw"
SEASON_OF_MONTH = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0])  # DJF, MAM, JJA, SON (index month-1)
WEEKDAY, SATURDAY, SUNDAY_OR_HOLIDAY = 0, 1, 2


def day_types(days) -> np.ndarray:
    """0 weekday, 1 Saturday, 2 Sunday or French public holiday, for each date in ``days``."""
    days = pd.DatetimeIndex(days)
    holidays = french_public_holidays(range(days.year.min(), days.year.max() + 1))
    out = np.where(days.dayofweek == 6, SUNDAY_OR_HOLIDAY,
                   np.where(days.dayofweek == 5, SATURDAY, WEEKDAY))
    is_holiday = np.array([d.date() in holidays for d in days], dtype=bool)
    out[is_holiday] = SUNDAY_OR_HOLIDAY
    return out


def _as_frame(history) -> pd.DataFrame:
    if isinstance(history, History):
        return history.frame
    if isinstance(history, pd.DataFrame):
        if not isinstance(history.index, pd.DatetimeIndex):
            raise TypeError("history must have a DatetimeIndex (hourly, local wall clock)")
        return history
    raise TypeError(f"history must be a scenarios.history.History or a DataFrame; got {type(history)}")


def _daily(frame: pd.DataFrame, column: str, source: str = "history") -> pd.DataFrame:
    if column not in frame.columns:
        raise KeyError(f"{source} lacks column {column!r}; it has {list(frame.columns)}")
    s = frame[column]
    idx = s.index
    if len(idx) and len(idx) % 24 == 0 and idx[0].hour == 0 and idx.is_monotonic_increasing and \
            (idx[-1] - idx[0]) == pd.Timedelta(hours=len(idx) - 1) and not idx.has_duplicates:
        # regular hourly index from midnight: a reshape (fast path)
        days = idx[::24].normalize()
        return pd.DataFrame(s.to_numpy(dtype=float).reshape(-1, 24), index=days, columns=range(24))
    wide = pd.DataFrame({"day": s.index.normalize(), "hour": s.index.hour, "v": s.to_numpy()})
    wide = wide.pivot_table(index="day", columns="hour", values="v", aggfunc="first", dropna=False)
    return wide.reindex(columns=range(24))


def _rng(random_state) -> np.random.Generator:
    return np.random.default_rng(random_state)


def _root(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor L (L L' = cov), with a tiny ridge for rank-deficient matrices.

    Cholesky (not an eigen-root) so that the factor, hence same-seed output, is a continuous
    function of the parameters (a JSON round trip gives the same scenarios).
    """
    jitter = 1e-10 * np.trace(cov) / len(cov)
    for _ in range(8):
        try:
            return np.linalg.cholesky(cov + jitter * np.eye(len(cov)))
        except np.linalg.LinAlgError:
            jitter *= 10
    raise np.linalg.LinAlgError("covariance is not positive semi-definite")


class _Marginals:
    """Empirical quantile functions per (group, hour): sorted values at plotting positions.

    A fitted marginal holds every sorted sample at positions (i + 1) / (n + 1); a compressed one
    (for JSON) keeps the ``tail`` extreme order statistics at each end exactly and evenly spaced
    ones in between, with their positions.
    """

    def __init__(self, sorted_values: list[np.ndarray], positions: list[np.ndarray] | None = None):
        self.sorted_values = sorted_values  # list over groups of (k_g, 24) sorted columns
        if positions is None:
            positions = [(np.arange(len(v)) + 1.0) / (len(v) + 1) for v in sorted_values]
            self.full = True
        else:
            self.full = False
        self.positions = [np.asarray(p, dtype=float) for p in positions]

    @classmethod
    def fit(cls, residuals: np.ndarray, groups: np.ndarray, n_groups: int) -> "_Marginals":
        out = []
        for g in range(n_groups):
            r = residuals[groups == g]
            if len(r) < 10:
                raise ValueError(f"too few days ({len(r)}) in season group {g} to fit marginals")
            out.append(np.sort(r, axis=0))
        return cls(out)

    def compressed(self, max_points: int = 250, tail: int = 15) -> "_Marginals":
        values, positions = [], []
        for v, p in zip(self.sorted_values, self.positions):
            if len(v) <= max_points:
                values.append(v)
                positions.append(p)
                continue
            inner = np.linspace(tail, len(v) - 1 - tail, max_points - 2 * tail).round().astype(int)
            keep = np.unique(np.concatenate([np.arange(tail), inner, np.arange(len(v) - tail, len(v))]))
            values.append(v[keep])
            positions.append(p[keep])
        return _Marginals(values, positions)

    def to_scores(self, residuals: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Normal scores Phi^-1(F(r)): F the mid-rank empirical cdf (interpolated when
        compressed); values beyond the sample clamp to half a rank inside the extremes."""
        z = np.empty_like(residuals, dtype=float)
        for g, (srt, pos) in enumerate(zip(self.sorted_values, self.positions)):
            rows = groups == g
            if not rows.any():
                continue
            n_eff = 1.0 / pos[0] - 1.0  # sample size behind the plotting positions
            lo_u, hi_u = 0.5 / (n_eff + 1), 1 - 0.5 / (n_eff + 1)
            for h in range(24):
                x = residuals[rows, h]
                if self.full:
                    lo = np.searchsorted(srt[:, h], x, side="left")
                    hi = np.searchsorted(srt[:, h], x, side="right")
                    u = (0.5 * (lo + hi) + 0.5) / (len(srt) + 1)
                else:
                    u = np.interp(x, srt[:, h], pos)
                z[rows, h] = ndtri(np.clip(u, lo_u, hi_u))
        return z

    def from_scores(self, z: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Residuals F^-1(Phi(z)); z (..., days, 24), groups (days,)."""
        u = ndtr(z)
        out = np.empty_like(z)
        for g, (srt, pos) in enumerate(zip(self.sorted_values, self.positions)):
            rows = groups == g
            if not rows.any():
                continue
            for h in range(24):
                out[..., rows, h] = np.interp(u[..., rows, h], pos, srt[:, h])
        return out

    def means(self) -> np.ndarray:
        """(n_groups, 24) mean residual of each marginal (the generator's expected value)."""
        out = []
        for srt, pos in zip(self.sorted_values, self.positions):
            # expectation of the piecewise-linear quantile function clamped at both ends
            positions = np.concatenate([[0.0], pos, [1.0]])
            vals = np.vstack([srt[:1], srt, srt[-1:]])
            widths = np.diff(positions)[:, None]
            out.append((0.5 * (vals[1:] + vals[:-1]) * widths).sum(axis=0))
        return np.array(out)


class DayAheadPriceModel(ScenarioModel):
    """Day-ahead price model: calendar profile + Gaussian copula with empirical marginals.

    The JSON form keeps at most ``json_marginal_points`` (250) order statistics per marginal:
    the 15 most extreme at each end exactly, evenly spaced ones in between.

    Parameters
    ----------
    price_column : column of the history holding the day-ahead price in EUR/MWh.
    fit_start, fit_end : the fitting window (dates, inclusive); None uses the whole history.
    ridge_alphas : penalties tried (by efficient leave-one-out) by the conditional regression.
    use_forecasts : whether the conditional mode uses the load/solar/wind day-ahead forecasts.
    marginal_groups : 'season' (the default: empirical marginals per season and hour, pooled over
        the season's months after scaling) or 'month' (per month and hour: each month keeps its
        own tails, but with ~120 days per marginal the paths get ragged in spiky months).
    residual_scale_power : residuals are divided by profile**power before their marginals are
        estimated and multiplied back when generating (0 additive, 1 multiplicative). 0.5, the
        default, reproduces the share of negative-price hours of France 2015-2018 (1.0 gives 1.3x,
        0 gives 1.9x): a weekday's deep dip does not transfer whole to a quiet Sunday.
    level_adaptation_days : conditional mode only. If > 0, the prices of the trailing window of
        this many days are compared with the model's expected mean over the same days, and the
        day's scenarios are built for prices divided by that ratio then multiplied back: the
        conditional mode follows a regime shift (2022) that the fitted marginals never saw.
        Default 28 days (France 2022, fitted on 2015-2018: median MAE 41 EUR/MWh instead of 198;
        2019 unchanged within noise). 0 keeps the fitted price range.
    """

    def __init__(self, price_column: str = PRICE_COLUMN, fit_start=None, fit_end=None,
                 ridge_alphas=(1.0, 10.0, 100.0, 1000.0), use_forecasts: bool = True,
                 marginal_groups: str = "season", residual_scale_power: float = 0.5,
                 level_adaptation_days: int = 28):
        self.price_column = price_column
        self.fit_start = fit_start
        self.fit_end = fit_end
        self.ridge_alphas = ridge_alphas
        self.use_forecasts = use_forecasts
        self.marginal_groups = marginal_groups
        self.residual_scale_power = residual_scale_power
        self.level_adaptation_days = level_adaptation_days

    def check_params(self) -> None:
        if not isinstance(self.price_column, str) or not self.price_column:
            raise ValueError(f"price_column must be the name of a history column; got {self.price_column!r}")
        try:
            alphas = np.asarray(self.ridge_alphas, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            alphas = np.array([np.nan])
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
            raise ValueError("ridge_alphas must be a non-empty sequence of positive penalties; "
                             f"got {self.ridge_alphas!r}")
        if self.marginal_groups not in ("month", "season"):
            raise ValueError(f"marginal_groups must be 'month' or 'season'; got {self.marginal_groups!r}")
        check_range("residual_scale_power", self.residual_scale_power, 0, 1)
        days = self.level_adaptation_days
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 0:
            raise ValueError(f"level_adaptation_days must be an integer >= 0 (0 turns it off); got {days!r}")

    @property
    def _group_of_month(self) -> np.ndarray:
        if self.marginal_groups == "month":
            return np.arange(12)
        if self.marginal_groups == "season":
            return SEASON_OF_MONTH
        raise ValueError(f"marginal_groups must be 'month' or 'season'; got {self.marginal_groups!r}")

    # ------------------------------------------------------------------------------ fit
    def fit(self, history) -> "DayAheadPriceModel":
        self.check_params()
        frame = _as_frame(history)
        if self.fit_start is not None or self.fit_end is not None:
            start = pd.Timestamp(self.fit_start) if self.fit_start is not None else frame.index[0]
            end = pd.Timestamp(self.fit_end) if self.fit_end is not None else frame.index[-1]
            if end == end.normalize():
                end = end + pd.Timedelta(hours=23)
            frame = frame.loc[start:end]
        prices = _daily(frame, self.price_column).dropna()
        if len(prices) < 60:
            raise ValueError(f"need at least 60 complete days of {self.price_column!r} to fit; "
                             f"got {len(prices)}")
        days = prices.index
        P = prices.to_numpy()
        months = days.month.to_numpy() - 1
        dtypes = day_types(days)
        # additive calendar profile: month x hour mean + day-type x hour offset
        month_hour = np.array([P[months == m].mean(axis=0) if (months == m).any() else P.mean(axis=0)
                               for m in range(12)])
        dev = P - month_hour[months]
        dtype_hour = np.array([dev[dtypes == t].mean(axis=0) if (dtypes == t).any() else np.zeros(24)
                               for t in range(3)])
        self.profile_ = month_hour[:, None, :] + dtype_hour[None, :, :]  # (12, 3, 24)
        R = P - self.profile_[months, dtypes]
        # residual scale per (month, day type, hour): the profile level to a power (low-price
        # days have proportionally smaller swings: a weekday's -40 does not fit a quiet Sunday)
        self.scale_ = np.clip(self.profile_, 1.0, None) ** self.residual_scale_power
        groups = self._group_of_month[months]
        self.marginals_ = _Marginals.fit(R / self.scale_[months, dtypes], groups,
                                         int(self._group_of_month.max()) + 1)
        Z = self.marginals_.to_scores(R / self.scale_[months, dtypes], groups)
        C = LedoitWolf().fit(Z).covariance_
        sd = np.sqrt(np.diag(C))
        self.correlation_ = C / np.outer(sd, sd)
        self._set_factor()
        f = Z.mean(axis=1) / self.factor_sd_
        consecutive = np.diff(days.values).astype("timedelta64[D]").astype(int) == 1
        self.level_persistence_ = float(np.corrcoef(f[1:][consecutive], f[:-1][consecutive])[0, 1])
        self.fit_days_ = (str(days[0].date()), str(days[-1].date()))
        self.n_fit_days_ = int(len(days))
        self._fit_conditional(frame, days, Z)
        return self

    def _set_factor(self) -> None:
        C = self.correlation_
        w = np.full(24, 1.0 / 24)
        self.factor_sd_ = float(np.sqrt(w @ C @ w))
        self.factor_loading_ = C @ w / self.factor_sd_
        cond = C - np.outer(self.factor_loading_, self.factor_loading_)
        self._cond_root = _root((cond + cond.T) / 2)

    # ----------------------------------------------------------------- conditional features
    def _features(self, frame: pd.DataFrame, days: pd.DatetimeIndex, Z_by_day: pd.DataFrame):
        """Feature rows for ``days`` from what is known the day before (NaN rows when unknown)."""
        prev = days - pd.Timedelta(days=1)
        week = days - pd.Timedelta(days=7)
        z1 = Z_by_day.reindex(prev).to_numpy()
        z7 = Z_by_day.reindex(week).to_numpy()
        parts = [z1, z7.mean(axis=1, keepdims=True)]
        if self.use_forecasts:
            parts.append(self._forecast_features(frame, days))
        return np.hstack(parts)

    def _forecast_features(self, frame: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
        out = []
        load = _daily(frame, LOAD_FORECAST_COLUMN)
        load_d = load.reindex(days).to_numpy() / 1000.0  # GW
        load_p = load.reindex(days - pd.Timedelta(days=1)).to_numpy() / 1000.0
        out.append(load_d.mean(axis=1, keepdims=True) - load_p.mean(axis=1, keepdims=True))
        anomaly = load_d - self.load_profile_gw_[days.month.to_numpy() - 1, day_types(days)]
        out.append(anomaly[:, ::3])  # every third hour: 8 features
        for column in (WIND_FORECAST_COLUMN, SOLAR_FORECAST_COLUMN):
            daily = _daily(frame, column).mean(axis=1)
            # capacity proxy known on D-1: mean of the previous 365 days
            scale = daily.rolling(365, min_periods=60).mean().shift(1)
            ratio = (daily / scale).reindex(days)
            ratio_prev = (daily.shift(1) / scale).reindex(days)
            filled = ratio.fillna(1.0).to_numpy()[:, None]
            out.append(filled)
            out.append(filled - ratio_prev.fillna(1.0).to_numpy()[:, None])
        return np.hstack(out)

    def _fit_conditional(self, frame, days, Z) -> None:
        if self.use_forecasts:
            missing = [c for c in (LOAD_FORECAST_COLUMN, WIND_FORECAST_COLUMN, SOLAR_FORECAST_COLUMN)
                       if c not in frame.columns]
            if missing:
                raise KeyError(f"use_forecasts=True needs history columns {missing} "
                               "(or pass use_forecasts=False)")
            load = _daily(frame, LOAD_FORECAST_COLUMN).reindex(days).to_numpy() / 1000.0
            months = days.month.to_numpy() - 1
            dtypes = day_types(days)
            lp = np.full((12, 3, 24), np.nan)
            for m in range(12):
                for t in range(3):
                    rows = (months == m) & (dtypes == t) & ~np.isnan(load).any(axis=1)
                    if rows.any():
                        lp[m, t] = load[rows].mean(axis=0)
            fallback = np.nanmean(load, axis=0)
            lp = np.where(np.isnan(lp), fallback, lp)
            self.load_profile_gw_ = lp
        Z_by_day = pd.DataFrame(Z, index=days)
        X = self._features(frame, days, Z_by_day)
        ok = ~np.isnan(X).any(axis=1)
        if ok.sum() < 60:
            raise ValueError("too few days with complete conditional features to fit the regression")
        X, Y = X[ok], Z[ok]
        self.feature_mean_ = X.mean(axis=0)
        self.feature_scale_ = X.std(axis=0) + 1e-9
        reg = RidgeCV(alphas=np.asarray(self.ridge_alphas, float))
        reg.fit((X - self.feature_mean_) / self.feature_scale_, Y)
        self.ridge_alpha_ = float(reg.alpha_)
        self.coef_ = reg.coef_  # (24, n_features)
        self.intercept_ = np.asarray(reg.intercept_)
        E = Y - reg.predict((X - self.feature_mean_) / self.feature_scale_)
        cov = LedoitWolf().fit(E).covariance_
        self.residual_covariance_ = cov
        self._set_residual_root()

    def _set_residual_root(self) -> None:
        self._res_root = _root((self.residual_covariance_ + self.residual_covariance_.T) / 2)

    # ----------------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "profile_"):
            raise RuntimeError("DayAheadPriceModel is not fitted; call fit(history) or from_json(path)")

    @staticmethod
    def _calendar(start, days=None, periods=None, years=None) -> pd.DatetimeIndex:
        if start is None:
            raise ValueError("sample needs start= (the first day, e.g. '2025-01-01')")
        start = pd.Timestamp(start).normalize()
        given = [x is not None for x in (days, periods, years)]
        if sum(given) != 1:
            raise ValueError("give exactly one of days=, periods= (hours, a multiple of 24), years=")
        if periods is not None:
            if periods <= 0 or periods % 24:
                raise ValueError(f"periods must be a positive multiple of 24 hours; got {periods}")
            days = periods // 24
        if years is not None:
            if years <= 0 or int(years) != years:
                raise ValueError(f"years must be a positive integer; got {years}")
            end = start + pd.DateOffset(years=int(years))
            days = (end - start).days
        if days <= 0:
            raise ValueError(f"days must be positive; got {days}")
        return pd.date_range(start, periods=int(days), freq="D")

    def expected_mean_eur_per_mwh(self, calendar_days) -> float:
        """Model's expected mean price over ``calendar_days`` (profile + marginal means)."""
        self._check_fitted()
        calendar_days = pd.DatetimeIndex(calendar_days)
        months = calendar_days.month.to_numpy() - 1
        base = self.profile_[months, day_types(calendar_days)]
        base = base + (self.marginals_.means()[self._group_of_month[months]]
                       * self.scale_[months, day_types(calendar_days)])
        return float(base.mean())

    def _to_scenarios(self, Z: np.ndarray, calendar: pd.DatetimeIndex, meta: dict) -> ScenarioSet:
        months = calendar.month.to_numpy() - 1
        groups = self._group_of_month[months]
        R = self.marginals_.from_scores(Z, groups) * self.scale_[months, day_types(calendar)]
        P = R + self.profile_[months, day_types(calendar)][None]
        n = P.shape[0]
        values = P.reshape(n, -1, 1)
        meta = {**meta, "timezone": "Europe/Paris", "wall_clock_24h": True}
        return ScenarioSet(values, np.full(n, 1.0 / n), (P0,), start=calendar[0], metadata=meta)

    # ------------------------------------------------------------------ unconditional
    def sample(self, n: int, start=None, days=None, periods=None, years=None, *, random_state=None,
               price_level_eur_per_mwh=None, latent=None) -> ScenarioSet:
        """``n`` price paths for the calendar period from ``start`` (hourly, local wall clock).

        price_level_eur_per_mwh : if given, each calendar year of the output is rescaled
            (multiplicatively) so that its expected mean equals this level (e.g. a yearly
            forward price); a scalar, or a mapping year -> level.
        latent : optional standard-normal daily level scores (n, days) or (n, days, 1) that
            replace the model's own AR(1) level factor (the ``p0_level`` column of
            :meth:`latent_history`; their day-to-day persistence is then the caller's, e.g. a
            :class:`scenarios.joint.JointModel`); the within-day shape still comes from
            ``random_state``.
        """
        self._check_fitted()
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer; got {n}")
        n = int(n)
        calendar = self._calendar(start, days, periods, years)
        T = len(calendar)
        rng = _rng(random_state)
        if latent is None:
            eps = rng.standard_normal((n, T))
            phi = self.level_persistence_
            f = np.empty((n, T))
            f[:, 0] = eps[:, 0]
            innovation_scale = np.sqrt(1 - phi**2)
            for t in range(1, T):
                f[:, t] = phi * f[:, t - 1] + innovation_scale * eps[:, t]
        else:
            f = np.asarray(latent, dtype=float)
            if f.ndim == 3 and f.shape[2] == 1:
                f = f[:, :, 0]
            if f.shape != (n, T):
                raise ValueError(f"latent must have shape (n, days) = ({n}, {T}) or ({n}, {T}, 1); "
                                 f"got {np.shape(latent)}")
            if not np.all(np.isfinite(f)):
                raise ValueError("latent must hold finite standard-normal scores")
        eta = rng.standard_normal((n, T, 24))
        Z = f[:, :, None] * self.factor_loading_ + eta @ self._cond_root.T
        out = self._to_scenarios(Z, calendar, {"model": "DayAheadPriceModel", "mode": "unconditional"})
        if price_level_eur_per_mwh is not None:
            out = self._rescale(out, calendar, price_level_eur_per_mwh)
        return out

    def _rescale(self, scenarios: ScenarioSet, calendar, level) -> ScenarioSet:
        values = scenarios.values.copy()
        hours_year = np.repeat(calendar.year.to_numpy(), 24)
        factors = {}
        for year in np.unique(calendar.year):
            target = level.get(int(year)) if isinstance(level, dict) else level
            if target is None:
                continue
            target = float(target)
            if not target > 0:
                raise ValueError(f"price_level_eur_per_mwh must be > 0; got {target} for {year}")
            days_of_year = calendar[calendar.year == year]
            factor = target / self.expected_mean_eur_per_mwh(days_of_year)
            values[:, hours_year == year, :] *= factor
            factors[int(year)] = factor
        return ScenarioSet(values, scenarios.probabilities, scenarios.variables, scenarios.names,
                           scenarios.period_hours, scenarios.start,
                           {**scenarios.metadata, "price_level_factors": factors})

    # ------------------------------------------------------------------- latent scores
    def latent_history(self, history) -> pd.DataFrame:
        """Standard-normal daily level scores ``p0_level`` (index: date) of a price history.

        The level factor f_d = mean_h z(d, h) / sd: what ``sample(latent=...)`` takes, so a
        history's scores passed back reproduce its daily levels. Its lag-one-day correlation is
        ``level_persistence_`` on the fitting data.
        """
        self._check_fitted()
        frame = _as_frame(history)
        prices = _daily(frame, self.price_column).dropna()
        days = prices.index
        Z = self._scores(prices.to_numpy(), days)
        f = pd.Series(Z.mean(axis=1) / self.factor_sd_, index=pd.DatetimeIndex(days, name="date"))
        return f.to_frame("p0_level")

    def _scores(self, P: np.ndarray, days: pd.DatetimeIndex) -> np.ndarray:
        months = days.month.to_numpy() - 1
        dtypes = day_types(days)
        R = (P - self.profile_[months, dtypes]) / self.scale_[months, dtypes]
        return self.marginals_.to_scores(R, self._group_of_month[months])

    # -------------------------------------------------------------------- conditional
    def conditional_mean_scores(self, day, history, forecasts=None) -> np.ndarray:
        """Regression mean of the 24 normal scores of ``day`` given what is known on day-1."""
        return self._conditional(day, history, forecasts)[0]

    def level_factor(self, day, history) -> float:
        """Trailing observed mean price / model's expected mean (1.0 without level adaptation)."""
        self._check_fitted()
        if not self.level_adaptation_days:
            return 1.0
        day = pd.Timestamp(day).normalize()
        frame = _as_frame(history)
        window = _daily(frame.loc[day - pd.Timedelta(days=int(self.level_adaptation_days)):
                                  day - pd.Timedelta(hours=1)], self.price_column).dropna()
        if len(window) == 0:
            return 1.0
        expected = self.expected_mean_eur_per_mwh(window.index)
        return float(np.clip(window.to_numpy().mean() / expected, 0.2, 10.0))

    def _conditional(self, day, history, forecasts=None):
        self._check_fitted()
        day = pd.Timestamp(day).normalize()
        frame = _as_frame(history)
        known = frame.loc[: day - pd.Timedelta(hours=1)]
        prices = _daily(known, self.price_column).loc[day - pd.Timedelta(days=8): day - pd.Timedelta(days=1)]
        prices = prices.dropna()
        if (day - pd.Timedelta(days=1)) not in prices.index:
            raise ValueError(f"history must hold the 24 prices of {(day - pd.Timedelta(days=1)).date()} "
                             f"(the day before {day.date()})")
        factor = self.level_factor(day, frame)
        Z_by_day = pd.DataFrame(self._scores(prices.to_numpy() / factor, prices.index),
                                index=prices.index)
        exog = frame.loc[day - pd.Timedelta(days=400): day + pd.Timedelta(hours=23)]
        exog = exog.drop(columns=[self.price_column])  # the day's own price is never used
        if forecasts is not None:
            exog = exog.copy()
            fc = pd.DataFrame(forecasts)
            hours = pd.date_range(day, periods=24, freq="h")
            for column in fc.columns:
                values = np.asarray(fc[column], dtype=float)
                if values.shape != (24,):
                    raise ValueError(f"forecasts[{column!r}] must hold 24 hourly values for {day.date()}")
                exog = exog.reindex(exog.index.union(hours))
                exog.loc[hours, column] = values
        days = pd.DatetimeIndex([day])
        X = self._features(exog if self.use_forecasts else None, days, Z_by_day)
        X = np.where(np.isnan(X), self.feature_mean_, X)  # unknown feature: its training mean
        return (X - self.feature_mean_) / self.feature_scale_ @ self.coef_.T + self.intercept_, factor

    def sample_day(self, n: int, day, history, forecasts=None, *, random_state=None) -> ScenarioSet:
        """``n`` scenarios of the 24 day-ahead prices of ``day`` using only what is known on day-1.

        history : History/DataFrame with the prices up to day-1 (later prices are ignored) and,
            when the model uses forecasts, the day-ahead load/solar/wind forecasts for ``day``.
        forecasts : optional mapping column -> 24 values overriding the history's forecasts of ``day``.
        """
        self._check_fitted()
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer; got {n}")
        n = int(n)
        day = pd.Timestamp(day).normalize()
        mean, factor = self._conditional(day, history, forecasts)
        rng = _rng(random_state)
        Z = mean[0] + rng.standard_normal((n, 24)) @ self._res_root.T
        calendar = pd.DatetimeIndex([day])
        out = self._to_scenarios(Z[:, None, :], calendar,
                                 {"model": "DayAheadPriceModel", "mode": "conditional",
                                  "day": str(day.date()), "level_factor": factor})
        if factor != 1.0:
            out = ScenarioSet(out.values * factor, out.probabilities, out.variables, out.names,
                              out.period_hours, out.start, out.metadata)
        return out

    json_marginal_points = 250

    # --------------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        self._check_fitted()
        r2 = lambda a: np.asarray(a, float).tolist()  # noqa: E731  (full precision: small arrays)
        compact = self.marginals_.compressed(self.json_marginal_points)
        params = {**self.params_in_signature_order(), "ridge_alphas": list(self.ridge_alphas)}
        out = {
            "format": "DayAheadPriceModel/1",
            "params": {k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in params.items()},
            "units": {"profile_": "EUR/MWh",
                      "marginals_": "residual to profile / profile**residual_scale_power"},
            "fit_days_": list(self.fit_days_),
            "n_fit_days_": self.n_fit_days_,
            "profile_": r2(self.profile_),
            "marginals_": [np.round(m, 3).tolist() for m in compact.sorted_values],
            "marginal_positions_": [p.tolist() for p in compact.positions],
            "correlation_": r2(self.correlation_),
            "level_persistence_": self.level_persistence_,
            "ridge_alpha_": self.ridge_alpha_,
            "coef_": r2(self.coef_),
            "intercept_": r2(self.intercept_),
            "feature_mean_": r2(self.feature_mean_),
            "feature_scale_": r2(self.feature_scale_),
            "residual_covariance_": r2(self.residual_covariance_),
        }
        if self.use_forecasts:
            out["load_profile_gw_"] = r2(self.load_profile_gw_)
        return out

    def to_json(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), separators=(",", ":")))
        return path

    @classmethod
    def from_dict(cls, data: dict) -> "DayAheadPriceModel":
        if data.get("format") != "DayAheadPriceModel/1":
            raise ValueError("not a DayAheadPriceModel/1 parameter file")
        params = dict(data["params"])
        params["ridge_alphas"] = tuple(params["ridge_alphas"])
        model = cls(**params)
        model.check_params()
        model.fit_days_ = tuple(data["fit_days_"])
        model.n_fit_days_ = data["n_fit_days_"]
        model.profile_ = np.array(data["profile_"])
        model.scale_ = np.clip(model.profile_, 1.0, None) ** model.residual_scale_power
        model.marginals_ = _Marginals([np.array(m) for m in data["marginals_"]],
                                      [np.array(p) for p in data["marginal_positions_"]])
        model.correlation_ = np.array(data["correlation_"])
        model._set_factor()
        model.level_persistence_ = float(data["level_persistence_"])
        model.ridge_alpha_ = data["ridge_alpha_"]
        model.coef_ = np.array(data["coef_"])
        model.intercept_ = np.array(data["intercept_"])
        model.feature_mean_ = np.array(data["feature_mean_"])
        model.feature_scale_ = np.array(data["feature_scale_"])
        model.residual_covariance_ = np.array(data["residual_covariance_"])
        model._set_residual_root()
        if "load_profile_gw_" in data:
            model.load_profile_gw_ = np.array(data["load_profile_gw_"])
        return model

    @classmethod
    def from_json(cls, path) -> "DayAheadPriceModel":
        return cls.from_dict(json.loads(Path(path).read_text()))
