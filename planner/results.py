"""Results of optimisations: every output carries its lower and upper bounds and the gap between them."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd


def relative_gap(lower_bound: float, upper_bound: float) -> float:
    """(UB - LB) / max(|UB|, 1e-9); inf when a bound is missing."""
    if lower_bound is None or upper_bound is None or not all(map(math.isfinite, (lower_bound, upper_bound))):
        return math.inf
    return (upper_bound - lower_bound) / max(abs(upper_bound), 1e-9)


@dataclass
class SolveResult:
    """Bounds of a minimisation: ``lower_bound <= optimum <= upper_bound`` (objective in EUR)."""

    lower_bound: float
    upper_bound: float
    status: str
    time_s: float
    method: str = ""
    first_stage: dict = field(default_factory=dict)
    iterations: int | None = None
    log: list = field(default_factory=list)

    def __post_init__(self):
        if (self.lower_bound is not None and self.upper_bound is not None
                and math.isfinite(self.lower_bound) and math.isfinite(self.upper_bound)
                and self.lower_bound > self.upper_bound):
            tol = 1e-7 * max(1.0, abs(self.upper_bound))
            if self.lower_bound - self.upper_bound > tol:
                raise ValueError(f"lower bound {self.lower_bound} exceeds upper bound {self.upper_bound}")
            self.lower_bound = self.upper_bound

    @property
    def gap(self) -> float:
        """Relative gap (UB - LB) / |UB|."""
        return relative_gap(self.lower_bound, self.upper_bound)

    def summary(self) -> str:
        return (f"{self.method} {self.status}: LB {self.lower_bound:,.2f}  UB {self.upper_bound:,.2f}  "
                f"gap {100 * self.gap:.3f} %  time {self.time_s:.1f} s")


@dataclass
class PlanResult(SolveResult):
    """A day-ahead plan: bounds, first-stage decisions, dispatch per scenario and stochastic measures.

    ``day_ahead`` frame: period x zone (kW); ``schedule``: site, line, period, material, run fraction
    (of the scenario ``schedule_scenario`` when the schedule is recourse); ``dispatch``: scenario ->
    frame (period x quantities); ``measures``: EV, EEV, VSS, WS, EVPI, RP (EUR).
    """

    day_ahead: pd.DataFrame | None = None
    schedule: pd.DataFrame | None = None
    dispatch: dict = field(default_factory=dict)
    measures: dict = field(default_factory=dict)
    n_scenarios: int = 0
    case_name: str = ""
    period_hours: float = 1.0
    probabilities: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "method": self.method, "status": self.status, "lower_bound": self.lower_bound,
            "upper_bound": self.upper_bound, "gap": self.gap, "time_s": self.time_s,
            "iterations": self.iterations, "n_scenarios": self.n_scenarios, "case": self.case_name,
            "measures": self.measures,
            "day_ahead_kw": None if self.day_ahead is None else self.day_ahead.to_dict(orient="list"),
        }

    def save(self, output_dir) -> Path:
        """Write summary.json, day_ahead.csv, schedule.csv and dispatch_<scenario>.csv."""
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.to_dict(), indent=2, default=float))
        if self.day_ahead is not None:
            self.day_ahead.to_csv(out / "day_ahead.csv", index_label="period")
        if self.schedule is not None:
            self.schedule.to_csv(out / "schedule.csv", index=False)
        for name, frame in self.dispatch.items():
            frame.to_csv(out / f"dispatch_{name}.csv", index_label="period")
        return out
