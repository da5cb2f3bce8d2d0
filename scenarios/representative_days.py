"""Representative days of a year of time series (one or several sites jointly), selected with tsam.

Typical days with the number of days each stands for, extreme days kept (peak price, lowest
renewables), the day -> typical-day mapping and the aggregation error in the data's own units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import tsam
from tsam import ClusterConfig, ExtremeConfig

from .scenario_set import ScenarioSet

__all__ = ["RepresentativeDays", "select_representative_days"]

_PRICE_PREFIXES = ("p0_eur_per_mwh",)
_RENEWABLE_PREFIXES = ("pv_kw_per_kwp", "wind_kw_per_turbine")


@dataclass(frozen=True, eq=False)
class RepresentativeDays:
    """Typical days standing for a longer record.

    Attributes
    ----------
    profiles : list of frames, one per typical day (timesteps x columns, in the input's units).
    weights : ndarray (typical days,), number of input days each represents; sums to the number
        of input days.
    day_to_cluster : Series, index = input day (date, or day number for a non-datetime index),
        value = index of its typical day.
    extreme_days : indices of the typical days added as extremes (each stands for one day).
    error : frame per column: ``rmse`` and ``mae`` of the reconstructed series in the input's
        units, ``rmse_normalised`` (tsam's accuracy on min-max normalised data), ``mean_input``,
        ``mean_represented`` (``sum_k w_k mean(profile_k) / n_days``), ``mean_relative_error``,
        ``total_input`` and ``total_represented`` (sums over all timesteps, same units x timesteps).
    reconstructed : frame of the input's shape, each day replaced by its typical day.
    timestep_hours : length of a timestep in hours; timesteps_per_day : timesteps per day.
    """

    profiles: list
    weights: np.ndarray
    day_to_cluster: pd.Series
    extreme_days: tuple
    error: pd.DataFrame
    reconstructed: pd.DataFrame = field(repr=False)
    timestep_hours: float = 1.0
    timesteps_per_day: int = 24
    metadata: dict = field(default_factory=dict, repr=False)

    @property
    def n_days(self) -> int:
        return len(self.profiles)

    @property
    def columns(self) -> list:
        return list(self.profiles[0].columns)

    @property
    def probabilities(self) -> np.ndarray:
        """Weights over their sum: the share of the record each typical day stands for."""
        return self.weights / self.weights.sum()

    def profiles_frame(self) -> pd.DataFrame:
        """All typical days stacked with a (day, timestep) index."""
        return pd.concat(self.profiles, keys=range(self.n_days), names=["day", "timestep"])

    def to_scenario_set(self, start=None) -> ScenarioSet:
        """Typical days as scenarios (``day0``, ``day1``...) with probabilities = weights / days."""
        values = np.stack([p.to_numpy(dtype=float) for p in self.profiles])
        return ScenarioSet(
            values,
            self.probabilities,
            tuple(self.columns),
            tuple(f"day{k}" for k in range(self.n_days)),
            self.timestep_hours,
            start,
            {"source": "representative_days", "weights_days": [float(w) for w in self.weights]},
        )


def _auto_extremes(columns):
    peak = [c for c in columns if c.startswith(_PRICE_PREFIXES)]
    low = [c for c in columns if c.startswith(_RENEWABLE_PREFIXES)]
    return peak, low


def select_representative_days(
    data: pd.DataFrame,
    n_days: int,
    *,
    peak_value_columns=None,
    low_period_columns=None,
    low_value_columns=(),
    peak_period_columns=(),
    extreme_method: str = "append",
    method: str = "hierarchical",
    representation: str | None = None,
    preserve_column_means: bool = True,
    column_weights: dict | None = None,
    timestep_hours: float | None = None,
    hours_per_day: float = 24,
    random_state: int | None = 0,
    n_init: int = 10,
) -> RepresentativeDays:
    """Select ``n_days`` typical days of ``data`` with tsam (4.x function API ``tsam.aggregate``).

    ``data`` is a frame with one column per quantity (several sites side by side are aggregated
    jointly, so their coincidence is kept), a regular time index and a whole number of days.
    Extreme days are kept as extra typical days (tsam's extreme periods, ``extreme_method`` =
    ``"append"``, ``"replace"`` or ``"new_cluster"``): the day of the highest value of each
    ``peak_value_columns`` and the day of the lowest daily mean of each ``low_period_columns``.
    By default (None) these are the ``p0_eur_per_mwh`` columns and the ``pv_kw_per_kwp:*`` /
    ``wind_kw_per_turbine:*`` columns present; pass ``[]`` for none. ``low_value_columns`` and
    ``peak_period_columns`` add days of lowest value / highest daily mean.

    ``method`` is a tsam clustering method (``"hierarchical"`` -- deterministic, medoid days, the
    default --, ``"kmeans"`` seeded with ``random_state`` and ``n_init``, ``"kmedoids"``, ...);
    ``representation`` as in tsam (None = tsam's default for the method). With
    ``preserve_column_means`` tsam rescales the typical days so the weighted column means equal the
    input's. ``timestep_hours`` is inferred from a DatetimeIndex (else 1).
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (time x columns); got {type(data).__name__}")
    if data.shape[1] == 0 or data.shape[0] == 0:
        raise ValueError("data must have at least one column and one row")
    if data.isna().any().any():
        bad = list(data.columns[data.isna().any()])
        raise ValueError(f"data has missing values in columns {bad}; fill or drop them first")
    try:
        data = data.astype(float)
    except (TypeError, ValueError):
        raise ValueError("data must hold numeric columns only") from None
    data.columns = [str(c) for c in data.columns]
    if timestep_hours is None:
        if isinstance(data.index, pd.DatetimeIndex) and len(data.index) > 1:
            timestep_hours = (data.index[1] - data.index[0]).total_seconds() / 3600.0
        else:
            timestep_hours = 1.0
    steps = hours_per_day / timestep_hours
    if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
        raise ValueError(
            f"hours_per_day ({hours_per_day}) must be a whole number of timesteps of {timestep_hours} h"
        )
    steps = int(round(steps))
    if len(data) % steps:
        raise ValueError(
            f"data must cover a whole number of days: {len(data)} rows is not a multiple of {steps} "
            "timesteps per day; trim it"
        )
    n_input_days = len(data) // steps
    if isinstance(n_days, bool) or not isinstance(n_days, (int, np.integer)) or not 1 <= n_days <= n_input_days:
        raise ValueError(f"n_days must be an int between 1 and the {n_input_days} days of data; got {n_days!r}")

    auto_peak, auto_low = _auto_extremes(data.columns)
    peak = auto_peak if peak_value_columns is None else list(peak_value_columns)
    low = auto_low if low_period_columns is None else list(low_period_columns)
    missing = sorted(set(peak) | set(low) | set(low_value_columns) | set(peak_period_columns))
    missing = [c for c in missing if c not in data.columns]
    if missing:
        raise ValueError(f"extreme-day columns {missing} are not columns of data ({list(data.columns)})")
    extremes = ExtremeConfig(method=extreme_method, max_value=peak, min_period=low,
                             min_value=list(low_value_columns), max_period=list(peak_period_columns))

    if method == "kmeans":
        cluster_method = tsam.KMeans(n_init=n_init, random_state=random_state)
    else:
        cluster_method = method
    cluster = ClusterConfig(method=cluster_method, representation=representation)

    frame = data
    if not isinstance(frame.index, pd.DatetimeIndex):
        frame = data.set_axis(pd.date_range("2001-01-01", periods=len(data), freq=pd.Timedelta(hours=timestep_hours)))
    result = tsam.aggregate(
        frame,
        int(n_days),
        period_duration=hours_per_day,
        temporal_resolution=timestep_hours,
        cluster=cluster,
        extremes=extremes if extremes.has_extremes() else None,
        weights=column_weights,
        preserve_column_means=preserve_column_means,
    )

    reps = result.cluster_representatives
    clusters = sorted(reps.index.get_level_values(0).unique())
    profiles = [reps.xs(k, level=0).reset_index(drop=True).rename_axis("timestep") for k in clusters]
    counts = result.cluster_counts
    weights = np.array([float(counts.get(k, 0.0)) for k in clusters])
    position = {k: i for i, k in enumerate(clusters)}
    assignment = np.array([position[k] for k in result.cluster_assignments])
    if isinstance(data.index, pd.DatetimeIndex):
        day_index = pd.Index(data.index[::steps].normalize(), name="day")
    else:
        day_index = pd.RangeIndex(n_input_days, name="day")
    day_to_cluster = pd.Series(assignment, index=day_index, name="typical_day")
    extreme_raw = getattr(result.clustering, "extreme_cluster_indices", None) or ()
    extreme_days = tuple(sorted(position[k] for k in extreme_raw if k in position))

    # reconstruction and errors in the input's own units, computed here from the profiles
    stacked = np.stack([p.to_numpy() for p in profiles])  # (K, steps, columns)
    recon_values = stacked[assignment].reshape(len(data), data.shape[1])
    reconstructed = pd.DataFrame(recon_values, index=data.index, columns=data.columns)
    residual = reconstructed - data
    mean_represented = (weights @ stacked.mean(axis=1)) / weights.sum()
    mean_input = data.mean().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(np.abs(mean_input) > 0, (mean_represented - mean_input) / np.abs(mean_input),
                            mean_represented - mean_input)
    try:
        rmse_normalised = result.accuracy.rmse.reindex(data.columns).to_numpy()
    except Exception:  # pragma: no cover - accuracy is optional information
        rmse_normalised = np.full(data.shape[1], np.nan)
    error = pd.DataFrame(
        {
            "rmse": np.sqrt((residual ** 2).mean()).to_numpy(),
            "mae": residual.abs().mean().to_numpy(),
            "rmse_normalised": rmse_normalised,
            "mean_input": mean_input,
            "mean_represented": mean_represented,
            "mean_relative_error": relative,
            "total_input": data.sum().to_numpy(),
            "total_represented": (weights @ stacked.sum(axis=1)),
        },
        index=pd.Index(data.columns, name="column"),
    )
    return RepresentativeDays(
        profiles=profiles,
        weights=weights,
        day_to_cluster=day_to_cluster,
        extreme_days=extreme_days,
        error=error,
        reconstructed=reconstructed,
        timestep_hours=float(timestep_hours),
        timesteps_per_day=steps,
        metadata={"method": method, "extreme_method": extreme_method, "peak_value_columns": peak,
                  "low_period_columns": low, "preserve_column_means": preserve_column_means},
    )
