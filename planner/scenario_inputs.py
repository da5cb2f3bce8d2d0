"""The scenarios a case needs, drawn from the calibrated models in ``case.scenarios.parameters``.

``case_scenarios(case, n_scenarios, seed)`` returns one ScenarioSet on the case's periods with
``p0_eur_per_mwh``, ``p1_eur_per_mwh``, ``p2_eur_per_mwh``, ``pv_kw_per_kwp:<site>`` for every
site with PV and ``wind_kw_per_turbine:<site>`` for every site with turbines. Daily levels of
price, PV and wind co-move through the fitted joint model; the sites, close together, share the
daily weather level and keep their own geometry, turbine and within-day randomness. A site whose PV
output is metered (``microgrid.pv.source``) gets that day's measured output, the same in every scenario.

Modes (``case.scenarios.mode``):
- ``procurement``: the day-ahead price p0 is known when buying day-ahead, so every scenario has the
  same p0 (given in the case, or the hourly median of the price model for that day); intraday and
  resale prices, PV and wind are uncertain;
- ``unconditional``: p0 is uncertain too (policy and sizing studies).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data_sources import measured_pv_profiles
from scenarios.intraday import IntradayResaleModel
from scenarios.joint import JointModel
from scenarios.price import DayAheadPriceModel
from scenarios.pv import PVModel
from scenarios.scenario_set import ScenarioSet
from scenarios.wind import WindModel

PROJECT_ROOT = Path(__file__).resolve().parents[1]
P0, P1, P2 = "p0_eur_per_mwh", "p1_eur_per_mwh", "p2_eur_per_mwh"
TIMEZONE = "Europe/Paris"
MEDIAN_DRAWS = 1000


def parameters_dir(case) -> Path:
    """The folder of calibrated parameters, relative to the project root unless absolute."""
    folder = Path(case.scenarios.parameters)
    if not folder.is_absolute():
        folder = PROJECT_ROOT / folder
    if not folder.is_dir():
        raise FileNotFoundError(
            f"scenarios.parameters = {case.scenarios.parameters!r}: folder {folder} not found; "
            "run `planner calibrate` or point it to a folder of calibrated JSON files"
        )
    return folder


@dataclass(frozen=True)
class CalibratedModels:
    price: object
    pv: object
    wind: object
    joint_data: dict
    folder: Path


@lru_cache(maxsize=4)
def _load(folder: str) -> CalibratedModels:
    folder = Path(folder)
    needed = ["price_france.json", "pv_france.json", "wind_france.json", "joint_france.json"]
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        raise FileNotFoundError(f"calibrated parameters missing in {folder}: {missing}; run `planner calibrate`")
    return CalibratedModels(
        price=DayAheadPriceModel.from_json(folder / "price_france.json"),
        pv=PVModel.from_json(folder / "pv_france.json"),
        wind=WindModel.from_json(folder / "wind_france.json"),
        joint_data=json.loads((folder / "joint_france.json").read_text()),
        folder=folder,
    )


def calibrated_models(case) -> CalibratedModels:
    return _load(str(parameters_dir(case)))


def site_models(case, models: CalibratedModels) -> dict:
    """Models driven by a fitted latent: ``{output name: (model at the site, fitted name)}``."""
    driven = {}
    pv_json = (models.folder / "pv_france.json").read_text()
    wind_json = (models.folder / "wind_france.json").read_text()
    for site in case.sites:
        pv = site.microgrid.pv
        if pv is not None:
            driven[f"pv:{site.name}"] = (PVModel.from_json(
                pv_json, latitude=site.latitude, longitude=site.longitude, tilt_deg=pv.tilt_deg,
                azimuth_deg=pv.azimuth_deg, site_name=site.name), "pv")
        if site.microgrid.wind:
            w = site.microgrid.wind[0]
            driven[f"wind:{site.name}"] = (WindModel.from_json(
                wind_json, turbine_type=w.turbine_type, hub_height_m=w.hub_height_m, site_name=site.name), "wind")
    return driven


def _to_periods(values: np.ndarray, period_hours: float, n_periods: int) -> np.ndarray:
    """Hourly (S, H, V) values onto periods: averages of whole hours, or repeated within an hour."""
    if abs(period_hours - 1.0) < 1e-12:
        return values[:, :n_periods]
    if period_hours > 1:
        k = int(round(period_hours))
        s, h, v = values.shape
        return values[:, : (h // k) * k].reshape(s, h // k, k, v).mean(axis=2)[:, :n_periods]
    k = int(round(1.0 / period_hours))
    return np.repeat(values, k, axis=1)[:, :n_periods]


def day_ahead_prices(case, models: CalibratedModels | None = None) -> np.ndarray:
    """The known day-ahead prices for procurement: from the case, else the model's hourly median."""
    given = case.scenarios.day_ahead_prices_eur_per_mwh
    if given is not None:
        return np.asarray(given, dtype=float)
    models = models or calibrated_models(case)
    days = max(1, math.ceil(case.horizon_hours / 24))
    draws = models.price.sample(MEDIAN_DRAWS, start=pd.Timestamp(case.scenarios.day), days=days,
                                random_state=case.scenarios.seed,
                                price_level_eur_per_mwh=case.scenarios.price_level_eur_per_mwh)
    return np.median(draws[P0], axis=0)[: int(round(case.horizon_hours))]


def case_scenarios(case, n_scenarios: int | None = None, seed: int | None = None,
                   mode: str | None = None) -> ScenarioSet:
    """Joint scenarios of prices, PV and wind for the case's horizon (see the module docstring)."""
    n = case.scenarios.n_scenarios if n_scenarios is None else int(n_scenarios)
    seed = case.scenarios.seed if seed is None else int(seed)
    mode = mode or case.scenarios.mode
    if n < 1:
        raise ValueError(f"n_scenarios must be >= 1; got {n}")
    if mode not in ("procurement", "unconditional"):
        raise ValueError(f"mode must be 'procurement' or 'unconditional'; got {mode!r}")
    models = calibrated_models(case)
    rng = np.random.default_rng(seed)
    days = max(1, math.ceil(case.horizon_hours / 24))
    price_model = models.price
    level = case.scenarios.price_level_eur_per_mwh
    if level is not None:
        price_model = _LevelledPrice(models.price, level)
    joint = JointModel.from_dict(models.joint_data, {"price": price_model, "pv": models.pv, "wind": models.wind})
    driven = {"price": (price_model, "price"), **site_models(case, models)}
    joint_set = joint.sample(n, start=pd.Timestamp(case.scenarios.day), days=days, random_state=rng, driven=driven)
    hours = int(round(case.horizon_hours))
    p0_paths = joint_set[P0][:, :hours]
    if mode == "procurement":
        p0_paths = np.tile(day_ahead_prices(case, models), (n, 1))
    p0_set = ScenarioSet(p0_paths[:, :, None], joint_set.probabilities, (P0,), joint_set.names, 1.0)
    terms = case.contract
    intraday = IntradayResaleModel(
        premium_ratio_mean=terms.intraday.premium_ratio_mean,
        premium_ratio_std=terms.intraday.premium_ratio_std,
        min_premium_eur_per_mwh=terms.intraday.min_premium_eur_per_mwh,
        resale_discount_ratio_mean=terms.resale.discount_ratio_mean,
        resale_discount_ratio_std=terms.resale.discount_ratio_std,
        resale_fee_eur_per_mwh=terms.resale.fee_eur_per_mwh,
        hourly_correlation=terms.intraday.hourly_correlation,
    )
    prices = intraday.sample(p0_set, random_state=rng)
    columns = [prices[v] for v in (P0, P1, P2)]
    names = [P0, P1, P2]
    for site in case.sites:
        if site.microgrid.pv is not None:
            columns.append(joint_set[f"pv_kw_per_kwp:{site.name}"][:, :hours])
            names.append(f"pv_kw_per_kwp:{site.name}")
        if site.microgrid.wind:
            columns.append(joint_set[f"wind_kw_per_turbine:{site.name}"][:, :hours])
            names.append(f"wind_kw_per_turbine:{site.name}")
    hourly = np.stack(columns, axis=2)
    values = _to_periods(hourly, case.period_hours, case.n_periods)
    measured = measured_pv_profiles(case)  # a site's metered PV output: that day's PV, known in every scenario
    for name, profile in measured.items():
        values[:, :, names.index(name)] = profile
    meta = {"mode": mode, "day": case.scenarios.day, "seed": seed, "timezone": TIMEZONE,
            "parameters": str(models.folder), "measured_pv": sorted(measured)}
    return ScenarioSet(values, np.full(n, 1.0 / n), tuple(names), tuple(f"scen{i}" for i in range(n)),
                       case.period_hours, pd.Timestamp(case.scenarios.day), meta)


class _LevelledPrice:
    """A price model whose samples are rescaled to a yearly level (the latent contract kept)."""
    def __init__(self, model, level: float):
        self.model = model
        self.level = level

    def latent_history(self, history):
        return self.model.latent_history(history)

    def sample(self, n, start=None, days=None, random_state=None, latent=None, **kw):
        return self.model.sample(n, start=start, days=days, random_state=random_state, latent=latent,
                                 price_level_eur_per_mwh=self.level, **kw)
