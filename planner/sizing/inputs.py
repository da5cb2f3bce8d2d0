"""Inputs of the sizing model: yearly hourly scenarios (price year x weather year) per site, and their
representative days (tsam, chosen jointly across sites, extreme days kept, weights, months covered).

A scenario is one calendar year (365 days, hourly, local time) of day-ahead price p0 (the model derives
the resale price p2 from it with the contract's mean resale terms), PV output per kWp per site, output of one turbine of each candidate type per site, and site demand
(base load + the production lines' average power; ``planner.sizing.lines`` replaces the average by the
lines' day-ahead schedule on each representative day). Prices come from ``scenarios.price.DayAheadPriceModel``
(whole-year unconditional paths, rescaled to a yearly level drawn from the real French yearly means up to
2021: the "level" of a price year; the model gives the "shape"), PV from ``scenarios.pv.PVModel``, wind
speed from ``scenarios.wind.WindModel`` passed through each candidate turbine's power curve.
"""

from __future__ import annotations

import difflib
import json
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from planner.data_sources import metered_year_kw
from planner.load_profiles import day_type, shape_table
from planner.stochastic.names import scenario_names_creator
from scenarios.calibration import read_france_capacity_factors, read_ouessant
from scenarios.history import load_entsoe_fr
from scenarios.price import DayAheadPriceModel
from scenarios.pv import FRANCE_PV_SITE, PVModel
from scenarios.representative_days import select_representative_days
from scenarios.wind import WindModel

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
CALENDAR_YEAR = 2025  # a non-leap year; only the calendar (weekdays, holidays, sun) matters
DEFAULT_PV_MODULE = "Jinko_Solar__Co___Ltd_JKM400M_72L"
# France yearly mean day-ahead prices up to 2021 (the fitting window; README of the shared data, RTE/CRE)
FRANCE_YEARLY_MEAN_PRICE_EUR_PER_MWH = {2015: 38.48, 2016: 36.75, 2017: 44.97, 2018: 50.20, 2019: 39.45,
                                        2020: 32.2, 2021: 109.2}
FIT_END = "2021-12-31"


# ------------------------------------------------------------------------------------------------
# PV modules (pvlib's CEC database, shipped with pvlib: works offline)
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _cec_modules() -> pd.DataFrame:
    return pvlib.pvsystem.retrieve_sam("CECMod").T


def pv_module(name: str | None) -> dict:
    """``{'name', 'kwp', 'area_m2'}`` of a CEC module (STC power and area from pvlib's database)."""
    name = name or DEFAULT_PV_MODULE
    table = _cec_modules()
    if name not in table.index:
        close = difflib.get_close_matches(name, list(table.index), n=3, cutoff=0.5)
        raise ValueError(f"sizing.pv_module = {name!r}: not in pvlib's CEC module database"
                         + (f"; close matches: {close}" if close else ""))
    row = table.loc[name]
    return {"name": name, "kwp": float(row["STC"]) / 1000.0, "area_m2": float(row["A_c"])}


# ------------------------------------------------------------------------------------------------
# Fitted scenario models (committed parameters if present, else fitted on ../shared/data up to 2021)
# ------------------------------------------------------------------------------------------------
def _calibrated_json(folder: Path, model_name: str) -> str | None:
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json")):
        try:
            text = path.read_text()
            if json.loads(text).get("model") == model_name:
                return text
        except Exception:  # not one of ours
            continue
    return None


@lru_cache(maxsize=4)
def fitted_models(parameters: str = "data/calibrated", shared_data: str | None = None) -> dict:
    """Fitted price, PV and wind models: from ``parameters`` JSON files when present, else fitted.

    Fitting uses real data up to 2021-12-31 only: prices on ENTSO-E France 2015-2021; PV on France's
    national capacity factor 2015 (inverted through a representative French system); wind speed on
    Ouessant 2016 (10 m) re-levelled to France's onshore capacity factor 2015.
    """
    folder = Path(parameters)
    if not folder.is_absolute():
        folder = PROJECT_ROOT / folder
    data = Path(shared_data) if shared_data else SHARED_DATA
    out = {}
    text = _calibrated_json(folder, "DayAheadPriceModel")
    if text is not None:
        out["price"] = DayAheadPriceModel.from_dict(json.loads(text))
    text_pv = _calibrated_json(folder, "PVModel")
    if text_pv is not None:
        out["pv"] = text_pv
    text_w = _calibrated_json(folder, "WindModel")
    if text_w is not None:
        out["wind"] = text_w
    missing = [k for k in ("price", "pv", "wind") if k not in out]
    if missing and not data.is_dir():
        raise FileNotFoundError(
            f"no calibrated {missing} model in {folder} and no real data at {data} to fit them; "
            "run `planner calibrate` or provide ../shared/data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "price" not in out:
            history = load_entsoe_fr(data / "prices" / "entsoe_FR_2015_2023.csv")
            out["price"] = DayAheadPriceModel(fit_end=FIT_END).fit(history)
        if "pv" not in out or "wind" not in out:
            cf = read_france_capacity_factors(data, 2015)
            if "pv" not in out:
                out["pv"] = PVModel().fit(cf["PHOT"].rename("pv_kw_per_kwp"), history_site=FRANCE_PV_SITE).to_json()
            if "wind" not in out:
                ou = read_ouessant(data)
                out["wind"] = WindModel("E-82/2300", hub_height_m=80.0).fit(
                    ou[["wind_speed_m_per_s"]], measurement_height_m=10.0,
                    capacity_factor=cf["WTON"].rename("capacity_factor")).to_json()
    return out


# ------------------------------------------------------------------------------------------------
# Demand
# ------------------------------------------------------------------------------------------------
def lines_average_power_kw(site) -> float:
    """Average power of the site's lines to make its daily plan, each material on its cheapest line
    (kWh per tonne = power / rate). Used when the sizing model does not schedule the lines."""
    total_kwh_per_day = 0.0
    for material, t_per_day in site.plan_t_per_day.items():
        if t_per_day <= 0:
            continue
        kwh_per_t = [line.power_kw[material] / line.rate_t_per_h[material]
                     for line in site.lines if material in line.power_kw]
        if kwh_per_t:
            total_kwh_per_day += t_per_day * min(kwh_per_t)
    return total_kwh_per_day / 24.0


def year_base_load_kw(site, year: int = CALENDAR_YEAR) -> np.ndarray:
    """Hourly base load of a site over a calendar year: its metered year (base_load.source), or its
    measured shape by day type."""
    bl = site.base_load
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    if bl.values_kw is not None:
        values = np.asarray(bl.values_kw, dtype=float)
        return np.resize(values, 24 * len(days))
    if bl.source is not None:  # the site's own metered year
        return metered_year_kw(bl.source, year)
    if bl.profile == "flat":
        return np.full(24 * len(days), float(bl.mean_kw))
    table = shape_table()
    sub = table[table.profile == bl.profile]
    hourly = {}
    for dt_name, g in sub.groupby("day_type"):
        q = g.set_index("quarter")["factor"].reindex(range(96)).to_numpy()
        hourly[dt_name] = q.reshape(24, 4).mean(axis=1)
    out = np.concatenate([hourly[day_type(d)] for d in days])
    return float(bl.mean_kw) * out


# ------------------------------------------------------------------------------------------------
# Yearly scenarios
# ------------------------------------------------------------------------------------------------
@dataclass
class SizingScenarios:
    """Hourly years (one frame per scenario, 8760 rows) with probabilities and names."""

    frames: list
    probabilities: np.ndarray
    names: tuple
    price_levels_eur_per_mwh: np.ndarray
    metadata: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.frames)


def candidate_turbines(site) -> list[str]:
    """Turbine types sizing may choose for a site (candidates, plus the types already installed)."""
    types = list(site.sizing.candidate_turbines) if site.sizing is not None else []
    for w in site.microgrid.wind:
        if w.turbine_type not in types:
            types.append(w.turbine_type)
    return types


def build_scenarios(case, n_scenarios: int, random_state=0, price_level_factor: float = 1.0,
                    shared_data: str | None = None) -> SizingScenarios:
    """``n_scenarios`` equiprobable years: price year (level x shape) and weather year, all sites.

    Price levels are drawn (with replacement) from France's yearly means 2015-2021, scaled by
    ``price_level_factor`` (or set around ``case.scenarios.price_level_eur_per_mwh`` when given: the
    level becomes that value times the drawn year's mean over the 2015-2021 average). PV and wind are
    sampled in UTC and shifted by one hour to local winter time (the price calendar).
    """
    if int(n_scenarios) != n_scenarios or n_scenarios < 1:
        raise ValueError(f"n_scenarios must be a positive integer; got {n_scenarios}")
    n = int(n_scenarios)
    rng = np.random.default_rng(random_state)
    models = fitted_models(case.scenarios.parameters, shared_data)
    hist = np.array(list(FRANCE_YEARLY_MEAN_PRICE_EUR_PER_MWH.values()))
    picks = rng.integers(0, len(hist), size=n)
    if case.scenarios.price_level_eur_per_mwh is not None:
        levels = case.scenarios.price_level_eur_per_mwh * hist[picks] / hist.mean()
    else:
        levels = hist[picks].copy()
    levels = levels * float(price_level_factor)
    start = f"{CALENDAR_YEAR}-01-01"
    seeds = rng.integers(0, 2**31 - 1, size=(n, 2 + 2 * len(case.sites)))
    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pv_models = {s.name: PVModel.from_json(models["pv"], latitude=s.latitude, longitude=s.longitude,
                                               tilt_deg=(s.microgrid.pv.tilt_deg if s.microgrid.pv else 30.0),
                                               azimuth_deg=(s.microgrid.pv.azimuth_deg if s.microgrid.pv else 180.0),
                                               site_name=s.name)
                     for s in case.sites}
        wind_models = {}
        for s in case.sites:
            hub = s.sizing.hub_height_m if s.sizing is not None else (
                s.microgrid.wind[0].hub_height_m if s.microgrid.wind else 80.0)
            wind_models[s.name] = WindModel.from_json(models["wind"], hub_height_m=hub, site_name=s.name)
        loads = {s.name: year_base_load_kw(s) + lines_average_power_kw(s) for s in case.sites}
        for k in range(n):
            price = models["price"].sample(1, start=start, years=1, random_state=int(seeds[k, 0]),
                                           price_level_eur_per_mwh=float(levels[k])).values[0, :, 0]
            cols = {"p0_eur_per_mwh": price}
            for j, s in enumerate(case.sites):
                pv = pv_models[s.name].sample(1, start=start, days=365, random_state=int(seeds[k, 2 + 2 * j]))
                cols[f"pv_kw_per_kwp:{s.name}"] = np.roll(pv.values[0, :, 0], 1)
                ws = wind_models[s.name].sample(1, start=start, days=365, random_state=int(seeds[k, 3 + 2 * j]))
                speed = np.roll(ws.values[0, :, ws.variables.index(f"wind_speed_m_per_s:{s.name}")], 1)
                for t in candidate_turbines(s):
                    cols[f"wind_kw_per_turbine:{s.name}:{t}"] = WindModel(t, hub_height_m=wind_models[s.name].hub_height_m).power_kw(speed)
                cols[f"load_kw:{s.name}"] = loads[s.name]
            frames.append(pd.DataFrame(cols, index=pd.date_range(start, periods=8760, freq="h")))
    return SizingScenarios(frames, np.full(n, 1.0 / n), tuple(scenario_names_creator(n)), levels,
                           {"random_state": random_state, "price_level_factor": price_level_factor})


# ------------------------------------------------------------------------------------------------
# Representative days
# ------------------------------------------------------------------------------------------------
@dataclass
class DayTable:
    """Days the model operates: ``values[column]`` (days, 24), ``weights`` (days,) summing to 365,
    ``month_days`` (12, days): number of days of each month each typical day stands for."""

    values: dict
    weights: np.ndarray
    month_days: np.ndarray
    error: pd.DataFrame | None = None
    day_of_year: np.ndarray | None = None  # typical day standing for each calendar day (365,)

    @property
    def n_days(self) -> int:
        return len(self.weights)


def full_year(frame: pd.DataFrame) -> DayTable:
    """Every day of the year as its own day (weight 1): the reference 8760-hour model."""
    n_days = len(frame) // 24
    values = {c: frame[c].to_numpy().reshape(n_days, 24) for c in frame.columns}
    months = frame.index[::24].month.to_numpy() - 1
    month_days = np.zeros((12, n_days))
    month_days[months, np.arange(n_days)] = 1.0
    return DayTable(values, np.ones(n_days), month_days, None, np.arange(n_days))


def representative_days(frame: pd.DataFrame, n_days: int | None) -> DayTable:
    """Typical days of one scenario year with tsam (all sites jointly; extreme days appended: the
    highest price, the highest total demand, the lowest PV and wind days); ``None`` = full year."""
    if n_days is None or n_days >= len(frame) // 24:
        return full_year(frame)
    data = frame.copy()
    load_cols = [c for c in data.columns if c.startswith("load_kw:")]
    pv_cols = [c for c in data.columns if c.startswith("pv_kw_per_kwp:")]
    wind_cols = [c for c in data.columns if c.startswith("wind_kw_per_turbine:")]
    peak = ["p0_eur_per_mwh"] + load_cols[:1]
    low = pv_cols[:1] + wind_cols[:1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = select_representative_days(data, int(n_days), peak_value_columns=peak, low_period_columns=low)
    values = {c: np.stack([p[c].to_numpy(dtype=float) for p in rep.profiles]) for c in data.columns}
    months = pd.DatetimeIndex(rep.day_to_cluster.index).month.to_numpy() - 1
    month_days = np.zeros((12, rep.n_days))
    np.add.at(month_days, (months, rep.day_to_cluster.to_numpy()), 1.0)
    return DayTable(values, np.asarray(rep.weights, dtype=float), month_days, rep.error,
                    rep.day_to_cluster.to_numpy().astype(int))


def prepare_days(case, days, n_scenarios, random_state=0, price_level_factor=1.0, shared_data=None):
    """Scenario years and their representative days: (day tables, probabilities, names, scenarios)."""
    scen = build_scenarios(case, n_scenarios, random_state=random_state, price_level_factor=price_level_factor,
                           shared_data=shared_data)
    tables = [representative_days(frame, days) for frame in scen.frames]
    return tables, scen.probabilities, scen.names, scen


def average_day_table(tables, probabilities, n_days: int | None) -> DayTable:
    """The expected-value year: each scenario's year rebuilt from its typical days (every calendar day
    replaced by the typical day standing for it), averaged hour by hour with the probabilities, and
    reduced to ``n_days`` representative days (``None``: the full year)."""
    weights = np.asarray(probabilities, dtype=float)
    columns = list(tables[0].values)
    mean = {c: sum(p * np.asarray(t.values[c])[t.day_of_year].reshape(-1) for p, t in zip(weights, tables))
            / weights.sum() for c in columns}
    index = pd.date_range(f"{CALENDAR_YEAR}-01-01", periods=len(tables[0].day_of_year) * 24, freq="h")
    return representative_days(pd.DataFrame(mean, index=index), n_days)
