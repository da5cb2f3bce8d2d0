"""Battery, PV and wind ageing: the linear fade model used by sizing, and its check and recalibration
against NREL's BLAST-Lite physical battery-life models."""

from planner.ageing.linear import LinearBatteryAgeing
from planner.ageing.blast_replay import blast_model, recalibrate_from_dispatch, replay_soc, soc_year_from_dispatch

__all__ = ["LinearBatteryAgeing", "blast_model", "replay_soc", "soc_year_from_dispatch", "recalibrate_from_dispatch"]
