"""Rule policies of the battery: (a) the median-price rule, (b) the load-shedding rule.

* median-price rule: charge at full power in hours whose day-ahead price is below the day's
  median, discharge above it, never discharging below what the remaining cheap hours can recharge
  to the end-of-day target.
* load-shedding rule: battery idle; whenever the contract's import would exceed the subscribed
  power P, every site's load is cut by the same fraction (unserved energy at the value of lost
  load), the generator and links being used first when cheaper.
"""

from __future__ import annotations

import numpy as np

from planner.policy.base import HourlyPolicy
from planner.policy.recourse import HourState, Observation


class MedianPriceRule(HourlyPolicy):
    """Rule (a): charge below the day's median day-ahead price, discharge above (module doc)."""

    name = "median-price rule"

    def prepare(self, values: np.ndarray) -> None:
        self.p0 = values[:, :, 0]             # day-ahead prices: known for the whole day
        self.median = np.median(self.p0, axis=1)

    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        inp = self.model.inputs
        h = inp.period_hours
        s, t = observation.path, observation.period
        p0, median = self.p0[s], self.median[s]
        net = np.zeros(inp.n_sites)
        cheap_left = int(np.sum(p0[t + 1:] < median))
        for j, i in enumerate(inp.battery_sites):
            b = inp.battery[i]
            if p0[t] < median:
                net[i] = -b.power_kw
            elif p0[t] > median:
                reserve = max(b.soc_min_kwh,
                              inp.soc_target_kwh(i) - cheap_left * b.power_kw * b.charge_efficiency * h)
                net[i] = min(b.power_kw, max(state.soc_kwh[j] - reserve, 0.0) * b.discharge_efficiency / h)
        return net


class LoadSheddingRule(HourlyPolicy):
    """Rule (b): battery idle, proportional load shedding above the subscribed power."""

    name = "load-shedding rule"
    proportional_shedding = True

    def import_cap_kw(self) -> float:
        return self.model.inputs.case.contract.subscribed_power_kw

    def decide(self, state: HourState, observation: Observation) -> np.ndarray:
        return np.zeros(self.model.inputs.n_sites)
