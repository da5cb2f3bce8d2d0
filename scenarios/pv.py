"""PV output scenarios per kWp at a site: pvlib clear sky, Erbs decomposition, Perez transposition and a
PVWatts derate, driven by a stochastic clear-sky index (daily level + hourly fluctuation) fitted on real series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib
from scipy import stats

from .base import ScenarioModel, check_positive_int, check_range, check_site_name
from .metrics import as_generator
from .renewables import (
    TwoScaleGaussian,
    day_matrix,
    from_uniform,
    hourly_utc_series,
    normal_scores_by_group,
    quantile_table,
    read_json,
    sample_times,
    scenario_names,
    to_uniform,
    write_json,
)
from .scenario_set import ScenarioSet

_TRANSPOSITIONS = ("perez", "isotropic")
_CLEAR_SKY_MODELS = ("ineichen", "simplified_solis", "haurwitz")
_SITE_KEYS = ("latitude", "longitude", "tilt_deg", "azimuth_deg", "altitude_m")
# Solar elevation classes (deg) of the clear-sky-index marginal: the index behaves differently at
# low sun (diffuse share, orientation spread of a fleet), so each month has one table per class.
ELEVATION_EDGES_DEG = (15.0, 30.0)
N_ELEVATION_CLASSES = len(ELEVATION_EDGES_DEG) + 1


@dataclass
class _Geometry:
    """Time-only quantities of the physical chain for a set of hourly timestamps."""

    zenith: np.ndarray
    azimuth: np.ndarray
    ghi_clear: np.ndarray
    dni_extra: np.ndarray
    airmass: np.ndarray
    doy: np.ndarray
    temp_air: np.ndarray


class PVModel(ScenarioModel):
    """Stochastic PV output (kW per kWp) of a fixed-tilt system.

    Physical chain per hour (timestamps are UTC interval starts; the sun is taken at mid-hour):
    clear-sky GHI (pvlib, Ineichen with pvlib's shipped Linke turbidity by default) x clear-sky
    index -> Erbs decomposition -> Perez (or isotropic) plane-of-array irradiance -> Faiman cell
    temperature with a climatological air temperature -> PVWatts DC (pdc0 = 1 kWp, temperature
    coefficient) -> system losses, inverter efficiency and clipping at 1 / dc_ac_ratio.

    Stochastic part: the hourly clear-sky index has a monthly empirical marginal and a Gaussian
    copula ``y = b z_day + sqrt(1 - b^2) u_hour`` (daily level z AR(1) across days, hourly
    fluctuation u AR(1) across hours), see :class:`scenarios.renewables.TwoScaleGaussian`.
    ``fit(history)`` inverts measured output (kW/kWp) of a known system (this one unless
    ``history_site`` is given) into clear-sky indices through the same chain.
    """

    def __init__(self, latitude: float = 45.5, longitude: float = 2.0, tilt_deg: float = 30.0,
                 azimuth_deg: float = 180.0, altitude_m: float = 200.0, *,
                 system_loss_fraction: float = 0.14, inverter_efficiency: float = 0.96,
                 dc_ac_ratio: float = 1.1, temp_coefficient_per_c: float = -0.004,
                 mean_air_temp_c: float = 12.5, seasonal_temp_amplitude_c: float = 8.0,
                 diurnal_temp_amplitude_c: float = 4.0, transposition: str = "perez",
                 clear_sky_model: str = "ineichen", max_clear_sky_index: float = 1.4,
                 site_name: str | None = None):
        self.latitude = latitude
        self.longitude = longitude
        self.tilt_deg = tilt_deg
        self.azimuth_deg = azimuth_deg
        self.altitude_m = altitude_m
        self.system_loss_fraction = system_loss_fraction
        self.inverter_efficiency = inverter_efficiency
        self.dc_ac_ratio = dc_ac_ratio
        self.temp_coefficient_per_c = temp_coefficient_per_c
        self.mean_air_temp_c = mean_air_temp_c
        self.seasonal_temp_amplitude_c = seasonal_temp_amplitude_c
        self.diurnal_temp_amplitude_c = diurnal_temp_amplitude_c
        self.transposition = transposition
        self.clear_sky_model = clear_sky_model
        self.max_clear_sky_index = max_clear_sky_index
        self.site_name = site_name

    # -- parameters -------------------------------------------------------------------------------
    def check_params(self) -> None:
        check_range("latitude", self.latitude, -90, 90)
        check_range("longitude", self.longitude, -180, 180)
        check_range("tilt_deg", self.tilt_deg, 0, 90)
        check_range("azimuth_deg (0 = north, 180 = south)", self.azimuth_deg, 0, 360, high_open=True)
        check_range("altitude_m", self.altitude_m, -450, 9000)
        check_range("system_loss_fraction", self.system_loss_fraction, 0, 1, high_open=True)
        check_range("inverter_efficiency", self.inverter_efficiency, 0, 1, low_open=True)
        check_range("dc_ac_ratio", self.dc_ac_ratio, 0.5, 3)
        check_range("temp_coefficient_per_c", self.temp_coefficient_per_c, -0.02, 0.0)
        check_range("max_clear_sky_index", self.max_clear_sky_index, 1.0, 2.0)
        if self.transposition not in _TRANSPOSITIONS:
            raise ValueError(f"transposition must be one of {_TRANSPOSITIONS}; got {self.transposition!r}")
        if self.clear_sky_model not in _CLEAR_SKY_MODELS:
            raise ValueError(f"clear_sky_model must be one of {_CLEAR_SKY_MODELS}; got {self.clear_sky_model!r}")
        check_site_name(self.site_name)

    @property
    def variable(self) -> str:
        return "pv_kw_per_kwp" + (f":{self.site_name}" if self.site_name else "")

    def site(self) -> dict:
        return {k: float(getattr(self, k)) for k in _SITE_KEYS}

    def _with_site(self, site: dict | None) -> "PVModel":
        if site is None:
            return self
        unknown = set(site) - set(_SITE_KEYS)
        if unknown:
            raise ValueError(f"history_site has unknown keys {sorted(unknown)}; allowed {list(_SITE_KEYS)}")
        source = PVModel(**{**self.get_params(deep=False), **site})
        source.check_params()
        return source

    # -- physics ------------------------------------------------------------------------------------
    def _geometry(self, times: pd.DatetimeIndex) -> _Geometry:
        mid = times + pd.Timedelta(minutes=30)
        loc = pvlib.location.Location(self.latitude, self.longitude, tz="UTC", altitude=self.altitude_m)
        sp = loc.get_solarposition(mid)
        cs = loc.get_clearsky(mid, model=self.clear_sky_model, solar_position=sp)
        dni_extra = pvlib.irradiance.get_extra_radiation(mid).to_numpy()
        airmass = pvlib.atmosphere.get_relative_airmass(sp["apparent_zenith"]).to_numpy()
        doy = mid.dayofyear.to_numpy().astype(float)
        solar_hour = (mid.hour + mid.minute / 60.0 + self.longitude / 15.0).to_numpy() % 24
        sign = 1.0 if self.latitude >= 0 else -1.0
        temp = (self.mean_air_temp_c
                + sign * self.seasonal_temp_amplitude_c * np.cos(2 * np.pi * (doy - 200) / 365.25)
                + self.diurnal_temp_amplitude_c * np.cos(2 * np.pi * (solar_hour - 15.0) / 24))
        return _Geometry(sp["zenith"].to_numpy(), sp["azimuth"].to_numpy(),
                         np.nan_to_num(cs["ghi"].to_numpy()), dni_extra, np.nan_to_num(airmass, nan=40.0),
                         doy, temp)

    @staticmethod
    def _table_index(times: pd.DatetimeIndex, geo: _Geometry) -> np.ndarray:
        """Row of the quantile table for each hour: month x elevation class."""
        elevation_class = np.digitize(90.0 - geo.zenith, ELEVATION_EDGES_DEG)
        return (times.month.to_numpy() - 1) * N_ELEVATION_CLASSES + elevation_class

    def _output(self, geo: _Geometry, clear_sky_index: np.ndarray) -> np.ndarray:
        """kW per kWp for clear-sky indices of shape (..., T)."""
        kc = np.asarray(clear_sky_index, dtype=float)
        shape = kc.shape
        reps = int(np.prod(shape[:-1])) if kc.ndim > 1 else 1
        tile = lambda a: np.tile(a, reps)  # noqa: E731
        zen, azi = tile(geo.zenith), tile(geo.azimuth)
        ghi = kc.reshape(-1) * tile(geo.ghi_clear)
        erbs = pvlib.irradiance.erbs(ghi, zen, tile(geo.doy))
        dni = np.nan_to_num(np.asarray(erbs["dni"], dtype=float))
        dhi = np.nan_to_num(np.asarray(erbs["dhi"], dtype=float))
        poa = pvlib.irradiance.get_total_irradiance(
            self.tilt_deg, self.azimuth_deg, zen, azi, dni, ghi, dhi,
            dni_extra=tile(geo.dni_extra), airmass=tile(geo.airmass), albedo=0.2,
            model=self.transposition,
        )["poa_global"]
        poa = np.clip(np.nan_to_num(np.asarray(poa, dtype=float)), 0.0, None)
        temp_cell = pvlib.temperature.faiman(poa, tile(geo.temp_air), wind_speed=2.0)
        dc = pvlib.pvsystem.pvwatts_dc(poa, temp_cell, pdc0=1.0, gamma_pdc=self.temp_coefficient_per_c)
        ac = np.asarray(dc) * (1 - self.system_loss_fraction) * self.inverter_efficiency
        ac = np.clip(ac, 0.0, 1.0 / self.dc_ac_ratio)
        ac[zen.reshape(-1) >= 90] = 0.0
        return ac.reshape(shape)

    def clear_sky_output(self, times) -> pd.Series:
        """Clear-sky output (kW/kWp) at hourly UTC timestamps (interval starts)."""
        times = pd.DatetimeIndex(times)
        times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
        return pd.Series(self._output(self._geometry(times), np.ones(len(times))), index=times)

    def _invert(self, output: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Clear-sky indices reproducing ``output`` hour by hour, and the quantile-table row of each hour."""
        geo = self._geometry(output.index)
        grid = np.linspace(0.0, self.max_clear_sky_index, 36)
        curves = self._output(geo, np.repeat(grid[:, None], len(output), axis=1))  # (grid, T)
        curves = np.maximum.accumulate(curves, axis=0)
        obs = output.to_numpy()
        kc = np.empty(len(obs))
        for t in range(len(obs)):
            c = curves[:, t]
            if c[-1] <= 1e-6:
                kc[t] = np.nan
                continue
            c = c + np.arange(grid.size) * 1e-9
            kc[t] = np.interp(obs[t], c, grid)
        informative = (90 - geo.zenith > 5.0) & (geo.ghi_clear > 20.0) & (curves[-1] > 0.02) & ~np.isnan(obs)
        kc[~informative] = np.nan
        return kc, self._table_index(output.index, geo)

    # -- fit / sample --------------------------------------------------------------------------------
    def fit(self, history, history_site: dict | None = None) -> "PVModel":
        """Learn the clear-sky-index process from hourly output ``history`` (kW per kWp, UTC index).

        ``history`` is a Series or a DataFrame with column ``pv_kw_per_kwp``; it was produced by
        ``history_site`` (dict of latitude, longitude, tilt_deg, azimuth_deg, altitude_m), by
        default this model's own system. Months absent from the history use the pooled marginal.
        """
        self.check_params()
        s = hourly_utc_series(history, "history", column="pv_kw_per_kwp")
        if s.min() < 0 or s.max() > 2:
            raise ValueError("history must be PV output in kW per kWp (between 0 and about 1)")
        source = self._with_site(history_site)
        kc, rows = source._invert(s)
        pooled = quantile_table(kc)
        tables = np.tile(pooled, (12 * N_ELEVATION_CLASSES, 1))
        months = s.index.month.to_numpy()
        observed = []
        for m in range(1, 13):
            in_month = months == m
            if np.sum(~np.isnan(kc[in_month])) < 100:
                continue
            observed.append(m)
            month_table = quantile_table(kc[in_month])
            for c in range(N_ELEVATION_CLASSES):
                r = (m - 1) * N_ELEVATION_CLASSES + c
                sel = kc[rows == r]
                tables[r] = quantile_table(sel) if np.sum(~np.isnan(sel)) >= 30 else month_table
        y = normal_scores_by_group(kc, rows.astype(float))
        _, Y = day_matrix(pd.Series(y, index=s.index))
        self.process_ = TwoScaleGaussian.fit(Y)
        self.clear_sky_index_quantiles_ = tables
        self.months_fitted_ = observed
        self.history_site_ = source.site()
        self.history_mean_kw_per_kwp_ = float(s.mean())
        self.n_hours_fitted_ = int(len(s))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "process_"):
            raise RuntimeError("PVModel is not fitted: call fit(history) or PVModel.from_json(...) first")

    def latent_history(self, history, history_site: dict | None = None) -> pd.DataFrame:
        """Standard-normal daily-level scores ('pv_level') of an output history, one row per UTC date.

        By default the history is taken as produced by the system the model was fitted on.
        """
        self._check_fitted()
        s = hourly_utc_series(history, "history", column="pv_kw_per_kwp")
        source = self._with_site(history_site if history_site is not None else self.history_site_)
        kc, rows = source._invert(s)
        u = np.full(kc.shape, np.nan)
        ok = ~np.isnan(kc)
        for r in np.unique(rows[ok]):
            sel = ok & (rows == r)
            u[sel] = to_uniform(kc[sel], self.clear_sky_index_quantiles_[r])
        y = stats.norm.ppf(u)
        days, Y = day_matrix(pd.Series(y, index=s.index))
        z = self.process_.daily_scores(Y)
        frame = pd.DataFrame({"pv_level": z}, index=pd.DatetimeIndex(days.date, name="date"))
        return frame.dropna()

    def sample(self, n: int, start="2016-01-01", days: int = 365, *, random_state=None,
               latent=None) -> ScenarioSet:
        """``n`` equiprobable hourly scenarios of ``days`` days from ``start`` (UTC).

        ``latent`` (n, days) standard-normal scores drive the daily level instead of the model's
        own AR(1) draws (used by the joint copula model).
        """
        self._check_fitted()
        n = check_positive_int("n", n)
        days = check_positive_int("days", days)
        rng = as_generator(random_state)
        times = sample_times(start, days)
        y = self.process_.simulate(n, days, rng, latent=latent)
        u = stats.norm.cdf(y)
        geo = self._geometry(times)
        rows = self._table_index(times, geo)
        kc = np.empty_like(u)
        for r in np.unique(rows):
            cols = rows == r
            kc[:, cols] = from_uniform(u[:, cols], self.clear_sky_index_quantiles_[r])
        kc = np.clip(kc, 0.0, self.max_clear_sky_index)
        power = self._output(geo, kc)
        return ScenarioSet(power[:, :, None], np.full(n, 1.0 / n), (self.variable,), scenario_names(n),
                           1.0, times[0], {"model": "PVModel", "timezone": "UTC"})

    # -- persistence ------------------------------------------------------------------------------
    def to_json(self, path=None) -> str:
        """Hyper-parameters and fitted parameters as JSON text (also written to ``path`` if given)."""
        self._check_fitted()
        payload = {
            "model": "PVModel",
            "params": self.params_in_signature_order(),
            "fitted": {
                "process": self.process_,
                "clear_sky_index_quantiles": self.clear_sky_index_quantiles_,
                "months_fitted": self.months_fitted_,
                "history_site": self.history_site_,
                "history_mean_kw_per_kwp": self.history_mean_kw_per_kwp_,
                "n_hours_fitted": self.n_hours_fitted_,
            },
        }
        return write_json(payload, path)

    @classmethod
    def from_json(cls, source, **overrides) -> "PVModel":
        """A fitted model from JSON text or a file; ``overrides`` change hyper-parameters (e.g. the site)."""
        data = read_json(source)
        if data.get("model") != "PVModel":
            raise ValueError(f"not a PVModel JSON (model = {data.get('model')!r})")
        params = {**data["params"], **overrides}
        model = cls(**params)
        model.check_params()
        f = data["fitted"]
        model.process_ = TwoScaleGaussian(**f["process"])
        model.clear_sky_index_quantiles_ = np.asarray(f["clear_sky_index_quantiles"], dtype=float)
        model.months_fitted_ = list(f["months_fitted"])
        model.history_site_ = dict(f["history_site"])
        model.history_mean_kw_per_kwp_ = float(f["history_mean_kw_per_kwp"])
        model.n_hours_fitted_ = int(f["n_hours_fitted"])
        return model


FRANCE_PV_SITE = {"latitude": 45.5, "longitude": 2.0, "tilt_deg": 30.0, "azimuth_deg": 180.0,
                  "altitude_m": 200.0}
"""A representative system for France's national PV capacity factor (capacity-weighted centre of the
fleet, lying south of the geographic centre; typical tilt), used to invert the national series."""

__all__ = ["PVModel", "FRANCE_PV_SITE"]
