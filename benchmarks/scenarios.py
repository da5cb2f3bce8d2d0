"""Every scenario-generation ratio of issue 2 in one run: price realism and skill, PV and wind
realism and forecast-error skill, and reduction speed and quality.

    .venv/bin/python benchmarks/scenarios.py          # needs ../shared/data

Runs the three focused benchmarks in turn (each prints its own ratios against references measured
in the same process: the data's statistics, climatology, persistence, random subsets).
"""

from __future__ import annotations

import runpy
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for name in ("scenarios_price.py", "scenarios_renewables.py", "reduction.py"):
        start = time.perf_counter()
        print(f"\n===== {name} =====", flush=True)
        sys.argv = [str(HERE / name)]
        runpy.run_path(str(HERE / name), run_name="__main__")
        print(f"===== {name}: {time.perf_counter() - start:.1f} s =====", flush=True)
