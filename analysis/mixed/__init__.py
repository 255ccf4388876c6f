"""Mixed-effects models matching R's lme4 (``lmer``, ``glmer``) and ordinal (``clmm``).

    from analysis.mixed import lmer, glmer, clmm

    fit = glmer("correct ~ condition * ai_correct + (1 + ai_correct | participant)"
                " + (1 | item)", trials)
    fit.params, fit.bse, fit.pvalues, fit.conf_int(), fit.var_corr, fit.summary()

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

from analysis.mixed.clmm import clmm
from analysis.mixed.convergence import ConvergenceWarning
from analysis.mixed.glmm import glmer
from analysis.mixed.lmm import lmer
from analysis.mixed.results import MixedResults

__all__ = ["ConvergenceWarning", "MixedResults", "clmm", "glmer", "lmer"]
