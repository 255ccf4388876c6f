"""Linear mixed models by profiled (RE)ML deviance over θ (Bates et al. 2015, section 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.mixed.design import ModelData, build_model_data
from analysis.mixed.factor import BlockedFactor
from analysis.mixed.optimize import minimize_bounded
from analysis.mixed.pls import PlsSolution, solve_pls
from analysis.mixed.results import MixedResults, build_results
from analysis.mixed.structure import RandomStructure
from analysis.mixed.threads import single_threaded_blas

__all__ = ["LinearMixedProblem", "fit_model_data", "lmer"]

LARGE_Q = 2000  # random-effect columns above which an evaluation is costly


@dataclass
class _LmmEvaluation:
    """Everything known about the model at one θ."""

    factor: BlockedFactor
    solution: PlsSolution
    r2: float  # penalised residual sum of squares
    deviance: float


class LinearMixedProblem:
    """Cross-products of a linear mixed model, computed once, and its profiled deviance."""

    def __init__(self, model: ModelData, *, reml: bool) -> None:
        self.model = model
        self.reml = reml
        self.structure = RandomStructure(model.terms)
        ones = np.ones(model.nobs)
        Z = self.structure.Z
        self.ztz = self.structure.crossprod(ones)
        self.ztx = np.asarray(Z.T @ model.X)
        self.zty = np.asarray(Z.T @ model.y)
        self.xtx = model.X.T @ model.X
        self.xty = model.X.T @ model.y
        self.yty = float(model.y @ model.y)

    def evaluate(self, theta: np.ndarray) -> _LmmEvaluation:
        """Solve the PLS problem at θ and compute the profiled deviance."""
        structure = self.structure
        factor = structure.factorize(theta, self.ztz)
        solution = solve_pls(factor, structure.lambda_apply(theta, self.ztx, transpose=True),
                             self.xtx, structure.lambda_apply(theta, self.zty, transpose=True),
                             self.xty)
        r2 = max(self.yty - solution.fitted_penalty, 1e-300)
        n, p = self.model.nobs, self.model.X.shape[1]
        dof = n - p if self.reml else n
        deviance = factor.logdet() + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
        if self.reml:
            deviance += solution.logdet_rx()
        return _LmmEvaluation(factor, solution, r2, float(deviance))

    def deviance(self, theta: np.ndarray) -> float:
        """Profiled deviance (REML criterion when ``reml``), or inf where L fails."""
        try:
            return self.evaluate(theta).deviance
        except np.linalg.LinAlgError:
            return np.inf

    def sigma(self, evaluation: _LmmEvaluation) -> float:
        """Residual standard deviation at the optimum, as lme4 reports it."""
        dof = self.model.nobs - (self.model.X.shape[1] if self.reml else 0)
        return float(np.sqrt(evaluation.r2 / dof))


def _fixed_covariance(solution: PlsSolution, sigma: float) -> np.ndarray:
    """σ² (RX'RX)^-1: the covariance of β given θ, as lme4's vcov."""
    RX_inv = np.linalg.inv(solution.RX)
    return sigma**2 * (RX_inv @ RX_inv.T)


def _check_response(model: ModelData) -> None:
    """Refuse a response with no variation: every variance would be zero and every t
    statistic infinite."""
    if np.ptp(model.y) == 0:
        raise ValueError(f"the response is constant (every value is {model.y[0]:g}): "
                         "there is no variation to model")


def lmer(formula: str, data: pd.DataFrame, *, reml: bool = True) -> MixedResults:
    """Fit a linear mixed model like lme4's ``lmer`` (REML by default, ML with reml=False)."""
    model = build_model_data(formula, data, "gaussian")
    _check_response(model)
    for term in model.terms:
        if term.n_levels >= model.nobs:
            raise ValueError(f"grouping factor {term.group!r} has as many levels as rows; "
                             "its variance cannot be told apart from the residual variance")
    return fit_model_data(model, formula, reml=reml)


def fit_model_data(model: ModelData, formula: str, *, reml: bool,
                   theta_start: np.ndarray | None = None) -> MixedResults:
    """Fit already-built model arrays (refits for likelihood-ratio tests, profiles and the
    parametric bootstrap reuse the parsed design); ``theta_start`` defaults to lme4's."""
    problem = LinearMixedProblem(model, reml=reml)
    structure = problem.structure
    start = structure.theta_start() if theta_start is None else theta_start
    # Large models: forward differences need fewer costly evaluations, and their sharper
    # likelihood still gives θ to ~1e-5; small ones converge in fewer steps with central ones.
    gradient = "2-point" if structure.q > LARGE_Q else "3-point"
    with single_threaded_blas():
        optimum = minimize_bounded(problem.deviance, start, structure.theta_lower(),
                                   gradient=gradient)
        best = problem.evaluate(optimum.x)
    sigma = problem.sigma(best)
    if sigma <= 1e-10 * float(np.std(model.y)):
        raise ValueError("the fixed and random effects reproduce the response exactly "
                         "(residual SD 0): there is nothing left to estimate a variance from")
    b = structure.lambda_apply(optimum.x, best.solution.u)
    return build_results(
        family="gaussian",
        formula=formula,
        model=model,
        structure=structure,
        theta=optimum.x,
        beta=best.solution.beta,
        cov_fixed=_fixed_covariance(best.solution, sigma),
        random_modes=b,
        residual_sd=sigma,
        loglik=-0.5 * best.deviance,
        method="REML" if reml else "ML",
        optimum=optimum,
        n_params=len(optimum.x) + len(best.solution.beta) + 1,
    )
