"""Cumulative-link (logit) mixed models by the Laplace approximation, like ``ordinal::clmm``.

With flexible thresholds alpha_1 < ... < alpha_{J-1} and R's sign convention,

    P(Y <= j | u) = logit⁻¹(alpha_j - xβ - z'Λu),

so a positive β shifts responses towards higher categories. All parameters (alpha, β, θ) are
optimised together on the Laplace deviance; û comes from the same PIRLS engine as the GLMM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.special

from analysis.mixed.design import ModelData, build_model_data
from analysis.mixed.laplace import LaplaceEngine, Mode
from analysis.mixed.optimize import descent_for, minimize_bounded, numerical_hessian
from analysis.mixed.results import MixedResults, build_results
from analysis.mixed.structure import RandomStructure
from analysis.mixed.threads import single_threaded_blas

__all__ = ["CumulativeLogitFamily", "clmm"]


def _logistic_density(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic density f and its derivative f' at the points whose CDF is F (0 at ±inf)."""
    f = F * (1.0 - F)
    return f, f * (1.0 - 2.0 * F)


class CumulativeLogitFamily:
    """Ordinal response (category index 0..J-1) under a cumulative logit model."""

    def __init__(self, category: np.ndarray, thresholds: np.ndarray) -> None:
        bounds = np.concatenate([[-np.inf], thresholds, [np.inf]])
        k = category.astype(np.int64)
        self.upper = bounds[k + 1]
        self.lower = bounds[k]

    def _probability(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(Y = y | η) and the logistic CDF at the cut points alpha_y - η, alpha_{y-1} - η."""
        a, b = self.upper - eta, self.lower - eta
        Fa, Fb = scipy.special.expit(a), scipy.special.expit(b)
        p = Fa - Fb
        # In the upper tail 1 - F is the accurate side of the subtraction.
        upper_tail = b > 0
        if upper_tail.any():
            p[upper_tail] = (scipy.special.expit(-b[upper_tail])
                             - scipy.special.expit(-a[upper_tail]))
        return p, Fa, Fb

    def loglik(self, eta: np.ndarray) -> float:
        """Σ log P(Y = y | η)."""
        p, _, _ = self._probability(eta)
        with np.errstate(divide="ignore"):
            return float(np.sum(np.log(p)))

    def score_weight(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """d log p / dη and -d² log p / dη² (positive: the logistic is log-concave)."""
        p, Fa, Fb = self._probability(eta)
        fa, dfa = _logistic_density(Fa)
        fb, dfb = _logistic_density(Fb)
        p = np.maximum(p, 1e-300)
        score = -(fa - fb) / p
        return score, score**2 - (dfa - dfb) / p


class CumulativeLaplace:
    """Laplace deviance of a CLMM as a function of (alpha, β, θ)."""

    def __init__(self, model: ModelData) -> None:
        self.model = model
        self.structure = RandomStructure(model.terms)
        self.engine = LaplaceEngine(self.structure, model.X)
        self.n_thresholds = len(model.categories) - 1

    def split(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Thresholds, β and θ from the parameter vector."""
        j, p = self.n_thresholds, self.model.X.shape[1]
        return params[:j], params[j : j + p], params[j + p :]

    def mode(self, params: np.ndarray) -> Mode:
        """Conditional modes at the given parameters."""
        alpha, beta, theta = self.split(params)
        if np.any(np.diff(alpha) <= 0):
            raise np.linalg.LinAlgError("thresholds are not increasing")
        family = CumulativeLogitFamily(self.model.y, alpha)
        return self.engine.mode(theta, beta, family)

    def deviance(self, params: np.ndarray) -> float:
        """Laplace deviance, or inf where it is undefined."""
        try:
            value = self.mode(params).deviance
        except np.linalg.LinAlgError:
            return np.inf
        return value if np.isfinite(value) else np.inf

    def start(self) -> np.ndarray:
        """Thresholds at the logits of the cumulative proportions, β = 0, θ = 1."""
        counts = np.bincount(self.model.y.astype(np.int64), minlength=self.n_thresholds + 1)
        cumulative = np.cumsum(counts)[:-1] / counts.sum()
        cumulative = np.clip(cumulative, 1e-3, 1 - 1e-3)
        alpha = np.maximum.accumulate(scipy.special.logit(cumulative) + np.arange(len(cumulative))
                                      * 1e-3)
        return np.concatenate([alpha, np.zeros(self.model.X.shape[1]),
                               self.structure.theta_start()])

    # The optimiser works on (alpha_1, log(alpha_2 - alpha_1), ..., β, θ): every point of that
    # space has ordered thresholds, so no step lands where the deviance is undefined (a line
    # search that meets such a wall stops early and reports success).
    def to_free(self, params: np.ndarray) -> np.ndarray:
        """Unconstrained coordinates of (alpha, β, θ)."""
        j = self.n_thresholds
        return np.concatenate([params[:1], np.log(np.diff(params[:j])), params[j:]])

    def from_free(self, free: np.ndarray) -> np.ndarray:
        """(alpha, β, θ) from unconstrained coordinates."""
        j = self.n_thresholds
        alpha = np.cumsum(np.concatenate([free[:1], np.exp(free[1:j])]))
        return np.concatenate([alpha, free[j:]])

    def free_deviance(self, free: np.ndarray) -> float:
        """Laplace deviance in the unconstrained coordinates."""
        return self.deviance(self.from_free(free))

    def hessian_from_free(self, free: np.ndarray, hessian: np.ndarray) -> np.ndarray:
        """The deviance's Hessian over (alpha, β, θ) from the one over the free coordinates,
        H = J^-T H_free J^-1 with J = d params / d free (exact at a stationary point)."""
        j = self.n_thresholds
        J = np.eye(len(free))
        steps = np.concatenate([[1.0], np.exp(free[1:j])])
        J[:j, :j] = np.tril(np.ones((j, j))) * steps
        J_inv = np.linalg.inv(J)
        return np.asarray(J_inv.T @ hessian @ J_inv)


def _drop_intercept(model: ModelData) -> None:
    """The thresholds play the intercept's part, so the fixed part has none (as in clm)."""
    if "Intercept" in model.fixed_names:
        keep = [i for i, name in enumerate(model.fixed_names) if name != "Intercept"]
        model.X = model.X[:, keep]
        model.fixed_names = [model.fixed_names[i] for i in keep]


def _check_random_intercepts(model: ModelData) -> None:
    """Like ordinal::clmm, only random intercepts are supported."""
    for term in model.terms:
        if term.names != ["Intercept"]:
            raise ValueError(f"clmm supports random intercepts (1 | group) only; got "
                             f"{term.names} for {term.group!r}")


def clmm(formula: str, data: pd.DataFrame) -> MixedResults:
    """Fit a cumulative-logit mixed model with flexible thresholds (``ordinal::clmm``)."""
    model = build_model_data(formula, data, "ordinal")
    _drop_intercept(model)
    _check_random_intercepts(model)
    problem = CumulativeLaplace(model)
    j, p = problem.n_thresholds, model.X.shape[1]
    lower = np.concatenate([np.full(j + p, -np.inf), problem.structure.theta_lower()])
    with single_threaded_blas():
        # Forward differences: half the evaluations per gradient, and the final check's
        # Newton step polishes what they leave.
        optimum = minimize_bounded(problem.free_deviance, problem.to_free(problem.start()),
                                   lower, gradient="2-point",
                                   method=descent_for(len(lower), model.nobs))
        free = optimum.x
        optimum.x = problem.from_free(free)
        mode = problem.mode(optimum.x)
        H = (problem.hessian_from_free(free, optimum.hessian) if optimum.hessian is not None
             else numerical_hessian(problem.deviance, optimum.x))
    cov = np.linalg.pinv(0.5 * H)[: j + p, : j + p]
    alpha, beta, theta = problem.split(optimum.x)
    names = [f"{a}|{b}" for a, b in zip(model.categories[:-1], model.categories[1:], strict=True)]
    results = build_results(
        family="ordinal", formula=formula, model=model, structure=problem.structure,
        theta=theta, beta=beta, cov_fixed=cov[j:, j:],
        random_modes=problem.structure.lambda_apply(theta, mode.u), residual_sd=None,
        loglik=-0.5 * mode.deviance, method="Laplace", optimum=optimum,
        n_params=len(optimum.x), thresholds=pd.Series(alpha, index=names),
    )
    results.threshold_bse = pd.Series(np.sqrt(np.diag(cov[:j, :j])), index=names)
    return results
