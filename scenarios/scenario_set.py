"""A scenario set: equally shaped paths of uncertain quantities, with probabilities and names.

Values have shape (scenarios, periods, variables). Names end in digits, as mpi-sppy requires.
A set round-trips to Parquet in a tidy layout (scenario, period, variable, value, probability).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_NAME_ENDS_IN_DIGITS = re.compile(r".*\d$")


@dataclass(frozen=True)
class ScenarioSet:
    """Scenarios of a multivariate hourly (or any period) process.

    Attributes
    ----------
    values : ndarray (n_scenarios, n_periods, n_variables)
    probabilities : ndarray (n_scenarios,), non-negative, summing to 1
    variables : names of the variables, with units in the name
        (``p0_eur_per_mwh``, ``pv_kw_per_kwp:foundry``, ``wind_kw_per_turbine:foundry``).
    names : scenario names ending in digits (``scen0``, ``scen1``...).
    period_hours : length of one period in hours.
    start : timestamp of the first period (optional, informative).
    """

    values: np.ndarray
    probabilities: np.ndarray
    variables: tuple[str, ...]
    names: tuple[str, ...] = ()
    period_hours: float = 1.0
    start: pd.Timestamp | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 3:
            raise ValueError(
                f"ScenarioSet.values must have shape (scenarios, periods, variables); got {values.shape}"
            )
        n_scenarios, _, n_variables = values.shape
        probabilities = np.asarray(self.probabilities, dtype=float).reshape(-1)
        if probabilities.shape != (n_scenarios,):
            raise ValueError(
                f"ScenarioSet.probabilities must have one entry per scenario ({n_scenarios}); "
                f"got {probabilities.shape[0]}"
            )
        if np.any(probabilities < 0) or not np.isclose(probabilities.sum(), 1.0, atol=1e-9):
            raise ValueError(
                "ScenarioSet.probabilities must be non-negative and sum to 1; "
                f"they sum to {probabilities.sum():.12g}"
            )
        variables = tuple(self.variables)
        if len(variables) != n_variables or len(set(variables)) != n_variables:
            raise ValueError(
                f"ScenarioSet.variables must name each of the {n_variables} variables once; got {variables}"
            )
        names = tuple(self.names) if self.names else tuple(f"scen{i}" for i in range(n_scenarios))
        if len(names) != n_scenarios or len(set(names)) != n_scenarios:
            raise ValueError("ScenarioSet.names must give one distinct name per scenario")
        bad = [n for n in names if not _NAME_ENDS_IN_DIGITS.match(n)]
        if bad:
            raise ValueError(
                f"ScenarioSet.names must end in digits (mpi-sppy requires it); fix {bad[:3]}"
            )
        if not self.period_hours > 0:
            raise ValueError(f"ScenarioSet.period_hours must be > 0; got {self.period_hours}")
        if not np.all(np.isfinite(values)):
            raise ValueError("ScenarioSet.values contain NaN or infinite entries")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "probabilities", probabilities)
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "names", names)
        if self.start is not None:
            object.__setattr__(self, "start", pd.Timestamp(self.start))

    # -- shape ---------------------------------------------------------------------------
    @property
    def n_scenarios(self) -> int:
        return self.values.shape[0]

    @property
    def n_periods(self) -> int:
        return self.values.shape[1]

    def __len__(self) -> int:
        return self.n_scenarios

    def __getitem__(self, variable: str) -> np.ndarray:
        """Array (scenarios, periods) of one variable."""
        try:
            return self.values[:, :, self.variables.index(variable)]
        except ValueError:
            raise KeyError(
                f"no variable {variable!r} in this scenario set; it has {list(self.variables)}"
            ) from None

    def scenario(self, name: str) -> pd.DataFrame:
        """One scenario as a frame (periods x variables)."""
        i = self.names.index(name)
        return pd.DataFrame(self.values[i], columns=list(self.variables))

    def mean(self) -> np.ndarray:
        """Probability-weighted mean path, shape (periods, variables)."""
        return np.tensordot(self.probabilities, self.values, axes=1)

    # -- derived sets --------------------------------------------------------------------
    def subset(self, indices, probabilities=None) -> "ScenarioSet":
        """The scenarios at ``indices`` with new probabilities (renormalised by default)."""
        indices = np.asarray(indices, dtype=int)
        p = self.probabilities[indices] if probabilities is None else np.asarray(probabilities, float)
        p = p / p.sum()
        return ScenarioSet(
            self.values[indices],
            p,
            self.variables,
            tuple(self.names[i] for i in indices),
            self.period_hours,
            self.start,
            dict(self.metadata),
        )

    def select_variables(self, variables) -> "ScenarioSet":
        idx = [self.variables.index(v) for v in variables]
        return ScenarioSet(
            self.values[:, :, idx], self.probabilities, tuple(variables), self.names,
            self.period_hours, self.start, dict(self.metadata),
        )

    def with_variables(self, other: "ScenarioSet") -> "ScenarioSet":
        """Join the variables of another set with the same scenarios and periods."""
        if other.values.shape[:2] != self.values.shape[:2]:
            raise ValueError("cannot join scenario sets of different shapes")
        return ScenarioSet(
            np.concatenate([self.values, other.values], axis=2),
            self.probabilities,
            self.variables + other.variables,
            self.names,
            self.period_hours,
            self.start,
            {**self.metadata, **other.metadata},
        )

    # -- tidy frames and Parquet ----------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: scenario, probability, period, variable, value."""
        s, t, v = self.values.shape
        return pd.DataFrame(
            {
                "scenario": np.repeat(np.array(self.names, dtype=object), t * v),
                "probability": np.repeat(self.probabilities, t * v),
                "period": np.tile(np.repeat(np.arange(t), v), s),
                "variable": np.tile(np.array(self.variables, dtype=object), s * t),
                "value": self.values.reshape(-1),
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, period_hours: float = 1.0, start=None,
                   metadata: dict | None = None) -> "ScenarioSet":
        required = {"scenario", "probability", "period", "variable", "value"}
        missing = required - set(frame.columns)
        if missing:
            raise ValueError(f"scenario frame lacks columns {sorted(missing)}")
        names = list(dict.fromkeys(frame["scenario"]))
        variables = list(dict.fromkeys(frame["variable"]))
        periods = np.sort(frame["period"].unique())
        cube = (
            frame.pivot_table(index=["scenario", "period"], columns="variable", values="value")
            .reindex(pd.MultiIndex.from_product([names, periods], names=["scenario", "period"]))
            [variables]
        )
        values = cube.to_numpy().reshape(len(names), len(periods), len(variables))
        probs = frame.groupby("scenario", sort=False)["probability"].first().reindex(names).to_numpy()
        return cls(values, probs, tuple(variables), tuple(names), period_hours, start, metadata or {})

    def to_parquet(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.to_frame()
        meta = {
            "period_hours": self.period_hours,
            "start": None if self.start is None else self.start.isoformat(),
            "metadata": self.metadata,
        }
        frame.attrs = {}
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"scenario_set": json.dumps(meta).encode()}
        )
        pq.write_table(table, path)
        return path

    @classmethod
    def from_parquet(cls, path) -> "ScenarioSet":
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(b"scenario_set", b"{}"))
        return cls.from_frame(
            table.to_pandas(),
            period_hours=meta.get("period_hours", 1.0),
            start=meta.get("start"),
            metadata=meta.get("metadata", {}),
        )
