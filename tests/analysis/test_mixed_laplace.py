"""The Laplace deviance of the GLMM against a brute-force dense computation.

Oracle: Newton's method on the conditional modes with dense numpy matrices (Z, Λθ and
Λ'Z'WZΛ + I built explicitly, numpy's solve and slogdet), then the Laplace formula
-2 log p(y | û) + ||û||² + log|Λ'Z'WZΛ + I| written out directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.special

from analysis.mixed.design import build_model_data
from analysis.mixed.glmm import BinomialLaplace


def _crossed(rng: np.random.Generator) -> pd.DataFrame:
    p = np.repeat(np.arange(40), 12)
    i = np.tile(np.arange(12), 40)
    x = rng.integers(0, 2, len(p)).astype(float)
    eta = 0.2 + 0.6 * x + rng.normal(0, 1, 40)[p] + rng.normal(0, 0.7, 40)[p] * x \
        + rng.normal(0, 0.5, 12)[i]
    return pd.DataFrame({"y": (rng.random(len(p)) < scipy.special.expit(eta)).astype(int),
                         "x": x, "p": p.astype(str), "i": i.astype(str)})


def _dense_laplace(problem: BinomialLaplace, params: np.ndarray) -> float:
    structure, model = problem.structure, problem.model
    theta, beta = params[: structure.n_theta], params[structure.n_theta :]
    ZL = structure.Z.toarray() @ structure.lambda_apply(theta, np.eye(structure.q))
    offset, y, m = model.X @ beta, model.y, model.trials
    u = np.zeros(structure.q)
    for _ in range(50):
        mu = scipy.special.expit(offset + ZL @ u)
        H = ZL.T @ ((m * mu * (1 - mu))[:, None] * ZL) + np.eye(structure.q)
        step = np.linalg.solve(H, ZL.T @ (y - m * mu) - u)
        u += step
        if np.max(np.abs(step)) < 1e-13:
            break
    eta = offset + ZL @ u
    mu = scipy.special.expit(eta)
    H = ZL.T @ ((m * mu * (1 - mu))[:, None] * ZL) + np.eye(structure.q)
    loglik = np.sum(y * eta - m * np.logaddexp(0, eta))  # y is 0/1: no binomial coefficient
    return float(-2 * loglik + u @ u + np.linalg.slogdet(H)[1])


@pytest.mark.parametrize("formula", ["y ~ x + (1 | p) + (1 | i)",
                                     "y ~ x + (1 + x | p) + (1 | i)",
                                     "y ~ x + (1 | i) + (0 + x | p)"])
def test_the_laplace_deviance_equals_a_dense_computation(formula: str) -> None:
    rng = np.random.default_rng(8)
    problem = BinomialLaplace(build_model_data(formula, _crossed(rng), "binomial"))
    n_theta = problem.structure.n_theta
    for _ in range(3):
        params = np.concatenate([problem.structure.theta_start() * rng.uniform(0.3, 1.5)
                                 + 0.1 * rng.normal(size=n_theta),
                                 rng.normal(0, 0.5, problem.model.X.shape[1])])
        params[:n_theta][problem.structure.theta_lower() == 0] = np.abs(
            params[:n_theta][problem.structure.theta_lower() == 0])
        expected = _dense_laplace(problem, params)
        assert problem.laplace_deviance(params) == pytest.approx(expected, rel=1e-11)
