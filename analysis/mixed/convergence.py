"""How a fit tells its user that the numbers may not be the maximum-likelihood estimates.

A wrong number with no warning is the worst failure a statistics tool has, so a fit that did
not pass the optimiser's final check (see ``optimize``) or that ended on the boundary of the
parameter space (a singular fit, as lme4's ``isSingular()``) raises a ``ConvergenceWarning``
through :mod:`warnings` and records the same words in the results (``warnings``,
``converged``, ``singular``), which ``summary()``, the JSON output and the report show.
"""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning as _StatsmodelsConvergence

__all__ = ["SINGULAR_TOL", "ConvergenceWarning", "is_singular", "warn_convergence"]

SINGULAR_TOL = 1e-4  # lme4's isSingular() tolerance on the diagonal of each factor
SINGULAR_MESSAGE = ("singular fit: a random-effect variance is (near) zero or a correlation "
                    "is +/-1; consider simplifying the random-effects structure")


class ConvergenceWarning(_StatsmodelsConvergence):
    """A mixed-model fit did not converge or is singular (a statsmodels ConvergenceWarning,
    so ``warnings.simplefilter("error", statsmodels...ConvergenceWarning)`` catches it)."""


def is_singular(theta: np.ndarray, lower: np.ndarray) -> bool:
    """lme4's isSingular(): a factor with a (near-)zero diagonal element."""
    return bool(np.any(theta[lower == 0] < SINGULAR_TOL))


def warn_convergence(problems: list[str], *, stacklevel: int) -> None:
    """One ConvergenceWarning listing every problem (nothing when there is none)."""
    if problems:
        warnings.warn("; ".join(problems), ConvergenceWarning, stacklevel=stacklevel + 1)
