"""Small linear mixed models with dense matrices and numpy alone: the command line's fast path.

``python -m analysis fit`` on sleepstudy takes R about 1.4 s, most of it start-up; importing
scipy, pandas and formulaic alone takes longer than that here. For a model with a few hundred
random effects or fewer, everything fits in dense arrays: Z'Z, Z'X and Z'y are formed once,
and each evaluation of the profiled deviance is one q x q Cholesky factorisation (Bates et al.
2015, JSS 67(1), eqs. 18-34, the same criterion as ``analysis.mixed.lmm``). The optimiser is
the projected Newton search of ``analysis.mixed.optimize`` with its restarts and final
gradient and Hessian check, so "converged" means what it means on the full path.

:func:`fit_csv` returns the same JSON-ready dictionary as ``MixedResults.to_dict()``, or
raises :class:`NotSimple` when the data or the model need the full path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.mixed.columns import NotSimple, read_table, simple_model_data
from analysis.mixed.model import (
    ModelData,
    convergence_alarms,
    is_singular,
    json_row,
    random_effects_rows,
    term_factors,
    theta_lower,
    theta_start,
)
from analysis.mixed.optimize import minimize_bounded

__all__ = ["MAX_CELLS", "MAX_Q", "DenseLinearMixed", "NotSimple", "fit_csv", "fit_dense"]

MAX_Q = 400  # random-effect columns: a q x q Cholesky per evaluation stays under a millisecond
MAX_CELLS = 2_000_000  # n x q of the dense Z (16 MB)
_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass
class _Solution:
    """The penalised least-squares solution at one θ."""

    deviance: float
    rx: np.ndarray  # RX (upper triangular): RX'RX = X'X - RZX'RZX
    cb: np.ndarray  # RX β = cb
    r2: float  # penalised residual sum of squares


class DenseLinearMixed:
    """Cross-products of a small linear mixed model, formed once, and its profiled deviance."""

    def __init__(self, model: ModelData, *, reml: bool) -> None:
        self.model, self.reml = model, reml
        self.q = sum(term.q for term in model.terms)
        if self.q > MAX_Q or self.q * model.nobs > MAX_CELLS:
            raise NotSimple(f"{self.q} random effects are too many for dense matrices")
        Z = np.zeros((model.nobs, self.q))
        self.offsets = [0]
        rows = np.arange(model.nobs)
        for term in model.terms:  # columns level by level, each level's p effects together
            for j in range(term.p):
                Z[rows, self.offsets[-1] + term.codes * term.p + j] = term.matrix[:, j]
            self.offsets.append(self.offsets[-1] + term.q)
        X, y = model.X, model.y
        self.ztz, self.ztx, self.zty = Z.T @ Z, Z.T @ X, Z.T @ y
        self.xtx, self.xty, self.yty = X.T @ X, X.T @ y, float(y @ y)

    def _lambda_t(self, factors: list[np.ndarray], M: np.ndarray) -> np.ndarray:
        """Λ'M for M with q rows: each level's p x p block of rows times T'."""
        out = np.empty_like(M)
        for term, T, start, stop in zip(self.model.terms, factors, self.offsets[:-1],
                                        self.offsets[1:], strict=True):
            block = M[start:stop].reshape(term.n_levels, term.p, -1)
            out[start:stop] = (T.T @ block).reshape(term.q, -1)
        return out

    def solve(self, theta: np.ndarray) -> _Solution:
        """Factor Λ'Z'ZΛ + I = LL' and solve for β; the profiled (REML) deviance."""
        factors = term_factors(self.model.terms, theta)
        lz = self._lambda_t(factors, self.ztz)
        A = self._lambda_t(factors, np.ascontiguousarray(lz.T))
        A[np.diag_indices(self.q)] += 1.0
        L = np.linalg.cholesky(A)
        rhs = self._lambda_t(factors, np.column_stack([self.ztx, self.zty]))
        solved = np.linalg.solve(L, rhs)
        rzx, cu = solved[:, :-1], solved[:, -1]
        LX = np.linalg.cholesky(self.xtx - rzx.T @ rzx)
        cb = np.linalg.solve(LX, self.xty - rzx.T @ cu)
        r2 = max(self.yty - float(cu @ cu) - float(cb @ cb), 1e-300)
        n, p = self.model.nobs, self.model.X.shape[1]
        dof = n - p if self.reml else n
        deviance = 2.0 * float(np.sum(np.log(np.diag(L)))) + dof * (
            1.0 + _LOG_2PI + float(np.log(r2 / dof)))
        if self.reml:
            deviance += 2.0 * float(np.sum(np.log(np.diag(LX))))
        return _Solution(deviance, LX.T, cb, r2)

    def deviance(self, theta: np.ndarray) -> float:
        """Profiled deviance, or inf where a factorisation fails."""
        try:
            return self.solve(theta).deviance
        except np.linalg.LinAlgError:
            return np.inf


def fit_dense(model: ModelData, *, reml: bool) -> tuple[dict[str, Any], list[str]]:
    """Fit a small gaussian model: ``MixedResults.to_dict()``'s dictionary, and the
    convergence warnings the full path would raise (a singular fit, a failed check)."""
    problem = DenseLinearMixed(model, reml=reml)
    lower = theta_lower(model.terms)
    optimum = minimize_bounded(problem.deviance, theta_start(model.terms), lower,
                               method="newton")
    best = problem.solve(optimum.x)
    p = model.X.shape[1]
    sigma = float(np.sqrt(best.r2 / (model.nobs - (p if reml else 0))))
    if not sigma > 1e-10 * float(np.std(model.y)):
        raise NotSimple("residual SD 0: the full path explains why")
    # β and cov(β) = σ² RX^-1 RX^-T only at the optimum, not in every evaluation.
    rx_inverse = np.linalg.inv(best.rx)
    beta = rx_inverse @ best.cb
    se = sigma * np.sqrt(np.sum(rx_inverse**2, axis=1))
    rows = random_effects_rows(model.terms, term_factors(model.terms, optimum.x), sigma)
    rows.append({"group": "Residual", "term": None, "term2": None, "sd_or_cor": sigma})
    singular = is_singular(optimum.x, lower)
    alarms = convergence_alarms(singular, optimum.converged, optimum.message)
    return ({
        "family": "gaussian",
        "method": "REML" if reml else "ML",
        "fixed": {name: {"estimate": float(b), "se": float(s)}
                  for name, b, s in zip(model.fixed_names, beta, se, strict=True)},
        "random": [json_row(row) for row in rows],
        "residual_sd": sigma,
        "loglik": -0.5 * best.deviance,
        "converged": optimum.converged,
        "singular": singular,
        "warnings": list(model.warnings) + alarms,
        "nobs": model.nobs,
        "ngroups": {term.group: term.n_levels for term in model.terms},
    }, alarms)


def _check(model: ModelData) -> None:
    """lmer's refusals, left to the full path to word."""
    if np.ptp(model.y) == 0 or any(term.n_levels < 2 or term.n_levels >= model.nobs
                                   for term in model.terms):
        raise NotSimple("lmer refuses this model")


def fit_csv(path: str, formula: str, *, reml: bool,
            factors: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Read ``path`` and fit ``formula`` on the dense path, as :func:`fit_dense` (NotSimple:
    use the full path)."""
    model = simple_model_data(formula, read_table(path, factors))
    _check(model)
    return fit_dense(model, reml=reml)
