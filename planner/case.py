"""The case file: a TOML description of sites, lines, microgrids, links and the contract, validated.

``load_case(path)`` reads and validates a case; every problem is reported at once with the field's
path (``sites[0].lines[1].power_kw.M4``), what is wrong and what is allowed, before any solver runs.
The format is documented field by field in ``docs/case_format.md`` and by ``data/cases/default.toml``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import tomli_w

from planner.calibrate import INTRADAY_FIELDS, INTRADAY_FILE, intraday_law
from planner.data_sources import (
    PRICE_UNITS,
    DataSource,
    day_ahead_prices_for_day,
    local_day_hours,
    mean_power_kw,
    measured_pv_kw,
)
from planner.errors import BadInputError
from planner.load_profiles import available_profiles
from scenarios.history import DEFAULT_TIMEZONE

MATERIALS = ("M1", "M2", "M3")


class CaseError(BadInputError):
    """A case file that cannot be used; the message lists every problem found, one per line."""

    def __init__(self, problems: list[str], source: str | None = None):
        self.problems = list(problems)
        head = f"invalid case{f' {source}' if source else ''}: {len(self.problems)} problem(s)"
        super().__init__(head + "\n  - " + "\n  - ".join(self.problems))


def _f(default=dataclasses.MISSING, *, unit: str = "", ge=None, gt=None, le=None, lt=None,
       choices=None, doc: str = "", inf_ok: bool = False):
    """A dataclass field carrying its unit, bounds and allowed values for validation and docs
    (``inf_ok``: the field accepts ``inf``, meaning "no limit"; other numbers must be finite)."""
    meta = {"unit": unit, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "doc": doc,
            "inf_ok": inf_ok}
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=meta)
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Line:
    """A production line making one material at a time."""

    name: str = _f(doc="line name, unique within the site")
    power_kw: dict[str, float] = _f(unit="kW", gt=0, doc="electric power drawn while producing, per material")
    rate_t_per_h: dict[str, float] = _f(unit="t/h", gt=0, doc="production rate per material")
    changeover_hours: float = _f(0.0, unit="h", ge=0, doc="no output for this long after switching material")
    restart_hours: float = _f(0.0, unit="h", ge=0, doc="no output for this long after a stop")
    startup_energy_kwh: float = _f(0.0, unit="kWh", ge=0, doc="energy drawn at each restart")
    standby_power_kw: float = _f(0.0, unit="kW", ge=0, doc="power drawn while on but not producing (changeover, restart)")
    initial_material: str | None = _f(None, choices=MATERIALS, doc="material in production at the start; none = stopped")

    @property
    def materials(self) -> tuple[str, ...]:
        return tuple(m for m in MATERIALS if m in self.power_kw)


@dataclass(frozen=True, kw_only=True)
class MaterialStorage:
    """Storage of one material on a site (tonnes)."""

    initial_t: float = _f(0.0, unit="t", ge=0)
    min_t: float = _f(0.0, unit="t", ge=0)
    max_t: float = _f(math.inf, unit="t", ge=0, inf_ok=True, doc="storage capacity (default: no limit)")
    final_min_t: float | None = _f(None, unit="t", ge=0, doc="stock required at the end of the horizon (default: min_t)")


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """A delivery of material leaving the site's storage at a given hour."""

    material: str = _f(choices=MATERIALS)
    hour: float = _f(unit="h", ge=0, doc="hours from the start of the horizon")
    quantity_t: float = _f(unit="t", gt=0)


@dataclass(frozen=True, kw_only=True)
class BaseLoad:
    """Site consumption outside the production lines."""

    mean_kw: float | None = _f(None, unit="kW", ge=0,
                               doc="mean base load; required unless values_kw or source is given "
                                   "(with source, default: the mean of the readings)")
    profile: str = _f("flat", doc="shape name from data/profiles/base_load_shapes.csv, or 'flat'")
    values_kw: list[float] | None = _f(None, unit="kW", ge=0, doc="explicit load per period (overrides profile)")
    source: DataSource | None = _f(None, doc="the site's metered load (CSV, Parquet or SQL; see "
                                             "planner/data_sources.py): the periods from local midnight "
                                             "of scenarios.day are read from it (overrides profile)")


@dataclass(frozen=True, kw_only=True)
class Generator:
    """A gas generator."""

    capacity_kw: float = _f(unit="kW", gt=0)
    min_load_kw: float = _f(0.0, unit="kW", ge=0)
    fuel_cost_eur_per_mwh: float = _f(unit="EUR/MWh(el)", ge=0, doc="fuel and variable cost per MWh of electricity")
    startup_cost_eur: float = _f(0.0, unit="EUR", ge=0)
    initially_on: bool = _f(False)


@dataclass(frozen=True, kw_only=True)
class PVArray:
    kwp: float = _f(unit="kWp", ge=0)
    tilt_deg: float = _f(30.0, unit="deg", ge=0, le=90)
    azimuth_deg: float = _f(180.0, unit="deg", ge=0, lt=360, doc="180 = south")
    module: str | None = _f(None, doc="pvlib module name (CEC database) used by sizing")
    source: DataSource | None = _f(None, doc="the array's measured output (CSV, Parquet or SQL, the fields of "
                                             "base_load.source; W, kW, MW or Wh, kWh, MWh per interval): the "
                                             "periods from local midnight of scenarios.day are read from it and "
                                             "divided by kwp; that day's PV is then known, the same in every "
                                             "scenario, instead of sampled from the PV model")


@dataclass(frozen=True, kw_only=True)
class WindTurbines:
    turbine_type: str = _f(doc="windpowerlib turbine type, e.g. 'E-53/800'")
    count: int = _f(1, ge=0)
    hub_height_m: float = _f(unit="m", gt=0)


@dataclass(frozen=True, kw_only=True)
class Battery:
    energy_kwh: float = _f(unit="kWh", ge=0)
    power_kw: float = _f(unit="kW", ge=0)
    charge_efficiency: float = _f(0.95, gt=0, le=1)
    discharge_efficiency: float = _f(0.95, gt=0, le=1)
    soc_min_fraction: float = _f(0.1, ge=0, le=1)
    soc_max_fraction: float = _f(0.95, ge=0, le=1)
    initial_soc_fraction: float = _f(0.5, ge=0, le=1)
    final_soc_min_fraction: float | None = _f(None, ge=0, le=1, doc="end-of-horizon target (default: initial)")
    chemistry: str = _f("nmc", choices=("nmc", "lfp", "nca"), doc="for the BLAST-Lite ageing check")
    calendar_fade_per_year: float = _f(0.015, ge=0, lt=1, doc="capacity lost per year at rest (fraction)")
    cycle_fade_per_cycle: float = _f(4e-5, ge=0, lt=1, doc="capacity lost per full equivalent cycle (fraction)")
    end_of_life_soh: float = _f(0.8, gt=0, lt=1, doc="state of health at which the battery is replaced")


@dataclass(frozen=True, kw_only=True)
class Microgrid:
    pv: PVArray | None = _f(None)
    wind: list[WindTurbines] = _f([])
    battery: Battery | None = _f(None)


@dataclass(frozen=True, kw_only=True)
class SizingLimits:
    """Bounds on what sizing may install on a site (beyond existing equipment)."""

    max_pv_kwp: float = _f(0.0, unit="kWp", ge=0)
    roof_area_m2: float | None = _f(None, unit="m2", gt=0)
    pv_module: str | None = _f(None, doc="pvlib CEC module name")
    candidate_turbines: list[str] = _f([], doc="windpowerlib turbine types to choose from")
    max_turbines: int = _f(0, ge=0)
    hub_height_m: float = _f(80.0, unit="m", gt=0)
    max_battery_kwh: float = _f(0.0, unit="kWh", ge=0)
    max_battery_kw: float = _f(0.0, unit="kW", ge=0)
    max_generator_kw: float = _f(0.0, unit="kW", ge=0)


@dataclass(frozen=True, kw_only=True)
class Site:
    name: str = _f()
    latitude: float = _f(unit="deg", ge=-90, le=90)
    longitude: float = _f(unit="deg", ge=-180, le=180)
    base_load: BaseLoad = _f()
    lines: list[Line] = _f([])
    storage: dict[str, MaterialStorage] = _f({}, doc="per material")
    plan_t_per_day: dict[str, float] = _f({}, unit="t/day", ge=0, doc="production required per material per day")
    deliveries: list[Delivery] = _f([])
    no_m1_m2_together: bool = _f(False, doc="site rule: never M1 and M2 in production at the same time")
    grid_connection_kw: float = _f(math.inf, unit="kW", gt=0, inf_ok=True,
                                   doc="most the site can import or export (default: no limit)")
    generator: Generator | None = _f(None)
    microgrid: Microgrid = _f(Microgrid())
    sizing: SizingLimits | None = _f(None)

    def line(self, name: str) -> Line:
        return next(line for line in self.lines if line.name == name)


@dataclass(frozen=True, kw_only=True)
class Link:
    """An exchange link between two sites, usable in both directions."""

    site_a: str = _f()
    site_b: str = _f()
    capacity_kw: float = _f(unit="kW", gt=0)
    loss_fraction: float = _f(0.0, ge=0, lt=1)


@dataclass(frozen=True, kw_only=True)
class IntradayTerms:
    """p1: intraday top-up price relative to p0. The ratio law's fields left out are filled from the calibrated
    spread law in ``scenarios.parameters`` (``intraday_france.json``: a load-error proxy fitted on 2015-2021, as
    there is no public intraday price series); the floor is a contract term."""

    premium_ratio_mean: float | None = _f(None, ge=0, doc="mean of (p1 - p0) / |p0| (default: calibrated)")
    premium_ratio_std: float | None = _f(None, ge=0, doc="default: calibrated")
    min_premium_eur_per_mwh: float = _f(5.0, unit="EUR/MWh", ge=0)
    hourly_correlation: float | None = _f(None, ge=0, lt=1, doc="lag-one-hour correlation (default: calibrated)")


@dataclass(frozen=True, kw_only=True)
class ResaleTerms:
    """p2: resale price relative to p0."""

    discount_ratio_mean: float | None = _f(None, ge=0, doc="mean of (p0 - p2 - fee) / |p0| (default: calibrated)")
    discount_ratio_std: float | None = _f(None, ge=0, doc="default: calibrated")
    fee_eur_per_mwh: float = _f(3.0, unit="EUR/MWh", ge=0)


@dataclass(frozen=True, kw_only=True)
class Contract:
    """The global supply contract and its tariff f1*P + f2*E + f3*max(0, P' - threshold*P) per month."""

    day_ahead_scope: str = _f("global", choices=("global", "per_site"))
    subscribed_power_kw: float = _f(unit="kW", gt=0, doc="P")
    demand_charge_eur_per_kw_month: float = _f(10.95, unit="EUR/kW/month", ge=0, doc="f1")
    energy_charge_eur_per_kwh: float = _f(0.0242, unit="EUR/kWh", ge=0, doc="f2")
    overrun_charge_eur_per_kw: float = _f(
        25.0, unit="EUR/kW", ge=0,
        doc="f3, per month on the peak above threshold*P; keep threshold*f3 > f1, otherwise overrunning is "
            "always cheaper than subscribing and the best P is 0")
    overrun_threshold: float = _f(1.10, ge=1)
    demand_window_minutes: float = _f(15.0, unit="min", gt=0, doc="averaging window of the peak P'")
    billing_period_days: float = _f(30.0, unit="day", gt=0, doc="monthly charges are prorated over it")
    peak_cap_kw: float | None = _f(None, unit="kW", gt=0, inf_ok=True,
                                   doc="optional hard cap on the total net grid import (default: none)")
    intraday: IntradayTerms = _f(IntradayTerms())
    resale: ResaleTerms = _f(ResaleTerms())


@dataclass(frozen=True, kw_only=True)
class ScenarioSettings:
    day: str = _f("2019-06-12", doc="the day planned (ISO date); sets calendar and season")
    mode: str = _f("procurement", choices=("procurement", "unconditional"),
                   doc="procurement: p0 known (one curve for every scenario), p1, p2, PV and wind uncertain; "
                       "unconditional: p0 uncertain too, jointly with PV and wind")
    day_ahead_prices_eur_per_mwh: list[float] | None = _f(
        None, unit="EUR/MWh", doc="the cleared day-ahead prices, one per hour (procurement mode); "
                                  "default: the hourly median of the calibrated price model for the day")
    n_scenarios: int = _f(50, gt=0)
    seed: int = _f(0, ge=0)
    price_level_eur_per_mwh: float | None = _f(None, unit="EUR/MWh", gt=0,
                                               doc="rescale prices to this yearly mean (default: as calibrated)")
    parameters: str = _f("data/calibrated", doc="folder of fitted model parameters (JSON)")
    price_source: DataSource | None = _f(None, doc="the day-ahead price history (CSV, Parquet or SQL; unit EUR/MWh "
                                                   "or EUR/kWh; spikes kept unless spike_sigmas is set): the prices "
                                                   "of the planned day's hours are read from it as "
                                                   "day_ahead_prices_eur_per_mwh (those given win)")


@dataclass(frozen=True, kw_only=True)
class Economics:
    """Investment economics for sizing."""

    horizon_years: int = _f(20, unit="year", gt=0, le=60)
    discount_rate: float = _f(0.06, unit="1/year", ge=0, lt=1)
    pv_capex_eur_per_kwp: float = _f(800.0, unit="EUR/kWp", ge=0)
    pv_opex_eur_per_kwp_year: float = _f(15.0, unit="EUR/kWp/year", ge=0)
    pv_degradation_per_year: float = _f(0.005, unit="1/year", ge=0, lt=1)
    wind_capex_eur_per_kw: float = _f(1400.0, unit="EUR/kW", ge=0)
    wind_opex_eur_per_kw_year: float = _f(40.0, unit="EUR/kW/year", ge=0)
    wind_degradation_per_year: float = _f(0.0063, unit="1/year", ge=0, lt=1, doc="Germany fleet (Germer & Kleidon 2019)")
    battery_capex_eur_per_kwh: float = _f(300.0, unit="EUR/kWh", ge=0)
    battery_capex_eur_per_kw: float = _f(150.0, unit="EUR/kW", ge=0)
    battery_opex_eur_per_kwh_year: float = _f(5.0, unit="EUR/kWh/year", ge=0)
    battery_cost_decline_per_year: float = _f(0.04, unit="1/year", ge=0, lt=1, doc="replacement cost falls by this per year")
    generator_capex_eur_per_kw: float = _f(600.0, unit="EUR/kW", ge=0)
    generator_opex_eur_per_kw_year: float = _f(15.0, unit="EUR/kW/year", ge=0)
    pv_lifetime_years: float = _f(30.0, unit="year", gt=0, doc="for the linear salvage value")
    wind_lifetime_years: float = _f(25.0, unit="year", gt=0, doc="for the linear salvage value")
    generator_lifetime_years: float = _f(25.0, unit="year", gt=0, doc="for the linear salvage value")
    salvage: str = _f("linear", choices=("linear", "none"), doc="end-of-horizon value: remaining life (battery: remaining SoH above end of life) times cost")


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str = _f()
    description: str = _f("")
    period_minutes: float = _f(60.0, unit="min", gt=0, doc="length of one period")
    horizon_hours: float = _f(24.0, unit="h", gt=0,
                              doc="when absent from the case file: the local day of scenarios.day, 23 or 25 h "
                                  "on the days the clocks change (sites' time zone)")
    sites: list[Site] = _f([])
    links: list[Link] = _f([])
    contract: Contract = _f()
    scenarios: ScenarioSettings = _f(ScenarioSettings())
    economics: Economics = _f(Economics())
    source: str | None = field(default=None, compare=False, metadata={"internal": True})
    notes: tuple = field(default=(), compare=False, metadata={"internal": True})  # e.g. how a path was resolved
    #: fields the case file left out that were filled from calibrated parameters ("path = value (from file)")
    calibrated_fields: tuple = field(default=(), compare=False, metadata={"internal": True})

    @property
    def period_hours(self) -> float:
        return self.period_minutes / 60.0

    @property
    def n_periods(self) -> int:
        return int(round(self.horizon_hours / self.period_hours))

    @property
    def site_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sites)

    def site(self, name: str) -> Site:
        for s in self.sites:
            if s.name == name:
                return s
        raise KeyError(f"no site {name!r}; sites are {list(self.site_names)}")

    def periods_of(self, hours: float) -> int:
        """Number of whole periods in a duration (validated to be a multiple at load time)."""
        return int(round(hours / self.period_hours))

    def replace(self, **changes) -> "Case":
        """A copy with fields changed, validated again."""
        return validate(dataclasses.replace(self, **changes))


# --------------------------------------------------------------------------------------------
# Generic construction from TOML tables, with every error collected
# --------------------------------------------------------------------------------------------
def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"table of {_type_name(typing.get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return f"table ({tp.__name__})"
    return getattr(tp, "__name__", str(tp))


def _check_bounds(value, meta, path, problems):
    if not meta or isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    for key, op, word in (("ge", float.__ge__, ">="), ("gt", float.__gt__, ">"),
                          ("le", float.__le__, "<="), ("lt", float.__lt__, "<")):
        bound = meta.get(key)
        if bound is not None and not op(float(value), float(bound)):
            unit = f" {meta['unit']}" if meta.get("unit") else ""
            problems.append(f"{path} = {value}{unit}: must be {word} {bound}")


def _convert(value, tp, path, problems, meta=None):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], path, problems, meta)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a table ({tp.__name__}), got {type(value).__name__}")
            return None
        return _build(tp, value, path, problems)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return []
        return [_convert(v, item_tp, f"{path}[{i}]", problems, meta) for i, v in enumerate(value)]
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a table, got {type(value).__name__}")
            return {}
        return {k: _convert(v, val_tp, f"{path}.{k}", problems, meta) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {value!r}")
            return math.nan
        if math.isnan(float(value)):
            problems.append(f"{path}: NaN is not allowed")
        elif math.isinf(float(value)) and not (meta or {}).get("inf_ok"):
            unit = f" in {meta['unit']}" if (meta or {}).get("unit") else ""
            problems.append(f"{path} = {value}: must be a finite number; give it{unit}")
            return math.nan
        _check_bounds(value, meta, path, problems)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected a whole number, got {value!r}")
            return 0
        _check_bounds(value, meta, path, problems)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {value!r}")
            return False
        return value
    if tp is str:
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {value!r}")
            return ""
        choices = (meta or {}).get("choices")
        if choices and value not in choices:
            problems.append(f"{path} = {value!r}: allowed values are {', '.join(map(repr, choices))}")
        return value
    return value


def _build(cls, data: dict, path: str, problems: list[str]):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(fields)}"
            problems.append(f"{path + '.' if path else ''}{key}: unknown field{hint}")
    kwargs = {}
    for name, f in fields.items():
        fpath = f"{path}.{name}" if path else name
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], fpath, problems, dict(f.metadata))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            unit = f" ({f.metadata['unit']})" if f.metadata.get("unit") else ""
            problems.append(f"{fpath}: required field missing{unit}; {f.metadata.get('doc') or 'add it'}")
            kwargs[name] = None
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the checks above
        problems.append(f"{path}: {exc}")
        return None


# --------------------------------------------------------------------------------------------
# Cross-field checks
# --------------------------------------------------------------------------------------------
def _whole_periods(hours: float, period_hours: float, path: str, problems: list[str]) -> None:
    n = hours / period_hours
    if abs(n - round(n)) > 1e-9:
        problems.append(
            f"{path} = {hours} h is not a whole number of periods of {period_hours * 60:g} min; "
            f"use a multiple of {period_hours:g} h or change period_minutes"
        )


def _known_turbines() -> list[str] | None:
    try:
        import windpowerlib  # heavy (its turbine library): loaded only when a case names a turbine

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = windpowerlib.get_turbine_types(print_out=False)
        return sorted(table.loc[table["has_power_curve"], "turbine_type"])
    except Exception:  # windpowerlib missing or its data unreadable: checked later by the model
        return None


def _check_turbine(name: str, path: str, known: list[str] | None, problems: list[str]) -> None:
    if known is not None and name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
        problems.append(
            f"{path} = {name!r}: not a windpowerlib turbine with a power curve"
            + (f"; close matches: {', '.join(close)}" if close else "")
        )


def _check_site(site: Site, i: int, case: Case, profiles: set[str], turbines, problems):
    p = f"sites[{i}]"
    ph = case.period_hours
    line_names = [line.name for line in site.lines]
    for dup in {n for n in line_names if line_names.count(n) > 1}:
        problems.append(f"{p}.lines: line name {dup!r} used twice; names must be unique within a site")
    makeable: dict[str, float] = {m: 0.0 for m in MATERIALS}
    for j, line in enumerate(site.lines):
        lp = f"{p}.lines[{j}]"
        for key in line.power_kw:
            if key not in MATERIALS:
                problems.append(f"{lp}.power_kw.{key}: unknown material; allowed: {', '.join(MATERIALS)}")
        for key in line.rate_t_per_h:
            if key not in MATERIALS:
                problems.append(f"{lp}.rate_t_per_h.{key}: unknown material; allowed: {', '.join(MATERIALS)}")
        if set(line.power_kw) != set(line.rate_t_per_h):
            problems.append(
                f"{lp}: power_kw and rate_t_per_h must list the same materials "
                f"(power_kw has {sorted(line.power_kw)}, rate_t_per_h has {sorted(line.rate_t_per_h)})"
            )
        if not line.power_kw:
            problems.append(f"{lp}.power_kw: give the power for at least one material")
        if line.initial_material is not None and line.initial_material not in line.power_kw:
            problems.append(f"{lp}.initial_material = {line.initial_material!r}: the line cannot make it")
        _whole_periods(line.changeover_hours, ph, f"{lp}.changeover_hours", problems)
        _whole_periods(line.restart_hours, ph, f"{lp}.restart_hours", problems)
        for m, rate in line.rate_t_per_h.items():
            if m in makeable:
                makeable[m] += rate * case.horizon_hours
    bl = site.base_load
    if bl.source is not None:
        problems.extend(bl.source.problems(f"{p}.base_load.source"))
        if bl.values_kw is not None:
            problems.append(f"{p}.base_load: give values_kw or source, not both")
    elif bl.mean_kw is None and bl.values_kw is None:
        problems.append(f"{p}.base_load.mean_kw: required field missing (kW) unless values_kw or source is given")
    if bl.values_kw is not None and len(bl.values_kw) != case.n_periods:
        problems.append(
            f"{p}.base_load.values_kw: has {len(bl.values_kw)} values; the horizon has {case.n_periods} periods"
        )
    if bl.values_kw is None and bl.source is None and bl.profile not in profiles:
        close = difflib.get_close_matches(bl.profile, sorted(profiles), n=3)
        problems.append(
            f"{p}.base_load.profile = {bl.profile!r}: unknown shape; available: {', '.join(sorted(profiles))}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    for m, stock in site.storage.items():
        sp = f"{p}.storage.{m}"
        if m not in MATERIALS:
            problems.append(f"{sp}: unknown material; allowed: {', '.join(MATERIALS)}")
        if not stock.min_t <= stock.initial_t <= stock.max_t:
            problems.append(f"{sp}: need min_t <= initial_t <= max_t (got {stock.min_t}, {stock.initial_t}, {stock.max_t})")
        if stock.final_min_t is not None and stock.final_min_t > stock.max_t:
            problems.append(f"{sp}.final_min_t = {stock.final_min_t} exceeds max_t = {stock.max_t}")
    days = case.horizon_hours / 24.0
    for m, qty in site.plan_t_per_day.items():
        pp = f"{p}.plan_t_per_day.{m}"
        if m not in MATERIALS:
            problems.append(f"{pp}: unknown material; allowed: {', '.join(MATERIALS)}")
            continue
        if qty > 0 and makeable[m] == 0:
            problems.append(f"{pp} = {qty} t: no line on site {site.name!r} can make {m}; add it to a line's power_kw and rate_t_per_h")
        elif qty * days > makeable[m] + 1e-9:
            problems.append(
                f"{pp} = {qty} t/day: site {site.name!r} can make at most {makeable[m] / days:.3g} t/day of {m} "
                f"with every capable line running all day (shortfall {qty - makeable[m] / days:.3g} t/day)"
            )
    for j, d in enumerate(site.deliveries):
        dp = f"{p}.deliveries[{j}]"
        if d.hour >= case.horizon_hours:
            problems.append(f"{dp}.hour = {d.hour}: beyond the horizon of {case.horizon_hours} h")
        _whole_periods(d.hour, ph, f"{dp}.hour", problems)
        if d.material not in site.storage:
            problems.append(f"{dp}: deliveries of {d.material} need a storage.{d.material} table on the site")
    g = site.generator
    if g is not None and g.min_load_kw > g.capacity_kw:
        problems.append(f"{p}.generator.min_load_kw = {g.min_load_kw} exceeds capacity_kw = {g.capacity_kw}")
    mg = site.microgrid
    if mg.pv is not None and mg.pv.source is not None:
        problems.extend(mg.pv.source.problems(f"{p}.microgrid.pv.source"))
        if mg.pv.kwp <= 0:
            problems.append(f"{p}.microgrid.pv.kwp = {mg.pv.kwp:g} kWp: with a measured source give the installed "
                            "power of the metered array (> 0 kWp); its readings are divided by it")
    if len({w.turbine_type for w in mg.wind}) > 1:
        problems.append(f"{p}.microgrid.wind: one turbine type per site (got {sorted({w.turbine_type for w in mg.wind})}); "
                        "merge the entries or describe the second park as its own site")
    for j, w in enumerate(mg.wind):
        _check_turbine(w.turbine_type, f"{p}.microgrid.wind[{j}].turbine_type", turbines, problems)
    b = mg.battery
    if b is not None:
        bp = f"{p}.microgrid.battery"
        if b.soc_min_fraction >= b.soc_max_fraction:
            problems.append(f"{bp}: soc_min_fraction ({b.soc_min_fraction}) must be below soc_max_fraction ({b.soc_max_fraction})")
        if not b.soc_min_fraction <= b.initial_soc_fraction <= b.soc_max_fraction:
            problems.append(f"{bp}.initial_soc_fraction = {b.initial_soc_fraction}: must lie in [soc_min_fraction, soc_max_fraction]")
        if b.final_soc_min_fraction is not None and b.final_soc_min_fraction > b.soc_max_fraction:
            problems.append(f"{bp}.final_soc_min_fraction = {b.final_soc_min_fraction}: above soc_max_fraction")
        if b.energy_kwh > 0 and b.power_kw == 0:
            problems.append(f"{bp}.power_kw = 0 with energy_kwh = {b.energy_kwh}: give the inverter power")
        if b.end_of_life_soh >= 1 - 1e-9:
            problems.append(f"{bp}.end_of_life_soh must be below 1")
    if site.sizing is not None:
        for j, t in enumerate(site.sizing.candidate_turbines):
            _check_turbine(t, f"{p}.sizing.candidate_turbines[{j}]", turbines, problems)


def validate(case: Case, problems: list[str] | None = None) -> Case:
    """Check the relations between fields; raise CaseError listing every problem."""
    problems = [] if problems is None else problems
    if not case.sites:
        problems.append("sites: at least one [[sites]] table is required")
    _whole_periods(case.horizon_hours, case.period_hours, "horizon_hours", problems)
    period_ok = not ((60.0 / case.period_minutes) % 1 and (case.period_minutes / 60.0) % 1)
    if not period_ok:
        problems.append(f"period_minutes = {case.period_minutes:g} min: the model's hourly data (prices, load "
                        f"shapes) need a period that divides 60 min or is a whole number of hours; use one of "
                        f"5, 10, 15, 20, 30, 60, 120, 180 min")
    names = [s.name for s in case.sites]
    for dup in {n for n in names if names.count(n) > 1}:
        problems.append(f"sites: site name {dup!r} used twice; names must be unique")
    profiles = set(available_profiles()) | {"flat"}
    turbines = _known_turbines() if any(
        s.microgrid.wind or (s.sizing and s.sizing.candidate_turbines) for s in case.sites) else None
    site_problems: list[str] = []
    for i, site in enumerate(case.sites):
        _check_site(site, i, case, profiles, turbines, site_problems)
    if not period_ok:  # one message for a bad period, not one per latency and delivery field
        site_problems = [p for p in site_problems if "is not a whole number of periods" not in p]
    problems.extend(site_problems)
    pairs = set()
    for j, link in enumerate(case.links):
        lp = f"links[{j}]"
        for end in ("site_a", "site_b"):
            name = getattr(link, end)
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                problems.append(f"{lp}.{end} = {name!r}: no such site" + (f"; did you mean {close[0]!r}?" if close else f"; sites are {names}"))
        if link.site_a == link.site_b:
            problems.append(f"{lp}: a link joins two different sites (both ends are {link.site_a!r})")
        key = frozenset((link.site_a, link.site_b))
        if key in pairs:
            problems.append(f"{lp}: a second link between {link.site_a!r} and {link.site_b!r}; merge their capacities")
        pairs.add(key)
    sc = case.scenarios
    if sc.price_source is not None:
        problems.extend(sc.price_source.problems("scenarios.price_source", units=PRICE_UNITS))
    if sc.day_ahead_prices_eur_per_mwh is not None and len(sc.day_ahead_prices_eur_per_mwh) != int(round(case.horizon_hours)):
        problems.append(f"scenarios.day_ahead_prices_eur_per_mwh: has {len(sc.day_ahead_prices_eur_per_mwh)} values; "
                        f"give one per hour of the horizon ({int(round(case.horizon_hours))})")
    try:
        pd.Timestamp(sc.day)
    except (ValueError, TypeError):
        problems.append(f"scenarios.day = {sc.day!r}: not a date; write it as YYYY-MM-DD")
    c = case.contract
    window_periods = c.demand_window_minutes / case.period_minutes
    if window_periods > 1 and abs(window_periods - round(window_periods)) > 1e-9:
        problems.append(
            f"contract.demand_window_minutes = {c.demand_window_minutes}: must be a multiple of period_minutes "
            f"({case.period_minutes}) or shorter than it"
        )
    if problems:
        raise CaseError(problems, case.source)
    return _with_calibrated_spreads(_with_source_prices(_with_metered_means(_with_measured_pv_checked(case))))


def _parameters_folder(case: Case) -> Path:
    folder = Path(case.scenarios.parameters)
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def _with_calibrated_spreads(case: Case) -> Case:
    """The intraday premium and resale discount laws left out of the case file, from the calibrated spread law
    (``intraday_france.json`` in ``scenarios.parameters``); each filled field is listed in
    ``case.calibrated_fields``."""
    c = case.contract
    missing = [(section, name) for (section, name) in INTRADAY_FIELDS
               if getattr(getattr(c, section), name) is None]
    if not missing:
        return case
    folder = _parameters_folder(case)
    if not (folder / INTRADAY_FILE).exists():  # a folder without it (or unresolved): the shipped calibration
        folder = PROJECT_ROOT / "data" / "calibrated"
    try:
        law = intraday_law(folder)
        for section, name in missing:
            float(law[INTRADAY_FIELDS[(section, name)]])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CaseError([f"contract.{section}.{name}: not given, and the calibrated spread law "
                         f"{folder / INTRADAY_FILE} cannot be read ({exc}); give it in the case file (a fraction "
                         f"of |p0|, dimensionless) or run `planner calibrate` to write that file"
                         for section, name in missing], case.source) from None
    sections = {"intraday": c.intraday, "resale": c.resale}
    filled = list(case.calibrated_fields)
    for section, name in missing:
        value = float(law[INTRADAY_FIELDS[(section, name)]])
        sections[section] = dataclasses.replace(sections[section], **{name: value})
        filled.append(f"contract.{section}.{name} = {value:.4g} (from {folder / INTRADAY_FILE}, fitted "
                      f"{law.get('fit_start')}..{law.get('fit_end')})")
    contract = dataclasses.replace(c, intraday=sections["intraday"], resale=sections["resale"])
    return dataclasses.replace(case, contract=contract, calibrated_fields=tuple(filled))


def _with_source_prices(case: Case) -> Case:
    """With scenarios.price_source and no prices given: the prices of the planned day's hours, read from it."""
    sc = case.scenarios
    if sc.price_source is None or sc.day_ahead_prices_eur_per_mwh is not None:
        return case
    try:
        prices = day_ahead_prices_for_day(sc.price_source, sc.day, int(round(case.horizon_hours)))
    except (ValueError, OSError) as exc:
        raise CaseError([f"scenarios.price_source: {exc}"], case.source) from None
    return dataclasses.replace(case, scenarios=dataclasses.replace(
        sc, day_ahead_prices_eur_per_mwh=[float(p) for p in prices]))


def _price_source_as_given(case: Case, data: dict, base_dir: Path | None) -> Case:
    """A price source's relative path is relative to the case file's folder; its spikes are real prices, kept
    unless the file sets spike_sigmas."""
    source = case.scenarios.price_source
    if source is None:
        return case
    given = (data.get("scenarios") or {}).get("price_source") or {}
    if "spike_sigmas" not in given:
        source = dataclasses.replace(source, spike_sigmas=None)
    if base_dir is not None and source.path is not None and not Path(source.path).is_absolute():
        source = dataclasses.replace(source, path=str((base_dir / source.path).resolve()))
    return dataclasses.replace(case, scenarios=dataclasses.replace(case.scenarios, price_source=source))


def _with_measured_pv_checked(case: Case) -> Case:
    """The case unchanged once every metered PV output (``microgrid.pv.source``) reads for the planned day's
    periods and stays within 110 % of its kwp; otherwise a CaseError naming the field, the unit and the fix."""
    problems = []
    for i, site in enumerate(case.sites):
        pv = site.microgrid.pv
        if pv is None or pv.source is None:
            continue
        where = f"sites[{i}].microgrid.pv.source"
        try:
            measured_pv_kw(pv.source, pv.kwp, case.scenarios.day, case.period_minutes, case.n_periods, where)
        except (ValueError, OSError) as exc:
            text = str(exc)
            problems.append(text if text.startswith(where) else f"{where}: cannot be used for the day "
                            f"{case.scenarios.day}: {text}")
    if problems:
        raise CaseError(problems, case.source)
    return case


def _pv_sources_as_given(case: Case, data: dict) -> Case:
    """A metered PV output keeps its ramps (clouds pass in minutes): no spike clipping unless the file sets
    spike_sigmas, as for a PV history given to ``planner calibrate --source``."""
    sites = []
    for i, site in enumerate(case.sites):
        pv = site.microgrid.pv
        given = (data.get("sites") or [])[i] if i < len(data.get("sites") or []) else {}
        given = (((given.get("microgrid") or {}).get("pv") or {}).get("source") or {}) if isinstance(given, dict) else {}
        if pv is not None and pv.source is not None and "spike_sigmas" not in given:
            pv = dataclasses.replace(pv, source=dataclasses.replace(pv.source, spike_sigmas=None))
            site = dataclasses.replace(site, microgrid=dataclasses.replace(site.microgrid, pv=pv))
        sites.append(site)
    return dataclasses.replace(case, sites=sites)


def _with_metered_means(case: Case) -> Case:
    """Sites whose base load is metered get mean_kw = the mean of their readings when it is absent."""
    sites, problems = [], []
    for i, site in enumerate(case.sites):
        bl = site.base_load
        if bl.source is not None and bl.mean_kw is None:
            try:
                bl = dataclasses.replace(bl, mean_kw=mean_power_kw(bl.source))
            except (ValueError, OSError) as exc:
                problems.append(f"sites[{i}].base_load.source: cannot be read: {exc}")
            site = dataclasses.replace(site, base_load=bl)
        sites.append(site)
    if problems:
        raise CaseError(problems, case.source)
    return dataclasses.replace(case, sites=sites)


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _resolve_path(text: str, base_dir: Path, field_path: str, notes: list[str]) -> str:
    """A relative path of the case file resolved against the case file's folder; when nothing is there,
    against the current directory, then the repository root (with a note saying so); unchanged (and
    reported missing by its user) when found nowhere."""
    if Path(text).is_absolute():
        return text
    for folder, where in ((base_dir, None), (Path.cwd(), "the current directory"), (PROJECT_ROOT, "the repository root")):
        candidate = (folder / text).resolve()
        if candidate.exists():
            if where is not None:
                notes.append(f"{field_path} = {text!r}: not found beside the case file (in {base_dir}); using "
                             f"{candidate} from {where}. Relative paths resolve against the case file's folder")
            return str(candidate)
    return text


def _resolve_source_paths(case: Case, base_dir: Path, parameters_given: bool = True) -> Case:
    """Relative paths (data sources; ``scenarios.parameters`` when the file gives it) resolve against the
    case file's folder (see ``_resolve_path``); the default ``scenarios.parameters`` is the repository's."""
    sites, notes = [], list(case.notes)
    for i, site in enumerate(case.sites):
        source = site.base_load.source
        if source is not None and source.path is not None and not Path(source.path).is_absolute():
            path = _resolve_path(source.path, base_dir, f"sites[{i}].base_load.source.path", notes)
            if path == source.path:  # found nowhere: named beside the case file in the error
                path = str((base_dir / source.path).resolve())
            source = dataclasses.replace(source, path=path)
            site = dataclasses.replace(site, base_load=dataclasses.replace(site.base_load, source=source))
        pv = site.microgrid.pv
        if pv is not None and pv.source is not None and pv.source.path is not None \
                and not Path(pv.source.path).is_absolute():
            path = _resolve_path(pv.source.path, base_dir, f"sites[{i}].microgrid.pv.source.path", notes)
            if path == pv.source.path:  # found nowhere: named beside the case file in the error
                path = str((base_dir / pv.source.path).resolve())
            pv = dataclasses.replace(pv, source=dataclasses.replace(pv.source, path=path))
            site = dataclasses.replace(site, microgrid=dataclasses.replace(site.microgrid, pv=pv))
        sites.append(site)
    scenarios = case.scenarios
    if parameters_given:
        scenarios = dataclasses.replace(scenarios, parameters=_resolve_path(scenarios.parameters, base_dir,
                                                                            "scenarios.parameters", notes))
    return dataclasses.replace(case, sites=sites, scenarios=scenarios, notes=tuple(notes))


def case_timezone(case: Case) -> str:
    """The sites' time zone: that of the first metered site (its source's timezone), else Europe/Paris."""
    for site in case.sites:
        if site.base_load.source is not None:
            return site.base_load.source.timezone
    for site in case.sites:  # else that of a metered PV output
        if site.microgrid.pv is not None and site.microgrid.pv.source is not None:
            return site.microgrid.pv.source.timezone
    return DEFAULT_TIMEZONE


def _horizon_of_the_local_day(case: Case) -> Case:
    """A case without an explicit horizon_hours plans the whole local day of scenarios.day: 23 h when the
    clocks go forward, 25 h when they go back (in :func:`case_timezone`), else 24 h."""
    try:
        hours = local_day_hours(pd.Timestamp(case.scenarios.day), case_timezone(case))
    except (ValueError, TypeError, KeyError):  # an unreadable day or zone: named by validate()
        return case
    return case if hours == case.horizon_hours else dataclasses.replace(case, horizon_hours=hours)


def case_from_dict(data: dict, source: str | None = None) -> Case:
    """Build and validate a Case from nested dictionaries (a parsed TOML document).

    Without ``horizon_hours`` the horizon is the local day of ``scenarios.day`` (23 or 25 hours on the
    days the clocks change in the sites' time zone)."""
    problems: list[str] = []
    case = _build(Case, data, "", problems)
    if not problems:
        case = _price_source_as_given(case, data, None if source is None else Path(source).parent)
        case = _pv_sources_as_given(case, data)
    if not problems and "horizon_hours" not in data:
        case = _horizon_of_the_local_day(case)
    if problems:
        # report relations between fields too, as far as the malformed fields let us check them
        try:
            validate(case, problems)
        except CaseError:
            pass
        except Exception:  # a field needed by a cross-check is itself malformed
            pass
        raise CaseError(problems, source)
    case = dataclasses.replace(case, source=source)
    if source is not None:
        case = _resolve_source_paths(case, Path(source).parent,
                                     parameters_given="parameters" in (data.get("scenarios") or {}))
    return validate(case, problems)


def load_case(path) -> Case:
    """Read a TOML case file and validate it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"case file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CaseError([f"not valid TOML: {exc}"], str(path)) from None
    return case_from_dict(data, source=str(path))


def case_to_dict(case: Case) -> dict:
    """Nested dictionaries of a case, without defaults-only noise (None values dropped)."""

    def clean(value):
        if dataclasses.is_dataclass(value):
            return {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)
                    if not f.metadata.get("internal") and getattr(value, f.name) is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        return value

    return clean(case)


def save_case(case: Case, path) -> Path:
    """Write a case as TOML (infinite bounds are written as 1e300 and read back as such)."""
    def finite(value):
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [finite(v) for v in value]
        if isinstance(value, float) and math.isinf(value):
            return 1e300 if value > 0 else -1e300
        return value

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(finite(case_to_dict(case))), encoding="utf-8")
    return path


def _default_text(f) -> str:
    """'required', or the default value of a field, for the documentation."""
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
        return "required"
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if value is None:
        return "none"
    if dataclasses.is_dataclass(value):
        return "see fields"
    if isinstance(value, float) and math.isinf(value):
        return "inf (no limit)"
    return f"`{value!r}`" if not isinstance(value, (list, dict)) or value else "empty"


def _bounds_text(meta) -> str:
    """Bounds and allowed values of a field, for the documentation."""
    parts = [f"{word} {meta[key]:g}" for key, word in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
             if meta.get(key) is not None]
    if meta.get("choices"):
        parts.append("one of " + ", ".join(f"`{c}`" for c in meta["choices"]))
    if meta.get("inf_ok"):
        parts.append("inf allowed")
    return "; ".join(parts)


def field_docs(cls=Case, prefix: str = "") -> list[tuple[str, str, str, str, str, str]]:
    """(path, type, unit, required or default, bounds and allowed values, doc) of every field, for the
    documentation of the format."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        path = f"{prefix}{f.name}"
        tp = hints[f.name]
        inner = tp
        for a in (typing.get_args(tp) or ()):
            if dataclasses.is_dataclass(a):
                inner = a
        if typing.get_origin(tp) is list and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            inner = typing.get_args(tp)[0]
            path += "[]"
        if typing.get_origin(tp) is dict and dataclasses.is_dataclass(typing.get_args(tp)[1]):
            inner = typing.get_args(tp)[1]
            path += ".<material>"
        bounds = _bounds_text(f.metadata)
        if typing.get_origin(tp) is dict:  # every table keyed by name in a case is keyed by material
            bounds = "; ".join(x for x in (f"keys: {', '.join(MATERIALS)}", bounds) if x)
        rows.append((path, _type_name(tp), f.metadata.get("unit", ""), _default_text(f), bounds,
                     f.metadata.get("doc", "")))
        if dataclasses.is_dataclass(inner):
            rows.extend(field_docs(inner, path + "."))
    return rows


def case_format_markdown() -> str:
    """The reference table of every case field (written to docs/case_format.md)."""
    rows = ["# Case file format (TOML)", "",
            "Generated from `planner/case.py` by `python -m planner.case > docs/case_format.md`; "
            "`data/cases/default.toml` is a complete example. Unknown fields are errors; every "
            "problem is reported at once with its path, its unit and the fix. `planner validate CASE` runs "
            "these checks and every pre-solve check of plan, size, policy and decompose (production plan, "
            "grid connections, peak cap, pvlib and windpowerlib names, calibrated parameters).", "",
            "Units: money in EUR; power in kW (kWp for PV), energy in kWh, prices in EUR/MWh unless the "
            "name says otherwise; material in tonnes (t). Fields named `*_fraction`, `*_ratio*`, "
            "`*_efficiency`, `*_soh`, `discount_rate`, `overrun_threshold` and `hourly_correlation` are "
            "dimensionless (a fraction 0.1 = 10 %). A field whose default is `none` is optional; "
            "`required` fields have no default.", "",
            "**Relative paths** (`scenarios.parameters`, `sites[].base_load.source.path`, "
            "`sites[].microgrid.pv.source.path`) resolve against "
            "the folder of the case file. When nothing is found there, the current directory and then the "
            "repository root are tried, and `planner` prints a warning naming the folder it used. Without "
            "`scenarios.parameters` the repository's `data/calibrated` is used.", "",
            "**Materials are fixed to M1, M2 and M3**: the tables keyed by material (`power_kw`, "
            "`rate_t_per_h`, `storage`, `plan_t_per_day`) and `deliveries[].material` accept only these "
            "names. The one production rule the model knows is the site flag `no_m1_m2_together`: on that "
            "site, no line may produce M1 in a period in which another line produces M2 (and one line makes "
            "one material at a time anyway). Other materials or rules need a change of `MATERIALS` in "
            "`planner/case.py` and of the site block (`planner/blocks/site.py`).", "",
            "**Rules between fields** (checked at load time):", "",
            "- `period_minutes` divides 60 (5, 10, 15, 20, 30, 60) or is a whole number of hours (120, "
            "180, ...): prices and load shapes are hourly, so a period lies within one price hour or spans "
            "whole hours; 90 minutes is refused for that reason (one message, not one per duration field).",
            "- `horizon_hours`, `lines[].changeover_hours`, `lines[].restart_hours` and "
            "`deliveries[].hour` are whole numbers of periods; a delivery lies within the horizon.",
            "- `contract.demand_window_minutes` is a multiple of `period_minutes` or shorter than it.",
            "- storage: `min_t <= initial_t <= max_t` and `final_min_t <= max_t`; a delivered material has a "
            "storage table; a planned material can be made by a line of the site.",
            "- battery: `soc_min_fraction < soc_max_fraction`, `initial_soc_fraction` between them, "
            "`power_kw > 0` when `energy_kwh > 0`.",
            "- base load: `mean_kw`, `values_kw` (one per period) or `source`; not `values_kw` and `source` "
            "together; with `values_kw`, `profile` and `mean_kw` are not used.",
            "- measured PV (`microgrid.pv.source`): `kwp > 0`; the readings cover the local day of `scenarios.day` "
            "and stay within 110 % of `kwp` (else a wrong unit or kwp); ramps are kept unless `spike_sigmas` is set.",
            "- `scenarios.day_ahead_prices_eur_per_mwh` has one value per hour of the horizon.",
            "- links join two different existing sites, at most one link per pair.",
            "- warning (allowed): `overrun_threshold * overrun_charge_eur_per_kw` not above "
            "`demand_charge_eur_per_kw_month` makes subscribing never pay.", "",
            "| field | type | unit | required / default | bounds, allowed values | meaning |",
            "| --- | --- | --- | --- | --- | --- |"]
    for path, tp, unit, default, bounds, doc in field_docs():
        rows.append(f"| `{path}` | {tp} | {unit} | {default} | {bounds} | {doc} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(case_format_markdown(), end="")
