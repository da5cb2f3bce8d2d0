"""The sizing methods by name, one file each: ``ef`` (extensive form after a relax-and-fix certificate),
``ph`` (progressive hedging) and ``decomposed`` (scenario decomposition in worker processes). Each
``run(case, day_tables, probabilities, options, names, *, time_limit, mip_rel_gap, method_options,
progress)`` returns (EF-shaped model holding the answer, info with ``lower_eur`` and ``upper_eur``)."""

from planner.sizing.methods import decomposed, ef, ph

METHODS = {"ef": ef.run, "ph": ph.run, "decomposed": decomposed.run}


def method(name: str):
    """The ``run`` function of a sizing method; a clear error for an unknown name."""
    if name not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}; got {name!r}")
    return METHODS[name]
