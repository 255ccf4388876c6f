"""Denominator degrees of freedom for linear mixed models: Satterthwaite (as lmerTest) and
Kenward-Roger (as pbkrtest).

* Satterthwaite (Kuznetsova et al. 2017): df = 2 (l'Φl)² / (g'Ag), where g is the gradient of
  l'Φ(φ)l over the variance parameters φ = (θ, sigma) and A = 2 H⁻¹ their asymptotic
  covariance, H the Hessian of the deviance at φ. Derivatives by Richardson-extrapolated
  central differences (numDeriv's method, which lmerTest uses).
* Kenward-Roger (Kenward & Roger 1997; Halekoh & Højsgaard 2014): the covariance Φ of β̂ is
  inflated for the uncertainty of the variance parameters (Φ_A) and the df follow from
  matching moments. V = Σ gamma_i G_i is linear in the variances and covariances of the
  random effects and the residual variance, as pbkrtest parameterises it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from analysis.mixed.design import ModelData
from analysis.mixed.lmm import LinearMixedProblem
from analysis.mixed.optimize import numerical_hessian

if TYPE_CHECKING:
    from analysis.mixed.results import MixedResults

__all__ = ["KenwardRoger", "Satterthwaite", "kenward_roger", "linear_model_data",
           "satterthwaite"]

KR_MAX_ENTRIES = 10_000_000  # Kenward-Roger holds a few dense n x q matrices


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

    def scaled(y: np.ndarray) -> float:
        """fun in units of the first steps, so a unit step there is h0 here."""
        return fun(x + y * h0)

    origin = np.zeros_like(x)
    return _richardson(lambda scale: numerical_hessian(scaled, origin, step=scale)
                       ) / np.outer(h0, h0)


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

    def f_test(self, L: np.ndarray, beta: np.ndarray) -> tuple[float, int, float]:
        """F statistic, numerator and denominator df of Lβ = 0 (lmerTest's ``contestMD``):
        one Satterthwaite df per eigen-direction of LΦL', combined by matching moments."""
        values, vectors = np.linalg.eigh(L @ self.cov_beta @ L.T)
        values, vectors = values[::-1], vectors[:, ::-1]
        rank = int(np.sum(values > max(np.sqrt(np.finfo(float).eps) * values[0], 0.0)))
        if rank == 0:
            raise ValueError("the contrast matrix has rank 0")
        rotated = vectors[:, :rank].T @ L
        statistic = float(np.sum((rotated @ beta) ** 2 / values[:rank]) / rank)
        nu = np.array([self.df(row) for row in rotated])
        if rank == 1 or np.all(np.abs(np.diff(nu)) < 1e-8):
            return statistic, rank, float(np.mean(nu))
        if np.any(nu <= 2):
            return statistic, rank, 2.0
        expected = float(np.sum(nu / (nu - 2)))
        return statistic, rank, 2 * expected / (expected - rank)


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

    def _df_and_scaling(self, L: np.ndarray) -> tuple[float, float]:
        """Denominator df and F scaling for Lβ = 0 (pbkrtest's ``.KR_adjust``)."""
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
        df = float(4 + (q + 2) / (q * rho - 1))
        scaling = 1.0 if abs(df - 4) < 1e-2 else df * (1 - A2 / q) / (df - 2)
        return df, scaling

    def df(self, L: np.ndarray) -> float:
        """Kenward-Roger denominator df for the hypothesis Lβ = 0 (pbkrtest's ``Lb_ddf``)."""
        return self._df_and_scaling(np.atleast_2d(L))[0]

    def f_test(self, L: np.ndarray, beta: np.ndarray) -> tuple[float, int, float]:
        """Scaled F statistic, numerator and denominator df of Lβ = 0 (pbkrtest's
        ``KRmodcomp``: the Wald F on Φ_A times the moment-matching scale)."""
        L = np.atleast_2d(L)
        q = int(np.linalg.matrix_rank(L))
        if q < L.shape[0]:
            raise ValueError("the rows of the contrast matrix must be linearly independent")
        contrast = L @ beta
        unscaled = float(contrast @ np.linalg.solve(L @ self.cov_adjusted @ L.T, contrast)) / q
        df, scaling = self._df_and_scaling(L)
        return scaling * unscaled, q, df


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


@dataclass
class _Products:
    """Cross-products through M = V⁻¹ that Kenward-Roger needs (Z by (term, effect) blocks)."""

    ZMZ: np.ndarray
    ZMX: np.ndarray
    ZMMZ: np.ndarray
    ZMMX: np.ndarray
    XMMX: np.ndarray
    XMMMX: np.ndarray
    trace_MM: float


def _relative_factor(fit: MixedResults, model: ModelData) -> np.ndarray:
    """Λ in the (term, effect)-major column order of ``_effect_columns``: V = sigma²(I + ZΛΛ'Z')."""
    from analysis.mixed.structure import RandomStructure

    factors = RandomStructure(model.terms).factors(fit.theta)
    blocks = [np.kron(np.eye(term.n_levels), T) for term, T in zip(model.terms, factors,
                                                                     strict=True)]
    # kron gives level-major order within a term; the Z blocks are effect-major.
    starts = np.cumsum([0] + [t.q for t in model.terms])
    order = np.concatenate([start + np.arange(term.n_levels) * term.p + a
                            for start, term in zip(starts, model.terms, strict=False)
                            for a in range(term.p)])
    return np.asarray(scipy.linalg.block_diag(*blocks)[np.ix_(order, order)])


def _products(fit: MixedResults, model: ModelData, Z: sp.csc_matrix) -> _Products:
    """The products by Woodbury, never forming n x n: with U = ZΛ and S = (I + U'U)⁻¹,
    M = (I - USU') / sigma², so M applied to a thin matrix costs n x q."""
    assert fit.residual_sd is not None
    s2 = fit.residual_sd**2
    U = np.asarray(Z @ _relative_factor(fit, model))
    G = U.T @ U
    S = scipy.linalg.cho_solve(scipy.linalg.cho_factor(np.eye(len(G)) + G), np.eye(len(G)))

    def apply_M(Y: np.ndarray | sp.csc_matrix) -> np.ndarray:
        UtY = np.asarray((Y.T @ U).T)  # Y may be sparse: never densify Z itself
        out = U @ (S @ UtY)
        out *= -1.0
        out += Y if isinstance(Y, np.ndarray) else Y.toarray()
        out /= s2
        return np.asarray(out)

    X = model.X
    MZ, MX = apply_M(Z), apply_M(X)
    SG = S @ G
    trace_MM = (model.nobs - 2 * np.trace(SG) + float(np.sum(SG * SG.T))) / s2**2
    return _Products(ZMZ=np.asarray(Z.T @ MZ), ZMX=np.asarray(Z.T @ MX), ZMMZ=MZ.T @ MZ,
                     ZMMX=MZ.T @ MX, XMMX=MX.T @ MX, XMMMX=MX.T @ apply_M(MX),
                     trace_MM=float(trace_MM))


def kenward_roger(fit: MixedResults) -> KenwardRoger:
    """Kenward-Roger adjusted covariance of a REML fit, as pbkrtest's ``vcovAdj``."""
    model = linear_model_data(fit, "Kenward-Roger")
    if fit.method != "REML":
        raise ValueError("Kenward-Roger is defined for REML fits; refit with lmer(..., "
                         "reml=True)")
    blocks = _effect_columns(model)
    widths = [b.shape[1] for b in blocks]
    if model.nobs * sum(widths) > KR_MAX_ENTRIES:
        raise ValueError(f"Kenward-Roger needs dense {model.nobs} x {sum(widths)} matrices "
                         f"(more than {KR_MAX_ENTRIES:,} entries); use ddf='satterthwaite'")
    edges = np.concatenate([[0], np.cumsum(widths)])
    Z = sp.hstack(blocks).tocsc()
    products = _products(fit, model, Z)
    ZMZ, ZMX, ZMMZ, ZMMX = products.ZMZ, products.ZMX, products.ZMMZ, products.ZMMX
    XMMX = products.XMMX

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
                Q[i, j] = products.XMMMX
                K[i, j] = products.trace_MM
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
