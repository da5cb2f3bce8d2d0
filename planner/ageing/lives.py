"""Battery replacements in the sizing MILP as a choice of battery lives: which lives a linear fade allows
(``battery_lives``), the replacement schedules with the fewest replacements (``replacement_schedules``)
and the Pyomo constraints that pick one path of lives per site (``build_battery_lives``)."""

from __future__ import annotations

import pyomo.environ as pyo


def battery_lives(cal: float, eol: float, years: int) -> list[tuple[int, int]]:
    """The battery lives (a, b) a replacement schedule can hold: a battery installed at the start of year
    a (a = 0: the one in place) serving years a..b-1, replaced at b (or b = years: to the end). One that
    starts a year at capacity E keeps at most E (1 - n cal) after n years, so a life followed by a
    replacement needs (n - 1) cal <= 1 - eol (the end-of-life check of its last year but one) and
    n cal <= 1; a life to the horizon's end needs n cal <= 1 - eol."""
    out = []
    tol = 1e-12
    for a in range(years):
        for b_ in range(a + 1, years + 1):
            n = b_ - a
            if b_ == years:
                ok = n * cal <= 1.0 - eol + tol
            else:
                ok = (n - 1) * cal <= 1.0 - eol + tol and n * cal <= 1.0 + tol
            if ok:
                out.append((a, b_))
    return out


def replacement_schedules(lives, years: int, limit: int = 64) -> list[tuple[int, ...]]:
    """Replacement years of the schedules with the fewest replacements (paths from year 0 to the
    horizon's end through the battery lives ``(a, z)``, in lexicographic order, at most ``limit``), then
    the schedule with one more replacement spread evenly, when its lives are allowed."""
    succ, allowed = {}, set(lives)
    for a, z in lives:
        succ.setdefault(a, []).append(z)
    inf = 10 ** 9
    need = {years: 0}
    for a in range(years - 1, -1, -1):
        need[a] = min((1 + need[z] for z in succ.get(a, []) if need[z] < inf), default=inf)
    if need[0] >= inf:
        return []
    out = []

    def walk(a, path):
        if len(out) >= limit:
            return
        if a == years:
            out.append(tuple(path))
            return
        for z in sorted(succ.get(a, [])):
            if need[z] == need[a] - 1:
                walk(z, path + ([z] if z < years else []))

    walk(0, [])
    k = need[0] + 1  # lives in the evenly spread schedule
    even = tuple(sorted({int(round(j * years / k)) for j in range(1, k)}))
    bounds = (0,) + even + (years,)
    if len(even) == k - 1 and all((a, z) in allowed for a, z in zip(bounds[:-1], bounds[1:])) and even not in out:
        out.append(even)
    return out


def build_battery_lives(b: pyo.Block, new_kwh, existing_kwh: dict, max_new_kwh: dict, cal: dict, cyc: dict,
                        eol: dict, years: int, integer: bool) -> None:
    """Battery ageing with replacements as a choice of lives (a path through the years, see
    ``battery_lives``), for the sites of ``b.BAT`` over the years ``b.Y`` (``b.Y1``: the years a
    replacement may start), with each year's discharged energy ``b.throughput_kwh[i, y]`` and the
    new battery kWh ``new_kwh[i]`` (first stage) on top of ``existing_kwh[i]``.

    ``x[i, a, b]`` selects the life (a, b); a flow from year 0 to the horizon's end (inflow = outflow =
    ``replace[i, y]`` at every replacement year y) makes the lives a partition of the years. Each life
    carries its own capacity ``E_ab = existing x + u`` (u = new kWh x x, disaggregated: sum of the u of
    the lives covering a year = the new kWh) and its own share ``thr_ab`` of each year's throughput, so
    its end capacity ``E_ab (1 - (t - a + 1) cal) - cyc sum_t thr_ab`` and its end-of-life check scale
    with x. In the LP relaxation a fractional replacement is a fraction of a whole new life, not a
    cheap partial refresh of the old battery (the gap of the simpler ``cap[y] <= end[y-1] + r E``
    form). With integer ``replace`` the lives are integral (the flow has one way through the
    replacement years). Defines ``capacity_kwh`` / ``end_capacity_kwh`` (usable kWh at the start / end
    of each year) and ``replaced_kwh`` (kWh installed at each replacement)."""
    lives = {}
    for i in b.BAT:
        lives[i] = battery_lives(cal[i], eol[i], years)
        if not replacement_schedules(lives[i], years, limit=1):  # no battery lives out a year: every life, E = 0
            lives[i] = [(a, z) for a in range(years) for z in range(a + 1, years + 1)]
    covering = {}  # (site, year) -> the lives serving that year
    for i in b.BAT:
        for (a, z) in lives[i]:
            for t in range(a, z):
                covering.setdefault((i, t), []).append((a, z))
    _add_life_choice(b, lives, integer)
    _add_life_capacity(b, new_kwh, existing_kwh, max_new_kwh, covering)
    _add_life_flow(b, lives, covering)
    _add_life_wear(b, cal, cyc, eol, years, covering)
    _add_yearly_capacity(b, lives, cal, cyc, covering)


def _add_life_choice(b, lives, integer) -> None:
    """The lives (``LIFE``), their years (``LIFE_YEAR``), the replacement binaries and the life choice."""
    b.LIFE = pyo.Set(initialize=[(i, a, z) for i in b.BAT for (a, z) in lives[i]], dimen=3, ordered=True)
    b.LIFE_YEAR = pyo.Set(initialize=[(i, a, z, t) for (i, a, z) in b.LIFE for t in range(a, z)], dimen=4, ordered=True)
    b.replace = pyo.Var(b.BAT, b.Y1, domain=pyo.Binary if integer else pyo.UnitInterval)
    b.life = pyo.Var(b.LIFE, bounds=(0.0, 1.0))


def _add_life_capacity(b, new_kwh, existing_kwh, max_new_kwh, covering) -> None:
    """New kWh carried by each life (zero unless chosen; summing to the new kWh over a year's lives)."""
    b.life_new_kwh = pyo.Var(b.LIFE, bounds=lambda b, i, a, z: (0.0, max_new_kwh[i]))
    b.life_new_ub = pyo.Constraint(
        b.LIFE, rule=lambda b, i, a, z: b.life_new_kwh[i, a, z] <= max_new_kwh[i] * b.life[i, a, z])
    b.life_new_sum = pyo.Constraint(b.BAT, b.Y, rule=lambda b, i, t: sum(
        b.life_new_kwh[i, a, z] for (a, z) in covering[i, t]) == new_kwh[i])
    b.life_kwh = pyo.Expression(
        b.LIFE, rule=lambda b, i, a, z: existing_kwh[i] * b.life[i, a, z] + b.life_new_kwh[i, a, z])


def _add_life_flow(b, lives, covering) -> None:
    """One life starts in year 0; at each replacement year one life ends and one starts."""
    b.life_start = pyo.Constraint(
        b.BAT, rule=lambda b, i: sum(b.life[i, a, z] for (a, z) in covering[i, 0] if a == 0) == 1)
    b.life_in = pyo.Constraint(b.BAT, b.Y1, rule=lambda b, i, y: sum(
        b.life[i, a, y] for (a, z) in lives[i] if z == y) == b.replace[i, y])
    b.life_out = pyo.Constraint(b.BAT, b.Y1, rule=lambda b, i, y: sum(
        b.life[i, y, z] for (a, z) in lives[i] if a == y) == b.replace[i, y])


def _add_life_wear(b, cal, cyc, eol, years, covering) -> None:
    """Each life's throughput share, its capacity at the end of each year and its end-of-life check."""
    with_cycles = [i for i in b.BAT if cyc[i] > 0]
    b.LIFE_YEAR_C = pyo.Set(initialize=[key for key in b.LIFE_YEAR if key[0] in with_cycles], dimen=4, ordered=True)
    b.life_throughput_kwh = pyo.Var(b.LIFE_YEAR_C, bounds=(0.0, None))
    b.throughput_split = pyo.Constraint(
        [(i, t) for i in with_cycles for t in range(years)], rule=lambda b, i, t: sum(
            b.life_throughput_kwh[i, a, z, t] for (a, z) in covering[i, t]) == b.throughput_kwh[i, t])

    def life_end(b, i, a, z, t):  # capacity of life (a, z) at the end of year t
        worn = sum(b.life_throughput_kwh[i, a, z, tau] for tau in range(a, t + 1)) if i in with_cycles else 0.0
        return b.life_kwh[i, a, z] * (1.0 - (t - a + 1) * cal[i]) - cyc[i] * worn

    b.life_end_kwh = pyo.Expression(b.LIFE_YEAR, rule=life_end)
    b.life_nonnegative = pyo.Constraint(b.LIFE, rule=lambda b, i, a, z: b.life_end_kwh[i, a, z, z - 1] >= 0)
    # end of life: a battery replaced at z must be above eol at the end of year z - 2 (the check of year
    # z - 1, the last it serves in full), one that lasts to the horizon at the end of the last year
    b.LIFE_EOL = pyo.Set(initialize=[(i, a, z) for (i, a, z) in b.LIFE if z == years or z - a >= 2], dimen=3,
                         ordered=True)
    b.life_end_of_life = pyo.Constraint(b.LIFE_EOL, rule=lambda b, i, a, z: b.life_end_kwh[
        i, a, z, (years - 1 if z == years else z - 2)] >= eol[i] * b.life_kwh[i, a, z])


def _add_yearly_capacity(b, lives, cal, cyc, covering) -> None:
    """Usable capacity at the start and end of each year (the lives covering it) and replaced kWh (the
    capacity of the lives starting that year: replace x E when integral)."""
    with_cycles = {i for i in b.BAT if cyc[i] > 0}
    b.capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, t: sum(
        b.life_end_kwh[i, a, z, t] + cal[i] * b.life_kwh[i, a, z]
        + (cyc[i] * b.life_throughput_kwh[i, a, z, t] if i in with_cycles else 0.0) for (a, z) in covering[i, t]))
    b.end_capacity_kwh = pyo.Expression(b.BAT, b.Y, rule=lambda b, i, t: sum(
        b.life_end_kwh[i, a, z, t] for (a, z) in covering[i, t]))
    b.replaced_kwh = pyo.Var(b.BAT, b.Y1, bounds=(0.0, None))
    b.replaced_def = pyo.Constraint(b.BAT, b.Y1, rule=lambda b, i, y: b.replaced_kwh[i, y] == sum(
        b.life_kwh[i, y, z] for (a, z) in lives[i] if a == y))
