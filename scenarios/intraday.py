"""Intraday top-up price p1 and resale price p2 around the day-ahead price p0, per scenario and hour.

No public intraday price series is available to this project, so the premium and discount laws
are parameters with documented default values (assumptions, to be calibrated by users who hold
intraday data):

    p1 = p0 + max(min_premium, premium_ratio * |p0|)          (buying a shortfall late costs more)
    p2 = p0 - resale_fee - discount_ratio * |p0|              (selling a surplus late earns less)

``premium_ratio`` and ``discount_ratio`` are lognormal with the given means and standard deviations
(so they are >= 0), driven by standard-normal series that are AR(1) across hours
(``hourly_correlation``) and correlated with each other (``premium_discount_correlation``). Hence
p2 <= p0 <= p1 in every hour of every scenario: resale never pays more than buying.

Rationale for the defaults: continuous intraday prices in France/Germany deviate from the
day-ahead price by some 5-15 % of its level on average, with occasional large deviations
(imbalance-driven); a buyer topping up at short notice pays the ask side, a seller of surplus
receives the bid side and pays exchange/clearing or aggregator fees. The defaults (premium 10 % +/-
8 %, at least 2 EUR/MWh; discount 10 % +/- 8 %; fee 1 EUR/MWh; hourly correlation 0.7) encode that
order of magnitude; they are not fitted to data.

:meth:`IntradayResaleModel.from_load_errors` calibrates the premium and discount laws on what the
data holds instead of intraday prices: the day-ahead load forecast and the actual load. The intraday
deviation implied by a load forecast error is |b_d (actual - forecast)|, b_d the local merit-order
slope (EUR/MWh per MW: least-squares slope of the day-ahead price on the day-ahead load forecast over
the ``slope_window_days`` days before d, data up to d-1). Its ratio to |p0| gives the lognormal
(fitted on its 5 %, 50 % and 95 % quantiles); the lag-one correlation of its logarithm gives
``hourly_correlation``. This is a proxy: it ignores renewable forecast errors, outages and the bid-ask
spread, and no intraday price series exists here to check it (see docs/forecasts.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .base import ScenarioModel
from .scenario_set import ScenarioSet

P0 = "p0_eur_per_mwh"
P1 = "p1_eur_per_mwh"
P2 = "p2_eur_per_mwh"


def _lognormal_params(mean: float, std: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with the given mean (> 0) and standard deviation (>= 0)."""
    sigma2 = np.log1p((std / mean) ** 2)
    return float(np.log(mean) - sigma2 / 2), float(np.sqrt(sigma2))


class IntradayResaleModel(ScenarioModel):
    """p1 (intraday top-up) and p2 (resale) scenarios derived from p0 scenarios.

    Parameters (all prices in EUR/MWh, ratios dimensionless)
    ----------
    premium_ratio_mean, premium_ratio_std : lognormal law of p1's premium as a fraction of |p0|.
    min_premium_eur_per_mwh : floor of the premium p1 - p0 (bid-ask and transaction costs).
    resale_discount_ratio_mean, resale_discount_ratio_std : lognormal law of the resale discount
        as a fraction of |p0|.
    resale_fee_eur_per_mwh : fixed fee deducted from every resold MWh.
    hourly_correlation : lag-one-hour correlation (AR(1), in [0, 1)) of the normal series driving
        the ratios within a scenario.
    premium_discount_correlation : correlation in [-1, 1] between the premium and discount drivers
        in the same hour (both widen when intraday markets are stressed).

    Nothing is learnt from data, so ``fit`` only checks the parameters, and :meth:`sample` and
    :meth:`expected_premium_eur_per_mwh`, usable without ``fit``, check them too.
    """

    def __init__(self, premium_ratio_mean: float = 0.10, premium_ratio_std: float = 0.08,
                 min_premium_eur_per_mwh: float = 2.0, resale_discount_ratio_mean: float = 0.10,
                 resale_discount_ratio_std: float = 0.08, resale_fee_eur_per_mwh: float = 1.0,
                 hourly_correlation: float = 0.7, premium_discount_correlation: float = 0.5):
        self.premium_ratio_mean = premium_ratio_mean
        self.premium_ratio_std = premium_ratio_std
        self.min_premium_eur_per_mwh = min_premium_eur_per_mwh
        self.resale_discount_ratio_mean = resale_discount_ratio_mean
        self.resale_discount_ratio_std = resale_discount_ratio_std
        self.resale_fee_eur_per_mwh = resale_fee_eur_per_mwh
        self.hourly_correlation = hourly_correlation
        self.premium_discount_correlation = premium_discount_correlation

    def check_params(self) -> None:
        for name in ("premium_ratio_mean", "resale_discount_ratio_mean"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be > 0 (a fraction of |p0|, e.g. 0.1); got {v}")
        for name in ("premium_ratio_std", "resale_discount_ratio_std", "min_premium_eur_per_mwh",
                     "resale_fee_eur_per_mwh"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be >= 0; got {v}")
        if not 0 <= self.hourly_correlation < 1:
            raise ValueError(f"hourly_correlation must be in [0, 1); got {self.hourly_correlation}")
        if not -1 <= self.premium_discount_correlation <= 1:
            raise ValueError("premium_discount_correlation must be in [-1, 1]; "
                             f"got {self.premium_discount_correlation}")

    @classmethod
    def from_load_errors(cls, frame: pd.DataFrame, start, end, slope_window_days: int = 28,
                         **overrides) -> "IntradayResaleModel":
        """The model whose premium and discount ratios follow the load-error proxy of the days
        ``start``..``end`` (see the module docstring); other parameters from ``overrides`` or defaults."""
        ratios = load_error_premium_ratios(frame, start, end, slope_window_days)
        r = ratios.to_numpy()
        # lognormal fitted on the 5 %, 50 % and 95 % quantiles (robust to the huge ratios of hours
        # with p0 near 0): mu = log median, sigma = log(q95 / q05) / (2 x 1.645)
        q05, q50, q95 = np.quantile(np.maximum(r, 1e-6), [0.05, 0.5, 0.95])
        mu, sigma = np.log(q50), np.log(q95 / q05) / (2 * ndtri(0.95))
        mean = float(np.exp(mu + sigma ** 2 / 2))
        std = float(mean * np.sqrt(np.expm1(sigma ** 2)))
        logs = np.log(np.maximum(r, 1e-4))
        consecutive = np.diff(ratios.index.asi8) == 3600 * 10**9
        rho = float(np.clip(np.corrcoef(logs[:-1][consecutive], logs[1:][consecutive])[0, 1], 0.0, 0.99))
        params = {"premium_ratio_mean": mean, "premium_ratio_std": std, "resale_discount_ratio_mean": mean,
                  "resale_discount_ratio_std": std, "hourly_correlation": rho}
        model = cls(**{**params, **overrides})
        model.check_params()
        return model

    def ratio_quantiles(self, levels) -> np.ndarray:
        """Quantiles of the premium ratio (p1 - p0 above the floor, as a fraction of |p0|) at ``levels``."""
        self.check_params()
        levels = np.asarray(levels, dtype=float)
        if np.any(~(levels > 0)) or np.any(~(levels < 1)):
            raise ValueError(f"levels must lie strictly between 0 and 1; got {levels!r}")
        mu, s = _lognormal_params(self.premium_ratio_mean, self.premium_ratio_std)
        return np.exp(mu + s * ndtri(levels))

    def fit(self, history=None) -> "IntradayResaleModel":
        """Nothing to learn (no intraday data): validates the parameters, for API symmetry."""
        self.check_params()
        return self

    def expected_premium_eur_per_mwh(self, p0) -> np.ndarray:
        """Closed-form E[p1 - p0] for given p0 values: E[max(m, a R)], R lognormal, a = |p0|.

        E[max(m, aR)] = m P(R < k) + a e^(mu + s^2/2) Phi((mu + s^2 - ln k) / s), k = m / a.
        """
        self.check_params()
        a = np.abs(np.asarray(p0, dtype=float))
        m = self.min_premium_eur_per_mwh
        mu, s = _lognormal_params(self.premium_ratio_mean, self.premium_ratio_std)
        mean_r = np.exp(mu + s**2 / 2)
        if s == 0:
            return np.maximum(m, a * mean_r)
        if m == 0:
            return a * mean_r
        out = np.full(a.shape, float(m))
        pos = a > 0
        log_k = np.log(m / a[pos])
        out[pos] = m * ndtr((log_k - mu) / s) + a[pos] * mean_r * ndtr((mu + s**2 - log_k) / s)
        return out

    def sample(self, p0_scenarios: ScenarioSet, *, random_state=None) -> ScenarioSet:
        """The input scenarios with ``p1_eur_per_mwh`` and ``p2_eur_per_mwh`` added (same names)."""
        self.check_params()
        if not isinstance(p0_scenarios, ScenarioSet):
            raise TypeError("p0_scenarios must be a ScenarioSet holding 'p0_eur_per_mwh'")
        if P0 not in p0_scenarios.variables:
            raise KeyError(f"p0_scenarios lacks variable {P0!r}; it has {list(p0_scenarios.variables)}")
        clash = [v for v in (P1, P2) if v in p0_scenarios.variables]
        if clash:
            raise ValueError(f"p0_scenarios already holds {clash}")
        rng = np.random.default_rng(random_state)
        p0 = p0_scenarios[P0]
        n, T = p0.shape
        phi = self.hourly_correlation
        rho = self.premium_discount_correlation
        e = rng.standard_normal((2, n, T))
        e[1] = rho * e[0] + np.sqrt(1 - rho**2) * e[1]
        x = np.empty_like(e)
        x[:, :, 0] = e[:, :, 0]
        scale = np.sqrt(1 - phi**2)
        for t in range(1, T):
            x[:, :, t] = phi * x[:, :, t - 1] + scale * e[:, :, t]
        mu_p, s_p = _lognormal_params(self.premium_ratio_mean, self.premium_ratio_std)
        mu_d, s_d = _lognormal_params(self.resale_discount_ratio_mean, self.resale_discount_ratio_std)
        premium_ratio = np.exp(mu_p + s_p * x[0])
        discount_ratio = np.exp(mu_d + s_d * x[1])
        a = np.abs(p0)
        p1 = p0 + np.maximum(self.min_premium_eur_per_mwh, premium_ratio * a)
        p2 = p0 - self.resale_fee_eur_per_mwh - discount_ratio * a
        values = np.concatenate([p0_scenarios.values, p1[:, :, None], p2[:, :, None]], axis=2)
        return ScenarioSet(values, p0_scenarios.probabilities, p0_scenarios.variables + (P1, P2),
                           p0_scenarios.names, p0_scenarios.period_hours, p0_scenarios.start,
                           {**p0_scenarios.metadata, "intraday_model": self.params_in_signature_order()})


def load_error_premium_ratios(frame: pd.DataFrame, start, end, slope_window_days: int = 28) -> pd.Series:
    """Hourly |b_d (load_actual_mw - load_forecast_mw)| / max(|p0|, 1 EUR/MWh) over the days ``start``..``end``.

    ``frame``: hourly ``price_eur_per_mwh``, ``load_forecast_mw`` and ``load_actual_mw`` (e.g.
    ``scenarios.history.load_entsoe_fr().frame``). b_d, EUR/MWh per MW, is the least-squares slope of the
    price on the load forecast over the ``slope_window_days`` days before d (prices up to d-1 only).
    """
    need = ["price_eur_per_mwh", "load_forecast_mw", "load_actual_mw"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise KeyError(f"frame lacks {missing} (EUR/MWh, MW, MW); the ENTSO-E history holds them")
    if isinstance(slope_window_days, bool) or not isinstance(slope_window_days, (int, np.integer)) \
            or slope_window_days < 2:
        raise ValueError(f"slope_window_days must be an integer >= 2 (days); got {slope_window_days!r}")
    data = frame[need].astype(float).dropna()
    p, x = data["price_eur_per_mwh"], data["load_forecast_mw"]
    day = data.index.normalize()
    sums = pd.DataFrame({"n": 1.0, "x": x, "p": p, "xx": x * x, "xp": x * p}).groupby(day).sum()
    sums = sums.reindex(pd.date_range(sums.index.min(), sums.index.max(), freq="D")).fillna(0.0)
    past = sums.rolling(int(slope_window_days), min_periods=2).sum().shift(1)
    var = past["xx"] - past["x"] ** 2 / past["n"]
    slope = ((past["xp"] - past["x"] * past["p"] / past["n"]) / var.where(var > 0)).reindex(day).to_numpy()
    ratio = np.abs(slope * (data["load_actual_mw"] - x).to_numpy()) / np.maximum(np.abs(p.to_numpy()), 1.0)
    out = pd.Series(ratio, index=data.index)
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize() + pd.Timedelta(hours=23)
    out = out.loc[start:end].dropna()
    if len(out) < 24:
        raise ValueError(f"only {len(out)} hours with price, load forecast, actual load and a past slope "
                         f"between {start.date()} and {end.date()}; need 24")
    return out
