"""Results of a mixed-model fit, shaped like statsmodels results objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.special

from analysis.mixed.convergence import is_singular, warn_convergence
from analysis.mixed.model import ModelData, convergence_alarms, json_row, random_effects_rows
from analysis.mixed.optimize import Optimum
from analysis.mixed.structure import RandomStructure

__all__ = ["MixedResults", "build_results", "random_effects_table"]


@dataclass
class MixedResults:
    """A fitted mixed model. Wald tests use the normal distribution for every family (for
    linear mixed models this ignores the denominator degrees of freedom, like lme4's t values
    read against a normal)."""

    family: str
    formula: str
    method: str  # "REML", "ML" or "Laplace"
    params: pd.Series
    cov_fixed: pd.DataFrame
    var_corr: pd.DataFrame  # SDs and correlations, like as.data.frame(VarCorr(fit))
    residual_sd: float | None
    llf: float  # log-likelihood (REML criterion for REML fits), like statsmodels
    converged: bool
    warnings: list[str]
    nobs: int
    ngroups: dict[str, int]
    n_params: int
    theta: np.ndarray
    random_effects: dict[str, pd.DataFrame]  # conditional modes per grouping factor
    thresholds: pd.Series | None = None
    threshold_bse: pd.Series | None = None
    n_evaluations: int = 0
    singular: bool = False

    @property
    def cov_re(self) -> dict[str, pd.DataFrame]:
        """Covariance matrix of each grouping factor's random effects (from ``var_corr``;
        terms of one factor written separately, as with ``||``, are uncorrelated)."""
        out: dict[str, pd.DataFrame] = {}
        for group, rows in self.var_corr[self.var_corr["group"] != "Residual"].groupby(
                "group", sort=False):
            sds = rows[rows["term2"].isna()]
            names = [str(name) for name in sds["term"]]
            sd = sds["sd_or_cor"].to_numpy(dtype=float)
            cov = np.diag(sd**2)
            for row in rows[rows["term2"].notna()].itertuples(index=False):
                i, j = names.index(str(row.term)), names.index(str(row.term2))
                cov[i, j] = cov[j, i] = row.sd_or_cor * sd[i] * sd[j]
            out[str(group)] = pd.DataFrame(cov, index=names, columns=names)
        return out

    # The fitted arrays, kept so inference (analysis.mixed.inference) can re-evaluate the
    # likelihood away from the optimum and refit (ML refits, profiles, bootstrap).
    model_data: ModelData | None = field(default=None, repr=False, compare=False)

    @property
    def bse(self) -> pd.Series:
        """Standard errors of the fixed effects."""
        return pd.Series(np.sqrt(np.diag(self.cov_fixed.to_numpy())), index=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        """Wald statistics estimate / SE."""
        return self.params / self.bse

    @property
    def zvalues(self) -> pd.Series:
        """Alias of ``tvalues`` (z for GLMMs and CLMMs)."""
        return self.tvalues

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided Wald p-values from the normal distribution."""
        return pd.Series(2 * scipy.special.ndtr(-np.abs(self.tvalues)), index=self.params.index)

    def conf_int(self, alpha: float = 0.05, *, method: str = "wald", n_boot: int = 500,
                 random_state: int | np.random.Generator | None = None) -> pd.DataFrame:
        """Confidence intervals for the fixed effects (columns ``lower``, ``upper``).

        Parameters
        ----------
        alpha : float
            1 - coverage (0.05 gives 95% intervals).
        method : {"wald", "profile", "boot"}
            "wald" (default): estimate ± z·SE. "profile": likelihood-profile intervals like
            lme4's ``confint(fit, method="profile")`` (linear mixed models; ML profiles).
            "boot": parametric-bootstrap percentile intervals like
            ``confint(fit, method="boot")`` (linear and binomial mixed models).
        n_boot : int
            Number of bootstrap simulations (``method="boot"`` only).
        random_state : int or numpy.random.Generator, optional
            Seed of the bootstrap.

        Returns
        -------
        pandas.DataFrame
            One row per fixed effect, columns ``lower`` and ``upper``.

        Examples
        --------
        >>> fit = lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)  # doctest: +SKIP
        >>> fit.conf_int(method="profile")  # doctest: +SKIP
        """
        if method == "wald":
            z = float(scipy.special.ndtri(1 - alpha / 2))
            return pd.DataFrame({"lower": self.params - z * self.bse,
                                 "upper": self.params + z * self.bse})
        from analysis.mixed.inference import confint

        table = confint(self, method=method, level=1 - alpha, n_boot=n_boot,
                        random_state=random_state)
        return table.loc[list(self.params.index)]

    def fixed_effects_table(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Fixed-effect estimates with t tests on approximate denominator degrees of freedom.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "wald"}
            Satterthwaite (as lmerTest's default), Kenward-Roger (as pbkrtest / lmerTest's
            ``ddf="Kenward-Roger"``: adjusted SEs too) or "wald" (normal reference, df = inf;
            the only choice for GLMMs and CLMMs).

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate, se, df, statistic, p_value, lower, upper`` (95% intervals).

        Examples
        --------
        >>> fit = lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)  # doctest: +SKIP
        >>> fit.fixed_effects_table(ddf="kenward-roger")  # doctest: +SKIP
        """
        from analysis.mixed.inference import fixed_effects_table

        return fixed_effects_table(self, ddf=ddf)

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the fixed effects."""
        return self.cov_fixed

    @property
    def aic(self) -> float:
        """Akaike information criterion."""
        return -2 * self.llf + 2 * self.n_params

    @property
    def bic(self) -> float:
        """Bayesian information criterion."""
        return -2 * self.llf + np.log(self.nobs) * self.n_params

    def __repr__(self) -> str:
        return (f"<MixedResults {self.family} {self.method}: {self.formula!r}, "
                f"nobs={self.nobs}, llf={self.llf:.4f}, converged={self.converged}>")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the shape the ``analysis fit --json`` command prints)."""
        out: dict[str, Any] = {
            "family": self.family,
            "method": self.method,
            "fixed": {name: {"estimate": float(self.params[name]), "se": float(self.bse[name])}
                      for name in self.params.index},
            "random": [json_row(row) for row in self.var_corr.to_dict("records")],
            "residual_sd": self.residual_sd,
            "loglik": self.llf,
            "converged": self.converged,
            "singular": self.singular,
            "warnings": list(self.warnings),
            "nobs": self.nobs,
            "ngroups": dict(self.ngroups),
        }
        if self.thresholds is not None:
            se = self.threshold_bse if self.threshold_bse is not None else self.thresholds * np.nan
            out["thresholds"] = {str(k): {"estimate": float(v), "se": float(se[k])}
                                 for k, v in self.thresholds.items()}
        return out

    def summary(self) -> str:
        """A plain-text report in the spirit of lme4's ``summary()``."""
        from analysis.mixed.summary import format_summary

        return format_summary(self)


def random_effects_table(structure: RandomStructure, theta: np.ndarray,
                         scale: float) -> list[dict[str, Any]]:
    """Rows of SDs and correlations per term, like ``as.data.frame(VarCorr(fit))`` in lme4."""
    return random_effects_rows(structure.terms, structure.factors(theta), scale)


def _tidy_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Random-effects table with object columns so a missing name stays None."""
    columns = {name: pd.Series([r[name] for r in rows], dtype=object)
               for name in ("group", "term", "term2")}
    columns["sd_or_cor"] = pd.Series([r["sd_or_cor"] for r in rows], dtype=float)
    return pd.DataFrame(columns)


def _conditional_modes(model: ModelData, structure: RandomStructure,
                       b: np.ndarray) -> dict[str, pd.DataFrame]:
    """Conditional modes of the random effects, one data frame per grouping factor."""
    out: dict[str, pd.DataFrame] = {}
    for term, values in zip(model.terms, structure.split_by_term(b), strict=True):
        frame = pd.DataFrame(values, index=pd.Index(term.levels, name=term.group),
                             columns=term.names)
        if term.group in out:  # terms of one factor written apart, as with ``||``
            previous = out[term.group]
            frame.columns = [f"{name}_2" if name in previous.columns else name
                             for name in frame.columns]
            frame = pd.concat([previous, frame], axis=1)
        out[term.group] = frame
    return out


def build_results(*, family: str, formula: str, model: ModelData, structure: RandomStructure,
                  theta: np.ndarray, beta: np.ndarray, cov_fixed: np.ndarray,
                  random_modes: np.ndarray, residual_sd: float | None, loglik: float,
                  method: str, optimum: Optimum, n_params: int,
                  thresholds: pd.Series | None = None,
                  warnings: list[str] | None = None) -> MixedResults:
    """Assemble a MixedResults from a fitter's estimates."""
    names = model.fixed_names
    scale = residual_sd if residual_sd is not None else 1.0
    rows = random_effects_table(structure, theta, scale)
    if residual_sd is not None:
        rows.append({"group": "Residual", "term": None, "term2": None, "sd_or_cor": residual_sd})
    table = _tidy_table(rows)
    singular = is_singular(theta, structure.theta_lower())
    alarms = convergence_alarms(singular, optimum.converged, optimum.message)
    # build_results is called by lmer/glmer/clmm: the warning points at their caller.
    warn_convergence(alarms, stacklevel=3)
    notes = list(model.warnings) + alarms + list(warnings or [])
    return MixedResults(
        family=family, formula=formula, method=method,
        params=pd.Series(beta, index=names, dtype=float),
        cov_fixed=pd.DataFrame(cov_fixed, index=names, columns=names),
        var_corr=table, residual_sd=residual_sd, llf=float(loglik),
        converged=optimum.converged, warnings=notes, nobs=model.nobs,
        ngroups={t.group: t.n_levels for t in model.terms}, n_params=n_params,
        theta=np.asarray(theta), random_effects=_conditional_modes(model, structure, random_modes),
        thresholds=thresholds, n_evaluations=optimum.n_evaluations, singular=singular,
        model_data=model,
    )
