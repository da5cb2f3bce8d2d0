"""Replaying an optimised battery dispatch through BLAST-Lite (NREL's battery-life models) and
recalibrating the linear fade coefficients of sizing until the two agree.

The year of operation is rebuilt from the typical days (each calendar day replaced by the typical day
standing for it), turned into a state-of-charge series and repeated for the number of years asked, at a
given cell temperature. BLAST-Lite's relative capacity ``q`` is the physical state of health.
Recalibration: the calendar coefficient is the least-squares slope (through 1 at year 0) of a BLAST
replay at rest at the dispatch's mean SoC; the cycle coefficient puts the rest of BLAST's fade over the
replayed years on the full equivalent cycles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# chemistry of the case -> BLAST-Lite cell model
CHEMISTRY_MODELS = {
    "lfp": "Lfp_Gr_250AhPrismatic",
    "nmc": "Nmc111_Gr_Kokam75Ah_Battery",
    "nca": "Nca_Gr_Panasonic3Ah_Battery",
}


def blast_model(chemistry: str):
    """A fresh BLAST-Lite cell model for the case's chemistry ('lfp', 'nmc', 'nca')."""
    import blast.models as models  # BLAST-Lite takes ~1.5 s to import: only the replay needs it

    if chemistry not in CHEMISTRY_MODELS:
        raise ValueError(f"chemistry must be one of {sorted(CHEMISTRY_MODELS)}; got {chemistry!r}")
    return getattr(models, CHEMISTRY_MODELS[chemistry])()


def soc_year_from_dispatch(soc_kwh_days: np.ndarray, day_of_year, usable_capacity_kwh: float,
                           soc_min_fraction: float) -> np.ndarray:
    """Hourly SoC (fraction) over a year from the typical days' SoC above minimum (kWh, (days, 24))."""
    soc = np.asarray(soc_kwh_days, dtype=float)[np.asarray(day_of_year, dtype=int)].reshape(-1)
    cap = max(float(usable_capacity_kwh), 1e-9)
    return np.clip(soc_min_fraction + soc / cap, 0.0, 1.0)


def full_cycles(soc_fraction: np.ndarray) -> float:
    """Full equivalent cycles of a SoC series (discharged energy / capacity)."""
    d = np.diff(np.asarray(soc_fraction, dtype=float))
    return float(-d[d < 0].sum())


def replay_soc(soc_fraction_year, chemistry: str, years: int = 10, temperature_c: float = 25.0) -> pd.DataFrame:
    """BLAST-Lite state of health at the end of each year when the year's SoC series repeats."""
    soc = np.asarray(soc_fraction_year, dtype=float)
    soc = np.append(soc, soc[0])
    t = np.arange(len(soc), dtype=float) * 3600.0
    cell = blast_model(chemistry)
    cell.simulate_battery_life({"Time_s": t, "SOC": soc, "Temperature_C": np.full(len(soc), float(temperature_c))},
                               threshold_time=years)
    t_years = np.asarray(cell.stressors["t_days"], dtype=float) / 365.0
    q = np.asarray(cell.outputs["q"], dtype=float)
    rows = [{"year": y, "soh_blast": float(np.interp(y, t_years, q))} for y in range(years + 1)]
    return pd.DataFrame(rows)


def recalibrate_from_dispatch(soc_fraction_year, chemistry: str, years: int = 10, temperature_c: float = 25.0):
    """Linear coefficients (calendar fade per year, cycle fade per full cycle) matching BLAST-Lite on
    this dispatch; returns (calendar, cycle, replay table with the linear SoH next to BLAST's)."""
    soc = np.asarray(soc_fraction_year, dtype=float)
    fec = full_cycles(np.append(soc, soc[0]))
    replay = replay_soc(soc, chemistry, years, temperature_c)
    rest = replay_soc(np.full(len(soc), float(np.mean(soc))), chemistry, years, temperature_c)
    y = rest["year"].to_numpy(dtype=float)
    fade_rest = 1.0 - rest["soh_blast"].to_numpy()
    calendar = float((y @ fade_rest) / (y @ y))
    total = 1.0 - float(replay["soh_blast"].iloc[-1])
    cycle = max(0.0, (total - calendar * years) / (fec * years)) if fec > 1e-9 else 0.0
    if fec <= 1e-9:
        calendar = total / years
    replay["soh_linear"] = 1.0 - (calendar + cycle * fec) * replay["year"]
    replay["full_cycles_per_year"] = fec
    return calendar, cycle, replay
