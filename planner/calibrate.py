"""``planner calibrate``: fit every scenario model on the real data and write data/calibrated/.

Price: ENTSO-E France day-ahead prices 2015-01-05..2020-12-31 (data up to 2021-12-31 may be used;
2021's second half opens the energy-crisis regime, so the default fit stops before it and studies
rescale levels with ``price_level_eur_per_mwh``). PV and wind: national capacity factors and
weather series, fitted by :func:`scenarios.calibration.fit_france_models`. Joint dependence: the
daily latent levels of price, PV and wind on the days 2015-2016 where all three exist.
Every file written is small JSON; the raw data is never copied.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tomllib
from pathlib import Path

import pandas as pd

from planner.data_sources import (
    PRICE_UNITS,
    UNITS,
    DataSource,
    DataSourceError,
    load_price_history,
    load_pv_history,
)
from planner.progress import Progress
from scenarios.calibration import fit_france_models, fit_history_models, read_france_capacity_factors
from scenarios.history import load_entsoe_fr
from scenarios.intraday import IntradayResaleModel
from scenarios.joint import JointModel
from scenarios.price import DayAheadPriceModel

PRICE_FIT = ("2015-01-05", "2020-12-31")
#: the load-error proxy of the intraday spread law is fitted on these days (data up to 2021 only)
INTRADAY_FIT = ("2015-02-01", "2021-12-31")
INTRADAY_FILE = "intraday_france.json"
#: contract fields filled from INTRADAY_FILE when a case leaves them out: (section, field) -> key in the file
INTRADAY_FIELDS = {("intraday", "premium_ratio_mean"): "premium_ratio_mean",
                   ("intraday", "premium_ratio_std"): "premium_ratio_std",
                   ("intraday", "hourly_correlation"): "hourly_correlation",
                   ("resale", "discount_ratio_mean"): "resale_discount_ratio_mean",
                   ("resale", "discount_ratio_std"): "resale_discount_ratio_std"}
JOINT_FIT_YEARS = (2015, 2016)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: the files of a parameters folder (planner.scenario_inputs reads these names)
PARAMETER_FILES = {"price": "price_france.json", "pv": "pv_france.json", "wind": "wind_france.json",
                   "joint": "joint_france.json", "intraday": INTRADAY_FILE}
PRICE_KEYS = ("fit_start", "fit_end")
PV_KEYS = ("kwp", "latitude", "longitude", "tilt_deg", "azimuth_deg", "altitude_m")


def calibrate(data_dir, out_dir, progress: bool = True) -> list[Path]:
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(
            f"real data folder {data_dir} not found; pass --data with the path of shared/data"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    say = Progress("calibrate", enabled=progress).message

    written = []
    history = load_entsoe_fr(data_dir / "prices" / "entsoe_FR_2015_2023.csv")
    say(f"loaded ENTSO-E France history ({len(history.frame)} hours, {len(history.report.to_frame())} repairs reported)")
    price = DayAheadPriceModel(fit_start=PRICE_FIT[0], fit_end=PRICE_FIT[1]).fit(history)
    path = out_dir / "price_france.json"
    price.to_json(path)
    written.append(path)
    say(f"day-ahead price model fitted on {PRICE_FIT[0]}..{PRICE_FIT[1]} -> {path.name}")
    path = write_intraday_law(history.between("2015-01-05", "2021-12-31").frame, out_dir)
    written.append(path)
    say(f"intraday spread law fitted on the load-error proxy {INTRADAY_FIT[0]}..{INTRADAY_FIT[1]} -> {path.name}")

    models = fit_france_models(data_dir)
    for name, model in models.items():
        path = out_dir / f"{name}_france.json"
        model.to_json(path)
        written.append(path)
    say(f"renewable models fitted -> {', '.join(f'{n}_france.json' for n in models)}")

    cf = __import__("pandas").concat([read_france_capacity_factors(data_dir, y) for y in JOINT_FIT_YEARS])
    cf = cf[~cf.index.duplicated()]
    joint = JointModel({"price": price, "pv": models["pv"], "wind": models["wind"]}, timezone="Europe/Paris")
    joint.fit({
        "price": history.between(f"{JOINT_FIT_YEARS[0]}-01-05", f"{JOINT_FIT_YEARS[-1]}-12-31"),
        "pv": cf["PHOT"].rename("pv_kw_per_kwp"),
        "wind": cf[["WTON"]].rename(columns={"WTON": "capacity_factor"}),
    })
    path = out_dir / "joint_france.json"
    path.write_text(json.dumps(joint.to_dict(), indent=1))
    written.append(path)
    corr = joint.correlation_
    cols = joint.columns_
    say("joint daily-level correlation: " + ", ".join(
        f"{cols[i]}~{cols[j]} {corr[i, j]:+.2f}" for i in range(len(cols)) for j in range(i + 1, len(cols))))
    return written


def write_intraday_law(frame, out_dir, fit=INTRADAY_FIT) -> Path:
    """Fit the p1 / p2 spread law on the load-error proxy (``IntradayResaleModel.from_load_errors``) of the days
    ``fit`` and write it to ``out_dir/intraday_france.json``. ``frame``: hourly ENTSO-E France history with
    ``price_eur_per_mwh``, ``load_forecast_mw`` and ``load_actual_mw``, which must end by 2021-12-31."""
    last = frame.index.max()
    last = last.tz_convert("Europe/Paris").tz_localize(None) if last.tz is not None else last
    if last >= pd.Timestamp("2022-01-01"):
        raise ValueError("the intraday spread law is fitted on data up to 2021-12-31 only; cut the frame there")
    model = IntradayResaleModel.from_load_errors(frame, *fit)
    record = {key: float(getattr(model, key)) for key in sorted(set(INTRADAY_FIELDS.values()))}
    record.update(fit_start=fit[0], fit_end=fit[1], source="prices/entsoe_FR_2015_2023.csv",
                  method="IntradayResaleModel.from_load_errors: |merit-order slope x (actual - forecast load)| / |p0|, "
                         "lognormal on its 5/50/95 % quantiles; a proxy, no intraday prices in the data "
                         "(docs/forecasts.md, section d)")
    path = Path(out_dir) / INTRADAY_FILE
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def intraday_law(folder) -> dict:
    """The fitted spread law of a parameters folder (``intraday_france.json``)."""
    path = Path(folder) / INTRADAY_FILE
    return json.loads(path.read_text())


# ------------------------------------------------------------------------------------------------
# `planner calibrate --source SPEC`: the user's own price and PV history
# ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class HistorySpec:
    """What ``--source SPEC`` (a TOML file with ``[price]`` and/or ``[pv]`` tables) asks to fit."""

    price: DataSource | None = None
    price_fit: tuple = (None, None)
    pv: DataSource | None = None
    pv_kwp: float | None = None
    pv_site: dict | None = None


def read_history_spec(path) -> HistorySpec:
    """Read a source spec: ``[price]`` a data source of day-ahead prices (EUR/MWh or EUR/kWh) with optional
    ``fit_start`` / ``fit_end``; ``[pv]`` a data source of measured PV output (W, kW, MW, or energy per
    interval) with ``kwp``, ``latitude``, ``longitude`` and optional ``tilt_deg``, ``azimuth_deg``,
    ``altitude_m``. Relative paths are relative to the spec file. Every problem is named."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--source {path}: no such file; give a TOML file with [price] and/or [pv] tables "
                                "(see README, 'Your plant's own data')")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataSourceError(f"--source {path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"price", "pv"})
    if unknown or not data:
        raise DataSourceError(f"--source {path}: tables {unknown or 'none'}; give [price] and/or [pv]")
    spec = {}
    for what, extra_keys in (("price", PRICE_KEYS), ("pv", PV_KEYS)):
        if what not in data:
            continue
        table = dict(data[what])
        extra = {k: table.pop(k) for k in extra_keys if k in table}
        if "spike_sigmas" not in table:  # price spikes and PV ramps are real: kept unless the spec sets a threshold
            table["spike_sigmas"] = None
        if table.get("path") is not None and not Path(table["path"]).is_absolute():
            table["path"] = str((path.parent / table["path"]).resolve())
        try:
            source = DataSource(**table)
        except TypeError:
            known = sorted(f.name for f in dataclasses.fields(DataSource)) + list(extra_keys)
            raise DataSourceError(f"--source {path} [{what}]: unknown field(s) "
                                  f"{sorted(set(table) - set(known))}; known fields: {known}") from None
        problems = source.problems(f"[{what}]", units=PRICE_UNITS if what == "price" else UNITS)
        if problems:
            raise DataSourceError(f"--source {path}:\n  - " + "\n  - ".join(problems))
        spec[what] = (source, extra)
    price, price_extra = spec.get("price", (None, {}))
    pv, pv_extra = spec.get("pv", (None, {}))
    site = None
    if pv is not None:
        missing = [k for k in ("kwp", "latitude", "longitude") if k not in pv_extra]
        if missing:
            raise DataSourceError(f"--source {path} [pv]: give {', '.join(missing)} (the measured plant's kWp and "
                                  "position in degrees)")
        site = {k: float(v) for k, v in pv_extra.items() if k != "kwp"}
    return HistorySpec(price=price, price_fit=(price_extra.get("fit_start"), price_extra.get("fit_end")), pv=pv,
                       pv_kwp=None if pv is None else float(pv_extra["kwp"]), pv_site=site)


def calibrate_from_sources(spec_path, out_dir, base_dir=None, progress: bool = True) -> list[Path]:
    """Fit the price and/or PV model on the user's history (``read_history_spec``) with the France
    calibration's code; write a complete parameters folder ``out_dir`` for ``scenarios.parameters``: the
    fitted models, the others copied from ``base_dir`` (default data/calibrated), each history's repair
    report (``repairs_price.csv``, ``repairs_pv.csv``) and ``sources.json`` saying which is which."""
    spec = read_history_spec(spec_path)
    base = Path(base_dir) if base_dir is not None else PROJECT_ROOT / "data" / "calibrated"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = Progress("calibrate", enabled=progress).message
    histories, written, record = {}, [], {}
    price = pv = None
    if spec.price is not None:
        price = load_price_history(spec.price)
        histories["price"] = (price.report, spec.price.describe())
        say(f"price history {spec.price.describe()}: {len(price.frame)} local hours "
            f"{price.frame.index[0].date()}..{price.frame.index[-1].date()}, {price.report.count()} values repaired")
    if spec.pv is not None:
        pv, pv_report = load_pv_history(spec.pv, spec.pv_kwp)
        histories["pv"] = (pv_report, spec.pv.describe())
        say(f"PV history {spec.pv.describe()}: {len(pv)} hours, mean {pv.mean():.4f} kW/kWp, "
            f"{pv_report.count()} values repaired")
    models = fit_history_models(price, pv, price_fit=spec.price_fit, pv_site=spec.pv_site)
    for what, model in models.items():
        path = out / PARAMETER_FILES[what]
        model.to_json(path)
        written.append(path)
        report, described = histories[what]
        repairs = out / f"repairs_{what}.csv"
        report.to_frame().to_csv(repairs, index=False)
        written.append(repairs)
        counts = report.summary()
        record[what] = {"fitted_on": described, "repairs": {k: int(c) for k, c in zip(counts["kind"], counts["count"])}}
        say(f"{what} model fitted on {described} -> {path.name}; repairs: "
            + (", ".join(f"{k} x{c}" for k, c in record[what]["repairs"].items()) or "none"))
    for what, name in PARAMETER_FILES.items():
        if what in models or (out / name).resolve() == (base / name).resolve():
            continue
        if not (base / name).is_file():
            raise FileNotFoundError(f"{base / name}: the base parameters lack {name}; give --base a folder of "
                                    "calibrated JSON files (e.g. data/calibrated)")
        shutil.copyfile(base / name, out / name)
        written.append(out / name)
        record[what] = {"copied_from": str(base / name)}
    path = out / "sources.json"
    path.write_text(json.dumps(record, indent=1))
    written.append(path)
    return written
