"""Replay of real history day by day: forecast with data up to D-1, plan, operate against the realised day,
settle under the contract with the month's peak, carry the state (``planner replay``)."""
