"""The linear battery fade model of sizing: per year, state of health falls by a calendar term and a term
per full equivalent cycle; the battery is replaced (SoH back to 1) right after the year in which it
crosses the end-of-life threshold (the rule the sizing MILP enforces)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LinearBatteryAgeing:
    """SoH(y + 1) = SoH(y) - calendar_fade_per_year - cycle_fade_per_cycle x full cycles in year y."""

    calendar_fade_per_year: float
    cycle_fade_per_cycle: float
    end_of_life_soh: float = 0.8

    @classmethod
    def from_battery(cls, battery) -> "LinearBatteryAgeing":
        return cls(battery.calendar_fade_per_year, battery.cycle_fade_per_cycle, battery.end_of_life_soh)

    def path(self, full_cycles_per_year, replace: bool = True) -> pd.DataFrame:
        """Year-by-year SoH (start and end of each year) and replacements for given yearly cycles."""
        cycles = np.asarray(full_cycles_per_year, dtype=float)
        soh, rows = 1.0, []
        replace_next = False
        for y, n in enumerate(cycles):
            replaced = False
            if replace_next:
                soh, replaced, replace_next = 1.0, True, False
            end = soh - self.calendar_fade_per_year - self.cycle_fade_per_cycle * n
            rows.append({"year": y, "soh_start": soh, "soh_end": end, "full_cycles": n, "replaced": replaced})
            if replace and end < self.end_of_life_soh:
                replace_next = True
            soh = end
        return pd.DataFrame(rows)

    def replacement_years(self, full_cycles_per_year) -> list[int]:
        p = self.path(full_cycles_per_year)
        return [int(y) for y in p.year[p.replaced]]

    def years_to_end_of_life(self, full_cycles_per_year_constant: float) -> float:
        per_year = self.calendar_fade_per_year + self.cycle_fade_per_cycle * full_cycles_per_year_constant
        return (1.0 - self.end_of_life_soh) / per_year if per_year > 0 else float("inf")
