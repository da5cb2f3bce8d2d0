"""Live training progress: one table line per iteration (iteration, bound,
simulated cost, time, number of cuts); print_level=0 silences it."""

from __future__ import annotations

import sys

__all__ = ["Progress"]


class Progress:
    """Prints the training table to ``stream`` (stdout by default)."""

    def __init__(self, print_level=1, sense="min", stream=None):
        self.level = int(print_level or 0)
        self.sense = sense
        self.stream = stream or sys.stdout

    def _print(self, text):
        if self.level > 0:
            print(text, file=self.stream, flush=True)

    def header(self, risk_measure=None, cut_type="single", ranks=1):
        if self.level <= 0:
            return
        bound = "lower bound" if self.sense == "min" else "upper bound"
        self._print(f"SDDP ({self.sense}, {cut_type}-cut, risk={risk_measure or 'Expectation()'}, "
                    f"ranks={ranks})")
        self._print(f"{'iteration':>9}  {bound:>15}  {'simulation':>15}  {'time (s)':>9}  "
                    f"{'cuts':>7}  {'solves':>8}")

    def row(self, rec):
        self._print(f"{rec.iteration:>9d}  {rec.bound:>15.6e}  {rec.simulation_value:>15.6e}  "
                    f"{rec.time:>9.3f}  {rec.cuts:>7d}  {rec.solves:>8d}")

    def footer(self, result):
        self._print(f"stopped: {result.status} after {result.iterations} iterations, "
                    f"{result.time:.3f} s, bound {result.bound:.6e}")
