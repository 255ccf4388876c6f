"""Mixed-effects models matching R's lme4 (``lmer``, ``glmer``) and ordinal (``clmm``).

    from analysis.mixed import lmer, glmer, clmm

    fit = glmer("correct ~ condition * ai_correct + (1 + ai_correct | participant)"
                " + (1 | item)", trials)
    fit.params, fit.bse, fit.pvalues, fit.conf_int(), fit.summary()
    fit.llf, fit.random_effects (conditional modes), fit.var_corr / fit.cov_re (variances)
    fit.converged, fit.singular, fit.warnings

Names follow statsmodels' MixedLMResults. A fit that fails the optimiser's final gradient and
Hessian check, or ends singular, raises ``ConvergenceWarning`` (a statsmodels
ConvergenceWarning) and says so in ``converged`` / ``singular`` / ``warnings``, ``summary()``
and ``to_dict()``.

Formulas are lme4's: ``(expr | g)`` correlated effects, ``(expr || g)`` uncorrelated,
``g1:g2`` and ``g1/g2`` grouping, ``cbind(successes, failures)`` for binomial counts.
Fixed-effect names follow formulaic (``Intercept``, ``condition[T.ai]``); string columns are
categorical with treatment coding against their first level in sorted order.

Fits agree with lme4 1.1-31 / ordinal 2022.11.16 to about 1e-5 (see tests/analysis). Where
they differ it is lme4's convergence, not the model: lme4's default PIRLS tolerance leaves
error in its GLMM conditional modes, which moves its Hessian-based SEs by up to ~1% (cbpp)
and its reported log-likelihood of a 40,000-row GLMM by ~1e-3; here PIRLS runs to
convergence and a dense brute-force Laplace computation agrees to 1e-11.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.mixed.convergence import ConvergenceWarning
    from analysis.mixed.glmm import glmer
    from analysis.mixed.lmm import lmer
    from analysis.mixed.ordinal import clmm
    from analysis.mixed.results import MixedResults

__all__ = ["ConvergenceWarning", "MixedResults", "clmm", "glmer", "lmer"]

# Loaded on first use (PEP 562): the command line's small-model path imports
# analysis.mixed.dense, which runs this file, and must not pay for pandas, scipy and
# formulaic that these bring in. clmm lives in ``ordinal``: a submodule named ``clmm``
# would replace the function on this package once imported.
_HOMES = {"clmm": "ordinal", "ConvergenceWarning": "convergence", "glmer": "glmm",
          "lmer": "lmm", "MixedResults": "results"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'analysis.mixed' has no attribute {name!r}")
    module = f"analysis.mixed.{_HOMES[name]}"
    __import__(module)  # the import statement's machinery, so -X importtime lists it
    value = getattr(sys.modules[module], name)
    globals()[name] = value
    return value
