"""Joint scenarios of several uncertainty models (price, PV, wind) whose daily levels co-move.

Each model exposes ``latent_history(history) -> DataFrame`` of standard-normal daily level
scores (index: date) and ``sample(n, start=..., days=..., random_state=..., latent=...)`` whose
``latent`` (n, days) or (n, days, k) replaces its own daily level draws. :class:`JointModel`
estimates, from the models' latent histories on common days, the (Ledoit-Wolf shrunk)
correlation of the daily scores (by default of their deviations from monthly means) and each
score's lag-one-day persistence, and draws correlated latents from a VAR(1) with diagonal
persistence whose stationary correlation is the estimated one. Within-day randomness stays each
model's own. Outputs on different clocks (UTC, or a local 24-hours-a-day wall clock) are mapped
onto one output clock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.covariance import LedoitWolf

from .base import ScenarioModel
from .scenario_set import ScenarioSet

WALL_CLOCK_KEY = "wall_clock_24h"


def _nearest_psd_correlation(matrix: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    vals, vecs = np.linalg.eigh((matrix + matrix.T) / 2)
    fixed = (vecs * np.clip(vals, floor, None)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def _clock_of(scenarios: ScenarioSet, default: str) -> tuple[str, bool]:
    """(timezone, wall_clock_24h) of a model's output, from its metadata."""
    meta = scenarios.metadata or {}
    return str(meta.get("timezone", default)), bool(meta.get(WALL_CLOCK_KEY, False))


def hour_positions(targets_utc: pd.DatetimeIndex, first_day, timezone: str, wall_clock: bool) -> np.ndarray:
    """Hour positions, in a set starting at local midnight of ``first_day`` on a model's clock."""
    if wall_clock:
        local = targets_utc.tz_convert(timezone).tz_localize(None)
        origin = pd.Timestamp(first_day)
        return np.asarray((local - origin) / pd.Timedelta(hours=1), dtype=int)
    origin = pd.Timestamp(first_day).tz_localize(timezone) if timezone != "UTC" else \
        pd.Timestamp(first_day).tz_localize("UTC")
    return np.asarray((targets_utc - origin) / pd.Timedelta(hours=1), dtype=int)


class JointModel(ScenarioModel):
    """Correlated daily levels across fitted models, joined into one scenario set.

    Parameters
    ----------
    models : mapping name -> fitted model following the latent contract (see module docstring).
    shrinkage : 'ledoit_wolf' (default) or a number in [0, 1]: weight of the identity in the
        correlation estimate (1 gives independent models).
    persistence : if True, each latent keeps its lag-one-day autocorrelation (VAR(1) with
        diagonal coefficients); if False latents are independent from day to day.
    detrend : 'year_month' (default): the correlation is estimated on the latents' deviations
        from their (year, month) means, so that slow regime shifts (fuel prices, a dry year, capacity
        growth) do not dilute the day-to-day weather co-movement; None: on the raw latents.
    timezone : clock of the joined output. 'UTC' (default) or a timezone name, in which case the
        output is on that zone's 24-hours-a-day wall clock (the convention of scenarios.history).
    """

    def __init__(self, models: dict, shrinkage="ledoit_wolf", persistence: bool = True,
                 detrend: str | None = "year_month", timezone: str = "UTC"):
        self.models = models
        self.shrinkage = shrinkage
        self.persistence = persistence
        self.detrend = detrend
        self.timezone = timezone

    # ------------------------------------------------------------------------------ fit
    def check_params(self) -> None:
        if not isinstance(self.models, dict) or not self.models:
            raise ValueError("models must be a non-empty dict name -> fitted model")
        for name, model in self.models.items():
            for method in ("latent_history", "sample"):
                if not callable(getattr(model, method, None)):
                    raise TypeError(f"models[{name!r}] lacks a {method}() method (latent contract)")
        if not (self.shrinkage == "ledoit_wolf" or
                (isinstance(self.shrinkage, (int, float)) and 0 <= self.shrinkage <= 1)):
            raise ValueError(f"shrinkage must be 'ledoit_wolf' or a number in [0, 1]; got {self.shrinkage!r}")
        if self.detrend not in ("year_month", None):
            raise ValueError(f"detrend must be 'year_month' or None; got {self.detrend!r}")

    def fit(self, history) -> "JointModel":
        """Estimate the latent correlation from ``history``: one object given to every model's
        ``latent_history``, or a dict name -> that model's history."""
        self.check_params()
        frames = {}
        for name, model in self.models.items():
            h = history[name] if isinstance(history, dict) else history
            frames[name] = model.latent_history(h)
        return self.fit_latents(frames)

    def fit_latents(self, latent_frames: dict) -> "JointModel":
        """Estimate from precomputed latent histories (name -> DataFrame indexed by date)."""
        self.check_params()
        missing = [name for name in self.models if name not in latent_frames]
        if missing:
            raise ValueError(f"latent histories missing for models {missing}")
        columns, parts = [], []
        for name in self.models:
            frame = pd.DataFrame(latent_frames[name]).copy()
            frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index)).normalize()
            frame = frame[~frame.index.duplicated()]
            frame.columns = [f"{name}:{c}" for c in frame.columns]
            columns.append(list(frame.columns))
            parts.append(frame)
        joined = pd.concat(parts, axis=1, join="inner").dropna()
        if len(joined) < 30:
            raise ValueError(f"only {len(joined)} common days in the latent histories; need >= 30")
        if self.detrend == "year_month":
            days = joined.index
            centred = joined - joined.groupby([days.year, days.month]).transform("mean")
        else:
            centred = joined
        Z = centred.to_numpy()
        Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
        k = Z.shape[1]
        if self.shrinkage == "ledoit_wolf":
            lw = LedoitWolf().fit(Z)
            cov = lw.covariance_
            self.shrinkage_ = float(lw.shrinkage_)
        else:
            sample = np.corrcoef(Z, rowvar=False)
            cov = (1 - self.shrinkage) * sample + self.shrinkage * np.eye(k)
            self.shrinkage_ = float(self.shrinkage)
        d = np.sqrt(np.diag(cov))
        self.correlation_ = cov / np.outer(d, d)
        full = joined.reindex(pd.date_range(joined.index[0], joined.index[-1], freq="D"))
        phi = np.zeros(k)
        if self.persistence:
            for j, c in enumerate(full.columns):
                x = full[c]
                pair = x.notna() & x.shift(1).notna()
                if pair.sum() > 10:
                    phi[j] = float(np.clip(np.corrcoef(x[pair], x.shift(1)[pair])[0, 1], -0.98, 0.98))
        self.persistence_ = phi
        innovation = self.correlation_ * (1 - np.outer(phi, phi))
        vals = np.linalg.eigvalsh(innovation)
        if vals.min() <= 1e-9:
            innovation = _nearest_psd_correlation(innovation) * np.sqrt(
                np.outer(np.diag(innovation), np.diag(innovation)))
        self.innovation_covariance_ = innovation
        self.latent_columns_ = columns
        self.columns_ = list(joined.columns)
        self.n_days_ = int(len(joined))
        self.history_latents_ = joined
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "correlation_"):
            raise RuntimeError("JointModel is not fitted; call fit(history) or fit_latents(...)")

    # ------------------------------------------------------------------------- sample
    def sample_latents(self, n: int, days: int, *, random_state=None) -> np.ndarray:
        """Correlated standard-normal daily scores, shape (n, days, k), stationary from day 0."""
        self._check_fitted()
        rng = np.random.default_rng(random_state)
        k = len(self.columns_)
        start_root = np.linalg.cholesky(self.correlation_ + 1e-12 * np.eye(k))
        innov_root = np.linalg.cholesky(self.innovation_covariance_ + 1e-12 * np.eye(k))
        e = rng.standard_normal((n, days, k))
        z = np.empty((n, days, k))
        z[:, 0] = e[:, 0] @ start_root.T
        for t in range(1, days):
            z[:, t] = self.persistence_ * z[:, t - 1] + e[:, t] @ innov_root.T
        return z

    def sample(self, n: int, start, days: int, *, random_state=None, driven=None) -> ScenarioSet:
        """``n`` joint scenarios over ``days`` days from ``start`` (00:00 on the output clock).

        Each model generates ``days + 2`` days from the day before ``start`` on its own clock
        (metadata 'timezone' and 'wall_clock_24h' of its output), driven by its slice of the
        correlated latents; the hours are then mapped onto the output clock, so hour t of every
        variable is the same instant.

        ``driven`` (optional) replaces the fitted models in the output by other models, each
        driven by the latent of a fitted one: a mapping ``output name -> (model, fitted name)``,
        e.g. ``{"pv:foundry": (pv_model_at_foundry, "pv")}``. Several sites then share the daily
        weather level of the fitted model (sites close together), each with its own geometry
        and its own within-day randomness.
        """
        self._check_fitted()
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer; got {n}")
        if int(days) != days or days < 1:
            raise ValueError(f"days must be a positive integer; got {days}")
        n, days = int(n), int(days)
        rng = np.random.default_rng(random_state)
        z = self.sample_latents(n, days + 2, random_state=rng)
        first_day = pd.Timestamp(start).normalize() - pd.Timedelta(days=1)
        if self.timezone == "UTC":
            targets = pd.date_range(first_day + pd.Timedelta(days=1), periods=days * 24, freq="h",
                                    tz="UTC")
        else:
            wall = pd.date_range(first_day + pd.Timedelta(days=1), periods=days * 24, freq="h")
            targets = wall.tz_localize(self.timezone, ambiguous=np.zeros(len(wall), dtype=bool),
                                       nonexistent="shift_forward").tz_convert("UTC")
        offsets, j = {}, 0
        for name, cols in zip(self.models, self.latent_columns_):
            offsets[name] = (j, len(cols))
            j += len(cols)
        if driven is None:
            plan = [(name, model, name) for name, model in self.models.items()]
        else:
            plan = []
            for out_name, (model, source) in driven.items():
                if source not in offsets:
                    raise ValueError(f"driven[{out_name!r}] names fitted model {source!r}; "
                                     f"fitted models are {list(self.models)}")
                plan.append((out_name, model, source))
        joined = None
        for name, model, source in plan:
            j, k = offsets[source]
            latent = z[:, :, j: j + k]
            latent = latent[:, :, 0] if k == 1 else latent
            out = model.sample(n, start=first_day, days=days + 2, random_state=rng, latent=latent)
            tz, wall_clock = _clock_of(out, "UTC")
            pos = hour_positions(targets, first_day, tz, wall_clock)
            if pos.min() < 0 or pos.max() >= out.n_periods:
                raise RuntimeError(f"model {name!r} output does not cover the requested hours")
            aligned = ScenarioSet(out.values[:, pos, :], out.probabilities, out.variables,
                                  out.names, out.period_hours, None, {})
            joined = aligned if joined is None else joined.with_variables(aligned)
        start_stamp = targets[0] if self.timezone == "UTC" else pd.Timestamp(start).normalize()
        meta = {"model": "JointModel", "timezone": self.timezone,
                WALL_CLOCK_KEY: self.timezone != "UTC", "models": [p[0] for p in plan],
                "latent_columns": self.columns_}
        return ScenarioSet(joined.values, joined.probabilities, joined.variables, joined.names,
                           joined.period_hours, start_stamp, meta)


    # ------------------------------------------------------------------------- persistence
    def to_dict(self) -> dict:
        """Hyper-parameters and fitted dependence (not the models, which persist themselves)."""
        self._check_fitted()
        return {
            "model": "JointModel",
            "params": {"shrinkage": self.shrinkage, "persistence": self.persistence,
                       "detrend": self.detrend, "timezone": self.timezone,
                       "models": list(self.models)},
            "fitted": {"correlation": self.correlation_.tolist(),
                       "persistence": self.persistence_.tolist(),
                       "innovation_covariance": self.innovation_covariance_.tolist(),
                       "latent_columns": self.latent_columns_, "columns": self.columns_,
                       "shrinkage": self.shrinkage_, "n_days": self.n_days_},
        }

    @classmethod
    def from_dict(cls, data: dict, models: dict) -> "JointModel":
        """Rebuild from :meth:`to_dict` with the fitted ``models`` (same names, same order)."""
        params = dict(data["params"])
        names = params.pop("models")
        if list(models) != names:
            raise ValueError(f"models must be {names} in this order; got {list(models)}")
        joint = cls(models, **params)
        joint.check_params()
        f = data["fitted"]
        joint.correlation_ = np.asarray(f["correlation"], dtype=float)
        joint.persistence_ = np.asarray(f["persistence"], dtype=float)
        joint.innovation_covariance_ = np.asarray(f["innovation_covariance"], dtype=float)
        joint.latent_columns_ = [list(c) for c in f["latent_columns"]]
        joint.columns_ = list(f["columns"])
        joint.shrinkage_ = f["shrinkage"]
        joint.n_days_ = f["n_days"]
        return joint
