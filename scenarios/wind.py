"""Wind-turbine output scenarios: a stochastic hub-height wind speed (monthly Weibull marginal, Gaussian
copula with daily level and hourly AR(1), diurnal profile) passed through a windpowerlib power curve.
"""

from __future__ import annotations

import difflib
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, stats
from windpowerlib import WindTurbine, get_turbine_types, power_output
from windpowerlib import wind_speed as height_profiles

from .base import ScenarioModel, check_positive_int, check_range, check_site_name
from .metrics import as_generator
from .renewables import (
    HOURS_PER_DAY,
    TwoScaleGaussian,
    day_matrix,
    hourly_utc_series,
    normal_scores_by_group,
    read_json,
    sample_times,
    scenario_names,
    write_json,
)
from .scenario_set import ScenarioSet

_HEIGHT_CORRECTIONS = ("logarithmic", "hellman")


@lru_cache(maxsize=1)
def turbine_types() -> tuple[str, ...]:
    """Names of the turbines with a power curve in windpowerlib's shipped (offline) library."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = get_turbine_types(turbine_library="local", print_out=False, filter_=True)
    return tuple(sorted(table.loc[table["has_power_curve"].astype(bool), "turbine_type"]))


@lru_cache(maxsize=64)
def power_curve(turbine_type: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(wind speeds m/s, power kW, nominal power kW) of a windpowerlib turbine, read offline."""
    names = turbine_types()
    if turbine_type not in names:
        close = difflib.get_close_matches(turbine_type, names, n=5, cutoff=0.4)
        hint = f"close matches: {close}" if close else f"known types include {list(names[:8])}..."
        raise ValueError(f"turbine_type {turbine_type!r} is not in windpowerlib's library; {hint}")
    turbine = WindTurbine(turbine_type=turbine_type, hub_height=100.0)
    curve = turbine.power_curve
    return (curve["wind_speed"].to_numpy(float), curve["value"].to_numpy(float) / 1000.0,
            float(turbine.nominal_power) / 1000.0)


def _check_speeds(s: pd.Series, name: str) -> None:
    if s.min() < 0 or s.max() > 80:
        raise ValueError(f"{name} must be wind speeds in m/s (0..80); got values in [{s.min():.3g}, {s.max():.3g}]")
    if s.max() < 3.0:
        raise ValueError(f"{name} looks like capacity factors, not wind speeds (max {s.max():.3g} m/s); "
                         "pass capacity factors as a DataFrame with a 'capacity_factor' column")


class WindModel(ScenarioModel):
    """Stochastic hub-height wind speed and output of one turbine (kW).

    The hub-height speed is ``v = d_hour * W_month^-1(Phi(y))``: ``d_hour`` a diurnal factor (UTC
    hour), ``W_month`` a Weibull law per calendar month, ``y`` the two-scale Gaussian scores of
    :class:`scenarios.renewables.TwoScaleGaussian` (daily level AR(1) across days, hourly AR(1)).
    Measured speeds are carried to hub height by the log law (roughness ``roughness_length_m``) or
    Hellman's power law. Output is windpowerlib's power curve (optionally density-corrected).

    ``fit(history, capacity_factor=...)`` can re-level the monthly Weibull scales so that this
    turbine's expected monthly capacity factor equals a reference series' monthly mean (e.g. the
    national onshore capacity factor): this is how a windy site (Ouessant) or a foreign one is
    derated to a typical mainland French site; the multipliers are kept in ``level_multipliers_``.
    """

    def __init__(self, turbine_type: str = "E-82/2300", hub_height_m: float = 98.0,
                 roughness_length_m: float = 0.1, *, height_correction: str = "logarithmic",
                 hellman_exponent: float = 1.0 / 7.0, air_density_kg_per_m3: float | None = None,
                 max_wind_speed_m_per_s: float = 40.0, site_name: str | None = None):
        self.turbine_type = turbine_type
        self.hub_height_m = hub_height_m
        self.roughness_length_m = roughness_length_m
        self.height_correction = height_correction
        self.hellman_exponent = hellman_exponent
        self.air_density_kg_per_m3 = air_density_kg_per_m3
        self.max_wind_speed_m_per_s = max_wind_speed_m_per_s
        self.site_name = site_name

    def check_params(self) -> None:
        if not isinstance(self.turbine_type, str):
            raise ValueError(f"turbine_type must be a string such as 'E-82/2300'; got {self.turbine_type!r}")
        power_curve(self.turbine_type)  # fails early with close matches
        check_range("hub_height_m", self.hub_height_m, 10, 250)
        check_range("roughness_length_m", self.roughness_length_m, 0, 3, low_open=True)
        if self.height_correction not in _HEIGHT_CORRECTIONS:
            raise ValueError(f"height_correction must be one of {_HEIGHT_CORRECTIONS}; "
                             f"got {self.height_correction!r}")
        check_range("hellman_exponent", self.hellman_exponent, 0, 1, low_open=True)
        if self.air_density_kg_per_m3 is not None:
            check_range("air_density_kg_per_m3", self.air_density_kg_per_m3, 0.5, 1.6)
        check_range("max_wind_speed_m_per_s", self.max_wind_speed_m_per_s, 20, 80)
        check_site_name(self.site_name)

    @property
    def variables(self) -> tuple[str, str]:
        suffix = f":{self.site_name}" if self.site_name else ""
        return ("wind_kw_per_turbine" + suffix, "wind_speed_m_per_s" + suffix)

    @property
    def nominal_power_kw(self) -> float:
        return power_curve(self.turbine_type)[2]

    # -- physics -----------------------------------------------------------------------------
    def to_hub_height(self, wind_speed, measurement_height_m: float) -> np.ndarray:
        """Wind speed carried from ``measurement_height_m`` to the hub (windpowerlib profiles)."""
        check_range("measurement_height_m", measurement_height_m, 1, 250)
        v = np.asarray(wind_speed, dtype=float)
        if self.height_correction == "logarithmic":
            out = height_profiles.logarithmic_profile(v, measurement_height_m, self.hub_height_m,
                                                      self.roughness_length_m)
        else:
            out = height_profiles.hellman(v, measurement_height_m, self.hub_height_m,
                                          hellman_exponent=self.hellman_exponent)
        return np.asarray(out, dtype=float)

    def power_kw(self, hub_wind_speed) -> np.ndarray:
        """Output of one turbine (kW) at hub-height speeds (any shape), by windpowerlib's power curve."""
        speeds, values, _ = power_curve(self.turbine_type)
        v = np.asarray(hub_wind_speed, dtype=float)
        flat = pd.Series(v.reshape(-1))
        if self.air_density_kg_per_m3 is None:
            p = power_output.power_curve(flat, speeds, values)
        else:
            density = pd.Series(np.full(flat.size, float(self.air_density_kg_per_m3)))
            p = power_output.power_curve(flat, pd.Series(speeds), pd.Series(values), density=density,
                                         density_correction=True)
        return np.clip(np.asarray(p, dtype=float), 0.0, None).reshape(v.shape)

    def _speed_quantile_grid(self, levels: np.ndarray, month: int, multiplier: float = 1.0) -> np.ndarray:
        k, c = self.weibull_shape_[month], self.weibull_scale_m_per_s_[month] * multiplier
        base = c * (-np.log1p(-levels)) ** (1.0 / k)
        return np.outer(self.diurnal_factor_, base)  # (24, levels)

    def expected_capacity_factor(self, month: int, multiplier: float = 1.0) -> float:
        """Expected capacity factor of the turbine in calendar ``month`` (1..12) under the fitted law."""
        levels = (np.arange(400) + 0.5) / 400
        v = self._speed_quantile_grid(levels, month - 1, multiplier)
        return float(self.power_kw(v).mean() / self.nominal_power_kw)

    # -- fit / sample ------------------------------------------------------------------------------
    def fit(self, history, measurement_height_m: float | None = None, capacity_factor=None) -> "WindModel":
        """Learn the wind-speed process from hourly speeds (m/s) measured at ``measurement_height_m``.

        ``history``: Series or DataFrame with column ``wind_speed_m_per_s`` (UTC or naive-UTC index);
        ``measurement_height_m`` defaults to the hub height. ``capacity_factor`` (optional hourly
        Series in 0..1, e.g. France's onshore WTON) re-levels each calendar month's Weibull scale so
        the expected capacity factor of this turbine matches its monthly mean; months it lacks get
        the mean multiplier.
        """
        self.check_params()
        s = hourly_utc_series(history, "history", column="wind_speed_m_per_s").dropna()
        _check_speeds(s, "history")
        height = self.hub_height_m if measurement_height_m is None else measurement_height_m
        v = pd.Series(self.to_hub_height(s.to_numpy(), height), index=s.index).clip(lower=0.05)
        hours = v.index.hour.to_numpy()
        months = v.index.month.to_numpy()
        # diurnal factor from month-normalised speeds, so uneven month coverage does not bias it
        norm = v / v.groupby(months).transform("mean")
        diurnal = norm.groupby(hours).mean().reindex(range(HOURS_PER_DAY)).fillna(1.0).to_numpy()
        diurnal = diurnal / diurnal.mean()
        w = v.to_numpy() / diurnal[hours]
        shape_all, _, scale_all = stats.weibull_min.fit(w, floc=0)
        shapes, scales, observed = np.full(12, shape_all), np.full(12, scale_all), []
        for m in range(1, 13):
            sel = w[months == m]
            if sel.size >= 24 * 10:
                k, _, c = stats.weibull_min.fit(sel, floc=0)
                shapes[m - 1], scales[m - 1] = k, c
                observed.append(m)
        u = stats.weibull_min.cdf(w, shapes[months - 1], scale=scales[months - 1])
        y = stats.norm.ppf(np.clip(u, 1e-4, 1 - 1e-4))
        full = pd.Series(y, index=v.index).reindex(
            pd.date_range(v.index[0], v.index[-1], freq="h"))  # gaps stay NaN
        self.process_ = TwoScaleGaussian.fit_smooth(full.to_numpy())
        self.diurnal_factor_ = diurnal
        self.weibull_shape_ = shapes
        self.weibull_scale_m_per_s_ = scales
        self.months_fitted_ = observed
        self.measurement_height_m_ = float(height)
        self.history_mean_hub_speed_m_per_s_ = float(v.mean())
        self.level_multipliers_ = np.ones(12)
        if capacity_factor is not None:
            self._relevel(capacity_factor)
        return self

    def _relevel(self, capacity_factor) -> None:
        cf = hourly_utc_series(capacity_factor, "capacity_factor", column="capacity_factor").dropna()
        if cf.min() < 0 or cf.max() > 1:
            raise ValueError("capacity_factor must lie in [0, 1]")
        targets = cf.groupby(cf.index.month).mean()
        mult = np.full(12, np.nan)
        for m, target in targets.items():
            if target <= 0.005 or target >= 0.9:
                raise ValueError(f"capacity_factor's month {m} mean {target:.3f} is outside (0.005, 0.9)")
            f = lambda x: self.expected_capacity_factor(m, x) - target  # noqa: E731
            grid = np.linspace(0.1, 3.0, 59)
            above = np.flatnonzero([f(x) > 0 for x in grid])  # CF rises, then falls past cut-out
            if above.size == 0 or above[0] == 0:
                raise ValueError(f"cannot re-level month {m}: this turbine cannot reach a capacity factor "
                                 f"of {target:.3f} by scaling the wind speeds")
            mult[m - 1] = optimize.brentq(f, grid[above[0] - 1], grid[above[0]], xtol=1e-4)
        mult[np.isnan(mult)] = np.nanmean(mult)
        self.level_multipliers_ = mult
        self.weibull_scale_m_per_s_ = self.weibull_scale_m_per_s_ * mult

    def _check_fitted(self) -> None:
        if not hasattr(self, "process_"):
            raise RuntimeError("WindModel is not fitted: call fit(history) or WindModel.from_json(...) first")

    def latent_history(self, history, measurement_height_m: float | None = None) -> pd.DataFrame:
        """Standard-normal daily-level scores ('wind_level') of a history, one row per UTC date.

        ``history`` holds either wind speeds (column ``wind_speed_m_per_s``, measured at
        ``measurement_height_m``, default the height used in fit), transformed by the fitted laws,
        or capacity factors (column ``capacity_factor``, e.g. national WTON), whose daily means are
        turned into normal scores by their ranks within each calendar month.
        """
        self._check_fitted()
        if isinstance(history, pd.DataFrame) and "capacity_factor" in history.columns:
            cf = hourly_utc_series(history, "history", column="capacity_factor")
            daily = cf.groupby(cf.index.floor("D")).mean()
            z = normal_scores_by_group(daily.to_numpy(), daily.index.month.to_numpy().astype(float))
            idx = pd.DatetimeIndex(daily.index.date, name="date")
            return pd.DataFrame({"wind_level": z}, index=idx).dropna()
        s = hourly_utc_series(history, "history", column="wind_speed_m_per_s").dropna()
        _check_speeds(s, "history")
        height = self.measurement_height_m_ if measurement_height_m is None else measurement_height_m
        v = np.clip(self.to_hub_height(s.to_numpy(), height), 0.05, None)
        hours, months = s.index.hour.to_numpy(), s.index.month.to_numpy()
        w = v / self.diurnal_factor_[hours]
        u = stats.weibull_min.cdf(w, self.weibull_shape_[months - 1],
                                  scale=self.weibull_scale_m_per_s_[months - 1])
        y = stats.norm.ppf(np.clip(u, 1e-4, 1 - 1e-4))
        days, Y = day_matrix(pd.Series(y, index=s.index))
        z = self.process_.daily_scores(Y)
        return pd.DataFrame({"wind_level": z}, index=pd.DatetimeIndex(days.date, name="date")).dropna()

    def sample(self, n: int, start="2016-01-01", days: int = 365, *, random_state=None,
               latent=None) -> ScenarioSet:
        """``n`` equiprobable hourly scenarios of turbine output (kW) and hub-height speed (m/s).

        ``latent`` (n, days) standard-normal scores drive the daily level (joint copula model).
        """
        self._check_fitted()
        n = check_positive_int("n", n)
        days = check_positive_int("days", days)
        rng = as_generator(random_state)
        times = sample_times(start, days)
        y = self.process_.simulate(n, days, rng, latent=latent)
        u = np.clip(stats.norm.cdf(y), 1e-9, 1 - 1e-9)
        m = times.month.to_numpy() - 1
        w = self.weibull_scale_m_per_s_[m] * (-np.log1p(-u)) ** (1.0 / self.weibull_shape_[m])
        speed = np.clip(w * self.diurnal_factor_[times.hour.to_numpy()], 0.0, self.max_wind_speed_m_per_s)
        power = self.power_kw(speed)
        values = np.stack([power, speed], axis=2)
        return ScenarioSet(values, np.full(n, 1.0 / n), self.variables, scenario_names(n), 1.0, times[0],
                           {"model": "WindModel", "timezone": "UTC", "turbine_type": self.turbine_type,
                            "nominal_power_kw": self.nominal_power_kw})

    # -- persistence -----------------------------------------------------------------------------------
    def to_json(self, path=None) -> str:
        """Hyper-parameters and fitted parameters as JSON text (also written to ``path`` if given)."""
        self._check_fitted()
        payload = {
            "model": "WindModel",
            "params": self.params_in_signature_order(),
            "fitted": {
                "process": self.process_,
                "diurnal_factor": self.diurnal_factor_,
                "weibull_shape": self.weibull_shape_,
                "weibull_scale_m_per_s": self.weibull_scale_m_per_s_,
                "months_fitted": self.months_fitted_,
                "measurement_height_m": self.measurement_height_m_,
                "history_mean_hub_speed_m_per_s": self.history_mean_hub_speed_m_per_s_,
                "level_multipliers": self.level_multipliers_,
            },
        }
        return write_json(payload, path)

    @classmethod
    def from_json(cls, source, **overrides) -> "WindModel":
        """A fitted model from JSON text or a file; ``overrides`` change hyper-parameters.

        Changing ``turbine_type`` keeps the wind law; changing ``hub_height_m`` carries the fitted
        Weibull scales from the stored hub height to the new one with the (new) height profile.
        """
        data = read_json(source)
        if data.get("model") != "WindModel":
            raise ValueError(f"not a WindModel JSON (model = {data.get('model')!r})")
        model = cls(**{**data["params"], **overrides})
        model.check_params()
        f = data["fitted"]
        old_hub = float(data["params"]["hub_height_m"])
        height_factor = 1.0 if old_hub == model.hub_height_m else float(model.to_hub_height([1.0], old_hub)[0])
        model.process_ = TwoScaleGaussian(**f["process"])
        model.diurnal_factor_ = np.asarray(f["diurnal_factor"], dtype=float)
        model.weibull_shape_ = np.asarray(f["weibull_shape"], dtype=float)
        model.weibull_scale_m_per_s_ = np.asarray(f["weibull_scale_m_per_s"], dtype=float) * height_factor
        model.months_fitted_ = list(f["months_fitted"])
        model.measurement_height_m_ = float(f["measurement_height_m"])
        model.history_mean_hub_speed_m_per_s_ = float(f["history_mean_hub_speed_m_per_s"])
        model.level_multipliers_ = np.asarray(f["level_multipliers"], dtype=float)
        return model


__all__ = ["WindModel", "turbine_types", "power_curve"]
