"""The one estimator base of every scenario model and forecaster (scikit-learn's contract), and the
checks that name a bad argument."""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["ScenarioModel", "check_positive_int", "check_range", "check_site_name"]


class ScenarioModel(BaseEstimator):
    """Base of the scenario models: scikit-learn's ``BaseEstimator`` contract, exactly.

    * Hyper-parameters are the arguments of ``__init__``, stored unchanged under the same names
      (no validation, no derivation there), so ``get_params(deep=True)``, ``set_params`` and
      ``sklearn.base.clone`` work from the signature.
    * ``fit(...)`` first calls :meth:`check_params` (a bad hyper-parameter fails there with a
      message naming it, also after ``set_params`` or ``clone``), then learns attributes whose
      names end in ``_``.
    * ``sample(n, ..., *, random_state=None)`` draws scenarios; randomness enters only through
      ``random_state`` (an int, None or a ``numpy.random.Generator``): same state, same output.
      ``sample`` checks its own arguments.
    """

    def check_params(self) -> None:
        """Raise a ValueError naming the first invalid hyper-parameter (models override this)."""

    def params_in_signature_order(self) -> dict:
        """``get_params(deep=False)`` in the order of ``__init__``'s signature (the JSON layout)."""
        names = [p.name for p in inspect.signature(type(self).__init__).parameters.values()
                 if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        return {name: getattr(self, name) for name in names}


# -- checks of arguments ---------------------------------------------------------------------------
def check_range(name: str, value, low: float, high: float, *, high_open: bool = False,
                low_open: bool = False) -> float:
    """``value`` as a float, or a ValueError naming ``name`` and the allowed interval."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    ok = np.isfinite(x) and (x > low if low_open else x >= low) and (x < high if high_open else x <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in {lo}{low}, {high}{hi}; got {value!r}")
    return x


def check_site_name(site_name) -> None:
    """A site name suffixes variable names (``pv_kw_per_kwp:<site>``): non-empty, without ':'."""
    if site_name is not None and (not isinstance(site_name, str) or not site_name or ":" in site_name):
        raise ValueError(f"site_name must be a non-empty string without ':'; got {site_name!r}")


def check_positive_int(name: str, value) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)
