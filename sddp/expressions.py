"""Variable handles and small linear expressions (dict of column -> coefficient)
used to write stage subproblems without a modelling library."""

from __future__ import annotations

from numbers import Real

__all__ = ["Variable", "LinearExpression", "Constraint", "quicksum"]


class LinearExpression:
    """A linear expression ``sum(coef * column) + constant``.

    ``terms`` maps column indices (of one subproblem) to coefficients.
    """

    __slots__ = ("terms", "constant")

    def __init__(self, terms=None, constant=0.0):
        self.terms = {} if terms is None else terms
        self.constant = float(constant)

    # -- construction helpers -------------------------------------------------
    @staticmethod
    def of(value) -> "LinearExpression":
        if isinstance(value, LinearExpression):
            return LinearExpression(dict(value.terms), value.constant)
        if isinstance(value, Variable):
            return LinearExpression({value.col: 1.0})
        if isinstance(value, Real):
            return LinearExpression(None, float(value))
        raise TypeError(f"cannot use {type(value).__name__} in a linear expression")

    def copy(self) -> "LinearExpression":
        return LinearExpression(dict(self.terms), self.constant)

    def add_inplace(self, other, scale=1.0) -> "LinearExpression":
        terms = self.terms
        if isinstance(other, Variable):
            terms[other.col] = terms.get(other.col, 0.0) + scale
        elif isinstance(other, LinearExpression):
            for c, v in other.terms.items():
                terms[c] = terms.get(c, 0.0) + scale * v
            self.constant += scale * other.constant
        elif isinstance(other, Real):
            self.constant += scale * float(other)
        else:
            return NotImplemented
        return self

    # -- operators ------------------------------------------------------------
    def __add__(self, other):
        return self.copy().add_inplace(other)

    __radd__ = __add__

    def __iadd__(self, other):
        return self.add_inplace(other)

    def __sub__(self, other):
        return self.copy().add_inplace(other, -1.0)

    def __rsub__(self, other):
        return (-self).add_inplace(other)

    def __isub__(self, other):
        return self.add_inplace(other, -1.0)

    def __neg__(self):
        return LinearExpression({c: -v for c, v in self.terms.items()}, -self.constant)

    def __mul__(self, other):
        if not isinstance(other, Real):
            return NotImplemented
        k = float(other)
        return LinearExpression({c: k * v for c, v in self.terms.items()}, k * self.constant)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, Real):
            return NotImplemented
        return self * (1.0 / float(other))

    def __repr__(self):
        parts = [f"{v:+g}*x{c}" for c, v in self.terms.items()]
        if self.constant or not parts:
            parts.append(f"{self.constant:+g}")
        return "LinearExpression(" + " ".join(parts) + ")"


class Variable:
    """Handle to one column of a :class:`~sddp.problem.Subproblem`."""

    __slots__ = ("col", "name")

    def __init__(self, col: int, name=None):
        self.col = col
        self.name = name

    def _expr(self):
        return LinearExpression({self.col: 1.0})

    def __add__(self, other):
        return self._expr().add_inplace(other)

    __radd__ = __add__

    def __sub__(self, other):
        return self._expr().add_inplace(other, -1.0)

    def __rsub__(self, other):
        return LinearExpression({self.col: -1.0}).add_inplace(other)

    def __neg__(self):
        return LinearExpression({self.col: -1.0})

    def __mul__(self, other):
        if not isinstance(other, Real):
            return NotImplemented
        return LinearExpression({self.col: float(other)})

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, Real):
            return NotImplemented
        return LinearExpression({self.col: 1.0 / float(other)})

    def __repr__(self):
        return f"Variable({self.name or self.col})"


class Constraint:
    """Handle to one row of a subproblem: ``expr (sense) rhs``."""

    __slots__ = ("row", "sense", "constant", "name")

    def __init__(self, row: int, sense: str, constant: float, name=None):
        self.row = row
        self.sense = sense
        self.constant = constant  # constant part of the expression, moved to the rhs
        self.name = name

    def __repr__(self):
        return f"Constraint({self.name or self.row}, {self.sense})"


def quicksum(items) -> LinearExpression:
    """Sum variables/expressions/numbers in place (faster than ``sum``)."""
    out = LinearExpression()
    for it in items:
        out.add_inplace(it)
    return out
