"""Deprecated: the day-ahead model moved to ``planner.dayahead`` (data, model, module, plan). This thin
re-export keeps ``planner.twostage.plan`` and ``--module-name planner.twostage`` working for one release."""

from __future__ import annotations

import warnings

from planner.dayahead.data import (PRICE_VARIABLES, check_scenarios, mean_data, required_variables,  # noqa: F401
                                   scenario_data, zone_bounds_kw, zones_of)
from planner.dayahead.model import (build_day_ahead_model, day_ahead_frame, dispatch_frame,  # noqa: F401
                                    schedule_frame, site_schedule_heuristic)
from planner.dayahead.module import (attach_root_node, average_scenario_creator, custom_writer,  # noqa: F401
                                     inparser_adder, kw_creator, scenario_creator, scenario_denouement,
                                     scenario_names_creator)
from planner.dayahead.plan import plan as _plan

warnings.warn("planner.twostage is deprecated: import from planner.dayahead (plan, model, module, data)",
              DeprecationWarning, stacklevel=2)

mean_scenario_creator = average_scenario_creator


def plan(case, n_scenarios=None, method="ef", np=None, seed=None, output_dir=None, progress=True, **kwargs):
    """``planner.dayahead.plan.plan`` with the old argument names ``np`` (now ``n_ranks``) and ``seed``
    (now ``random_state``)."""
    warnings.warn("planner.twostage.plan is deprecated: use planner.dayahead.plan.plan (n_ranks=, random_state=)",
                  DeprecationWarning, stacklevel=2)
    if np is not None:
        kwargs.setdefault("n_ranks", np)
    if seed is not None:
        kwargs.setdefault("random_state", seed)
    return _plan(case, n_scenarios, method, output_dir=output_dir, progress=progress, **kwargs)
