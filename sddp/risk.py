"""Risk measures for the backward pass: each maps nominal probabilities and
outcome costs to adjusted probabilities (costs are always in minimisation sense)."""

from __future__ import annotations

import numpy as np

__all__ = ["RiskMeasure", "Expectation", "WorstCase", "AVaR", "EAVaR"]


class RiskMeasure:
    """Base class. ``adjust_probabilities(probabilities, costs)`` returns the
    probabilities under which the expectation of ``costs`` equals the risk-adjusted
    value. Larger costs are worse (maximisation problems are negated internally)."""

    def adjust_probabilities(self, probabilities, costs):  # pragma: no cover
        raise NotImplementedError

    def evaluate(self, probabilities, costs):
        """Risk-adjusted value of ``costs``."""
        q = self.adjust_probabilities(probabilities, costs)
        return float(np.dot(q, costs))


class Expectation(RiskMeasure):
    """The risk-neutral expectation."""

    def adjust_probabilities(self, probabilities, costs):
        return np.asarray(probabilities, dtype=float)

    def __repr__(self):
        return "Expectation()"


class WorstCase(RiskMeasure):
    """All weight on the worst outcome with positive probability."""

    def adjust_probabilities(self, probabilities, costs):
        p = np.asarray(probabilities, dtype=float)
        c = np.where(p > 0, np.asarray(costs, dtype=float), -np.inf)
        q = np.zeros_like(p)
        q[int(np.argmax(c))] = p.sum()
        return q

    def __repr__(self):
        return "WorstCase()"


class AVaR(RiskMeasure):
    """Average value at risk of the worst ``beta`` fraction of outcomes
    (``beta=1``: expectation, ``beta=0``: worst case)."""

    def __init__(self, beta):
        if not 0.0 <= beta <= 1.0:
            raise ValueError("beta must be in [0, 1]")
        self.beta = float(beta)

    def adjust_probabilities(self, probabilities, costs):
        p = np.asarray(probabilities, dtype=float)
        total = p.sum()
        if self.beta == 0.0:
            return WorstCase().adjust_probabilities(p, costs)
        q = np.zeros_like(p)
        remaining = total
        cap = p / self.beta
        for i in np.argsort(-np.asarray(costs, dtype=float), kind="stable"):
            if remaining <= 0:
                break
            q[i] = min(cap[i], remaining)
            remaining -= q[i]
        return q

    def __repr__(self):
        return f"AVaR({self.beta})"


class EAVaR(RiskMeasure):
    """Convex combination ``lambda_ * E + (1 - lambda_) * AVaR(beta)``."""

    def __init__(self, lambda_, beta):
        if not 0.0 <= lambda_ <= 1.0:
            raise ValueError("lambda_ must be in [0, 1]")
        self.lambda_ = float(lambda_)
        self.avar = AVaR(beta)

    @property
    def beta(self):
        return self.avar.beta

    def adjust_probabilities(self, probabilities, costs):
        p = np.asarray(probabilities, dtype=float)
        return self.lambda_ * p + (1.0 - self.lambda_) * self.avar.adjust_probabilities(p, costs)

    def __repr__(self):
        return f"EAVaR(lambda_={self.lambda_}, beta={self.beta})"
