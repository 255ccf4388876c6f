"""Binomial (logit) GLMMs by the Laplace approximation, like lme4's ``glmer`` with nAGQ = 1.

As in lme4, the fit has two stages: first θ alone, with β and the conditional modes u found
together by penalised iteratively reweighted least squares (PIRLS); then θ and β jointly,
with PIRLS over u alone inside. The criterion is lme4's Laplace deviance

    D(θ, β) = -2 log p(y | û) + ||û||² + log |L|²,   L L' = Λ'Z'WZΛ + I at û,

so ``loglik = -D / 2`` includes the binomial coefficients, like ``logLik(glmer(...))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.special

from analysis.mixed.design import ModelData, build_model_data
from analysis.mixed.laplace import LaplaceEngine, Mode
from analysis.mixed.optimize import Optimum, descent_for, minimize_bounded, numerical_hessian
from analysis.mixed.results import MixedResults, build_results
from analysis.mixed.structure import RandomStructure
from analysis.mixed.threads import single_threaded_blas

__all__ = ["BinomialFamily", "BinomialLaplace", "fit_binomial_model_data", "glmer"]


class BinomialFamily:
    """Binomial counts with a logit link: y successes out of m trials per row."""

    def __init__(self, y: np.ndarray, m: np.ndarray) -> None:
        self.y, self.m = y, m
        self.log_binom = float(np.sum(scipy.special.gammaln(m + 1) - scipy.special.gammaln(y + 1)
                                      - scipy.special.gammaln(m - y + 1)))

    def loglik(self, eta: np.ndarray) -> float:
        """Σ log Binomial(y; m, logit⁻¹ η), binomial coefficients included (as R's logLik)."""
        # log(1 + e^η) written out: numpy's logaddexp is ten times slower, and this is
        # evaluated at every PIRLS step.
        softplus = np.log1p(np.exp(-np.abs(eta))) + np.maximum(eta, 0.0)
        return float(self.y @ eta - self.m @ softplus) + self.log_binom

    def score_weight(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """y - mμ and mμ(1 - μ): score and Fisher weight agree for the canonical link."""
        mu = scipy.special.expit(eta)
        return self.y - self.m * mu, self.m * mu * (1.0 - mu)


class BinomialLaplace:
    """Laplace approximation to a binomial-logit GLMM's likelihood."""

    def __init__(self, model: ModelData) -> None:
        assert model.trials is not None
        self.model = model
        self.structure = RandomStructure(model.terms)
        self.family = BinomialFamily(model.y, model.trials)
        self.engine = LaplaceEngine(self.structure, model.X)
        self._beta_warm = np.zeros(model.X.shape[1])

    def stage1_deviance(self, theta: np.ndarray) -> float:
        """Laplace deviance with β from PIRLS (lme4's nAGQ = 0 criterion)."""
        try:
            mode = self.engine.mode(theta, self._beta_warm, self.family, joint=True)
        except np.linalg.LinAlgError:
            return np.inf
        self._beta_warm = mode.beta
        return mode.deviance

    def mode(self, params: np.ndarray) -> Mode:
        """Conditional modes at (θ, β) = params."""
        n_theta = self.structure.n_theta
        return self.engine.mode(params[:n_theta], params[n_theta:], self.family)

    def laplace_deviance(self, params: np.ndarray) -> float:
        """Laplace deviance at (θ, β) = params."""
        try:
            return self.mode(params).deviance
        except np.linalg.LinAlgError:
            return np.inf

    def fit(self) -> tuple[Optimum, Mode, np.ndarray, list[str]]:
        """Two-stage optimisation; returns the optimum, the mode there and cov(β)."""
        structure = self.structure
        # One descent for both stages: a fit that needs scipy.optimize anyway gains nothing
        # from Newton in stage 1, whose evaluations (joint β and u) cost the most.
        descent = descent_for(structure.n_theta + self.model.X.shape[1], self.model.nobs)
        stage1 = minimize_bounded(self.stage1_deviance, structure.theta_start(),
                                  structure.theta_lower(), tol=1e-6, gradient="2-point",
                                  check=False, method=descent)
        beta1 = self.engine.mode(stage1.x, self._beta_warm, self.family, joint=True).beta
        lower = np.concatenate([structure.theta_lower(), np.full(len(beta1), -np.inf)])
        stage2 = minimize_bounded(self.laplace_deviance, np.concatenate([stage1.x, beta1]),
                                  lower, gradient="2-point", method=descent)
        stage2.n_evaluations += stage1.n_evaluations
        mode = self.mode(stage2.x)
        cov, notes = self._fixed_covariance(stage2, mode)
        return stage2, mode, cov, notes

    def _fixed_covariance(self, optimum: Optimum, mode: Mode) -> tuple[np.ndarray, list[str]]:
        """cov(β) as lme4's vcov: the β block of 2 H^-1, H the finite-difference Hessian of
        the Laplace deviance over (θ, β) from the convergence check; the PIRLS information
        if H is not usable."""
        params, p = optimum.x, len(mode.beta)
        H = optimum.hessian
        if H is None:
            H = numerical_hessian(self.laplace_deviance, params)
        self.engine.u = mode.u
        try:
            cov = np.linalg.inv(0.5 * H)[-p:, -p:]
            if np.all(np.isfinite(cov)) and np.all(np.linalg.eigvalsh(cov) > 0):
                return cov, []
        except np.linalg.LinAlgError:
            pass
        notes = ["Hessian of the deviance is not positive definite; standard errors use the "
                 "PIRLS information (X'WX - RZX'RZX)^-1 instead"]
        return self._pirls_covariance(params, mode), notes

    def _pirls_covariance(self, params: np.ndarray, mode: Mode) -> np.ndarray:
        """(X'WX - RZX'RZX)^-1 at the conditional modes (lme4's use.hessian = FALSE)."""
        theta = params[: self.structure.n_theta]
        structure, X = self.structure, self.model.X
        _, w = self.family.score_weight(mode.eta)
        RZX = mode.factor.solve_lower(structure.lambda_apply(
            theta, np.asarray(structure.Z.T @ (w[:, None] * X)), transpose=True))
        return np.asarray(np.linalg.inv(X.T @ (w[:, None] * X) - RZX.T @ RZX))


def _check_binomial(model: ModelData) -> None:
    """Refuse data a binomial GLMM cannot be fitted to."""
    assert model.trials is not None
    if np.all(model.y == 0) or np.all(model.y == model.trials):
        raise ValueError("binomial response has no variation: every trial is a failure "
                         "(or every trial a success)")


def separating_columns(model: ModelData) -> list[str]:
    """Fixed effects that separate the responses (completely or quasi-completely): a
    direction b with x'b >= 0 on every row whose trials all succeeded, <= 0 on every row
    whose trials all failed, = 0 on mixed rows, and > 0 somewhere. Along b the likelihood
    rises for ever, so no finite estimate exists (Albert & Anderson 1984). Found by a
    linear programme; returns the names of the columns b uses, [] when there is none."""
    import scipy.optimize  # only on the failure path

    assert model.trials is not None
    X, y, m = model.X, model.y, model.trials
    sign = np.where(y == m, 1.0, np.where(y == 0, -1.0, 0.0))
    signed = sign[:, None] * X
    one_sided, two_sided = signed[sign != 0], X[sign == 0]
    # maximise the total margin sum(s_i x_i'b) with each margin >= 0, b in a box.
    result = scipy.optimize.linprog(
        -one_sided.sum(axis=0), A_ub=-one_sided, b_ub=np.zeros(len(one_sided)),
        A_eq=two_sided if len(two_sided) else None,
        b_eq=np.zeros(len(two_sided)) if len(two_sided) else None,
        bounds=[(-1.0, 1.0)] * X.shape[1], method="highs")
    if result.status != 0 or -result.fun < 1e-7:
        return []
    return [name for name, b in zip(model.fixed_names, result.x, strict=True) if abs(b) > 1e-7]


def _failed(model: ModelData, error: np.linalg.LinAlgError) -> Exception:
    """Name the cause of a failed fit when it is separation, which is the data's doing."""
    columns = separating_columns(model)
    if columns:
        return ValueError(
            f"complete separation: the fixed effects {columns} predict every response "
            "exactly, so their log-odds estimates are infinite; remove or merge those "
            "predictors (or levels), or use a penalised model")
    return np.linalg.LinAlgError(f"the binomial fit failed numerically ({error})")


def glmer(formula: str, data: pd.DataFrame, *, family: str = "binomial") -> MixedResults:
    """Fit a binomial-logit GLMM by the Laplace approximation like lme4's ``glmer``."""
    if family != "binomial":
        raise ValueError(f"family {family!r} is not supported; glmer fits family='binomial'")
    model = build_model_data(formula, data, "binomial")
    return fit_binomial_model_data(model, formula)


def fit_binomial_model_data(model: ModelData, formula: str) -> MixedResults:
    """Fit already-built binomial model arrays (the parametric bootstrap refits simulated
    responses with the parsed design)."""
    _check_binomial(model)
    problem = BinomialLaplace(model)
    with single_threaded_blas():
        try:
            optimum, mode, cov, notes = problem.fit()
        except np.linalg.LinAlgError as error:
            raise _failed(model, error) from error
    n_theta = problem.structure.n_theta
    theta = optimum.x[:n_theta]
    return build_results(
        family="binomial", formula=formula, model=model, structure=problem.structure,
        theta=theta, beta=optimum.x[n_theta:], cov_fixed=cov,
        random_modes=problem.structure.lambda_apply(theta, mode.u), residual_sd=None,
        loglik=-0.5 * mode.deviance, method="Laplace", optimum=optimum,
        n_params=len(optimum.x), warnings=notes,
    )
