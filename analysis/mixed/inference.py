"""Inference papers report for mixed models: t tests on Satterthwaite or Kenward-Roger
denominator degrees of freedom, likelihood-ratio tests, profile and bootstrap intervals.

lme4 prints t values without p-values because their reference distribution is unknown. A
normal reference (Wald z) is too liberal with few groups; these approximations are what
lmerTest and pbkrtest offer and what reviewers expect:

* Satterthwaite (lmerTest, Kuznetsova et al. 2017): df = 2 (l'Φl)² / (g'Ag), where g is the
  gradient of l'Φ(φ)l over the variance parameters φ = (θ, sigma) and A = 2 H⁻¹ their asymptotic
  covariance, H the Hessian of the deviance at φ. Derivatives by Richardson-extrapolated
  central differences (numDeriv's method).
* Kenward-Roger (Kenward & Roger 1997; pbkrtest, Halekoh & Højsgaard 2014): the covariance
  Φ of β̂ is inflated for the uncertainty of the variance parameters (Φ_A) and the df follow
  from matching moments. V = Σᵢ gamma_i Gᵢ is linear in the variances and covariances gamma of the
  random effects and the residual variance, as pbkrtest parameterises it.

Intervals (profile, bootstrap) are in :mod:`analysis.mixed.intervals`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
import scipy.stats

from analysis.mixed.design import ModelData
from analysis.mixed.lmm import LinearMixedProblem, fit_model_data

if TYPE_CHECKING:
    from analysis.mixed.results import MixedResults

__all__ = ["LRTResult", "confint", "fixed_effects_table", "kenward_roger", "lrt",
           "satterthwaite"]

Ddf = Literal["satterthwaite", "kenward-roger", "wald"]
KR_MAX_ROWS = 6000  # Kenward-Roger needs dense n x n matrices


# ----- shared ---------------------------------------------------------------------------------
def linear_model_data(fit: MixedResults, what: str) -> ModelData:
    """The fitted arrays of a linear mixed model, or a ValueError saying why ``what`` needs one."""
    if fit.family != "gaussian":
        raise ValueError(f"{what} is for linear mixed models (lmer); this is a {fit.family} "
                         "model: use ddf='wald' or a likelihood-ratio test")
    if fit.model_data is None:
        raise ValueError(f"{what} needs the fitted arrays; this results object has none")
    return fit.model_data


def _steps(x: np.ndarray, relative: float) -> np.ndarray:
    """numDeriv's first step: relative to |x|, absolute 1e-4 where x is (near) zero."""
    return relative * np.abs(x) + 1e-4 * (np.abs(x) < 1.8e-5)


def _richardson(estimate: Callable[[float], np.ndarray], levels: int = 4) -> np.ndarray:
    """Richardson extrapolation of a central-difference estimate D(h) = D + c₂h² + c₄h⁴ + ...
    from steps h, h/2, h/4, ... (``estimate`` takes the step's scale factor)."""
    table = [estimate(0.5**m) for m in range(levels)]
    for k in range(1, levels):
        factor = 4.0**k
        table = [(factor * table[m + 1] - table[m]) / (factor - 1) for m in range(len(table) - 1)]
    return table[0]


def jacobian(fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """d fun / dx (columns: coordinates of x) by extrapolated central differences."""
    h0 = _steps(x, 1e-4)

    def at_scale(scale: float) -> np.ndarray:
        columns = []
        for i in range(len(x)):
            step = np.zeros_like(x)
            step[i] = h0[i] * scale
            columns.append((fun(x + step) - fun(x - step)) / (2 * step[i]))
        return np.stack(columns, axis=-1)

    return _richardson(at_scale)


def hessian(fun: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Second derivatives of a scalar function by extrapolated central differences."""
    h0 = _steps(x, 1e-2)
    f0 = fun(x)
    k = len(x)

    def at_scale(scale: float) -> np.ndarray:
        h = h0 * scale
        H = np.empty((k, k))
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = h[i]
            H[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(k)
                ej[j] = h[j]
                H[i, j] = H[j, i] = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej)
                                     + fun(x - ei - ej)) / (4 * h[i] * h[j])
        return H

    return _richardson(at_scale)


# ----- Satterthwaite --------------------------------------------------------------------------
@dataclass
class Satterthwaite:
    """What Satterthwaite's approximation needs, computed once per fit."""

    cov_beta: np.ndarray  # Φ at the estimates
    jacobian: np.ndarray  # dΦ/dφⱼ stacked as (p, p, n_varpar)
    cov_varpar: np.ndarray  # A = 2 H⁻¹ (pseudo-inverse over positive eigenvalues, as lmerTest)

    def df(self, L: np.ndarray) -> float:
        """Denominator df of the contrast l'β."""
        variance = float(L @ self.cov_beta @ L)
        gradient = np.einsum("i,ijk,j->k", L, self.jacobian, L)
        return 2 * variance**2 / float(gradient @ self.cov_varpar @ gradient)


def satterthwaite(fit: MixedResults) -> Satterthwaite:
    """Satterthwaite's pieces for a linear mixed model, as lmerTest's ``as_lmerModLmerTest``."""
    model = linear_model_data(fit, "Satterthwaite's approximation")
    reml = fit.method == "REML"
    problem = LinearMixedProblem(model, reml=reml)
    n, p = model.X.shape

    def deviance(varpar: np.ndarray) -> float:
        """-2 log-likelihood (REML criterion) at (θ, sigma), sigma not profiled out."""
        evaluation = problem.evaluate(varpar[:-1])
        s2 = varpar[-1] ** 2
        value = evaluation.factor.logdet() + evaluation.r2 / s2 + n * np.log(2 * np.pi * s2)
        if reml:
            value += evaluation.solution.logdet_rx() - p * np.log(2 * np.pi * s2)
        return float(value)

    def cov_beta(varpar: np.ndarray) -> np.ndarray:
        RX_inv = np.linalg.inv(problem.evaluate(varpar[:-1]).solution.RX)
        return np.asarray(varpar[-1] ** 2 * (RX_inv @ RX_inv.T))

    assert fit.residual_sd is not None
    varpar = np.append(fit.theta, fit.residual_sd)
    values, vectors = np.linalg.eigh(hessian(deviance, varpar))
    positive = values > 1e-8
    h_inv = (vectors[:, positive] / values[positive]) @ vectors[:, positive].T
    return Satterthwaite(fit.cov_fixed.to_numpy(), jacobian(cov_beta, varpar), 2 * h_inv)


# ----- Kenward-Roger --------------------------------------------------------------------------
@dataclass
class KenwardRoger:
    """pbkrtest's ``vcovAdj``: the adjusted covariance and what its df need."""

    cov_beta: np.ndarray  # Φ
    cov_adjusted: np.ndarray  # Φ_A
    P: list[np.ndarray]  # -X'V⁻¹GᵢV⁻¹X
    W: np.ndarray  # 2 x inverse expected REML information of gamma

    def df(self, L: np.ndarray) -> float:
        """Kenward-Roger denominator df for the hypothesis Lβ = 0 (pbkrtest's ``Lb_ddf``)."""
        L = np.atleast_2d(L)
        q = L.shape[0]
        Phi = self.cov_beta
        Theta = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
        U = [Theta @ Phi @ Pi @ Phi for Pi in self.P]
        traces = np.array([np.trace(u) for u in U])
        A1 = float(traces @ self.W @ traces)
        A2 = float(sum(self.W[i, j] * np.sum(U[i] * U[j].T)
                       for i in range(len(U)) for j in range(len(U))))
        B = (A1 + 6 * A2) / (2 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        denominator = 3 * q + 2 * (1 - g)
        c1, c2, c3 = g / denominator, (q - g) / denominator, (q + 2 - g) / denominator
        v0 = 1 + c1 * B
        v0 = 0.0 if abs(v0) < 1e-10 else v0
        v1, v2 = 1 - c2 * B, 1 - c3 * B
        ratio = (1 - A2 / q) / v1 if v1 != 0 else 0.0
        rho = ratio**2 * v0 / (q * v2)
        return float(4 + (q + 2) / (q * rho - 1))


def _effect_columns(model: ModelData) -> list[sp.csc_matrix]:
    """One sparse n x levels matrix per (term, effect): Z restricted to that effect."""
    rows = np.arange(model.nobs)
    return [sp.csc_matrix((term.matrix[:, a], (rows, term.codes)),
                          shape=(model.nobs, term.n_levels))
            for term in model.terms for a in range(term.p)]


def _covariance_parameters(model: ModelData) -> list[list[tuple[int, int]]]:
    """Each variance/covariance gamma of the random effects as the (effect, effect) column-block
    pairs whose products Z_a Z_b' sum to ∂V/∂gamma; the residual variance (∂V/∂sigma^2 = I) is last
    and implicit."""
    params, start = [], 0
    for term in model.terms:
        for b in range(term.p):
            for a in range(b, term.p):
                pairs = [(start + a, start + b)]
                params.append(pairs if a == b else [*pairs, (start + b, start + a)])
        start += term.p
    return params


def _term_covariances(fit: MixedResults, model: ModelData) -> list[np.ndarray]:
    """sigma^2 T T' of each term (formula order)."""
    from analysis.mixed.structure import RandomStructure

    factors = RandomStructure(model.terms).factors(fit.theta)
    assert fit.residual_sd is not None
    return [fit.residual_sd**2 * (T @ T.T) for T in factors]


def kenward_roger(fit: MixedResults) -> KenwardRoger:
    """Kenward-Roger adjusted covariance of a REML fit, as pbkrtest's ``vcovAdj``."""
    model = linear_model_data(fit, "Kenward-Roger")
    if fit.method != "REML":
        raise ValueError("Kenward-Roger is defined for REML fits; refit with lmer(..., "
                         "reml=True)")
    n = model.nobs
    if n > KR_MAX_ROWS:
        raise ValueError(f"Kenward-Roger needs dense {n} x {n} matrices; above "
                         f"{KR_MAX_ROWS} rows use ddf='satterthwaite'")
    blocks = _effect_columns(model)
    widths = [b.shape[1] for b in blocks]
    edges = np.concatenate([[0], np.cumsum(widths)])
    Z = sp.hstack(blocks).tocsc()
    # V = Σ_terms Z_t C_t Z_t' + sigma^2I; its inverse M is formed densely (n is bounded above).
    D = scipy.linalg.block_diag(*[np.kron(np.eye(term.n_levels), C)
                                  for term, C in zip(model.terms, _term_covariances(fit, model),
                                                     strict=True)])
    # Z's columns are effect-major within a term; D above is level-major: permute it.
    perm = np.concatenate([start + np.arange(term.n_levels) * term.p + a
                           for start, term in zip(np.cumsum([0] + [t.q for t in model.terms]),
                                                  model.terms, strict=False)
                           for a in range(term.p)])
    D = D[np.ix_(perm, perm)]
    assert fit.residual_sd is not None
    V = (Z @ D @ Z.T) + fit.residual_sd**2 * np.eye(n)
    M = scipy.linalg.cho_solve(scipy.linalg.cho_factor(V), np.eye(n))
    X = model.X
    MZ, MX = np.asarray(Z.T @ M).T, M @ X
    ZMZ, ZMX, XMMX = np.asarray(Z.T @ MZ), np.asarray(Z.T @ MX), MX.T @ MX
    ZMMZ, ZMMX = MZ.T @ MZ, MZ.T @ MX

    def block(A: np.ndarray, a: int, b: int | None = None) -> np.ndarray:
        rows = slice(edges[a], edges[a + 1])
        return A[rows] if b is None else A[rows, edges[b]:edges[b + 1]]

    params: list[list[tuple[int, int]] | None] = [*_covariance_parameters(model), None]
    k = len(params)
    P, Q, K = [], {}, np.empty((k, k))
    for pi in params:
        P.append(-XMMX if pi is None else -sum(block(ZMX, a).T @ block(ZMX, b) for a, b in pi))
    for i, pi in enumerate(params):
        for j, pj in enumerate(params[i:], start=i):
            if pi is None and pj is None:
                Q[i, j] = MX.T @ M @ MX
                K[i, j] = float(np.sum(M * M))
            elif pj is None:
                assert pi is not None
                Q[i, j] = sum(block(ZMX, a).T @ block(ZMMX, b) for a, b in pi)
                K[i, j] = sum(float(np.trace(block(ZMMZ, b, a))) for a, b in pi)
            else:
                assert pi is not None
                Q[i, j] = sum(block(ZMX, a).T @ block(ZMZ, b, c) @ block(ZMX, d)
                              for a, b in pi for c, d in pj)
                K[i, j] = sum(float(np.sum(block(ZMZ, b, c) * block(ZMZ, d, a).T))
                              for a, b in pi for c, d in pj)
            K[j, i] = K[i, j]
    Phi = fit.cov_fixed.to_numpy()
    information = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            information[i, j] = information[j, i] = (
                K[i, j] - 2 * np.sum(Phi * Q[i, j]) + np.sum((Phi @ P[i]) * (P[j] @ Phi)))
    if np.min(np.abs(np.linalg.eigvalsh(information))) > 1e-10:
        W = 2 * np.linalg.inv(information)
    else:
        W = 2 * np.linalg.pinv(information)
    U = sum(W[i, j] * (Q[i, j] - P[i] @ Phi @ P[j]) for i in range(k) for j in range(i + 1, k))
    U = np.zeros_like(Phi) + U
    U = U + U.T + sum(W[i, i] * (Q[i, i] - P[i] @ Phi @ P[i]) for i in range(k))
    return KenwardRoger(Phi, Phi + 2 * Phi @ U @ Phi, P, W)


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


# ----- likelihood-ratio tests -----------------------------------------------------------------
@dataclass
class LRTResult:
    """A likelihood-ratio test of a reduced model against a full one (R's ``anova``)."""

    chisq: float
    df: int
    p_value: float
    loglik_reduced: float
    loglik_full: float
    refitted: bool  # both REML fits were refitted by ML first, as anova() does

    def to_dict(self) -> dict[str, float | int | bool]:
        """JSON-ready fields."""
        return {"chisq": self.chisq, "df": self.df, "p_value": self.p_value,
                "loglik_reduced": self.loglik_reduced, "loglik_full": self.loglik_full,
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
    chisq = max(0.0, 2 * (full.loglik - reduced.loglik))
    return LRTResult(chisq=chisq, df=df, p_value=float(scipy.stats.chi2.sf(chisq, df)),
                     loglik_reduced=reduced.loglik, loglik_full=full.loglik, refitted=refitted)


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
        of scalar terms and the residual SD (ML profiles, as lme4). "boot": parametric
        bootstrap percentile intervals (``n_boot`` simulations refitted as the original).
        "wald": estimate ± z·SE for the fixed effects.
    level : float
        Coverage.
    n_boot : int
        Bootstrap simulations.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns ``lower``, ``upper``; rows the fixed effects, then (profile, boot) SDs named
        ``sd_(<term>)|<group>`` and ``sigma`` as lme4's ``oldNames = FALSE``.

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
