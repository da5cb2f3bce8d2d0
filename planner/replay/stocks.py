"""Material stocks carried from day D to D+1 (tonnes, keyed ``<site>:<material>``).

The day-ahead plan model has a stock variable per material and period (``planner.blocks.site``:
``stock_t``, reported in the plan's dispatch frames as ``<site>:stock_t:<material>``). The operated
production is the plan's probability-weighted mean line schedule (``FixedSchedule.from_plan``), so
the stock that day D leaves is the plan's expected end-of-day stock (clipped to the storage limits).
Day D+1's plan starts from it. So that a one-day plan cannot empty the storage for free (it has no
value for tomorrow's stock), the end-of-day target of every carried day is the case's stated one:
``final_min_t`` when given, else the case's ``initial_t`` (the stated level); without carrying, every
day would start again from ``initial_t``. A day operated by the rule (no plan, or a failed plan) keeps
the stock it started with: the rule schedule is taken to produce what it delivers.

Off by default (``ReplayOptions.carry_stocks``): a case's day is a template whose production quota
(``plan_t_per_day``) need not balance its deliveries. The default case makes 50 t of M1 a day at the
foundry and delivers 20 t with 60 t of storage: carried, the stock grows by up to 30 t a day and the
plan becomes infeasible (storage overflow) on the second or third day, after which the rule operates.
Without carrying, the surplus is taken to leave the site outside the model and every day starts from
the case's stated stocks.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from planner.case import Case


def initial_stocks(case: Case) -> dict:
    """The case's stated stocks (t) of every stored material."""
    return {f"{s.name}:{m}": float(st.initial_t) for s in case.sites for m, st in s.storage.items()}


def site_with_stocks(site, stocks: dict):
    """``site`` whose storage starts at the carried stocks with the stated end-of-day target."""
    if not site.storage or not stocks:
        return site
    storage = {}
    for m, st in site.storage.items():
        key = f"{site.name}:{m}"
        if key not in stocks:
            storage[m] = st
            continue
        level = float(np.clip(stocks[key], st.min_t, st.max_t))
        target = st.initial_t if st.final_min_t is None else st.final_min_t
        storage[m] = dataclasses.replace(st, initial_t=level, final_min_t=float(min(target, st.max_t)))
    return dataclasses.replace(site, storage=storage)


def end_of_day_stocks(plan, case: Case, before: dict) -> dict:
    """The plan's expected end-of-day stocks (t); materials the plan does not report keep ``before``."""
    out = dict(before)
    dispatch = getattr(plan, "dispatch", {}) or {}
    if not dispatch:
        return out
    probs = getattr(plan, "probabilities", {}) or {}
    for s in case.sites:
        for m, st in s.storage.items():
            col = f"{s.name}:stock_t:{m}"
            frames = [(float(probs.get(k, 1.0 / len(dispatch))), f) for k, f in dispatch.items() if col in f.columns]
            if not frames:
                continue
            weight = sum(p for p, _ in frames)
            level = sum(p * float(f[col].to_numpy(dtype=float)[-1]) for p, f in frames) / weight
            out[f"{s.name}:{m}"] = float(np.clip(level, st.min_t, st.max_t))
    return out
