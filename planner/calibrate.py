"""``planner calibrate``: fit every scenario model on the real data and write data/calibrated/.

Price: ENTSO-E France day-ahead prices 2015-01-05..2020-12-31 (data up to 2021-12-31 may be used;
2021's second half opens the energy-crisis regime, so the default fit stops before it and studies
rescale levels with ``price_level_eur_per_mwh``). PV and wind: national capacity factors and
weather series, fitted by :func:`scenarios.calibration.fit_france_models`. Joint dependence: the
daily latent levels of price, PV and wind on the days 2015-2016 where all three exist.
Every file written is small JSON; the raw data is never copied.
"""

from __future__ import annotations

import json
from pathlib import Path

from planner.progress import Progress
from scenarios.calibration import fit_france_models, read_france_capacity_factors
from scenarios.history import load_entsoe_fr
from scenarios.joint import JointModel
from scenarios.price import DayAheadPriceModel

PRICE_FIT = ("2015-01-05", "2020-12-31")
JOINT_FIT_YEARS = (2015, 2016)


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
