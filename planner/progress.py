"""The one live log of long runs (EF, PH, L-shaped, sizing, decomposition, policies): a message line or
an aligned row of iteration, lower bound, upper bound, gap and elapsed time, with the rows kept."""

from __future__ import annotations

import math
import sys
import time

from planner.results import relative_gap


class Progress:
    """Prints ``[elapsed] title: text`` messages and, under a header printed once, one row per update;
    silent when ``enabled`` is False. ``rows`` keeps (iteration, lower, upper, seconds) of every update."""

    def __init__(self, title: str, enabled: bool = True, stream=None):
        self.title = title
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.rows: list[tuple] = []
        self._header = False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def message(self, text: str) -> None:
        if self.enabled:
            print(f"[{self.elapsed:7.1f}s] {self.title}: {text}", file=self.stream, flush=True)

    def update(self, iteration, lower=None, upper=None, **extra) -> None:
        self.rows.append((iteration, lower, upper, self.elapsed))
        if not self.enabled:
            return
        if not self._header:
            cols = ["iter", "lower bound", "upper bound", "gap", "time"] + list(extra)
            print(f"{self.title}\n" + "  ".join(f"{c:>14}" for c in cols), file=self.stream, flush=True)
            self._header = True
        gap = relative_gap(lower, upper)
        cells = [
            f"{iteration:>14}",
            f"{lower:>14.6g}" if lower is not None and math.isfinite(lower) else f"{'-':>14}",
            f"{upper:>14.6g}" if upper is not None and math.isfinite(upper) else f"{'-':>14}",
            f"{100 * gap:>13.3f}%" if math.isfinite(gap) else f"{'-':>14}",
            f"{self.elapsed:>13.1f}s",
        ] + [f"{v:>14.6g}" if isinstance(v, float) else f"{v!s:>14}" for v in extra.values()]
        print("  ".join(cells), file=self.stream, flush=True)
