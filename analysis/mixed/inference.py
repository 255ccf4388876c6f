"""Inference papers report for mixed models: t and F tests on Satterthwaite or Kenward-Roger
denominator degrees of freedom, likelihood-ratio tests, profile and bootstrap intervals.

lme4 prints t values without p-values because their reference distribution is unknown. A
normal reference (Wald z) is too liberal with few groups (benchmarks/bench_type1.py); these
approximations are what lmerTest and pbkrtest offer and what reviewers expect. The degrees
of freedom are computed in :mod:`analysis.mixed.ddf`, the intervals in
:mod:`analysis.mixed.intervals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.stats

from analysis.mixed.ddf import kenward_roger, linear_model_data, satterthwaite
from analysis.mixed.lmm import fit_model_data

if TYPE_CHECKING:
    from analysis.mixed.results import MixedResults

__all__ = ["FTestResult", "LRTResult", "confint", "f_test", "fixed_effects_table", "lrt"]


# ----- the table --------------------------------------------------------------------------------
def fixed_effects_table(fit: MixedResults, ddf: str = "satterthwaite",
                        level: float = 0.95) -> pd.DataFrame:
    """Fixed-effect t tests on approximate denominator degrees of freedom.

    Parameters
    ----------
    fit : MixedResults
        A fit from :func:`analysis.mixed.lmer` (any method for "wald" and
        "satterthwaite"; REML for "kenward-roger") or, with ``ddf="wald"``, any fit.
    ddf : {"satterthwaite", "kenward-roger", "wald"}
        "satterthwaite" matches ``summary(lmerTest::lmer(...))``; "kenward-roger" matches
        ``summary(fit, ddf = "Kenward-Roger")`` (SEs from pbkrtest's adjusted covariance);
        "wald" is the normal reference (df = inf).
    level : float
        Coverage of the intervals ``lower``, ``upper`` (estimate ± t quantile x SE).

    Returns
    -------
    pandas.DataFrame
        Indexed by fixed-effect name, columns ``estimate, se, df, statistic, p_value,
        lower, upper``.

    Examples
    --------
    >>> from analysis.mixed import lmer
    >>> fit = lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)  # doctest: +SKIP
    >>> fixed_effects_table(fit, ddf="kenward-roger")  # doctest: +SKIP
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    names = list(fit.params.index)
    estimate = fit.params.to_numpy()
    identity = np.eye(len(names))
    if ddf == "wald":
        se, df = fit.bse.to_numpy(), np.full(len(names), np.inf)
    elif ddf == "satterthwaite":
        approx = satterthwaite(fit)
        se = np.sqrt(np.diag(approx.cov_beta))
        df = np.array([approx.df(row) for row in identity])
    elif ddf == "kenward-roger":
        kr = kenward_roger(fit)
        se = np.sqrt(np.diag(kr.cov_adjusted))
        df = np.array([kr.df(row) for row in identity])
    else:
        raise ValueError(f"ddf must be 'satterthwaite', 'kenward-roger' or 'wald', got {ddf!r}")
    statistic = estimate / se
    quantile = scipy.stats.t.ppf(0.5 + level / 2, df)
    return pd.DataFrame({
        "estimate": estimate, "se": se, "df": df, "statistic": statistic,
        "p_value": 2 * scipy.stats.t.sf(np.abs(statistic), df),
        "lower": estimate - quantile * se, "upper": estimate + quantile * se,
    }, index=pd.Index(names, name="term"))


# ----- F tests ----------------------------------------------------------------------------------
@dataclass
class FTestResult:
    """A joint test that several linear combinations of the fixed effects are zero."""

    statistic: float
    num_df: int
    den_df: float
    p_value: float
    method: str

    def to_dict(self) -> dict[str, float | int | str]:
        """JSON-ready fields."""
        return {"statistic": self.statistic, "num_df": self.num_df, "den_df": self.den_df,
                "p_value": self.p_value, "method": self.method}


def _contrast_matrix(fit: MixedResults, contrast: np.ndarray | list[str]) -> np.ndarray:
    """L from a matrix (one row per combination) or from coefficient names (one row each)."""
    names = list(fit.params.index)
    if isinstance(contrast, list) and all(isinstance(name, str) for name in contrast):
        unknown = [name for name in contrast if name not in names]
        if unknown or not contrast:
            raise ValueError(f"unknown fixed effect(s) {unknown}; the model has {names}")
        return np.eye(len(names))[[names.index(name) for name in contrast]]
    L = np.atleast_2d(np.asarray(contrast, dtype=float))
    if L.ndim != 2 or L.shape[1] != len(names) or not np.all(np.isfinite(L)):
        raise ValueError(f"the contrast matrix needs {len(names)} finite columns (one per "
                         f"fixed effect: {names}); got shape {L.shape}")
    return L


def f_test(fit: MixedResults, contrast: np.ndarray | list[str],
           ddf: str = "satterthwaite") -> FTestResult:
    """Joint F test of Lβ = 0, as lmerTest's ``contest(fit, L, joint = TRUE)``.

    Parameters
    ----------
    fit : MixedResults
        A linear mixed model (REML for Kenward-Roger).
    contrast : array of shape (q, p) or list of str
        The rows of L, or the names of the coefficients tested jointly (all of a factor's
        dummies, say, for its omnibus test at the reference levels of anything it interacts
        with).
    ddf : {"satterthwaite", "kenward-roger"}
        Satterthwaite (lmerTest's ``contestMD``) or Kenward-Roger (pbkrtest's ``KRmodcomp``,
        whose F is scaled).

    Returns
    -------
    FTestResult
        ``statistic``, ``num_df``, ``den_df``, ``p_value`` from the F distribution.

    Examples
    --------
    >>> f_test(fit, ["condition[T.b]", "condition[T.c]"])  # doctest: +SKIP
    """
    L = _contrast_matrix(fit, contrast)
    beta = fit.params.to_numpy()
    if ddf == "satterthwaite":
        statistic, num_df, den_df = satterthwaite(fit).f_test(L, beta)
    elif ddf == "kenward-roger":
        statistic, num_df, den_df = kenward_roger(fit).f_test(L, beta)
    else:
        raise ValueError(f"ddf must be 'satterthwaite' or 'kenward-roger', got {ddf!r}")
    p_value = float(scipy.stats.f.sf(statistic, num_df, den_df))
    return FTestResult(statistic, num_df, den_df, p_value, ddf)


# ----- likelihood-ratio tests -----------------------------------------------------------------
@dataclass
class LRTResult:
    """A likelihood-ratio test of a reduced model against a full one (R's ``anova``)."""

    chisq: float
    df: int
    p_value: float
    llf_reduced: float
    llf_full: float
    refitted: bool  # both REML fits were refitted by ML first, as anova() does

    def to_dict(self) -> dict[str, float | int | bool]:
        """JSON-ready fields."""
        return {"chisq": self.chisq, "df": self.df, "p_value": self.p_value,
                "llf_reduced": self.llf_reduced, "llf_full": self.llf_full,
                "refitted": self.refitted}


def _same_rows(reduced: MixedResults, full: MixedResults) -> None:
    """Nested models must be fitted to the same observations."""
    if reduced.family != full.family:
        raise ValueError(f"models of different families ({reduced.family}, {full.family}) "
                         "cannot be compared")
    same = reduced.nobs == full.nobs
    if same and reduced.model_data is not None and full.model_data is not None:
        same = bool(np.array_equal(reduced.model_data.y, full.model_data.y))
    if not same:
        raise ValueError("the models were fitted to different rows or responses (check for "
                         "missing values in columns only one model uses)")


def _ml(fit: MixedResults) -> MixedResults:
    """The ML refit of a REML linear mixed model (started at the REML θ)."""
    model = linear_model_data(fit, "an ML refit")
    return fit_model_data(model, fit.formula, reml=False, theta_start=fit.theta)


def lrt(reduced: MixedResults, full: MixedResults, *, refit: bool = True) -> LRTResult:
    """Likelihood-ratio test between nested mixed models, as R's ``anova(reduced, full)``.

    Parameters
    ----------
    reduced, full : MixedResults
        Fits of the same family to the same rows; ``full`` has more parameters.
    refit : bool
        Refit REML fits by ML before comparing (R's default; REML likelihoods of models with
        different fixed effects are not comparable). With ``refit=False`` REML fits are
        compared as they are, which is only valid when their fixed effects are the same.

    Returns
    -------
    LRTResult
        ``chisq`` = 2 (ll_full - ll_reduced) (at least 0), ``df`` the difference in the
        number of parameters, ``p_value`` from the χ² distribution.

    Examples
    --------
    >>> small = lmer("Reaction ~ 1 + (Days | Subject)", sleepstudy)  # doctest: +SKIP
    >>> big = lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)  # doctest: +SKIP
    >>> lrt(small, big).chisq  # doctest: +SKIP
    """
    _same_rows(reduced, full)
    df = full.n_params - reduced.n_params
    if df <= 0:
        raise ValueError(f"the full model must have more parameters than the reduced one "
                         f"({full.n_params} vs {reduced.n_params}); swap the arguments?")
    refitted = False
    if refit and full.family == "gaussian" and "REML" in (reduced.method, full.method):
        reduced = _ml(reduced) if reduced.method == "REML" else reduced
        full = _ml(full) if full.method == "REML" else full
        refitted = True
    elif reduced.method != full.method:
        raise ValueError(f"cannot compare a {reduced.method} fit with a {full.method} fit")
    elif (reduced.method == "REML" and reduced.model_data is not None
          and full.model_data is not None
          and not np.array_equal(reduced.model_data.X, full.model_data.X)):
        raise ValueError("REML likelihoods of models with different fixed effects are not "
                         "comparable; use refit=True")
    chisq = max(0.0, 2 * (full.llf - reduced.llf))
    return LRTResult(chisq=chisq, df=df, p_value=float(scipy.stats.chi2.sf(chisq, df)),
                     llf_reduced=reduced.llf, llf_full=full.llf, refitted=refitted)


def confint(fit: MixedResults, *, method: str = "profile", level: float = 0.95,
            n_boot: int = 500, random_state: int | np.random.Generator | None = None,
            ) -> pd.DataFrame:
    """Confidence intervals, as lme4's ``confint(fit, method=...)``.

    Parameters
    ----------
    fit : MixedResults
        A linear mixed model (profile and bootstrap intervals); Wald for any fit.
    method : {"profile", "boot", "wald"}
        "profile": likelihood-profile intervals of the fixed effects, the random-effect SDs
        and correlations and the residual SD (ML profiles, as lme4). "boot": parametric
        bootstrap percentile intervals (``n_boot`` simulations refitted as the original).
        "wald": estimate ± z·SE for the fixed effects. Bootstrap intervals are also
        offered for binomial GLMMs (glmer); profiles only for linear mixed models.
    level : float
        Coverage.
    n_boot : int
        Bootstrap simulations.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns ``lower``, ``upper``; rows the fixed effects, then (profile, boot) the
        variance table as lme4's ``oldNames = FALSE`` names it: ``sd_<term>|<group>``,
        ``cor_<term2>.<term>|<group>``, ``sigma`` (our term names, e.g. ``Intercept``).

    Examples
    --------
    >>> confint(fit, method="boot", n_boot=1000, random_state=1)  # doctest: +SKIP
    """
    from analysis.mixed.intervals import bootstrap_intervals, profile_intervals

    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if method == "profile":
        return profile_intervals(fit, level=level)
    if method == "boot":
        return bootstrap_intervals(fit, level=level, n_boot=n_boot, random_state=random_state)
    if method == "wald":
        return fit.conf_int(alpha=1 - level)
    raise ValueError(f"method must be 'profile', 'boot' or 'wald', got {method!r}")
