"""The day-ahead solution methods, one file each, registered by name in ``METHODS``."""

from __future__ import annotations

from planner.dayahead.methods.base import Incumbent, Method, MethodOutcome, DayAheadProblem
from planner.dayahead.methods.ef import ExtensiveForm
from planner.dayahead.methods.lshaped import LShaped
from planner.dayahead.methods.ph import ProgressiveHedging

METHODS: dict[str, Method] = {m.name: m for m in (ExtensiveForm(), ProgressiveHedging(), LShaped())}

__all__ = ["METHODS", "Incumbent", "Method", "MethodOutcome", "DayAheadProblem"]
