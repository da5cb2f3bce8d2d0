"""Economics of sizing: discount factors, unit costs over time, salvage fractions, annuities and LCOE.

Conventions: investments at time 0; year ``y`` (0-based) of operation is paid at its end, discounted by
``(1 + r) ** -(y + 1)``; a battery replacement at the start of year ``y`` is discounted by
``(1 + r) ** -y`` and costs ``capex * (1 - decline) ** y``; the salvage value at the end of the horizon
``Y`` is discounted by ``(1 + r) ** -Y``.
"""

from __future__ import annotations

import numpy as np


def year_discount_factors(years: int, rate: float) -> np.ndarray:
    """Discount factor of each year's operating cash flow, paid at the end of the year."""
    return (1.0 + rate) ** -(np.arange(years) + 1.0)


def start_discount_factors(years: int, rate: float) -> np.ndarray:
    """Discount factor of a cash flow at the start of each year (replacements)."""
    return (1.0 + rate) ** -np.arange(years, dtype=float)


def end_discount_factor(years: int, rate: float) -> float:
    return float((1.0 + rate) ** -years)


def annuity_factor(years: int, rate: float) -> float:
    """Present value of 1 EUR paid at the end of each of ``years`` years."""
    return float(year_discount_factors(years, rate).sum())


def capital_recovery_factor(years: int, rate: float) -> float:
    """Yearly payment equivalent to 1 EUR today over ``years`` years (annualised cost = NPV x CRF)."""
    return 1.0 / annuity_factor(years, rate)


def battery_unit_cost_eur_per_kwh(economics, year: int) -> float:
    """Battery energy cost (EUR/kWh) for a purchase at the start of ``year`` (cost decline per year)."""
    return float(economics.battery_capex_eur_per_kwh) * (1.0 - economics.battery_cost_decline_per_year) ** year


def linear_salvage_fraction(lifetime_years: float, horizon_years: int, salvage: str = "linear") -> float:
    """Share of the purchase cost left at the end of the horizon (straight-line over the lifetime)."""
    if salvage == "none":
        return 0.0
    return max(0.0, 1.0 - horizon_years / float(lifetime_years))


def year_blocks(years: int, years_per_block: int | None) -> list[list[int]]:
    """Years grouped into consecutive blocks operated with the same representative days."""
    if years_per_block is None or years_per_block <= 0:
        years_per_block = 1
    return [list(range(s, min(years, s + years_per_block))) for s in range(0, years, years_per_block)]


def derate_by_block(blocks: list[list[int]], rate: float) -> np.ndarray:
    """Mean output factor ``(1 - rate) ** year`` over the years of each block."""
    return np.array([np.mean([(1.0 - rate) ** y for y in block]) for block in blocks])
