"""What the hour-by-hour battery policy takes as fixed: day-ahead purchases and the production
schedule, from the two-stage plan (``FixedSchedule.from_plan``) or from a simple rule (``from_rule``).

The rule (documented here, used when no two-stage plan is given):

* production: for each site, a small LP spreads each material's daily plan over the hours with
  *continuous run fractions* ``u[line, material, hour]`` in [0, 1] (a line may run part of an hour),
  as level as possible (least peak line power of the site, then least expected day-ahead cost), keeping every material stock within its bounds at the end of
  every hour (deliveries leave at the start of their hour) and above ``final_min_t`` at the end.
  Changeover and restart times, standby power and start-up energy are ignored by the rule; sites
  with ``no_m1_m2_together`` get M1 and M2 in two contiguous blocks of hours (the split point and
  the order are searched). This is a feasible, simple schedule, not an optimised one.
* day-ahead purchase per hour = the expected net load of all sites (base load + lines - expected
  PV and wind), floored at zero.
* battery: idle (no schedule). ``planner.policy.lookahead.expected_value_schedule`` adds the
  open-loop optimum of the day on the expected path (a stand-in for the two-stage battery schedule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from planner.case import MATERIALS, Case
from planner.load_profiles import base_load_kw


@dataclass
class FixedSchedule:
    """Fixed inputs of the intraday policy (arrays over periods T and sites N, in case site order).

    day_ahead_kw : (T,) power bought day-ahead for the whole contract (kW average per period).
    line_load_kw : (T, N) power drawn by the production lines of each site.
    battery_net_kw : (T, N) battery discharge minus charge (kW, AC side) of the plan, or None.
    source : where the schedule comes from ("rule", "plan:<method>").
    """

    day_ahead_kw: np.ndarray
    line_load_kw: np.ndarray
    battery_net_kw: np.ndarray | None = None
    source: str = "rule"
    notes: list = field(default_factory=list)

    def __post_init__(self):
        self.day_ahead_kw = np.asarray(self.day_ahead_kw, dtype=float).reshape(-1)
        self.line_load_kw = np.atleast_2d(np.asarray(self.line_load_kw, dtype=float))
        T = self.day_ahead_kw.shape[0]
        if self.line_load_kw.shape[0] != T:
            raise ValueError(f"FixedSchedule.line_load_kw has {self.line_load_kw.shape[0]} periods; "
                             f"day_ahead_kw has {T}: give both over the same periods")
        if not np.all(np.isfinite(self.day_ahead_kw)) or np.any(self.day_ahead_kw < -1e-9):
            raise ValueError("FixedSchedule.day_ahead_kw must be finite and >= 0 kW")
        if not np.all(np.isfinite(self.line_load_kw)) or np.any(self.line_load_kw < -1e-9):
            raise ValueError("FixedSchedule.line_load_kw must be finite and >= 0 kW")
        if self.battery_net_kw is not None:
            self.battery_net_kw = np.asarray(self.battery_net_kw, dtype=float)
            if self.battery_net_kw.shape != self.line_load_kw.shape:
                raise ValueError(f"FixedSchedule.battery_net_kw must have shape {self.line_load_kw.shape} "
                                 f"(periods, sites); got {self.battery_net_kw.shape}")

    @property
    def n_periods(self) -> int:
        return self.day_ahead_kw.shape[0]

    def check_case(self, case: Case) -> None:
        """Raise ValueError naming the field if the schedule does not fit the case."""
        if self.n_periods != case.n_periods:
            raise ValueError(f"FixedSchedule.day_ahead_kw has {self.n_periods} periods; the case "
                             f"(horizon_hours / period_minutes) has {case.n_periods}")
        if self.line_load_kw.shape[1] != len(case.sites):
            raise ValueError(f"FixedSchedule.line_load_kw has {self.line_load_kw.shape[1]} sites; "
                             f"the case has {len(case.sites)} (sites)")

    # ---------------------------------------------------------------------------------------
    @classmethod
    def from_rule(cls, case: Case, scenarios=None, expected_p0_eur_per_mwh=None) -> "FixedSchedule":
        """The rule schedule (module docstring), battery idle. ``scenarios`` (a ScenarioSet) gives the
        expected PV, wind and day-ahead price; without it renewables count as zero and prices as flat."""
        T = case.n_periods
        mean = None
        if scenarios is not None:
            if scenarios.n_periods != T:
                raise ValueError(f"scenarios have {scenarios.n_periods} periods; the case has {T}")
            mean = dict(zip(scenarios.variables, scenarios.mean().T))
        if expected_p0_eur_per_mwh is None:
            expected_p0_eur_per_mwh = (mean.get("p0_eur_per_mwh") if mean else None)
        price = (np.full(T, 50.0) if expected_p0_eur_per_mwh is None
                 else np.asarray(expected_p0_eur_per_mwh, dtype=float))
        line_load = np.zeros((T, len(case.sites)))
        for i, site in enumerate(case.sites):
            line_load[:, i] = rule_line_load_kw(case, i, price)
        net = line_load.copy()
        for i, site in enumerate(case.sites):
            net[:, i] += base_load_kw(site.base_load, case.scenarios.day, case.period_minutes, T)
            if mean is not None:
                net[:, i] -= expected_renewables_kw(site, mean)
        return cls(np.maximum(net.sum(axis=1), 0.0), line_load, None, "rule",
                   ["production by the rule schedule (continuous run fractions)",
                    "day-ahead = expected net load"])

    @classmethod
    def from_plan(cls, plan, case: Case) -> "FixedSchedule":
        """Adapter from a two-stage ``planner.results.PlanResult``.

        Day-ahead purchases: ``plan.day_ahead`` (period x zone, kW; summed over zones). Line power and
        battery schedule: the probability-weighted mean over the scenarios' dispatch frames of the
        columns ``<site>:lines_kw`` (production, standby and start-up power) and ``<site>:battery_kw``
        (discharge minus charge). When the production schedule is recourse it differs by scenario;
        its expectation is the schedule the policy replays.
        """
        if getattr(plan, "day_ahead", None) is None:
            raise ValueError("plan.day_ahead is missing: the PlanResult has no first-stage purchases")
        T = case.n_periods
        da = np.asarray(plan.day_ahead, dtype=float)
        da = da.reshape(da.shape[0], -1).sum(axis=1)
        if da.shape[0] != T:
            raise ValueError(f"plan.day_ahead has {da.shape[0]} periods; the case has {T}")
        dispatch = getattr(plan, "dispatch", {}) or {}
        if not dispatch:
            raise ValueError("plan.dispatch is empty: the PlanResult has no per-scenario dispatch to replay")
        names = list(case.site_names)
        probs = getattr(plan, "probabilities", {}) or {}
        line_load = np.zeros((T, len(names)))
        battery = np.zeros((T, len(names)))
        weight = 0.0
        for scen, frame in dispatch.items():
            p = float(probs.get(scen, 1.0 / len(dispatch)))
            for i, n in enumerate(names):
                col = f"{n}:lines_kw"
                if col not in frame.columns:
                    raise ValueError(f"plan.dispatch[{scen!r}] lacks column {col!r}; columns are {list(frame.columns)[:12]}...")
                line_load[:, i] += p * frame[col].to_numpy(dtype=float)[:T]
                if f"{n}:battery_kw" in frame.columns:
                    battery[:, i] += p * frame[f"{n}:battery_kw"].to_numpy(dtype=float)[:T]
            weight += p
        line_load /= weight
        battery /= weight
        return cls(np.maximum(da, 0.0), line_load, battery, f"plan:{getattr(plan, 'method', '')}",
                   ["day-ahead purchases from the two-stage plan; line power and battery schedule are its "
                    "probability-weighted mean dispatch over the scenarios"])


def expected_renewables_kw(site, mean: dict) -> np.ndarray:
    """Expected PV + wind output of a site (kW) from the mean path of the scenario variables."""
    out = 0.0
    mg = site.microgrid
    if mg.pv is not None and mg.pv.kwp > 0:
        out = out + mg.pv.kwp * mean[f"pv_kw_per_kwp:{site.name}"]
    n_turbines = sum(w.count for w in mg.wind)
    if n_turbines:
        out = out + n_turbines * mean[f"wind_kw_per_turbine:{site.name}"]
    return out


def rule_line_load_kw(case: Case, site_index: int, price_eur_per_mwh) -> np.ndarray:
    """Line power of one site (T,) under the rule schedule (module docstring)."""
    site = case.sites[site_index]
    T, h = case.n_periods, case.period_hours
    days = case.horizon_hours / 24.0
    plan = {m: q * days for m, q in site.plan_t_per_day.items() if q > 0}
    if not plan:
        return np.zeros(T)
    cols = [(li, m) for li, line in enumerate(site.lines) for m in line.materials if m in plan]
    nc = len(cols)
    price = np.asarray(price_eur_per_mwh, dtype=float)
    # level loading first (the last column is the site's peak line power, weighted 1 EUR/kW), then
    # the expected price, with a small preference for early hours so that ties break reproducibly
    energy = np.array([[line_power(site, li, m) * h * (price[t] + 1e-3 * t) / 1000.0
                        for t in range(T)] for li, m in cols]).reshape(-1)
    cost = np.concatenate([1e-3 * energy, [1.0]])
    n_var = nc * T + 1

    def var(c, t):
        return c * T + t

    def solve(allowed):
        rows_ub, b_ub, rows_eq, b_eq = [], [], [], []
        for li in range(len(site.lines)):
            cs = [c for c, (lj, _) in enumerate(cols) if lj == li]
            for t in range(T):
                rows_ub.append({var(c, t): 1.0 for c in cs})
                b_ub.append(1.0)
        for t in range(T):
            row = {var(c, t): line_power(site, li, m) for c, (li, m) in enumerate(cols)}
            row[nc * T] = -1.0
            rows_ub.append(row)
            b_ub.append(0.0)
        for m, q in plan.items():
            rows_eq.append({var(c, t): site.lines[li].rate_t_per_h[mm] * h
                            for c, (li, mm) in enumerate(cols) if mm == m for t in range(T)})
            b_eq.append(q)
        for m, stock in site.storage.items():
            if m not in MATERIALS:
                continue
            final_min = stock.min_t if stock.final_min_t is None else stock.final_min_t
            for t in range(T):
                delivered = sum(d.quantity_t for d in site.deliveries
                                if d.material == m and case.periods_of(d.hour) <= t)
                row = {var(c, tt): site.lines[li].rate_t_per_h[mm] * h
                       for c, (li, mm) in enumerate(cols) if mm == m for tt in range(t + 1)}
                level0 = stock.initial_t - delivered
                lo = final_min if t == T - 1 else stock.min_t
                if row:
                    rows_ub.append(row)
                    b_ub.append(stock.max_t - level0)
                    rows_ub.append({k: -v for k, v in row.items()})
                    b_ub.append(level0 - lo)
                elif level0 < lo - 1e-9:
                    return None
        bounds = [(0.0, 1.0 if allowed(cols[c][1], t) else 0.0) for c in range(nc) for t in range(T)]
        bounds.append((0.0, None))

        def mat(rows):
            if not rows:
                return None
            r = [i for i, row in enumerate(rows) for _ in row]
            c = [k for row in rows for k in row]
            v = [x for row in rows for x in row.values()]
            return coo_matrix((v, (r, c)), shape=(len(rows), n_var)).tocsr()

        res = linprog(cost, A_ub=mat(rows_ub), b_ub=np.array(b_ub) if b_ub else None,
                      A_eq=mat(rows_eq), b_eq=np.array(b_eq) if b_eq else None, bounds=bounds,
                      method="highs")
        return res if res.status == 0 else None

    candidates = [lambda m, t: True]
    if site.no_m1_m2_together and "M1" in plan and "M2" in plan:
        candidates = []
        for split in range(1, T):
            candidates.append(lambda m, t, s=split: not ((m == "M1" and t >= s) or (m == "M2" and t < s)))
            candidates.append(lambda m, t, s=split: not ((m == "M2" and t >= s) or (m == "M1" and t < s)))
    best = None
    for allowed in candidates:
        res = solve(allowed)
        if res is not None and (best is None or res.fun < best.fun - 1e-9):
            best = res
    if best is None:
        raise ValueError(
            f"sites[{site_index}].plan_t_per_day: the rule schedule cannot meet the daily plan of site "
            f"{site.name!r} within the storage bounds (sites[{site_index}].storage) and deliveries; "
            f"give a two-stage plan (FixedSchedule.from_plan) or relax the plan")
    u = best.x[:nc * T].reshape(nc, T)
    return np.array([sum(line_power(site, li, m) * u[c, t] for c, (li, m) in enumerate(cols))
                     for t in range(T)])


def line_power(site, line_index: int, material: str) -> float:
    """Power (kW) of a site's line while producing a material."""
    return float(site.lines[line_index].power_kw[material])
