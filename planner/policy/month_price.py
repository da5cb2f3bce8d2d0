"""The daily price level of the month policy: an AR(1) with multiplicative noise on the daily mean
day-ahead price, fitted on France prices up to 2021-12-31, used as the SDDP objective state.

    level_d = (intercept + persistence * level_{d-1}) * z_d,      E[z_d] = 1

The update is affine in the previous level for every noise value, which is what keeps the SDDP cost-to-go
concave in the level (``sddp.objective_state``); the noise is multiplicative because the price
volatility grows with the level (calm years and the 2021 crisis are fitted together). Fit: least
squares of level_d on level_{d-1} over the daily means 2015-01-05 .. 2021-12-31, levels floored at
``LEVEL_FLOOR_EUR_PER_MWH`` before taking the ratios z (a near-zero mean would make z explode), z then
rescaled to mean 1. The fitted values are committed in ``data/calibrated/price_level_france.json``;
``python -m planner.policy.month_price`` derives them again from ``../shared/data`` (never from 2022
or 2023 data).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEVEL_FILE = PROJECT_ROOT / "data" / "calibrated" / "price_level_france.json"
SOURCE_FILE = PROJECT_ROOT.parent / "shared" / "data" / "prices" / "entsoe_FR_2015_2023.csv"
FIT_END = "2022-01-01"          # exclusive: fit on data up to 2021-12-31
LEVEL_FLOOR_EUR_PER_MWH = 5.0
N_QUANTILES = 101


@dataclass
class PriceLevelProcess:
    """level_d = (intercept + persistence * level_{d-1}) * z_d (module docstring).

    ``z_quantiles``: quantiles 0, 1, ..., 100 % of the fitted ratios (mean 1), sampled by inversion;
    ``level_quantiles``: the same of the fitted daily levels (the range of the objective state)."""

    intercept_eur_per_mwh: float
    persistence: float
    z_quantiles: np.ndarray
    level_quantiles: np.ndarray
    fitted_on: str = ""

    def __post_init__(self):
        self.z_quantiles = np.asarray(self.z_quantiles, dtype=float)
        self.level_quantiles = np.asarray(self.level_quantiles, dtype=float)
        if not 0.0 <= self.persistence < 1.0:
            raise ValueError(f"price level persistence = {self.persistence}: must be in [0, 1) (a stationary AR(1))")
        if np.any(self.z_quantiles < 0) or np.any(np.diff(self.z_quantiles) < 0):
            raise ValueError("price level z_quantiles must be non-negative and non-decreasing")

    @property
    def stationary_level_eur_per_mwh(self) -> float:
        """Long-run mean level, intercept / (1 - persistence) (E[z] = 1)."""
        return self.intercept_eur_per_mwh / (1.0 - self.persistence)

    def next_level(self, previous, z):
        """The update of the objective state (affine in ``previous`` for a given ``z``)."""
        return (self.intercept_eur_per_mwh + self.persistence * previous) * z

    def z_support(self, n_points: int):
        """A discrete noise of ``n_points`` equally likely values: the conditional means of z within
        ``n_points`` equal-probability bins of the fitted quantile function (its mean is E[z] = 1)."""
        if not (isinstance(n_points, (int, np.integer)) and n_points >= 1):
            raise ValueError(f"price level noise points = {n_points!r}: must be a whole number >= 1")
        grid = np.linspace(0.0, 1.0, 2001)
        qf = np.interp(grid, np.linspace(0.0, 1.0, len(self.z_quantiles)), self.z_quantiles)
        mids = 0.5 * (qf[1:] + qf[:-1])
        bins = np.array_split(mids, n_points)
        values = np.array([b.mean() for b in bins])
        return values / values.mean(), np.full(n_points, 1.0 / n_points)

    def sample_z(self, shape, rng: np.random.Generator) -> np.ndarray:
        """Draws of z by inversion of the fitted quantile function."""
        u = rng.random(shape)
        return np.interp(u, np.linspace(0.0, 1.0, len(self.z_quantiles)), self.z_quantiles)

    def sample_levels(self, n_paths: int, n_days: int, initial_level: float, rng: np.random.Generator):
        """(n_paths, n_days) daily levels starting from the level of the day before ``initial_level``."""
        z = self.sample_z((n_paths, n_days), rng)
        out = np.empty((n_paths, n_days))
        prev = np.full(n_paths, float(initial_level))
        for d in range(n_days):
            prev = self.next_level(prev, z[:, d])
            out[:, d] = prev
        return out

    # -- fit and files ------------------------------------------------------------------------
    @classmethod
    def fit(cls, daily_levels: pd.Series) -> "PriceLevelProcess":
        """Fit on a series of daily mean prices (EUR/MWh) indexed by day; refuses data from 2022 on."""
        s = pd.Series(daily_levels).dropna()
        if len(s) < 30:
            raise ValueError(f"price level fit: {len(s)} days; give at least 30 daily mean prices")
        if isinstance(s.index, pd.DatetimeIndex) and s.index.max() >= pd.Timestamp(FIT_END):
            raise ValueError(f"price level fit: data up to {s.index.max().date()}; fit on data up to 2021-12-31 "
                             "only (2022 is the evaluation period, 2023 the final check)")
        level = np.maximum(s.to_numpy(dtype=float), LEVEL_FLOOR_EUR_PER_MWH)
        x, y = level[:-1], level[1:]
        design = np.vstack([np.ones_like(x), x]).T
        intercept, persistence = np.linalg.lstsq(design, y, rcond=None)[0]
        z = y / (intercept + persistence * x)
        z = z / z.mean()
        q = np.linspace(0.0, 1.0, N_QUANTILES)
        return cls(float(intercept), float(persistence), np.quantile(z, q), np.quantile(level, q),
                   f"{s.index.min()} .. {s.index.max()} ({len(s)} days)")

    def to_dict(self) -> dict:
        return {"model": "level_d = (intercept + persistence * level_{d-1}) * z_d, E[z] = 1",
                "intercept_eur_per_mwh": self.intercept_eur_per_mwh, "persistence": self.persistence,
                "z_quantiles": self.z_quantiles.round(6).tolist(),
                "level_quantiles_eur_per_mwh": self.level_quantiles.round(4).tolist(),
                "fitted_on": self.fitted_on, "derived_by": "python -m planner.policy.month_price"}

    @classmethod
    def from_dict(cls, data: dict) -> "PriceLevelProcess":
        return cls(data["intercept_eur_per_mwh"], data["persistence"], data["z_quantiles"],
                   data["level_quantiles_eur_per_mwh"], data.get("fitted_on", ""))


def load_price_level(path=LEVEL_FILE) -> PriceLevelProcess:
    """The committed fit (``data/calibrated/price_level_france.json``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"price level parameters {path} not found; derive them with "
                                "`python -m planner.policy.month_price`")
    return PriceLevelProcess.from_dict(json.loads(path.read_text()))


def daily_levels_from_entsoe(path=SOURCE_FILE, end: str = FIT_END) -> pd.Series:
    """Daily mean day-ahead price (EUR/MWh) of the ENTSO-E France extract before ``end``."""
    frame = pd.read_csv(path, usecols=[0, 1])
    frame.columns = ["time", "price"]
    frame["time"] = pd.to_datetime(frame["time"], format="%m/%d/%Y %H:%M")
    frame = frame[frame["time"] < pd.Timestamp(end)]
    return frame.set_index("time")["price"].resample("D").mean().dropna()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Fit the daily price-level AR(1) on France prices up to 2021.")
    parser.add_argument("--source", default=str(SOURCE_FILE))
    parser.add_argument("--out", default=str(LEVEL_FILE))
    args = parser.parse_args(argv)
    process = PriceLevelProcess.fit(daily_levels_from_entsoe(args.source))
    Path(args.out).write_text(json.dumps(process.to_dict(), indent=1) + "\n")
    print(f"intercept {process.intercept_eur_per_mwh:.4f} EUR/MWh, persistence {process.persistence:.5f}, "
          f"stationary level {process.stationary_level_eur_per_mwh:.2f} EUR/MWh; written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
