"""Benchmark of the day-ahead price model on France: realism of unconditional years and skill of
the conditional (D-1) mode, fitted on 2015-01-05..2018-12-31, with held-out 2019 and 2022 beside.

Run: ``.venv/bin/python benchmarks/scenarios_price.py [--years 100] [--scenarios 100]
[--skill-years 2019 2022] [--save data/calibrated/price_model_fr.json --fit-end 2021-12-31]``.
Needs ../shared/data (exits with a message when it is absent).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.history import load_entsoe_fr, shared_data_dir  # noqa: E402
from scenarios.metrics import energy_score, variogram_score  # noqa: E402
from scenarios.price import P0, DayAheadPriceModel  # noqa: E402

FIT_START, FIT_END = "2015-01-05", "2018-12-31"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def lag1(x: np.ndarray) -> float:
    return float(np.corrcoef(x[1:], x[:-1])[0, 1])


def realism(model, history, n_years: int, seed: int) -> dict:
    price = history["price_eur_per_mwh"]
    train = price.loc[FIT_START:f"{FIT_END} 23:00"]
    sets = {"train": train, "2019": price.loc["2019"], "2022": price.loc["2022"]}
    s = model.sample(n_years, start="2019-01-01", years=1, random_state=seed)
    p = s[P0]
    hours = pd.date_range("2019-01-01", periods=p.shape[1], freq="h")
    print(f"\n== Realism: {n_years} generated years (2019 calendar) vs France data ==")
    print(f"{'month':>5} {'train':>8} {'gen':>8} {'gen/train':>9} {'2019':>8} {'2022':>8}")
    ratios = []
    for m in range(1, 13):
        g = p[:, hours.month == m].mean()
        t = train[train.index.month == m].mean()
        ratios.append(g / t)
        print(f"{MONTHS[m - 1]:>5} {t:8.2f} {g:8.2f} {g / t:9.3f} "
              f"{sets['2019'][sets['2019'].index.month == m].mean():8.2f} "
              f"{sets['2022'][sets['2022'].index.month == m].mean():8.2f}")
    ratios = np.array(ratios)
    print(f"monthly-mean ratio gen/train: min {ratios.min():.3f}, max {ratios.max():.3f}, "
          f"max |ratio-1| {np.abs(ratios - 1).max():.3f} (target < 0.05)")
    gen_neg = (p < 0).mean()
    daily_gen = p.reshape(n_years, -1, 24).mean(axis=2)
    rows = []
    for name, series in sets.items():
        daily = series.groupby(series.index.normalize()).mean()
        rows.append((name, series.mean(), series.std(), (series < 0).mean(), (series < 0).sum() /
                     (len(series) / 8760), series.autocorr(1), daily.autocorr(1),
                     series.quantile(0.01), series.quantile(0.99)))
    rows.insert(1, ("generated", p.mean(), p.std(axis=1).mean(), gen_neg, gen_neg * 8760,
                    np.mean([lag1(x) for x in p]), np.mean([lag1(x) for x in daily_gen]),
                    np.mean(np.quantile(p, 0.01, axis=1)), np.mean(np.quantile(p, 0.99, axis=1))))
    print(f"{'':>10} {'mean':>7} {'std':>7} {'neg share':>10} {'neg h/yr':>9} {'lag1 h':>7} "
          f"{'lag1 day':>8} {'q01':>7} {'q99':>7}")
    for r in rows:
        print(f"{r[0]:>10} {r[1]:7.2f} {r[2]:7.2f} {r[3]:10.5f} {r[4]:9.1f} {r[5]:7.3f} {r[6]:8.3f} "
              f"{r[7]:7.2f} {r[8]:7.2f}")
    neg_ratio = gen_neg / rows[0][3]
    ac_diff = rows[1][5] - rows[0][5]
    print(f"negative-hour share ratio gen/train {neg_ratio:.2f} (target within 1/1.5..1.5); "
          f"lag-1 autocorrelation difference {ac_diff:+.3f} (target |.| < 0.1)")
    return {"month_ratio_max_dev": float(np.abs(ratios - 1).max()), "neg_ratio": float(neg_ratio),
            "ac_diff": float(ac_diff)}


def skill(model, history, year: int, n: int, seed: int) -> None:
    price = history["price_eur_per_mwh"]
    train = price.loc[FIT_START:f"{FIT_END} 23:00"].to_frame("p")
    train = train.assign(day=train.index.normalize(), hour=train.index.hour).pivot(
        index="day", columns="hour", values="p")
    rng = np.random.default_rng(seed)
    rows = []
    for d in pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D"):
        obs = price.loc[d: d + pd.Timedelta(hours=23)].to_numpy()
        if len(obs) != 24:
            continue
        cond = model.sample_day(n, d, history, random_state=rng)[P0]
        pool = train[train.index.month == d.month].to_numpy()
        clim = pool[rng.choice(len(pool), n)]
        d1 = price.loc[d - pd.Timedelta(days=1): d - pd.Timedelta(hours=1)].to_numpy()
        d7 = price.loc[d - pd.Timedelta(days=7): d - pd.Timedelta(days=6, hours=1)].to_numpy()
        rows.append((d.month, energy_score(cond, obs), energy_score(clim, obs),
                     variogram_score(cond, obs), variogram_score(clim, obs),
                     np.abs(np.median(cond, axis=0) - obs).mean(), np.abs(d1 - obs).mean(),
                     np.abs(d7 - obs).mean(),
                     np.mean((cond.min(axis=0) <= obs) & (obs <= cond.max(axis=0)))))
    frame = pd.DataFrame(rows, columns=["month", "es_cond", "es_clim", "vs_cond", "vs_clim",
                                        "mae_median", "mae_d1", "mae_d7", "cover"])
    print(f"\n== Skill {year}: conditional (D-1) scenarios vs climatological bootstrap "
          f"({n} members, training days of the same month) ==")
    print(f"{'month':>5} {'ES cond':>8} {'ES clim':>8} {'ratio':>6} {'VS cond':>9} {'VS clim':>9} "
          f"{'ratio':>6} {'MAE med':>8} {'MAE D-1':>8} {'MAE D-7':>8} {'in range':>8}")

    def line(label, g):
        print(f"{label:>5} {g.es_cond.mean():8.2f} {g.es_clim.mean():8.2f} "
              f"{g.es_cond.mean() / g.es_clim.mean():6.3f} {g.vs_cond.mean():9.1f} "
              f"{g.vs_clim.mean():9.1f} {g.vs_cond.mean() / g.vs_clim.mean():6.3f} "
              f"{g.mae_median.mean():8.2f} {g.mae_d1.mean():8.2f} {g.mae_d7.mean():8.2f} "
              f"{g.cover.mean():8.3f}")

    for m, g in frame.groupby("month"):
        line(MONTHS[m - 1], g)
    line("year", frame)
    print(f"days where conditional beats climatology: ES {np.mean(frame.es_cond < frame.es_clim):.3f}, "
          f"VS {np.mean(frame.vs_cond < frame.vs_clim):.3f} (of {len(frame)} days)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=100, help="generated years for realism")
    parser.add_argument("--scenarios", type=int, default=100, help="members per conditional day")
    parser.add_argument("--skill-years", type=int, nargs="*", default=[2019, 2022])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, default=None,
                        help="also fit on 2015..--fit-end and write the parameters to this JSON")
    parser.add_argument("--fit-end", default="2021-12-31")
    args = parser.parse_args(argv)
    path = shared_data_dir() / "prices" / "entsoe_FR_2015_2023.csv"
    if not path.exists():
        print(f"real data absent ({path}); nothing to benchmark")
        return
    t0 = time.perf_counter()
    history = load_entsoe_fr(path)
    print(f"loaded {path.name}: {len(history.frame)} hours, {history.report.count()} repaired values")
    print(history.report.summary().to_string(index=False))
    model = DayAheadPriceModel(fit_start=FIT_START, fit_end=FIT_END).fit(history)
    print(f"fitted on {model.fit_days_[0]}..{model.fit_days_[1]} ({model.n_fit_days_} days): "
          f"level persistence {model.level_persistence_:.3f}, ridge alpha {model.ridge_alpha_:g}")
    realism(model, history, args.years, args.seed)
    for year in args.skill_years:
        skill(model, history, year, args.scenarios, args.seed)
    if args.save is not None:
        if pd.Timestamp(args.fit_end) > pd.Timestamp("2021-12-31"):
            raise SystemExit("--fit-end must not pass 2021-12-31 (evaluation rule: 2022+ is held out)")
        calibrated = DayAheadPriceModel(fit_start=FIT_START, fit_end=args.fit_end).fit(history)
        out = calibrated.to_json(args.save)
        print(f"\nwrote {out} ({out.stat().st_size / 1000:.0f} kB), fitted on "
              f"{calibrated.fit_days_[0]}..{calibrated.fit_days_[1]}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
