"""How a fit tells its user that the numbers may not be the maximum-likelihood estimates.

A wrong number with no warning is the worst failure a statistics tool has, so a fit that did
not pass the optimiser's final check (see ``optimize``) or that ended on the boundary of the
parameter space (a singular fit, as lme4's ``isSingular()``) raises a ``ConvergenceWarning``
through :mod:`warnings` and records the same words in the results (``warnings``,
``converged``, ``singular``), which ``summary()``, the JSON output and the report show.
"""

from __future__ import annotations

import warnings

from statsmodels.tools.sm_exceptions import ConvergenceWarning as _StatsmodelsConvergence

from analysis.mixed.model import SINGULAR_MESSAGE, SINGULAR_TOL, is_singular

__all__ = ["SINGULAR_MESSAGE", "SINGULAR_TOL", "ConvergenceWarning", "is_singular",
           "warn_convergence"]



class ConvergenceWarning(_StatsmodelsConvergence):
    """A mixed-model fit did not converge or is singular (a statsmodels ConvergenceWarning,
    so ``warnings.simplefilter("error", statsmodels...ConvergenceWarning)`` catches it)."""


def warn_convergence(problems: list[str], *, stacklevel: int) -> None:
    """One ConvergenceWarning listing every problem (nothing when there is none)."""
    if problems:
        warnings.warn("; ".join(problems), ConvergenceWarning, stacklevel=stacklevel + 1)
