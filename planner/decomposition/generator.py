"""Seeded generator of realistic multi-site cases drawn from the default case's site templates.

``generate_case(n_sites, random_state)`` copies the default case's sites (foundry, metal
processing, electroplating) with varied sizes (0.5 to 1.5 times), a random subset of their lines,
production plans from each kept line busy 35-60 % of the day, microgrids kept or dropped, sites
scattered around the industrial zone, a sparse link network (a random spanning tree plus a few
extra links), and a contract whose subscribed power scales with the total mean load. The result
is validated by ``planner.case.case_from_dict``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from planner.case import MATERIALS, case_from_dict, case_to_dict, load_case

DEFAULT_CASE = Path(__file__).resolve().parents[2] / "data" / "cases" / "default.toml"


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state = {random_state!r}: give an int seed or a numpy Generator")


def generate_case(n_sites: int, random_state=0, *, template=None, max_lines_per_site: int | None = None,
                  extra_link_fraction: float = 0.2, name: str | None = None):
    """A validated Case with ``n_sites`` sites (same seed, same case).

    ``template``: a Case whose sites serve as templates (default: data/cases/default.toml);
    ``max_lines_per_site``: cap on the lines kept per site (small values give quick site MIPs);
    ``extra_link_fraction``: links beyond the spanning tree, as a share of ``n_sites``.
    """
    if not isinstance(n_sites, (int, np.integer)) or n_sites < 1:
        raise ValueError(f"n_sites = {n_sites!r}: give a positive integer")
    if max_lines_per_site is not None and max_lines_per_site < 1:
        raise ValueError(f"max_lines_per_site = {max_lines_per_site}: give at least 1 (or None for no cap)")
    rng = _rng(random_state)
    base = case_to_dict(template if template is not None else load_case(DEFAULT_CASE))
    templates = base["sites"]
    sites = []
    total_mean_kw = 0.0
    for i in range(int(n_sites)):
        tpl = templates[int(rng.integers(len(templates)))]
        size = float(rng.uniform(0.5, 1.5))
        lines = list(tpl["lines"])
        keep = int(rng.integers(1, len(lines) + 1))
        if max_lines_per_site is not None:
            keep = min(keep, max_lines_per_site)
        chosen = sorted(rng.choice(len(lines), size=keep, replace=False))
        new_lines = []
        for k in chosen:
            line = dict(lines[k])
            line["power_kw"] = {m: round(v * size, 1) for m, v in line["power_kw"].items()}
            line["rate_t_per_h"] = {m: round(v * size, 3) for m, v in line["rate_t_per_h"].items()}
            line["startup_energy_kwh"] = round(line.get("startup_energy_kwh", 0.0) * size, 1)
            line["standby_power_kw"] = round(line.get("standby_power_kw", 0.0) * size, 1)
            new_lines.append(line)
        # production plan from time shares: each line busy 35-60 % of the day, split among its materials
        hours = {m: 0.0 for m in MATERIALS}
        line_hours = []
        for line in new_lines:
            mats = list(line["rate_t_per_h"])
            share = rng.dirichlet(np.ones(len(mats))) * float(rng.uniform(0.35, 0.6)) * 24.0
            line_hours.append(dict(zip(mats, share)))
        if tpl.get("no_m1_m2_together", False):
            m12 = sum(h.get("M1", 0.0) + h.get("M2", 0.0) for h in line_hours)
            if m12 > 12.0:
                for h in line_hours:
                    for m in ("M1", "M2"):
                        if m in h:
                            h[m] *= 12.0 / m12
        plan = {}
        for line, h in zip(new_lines, line_hours):
            for m, hrs in h.items():
                plan[m] = plan.get(m, 0.0) + line["rate_t_per_h"][m] * hrs
        plan = {m: round(0.95 * q, 2) for m, q in plan.items() if q > 0.05}
        made = set(plan)
        storage = {}
        for m, v in tpl.get("storage", {}).items():
            initial = round(v.get("initial_t", 0.0) * size, 2)
            storage[m] = {"initial_t": initial, "min_t": round(min(v.get("min_t", 0.0) * size, initial), 2),
                          "max_t": round(max(v.get("max_t", 1e300) * size, initial + plan.get(m, 0.0) + 1.0), 2)}
        deliveries = [dict(d, quantity_t=round(d["quantity_t"] * size * 0.5, 2))
                      for d in tpl.get("deliveries", []) if d["material"] in made and d["material"] in storage]
        site = {
            "name": f"{tpl['name']}_{i:03d}",
            "latitude": round(45.70 + float(rng.normal(0, 0.03)), 4),
            "longitude": round(4.90 + float(rng.normal(0, 0.04)), 4),
            "base_load": dict(tpl["base_load"], mean_kw=round(tpl["base_load"]["mean_kw"] * size, 1)),
            "lines": new_lines,
            "storage": storage,
            "plan_t_per_day": plan,
            "deliveries": deliveries,
            "no_m1_m2_together": bool(tpl.get("no_m1_m2_together", False)),
            "grid_connection_kw": round(tpl.get("grid_connection_kw", 1e300) * size, 1),
        }
        if "generator" in tpl and rng.random() < 0.7:
            g = dict(tpl["generator"])
            g["capacity_kw"] = round(g["capacity_kw"] * size, 1)
            g["min_load_kw"] = round(g.get("min_load_kw", 0.0) * size, 1)
            site["generator"] = g
        mg = {}
        tmg = tpl.get("microgrid", {})
        if "pv" in tmg and rng.random() < 0.85:
            mg["pv"] = dict(tmg["pv"], kwp=round(tmg["pv"]["kwp"] * float(rng.uniform(0.5, 2.0)), 1))
        if tmg.get("wind") and rng.random() < 0.6:
            mg["wind"] = [dict(w) for w in tmg["wind"]]
        if "battery" in tmg and rng.random() < 0.7:
            b = dict(tmg["battery"])
            scale = float(rng.uniform(0.5, 2.0))
            b["energy_kwh"] = round(b["energy_kwh"] * scale, 1)
            b["power_kw"] = round(b["power_kw"] * scale, 1)
            mg["battery"] = b
        site["microgrid"] = mg
        sites.append(site)
        total_mean_kw += site["base_load"]["mean_kw"] + sum(
            float(np.mean(list(l["power_kw"].values()))) * 0.5 for l in new_lines)
    # sparse network: random spanning tree, then a few extra links
    pairs = set()
    for i in range(1, len(sites)):
        pairs.add((int(rng.integers(i)), i))
    for _ in range(int(round(extra_link_fraction * len(sites)))):
        a, b = sorted(int(x) for x in rng.choice(len(sites), size=2, replace=False)) if len(sites) > 1 else (0, 0)
        if a != b:
            pairs.add((a, b))
    links = [{"site_a": sites[a]["name"], "site_b": sites[b]["name"],
              "capacity_kw": round(float(rng.uniform(500.0, 2000.0)), 1),
              "loss_fraction": round(float(rng.uniform(0.01, 0.03)), 4)} for a, b in sorted(pairs)]
    data = {k: v for k, v in base.items() if k not in ("sites", "links", "name", "description")}
    data["name"] = name or f"generated_{n_sites}_sites"
    data["description"] = f"{n_sites} sites generated from the default case's templates"
    data["sites"] = sites
    data["links"] = links
    data["contract"] = dict(base["contract"], subscribed_power_kw=round(0.9 * total_mean_kw, 1))
    return case_from_dict(data, source=f"generate_case({n_sites})")
