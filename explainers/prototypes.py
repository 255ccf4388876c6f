"""The numerical cores of the example-based methods: ProtoDash and logistic-regression influence.

Kept apart from ``explainers.methods.examples`` (which formats payloads) so that tests can check
the optimisation itself: the greedy objective, the non-negative weights, the influence values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import nnls
from sklearn.metrics.pairwise import euclidean_distances


@dataclass
class ProtoDashResult:
    """Chosen candidate indices in selection order, their weights and the objective after each
    pick (``objectives[i]`` is the optimum with ``i + 1`` prototypes)."""

    indices: list[int]
    weights: np.ndarray
    objectives: list[float] = field(default_factory=list)


def gaussian_kernel(A: Any, B: Any, width: float) -> np.ndarray:
    """exp(-||a - b||^2 / (2 width^2)) for every pair of rows (dense or sparse)."""
    squared = np.maximum(euclidean_distances(A, B, squared=True), 0.0)
    return np.exp(-squared / (2.0 * width**2))


def median_distance(X: Any, *, random_state: int | None = None, n: int = 500) -> float:
    """Median pairwise distance of (up to ``n`` rows of) X: the usual kernel-width heuristic."""
    rows = X.shape[0]
    if rows > n:
        X = X[np.random.default_rng(random_state).choice(rows, size=n, replace=False)]
        rows = n
    pairs = euclidean_distances(X)[np.triu_indices(rows, 1)]
    distances = pairs if rows > 1 else np.ones(1)
    median = float(np.median(distances))
    return median if median > 0 else 1.0


def protodash(
    target: Any, candidates: Any, *, n_prototypes: int, kernel_width: float
) -> ProtoDashResult:
    """Greedy ProtoDash (Gurumoorthy et al. 2019).

    Maximises f(w) = w'mu - w'Kw / 2 over non-negative w supported on the chosen set, where
    mu_j is the mean kernel similarity of candidate j to the target rows and K the kernel among
    candidates (f is minus the MMD between the target and the weighted prototypes, up to a
    constant). Each step adds the candidate with the largest gradient mu - Kw, then re-solves the
    weights exactly; f never decreases because the old weights stay feasible.
    """
    mu = gaussian_kernel(candidates, target, kernel_width).mean(axis=1)
    K = gaussian_kernel(candidates, candidates, kernel_width)
    chosen: list[int] = []
    weights = np.zeros(0)
    objectives: list[float] = []
    for _ in range(min(n_prototypes, candidates.shape[0])):
        gradient = mu - K[:, chosen] @ weights
        gradient[chosen] = -np.inf
        best = int(np.argmax(gradient))
        if gradient[best] <= 0:  # no candidate can raise the objective any more
            break
        chosen.append(best)
        weights = _nonnegative_qp(K[np.ix_(chosen, chosen)], mu[chosen])
        objectives.append(
            float(weights @ mu[chosen] - weights @ K[np.ix_(chosen, chosen)] @ weights / 2)
        )
    return ProtoDashResult(indices=chosen, weights=weights, objectives=objectives)


def _nonnegative_qp(K: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """argmax_{w >= 0} w'mu - w'Kw/2, as the least-squares problem ||L'w - L^-1 mu||^2 (K = LL')."""
    L = np.linalg.cholesky(K + 1e-10 * np.eye(len(K)))
    rhs = solve_triangular(L, mu, lower=True)
    weights, _ = nnls(L.T, rhs)
    return weights


def _logistic_parts(model: Any, X: np.ndarray) -> tuple[Any, np.ndarray]:
    """The LogisticRegression at the end of ``model`` and X as it sees it, with a 1s column."""
    steps = [s for _, s in model.steps] if hasattr(model, "steps") else [model]
    lr = steps[-1]
    if type(lr).__name__ != "LogisticRegression" or np.asarray(lr.coef_).shape[0] != 1:
        raise TypeError("influence needs a binary LogisticRegression (optionally in a Pipeline)")
    if getattr(lr, "l1_ratio", 0.0) not in (0, 0.0, None) or lr.class_weight is not None:
        raise TypeError("influence needs an L2-penalised LogisticRegression without class weights")
    for step in steps[:-1]:
        X = step.transform(X)
    X = np.asarray(X, dtype=float)
    ones = np.ones((len(X), 1)) if lr.fit_intercept else np.zeros((len(X), 0))
    return lr, np.hstack([X, ones])


def influence_on_prediction(
    model: Any, X: np.ndarray, y: np.ndarray, x: np.ndarray, target: int
) -> np.ndarray:
    """For each training row i: the first-order change in -log p(target | x) if i were removed.

    Koh & Liang (2017): with J(theta) = C sum_i L_i + ||w||^2 / 2 (scikit-learn's objective),
    removing row i moves theta by about H^-1 C grad L_i, so the test loss changes by
    C grad L_test' H^-1 grad L_i. Labels ``y`` are class indices (1 = the model's second class).
    """
    lr, Phi = _logistic_parts(model, X)
    _, phi = _logistic_parts(model, x.reshape(1, -1))
    p = np.asarray(model.predict_proba(X))[:, 1]
    p_test = float(np.asarray(model.predict_proba(x.reshape(1, -1)))[0, 1])
    C = float(lr.C)
    regulariser = np.ones(Phi.shape[1])
    if lr.fit_intercept:
        regulariser[-1] = 0.0  # scikit-learn does not penalise the intercept
    hessian = C * (Phi.T * (p * (1 - p))) @ Phi + np.diag(regulariser)
    grad_train = (p - (np.asarray(y) == 1))[:, None] * Phi
    grad_test = (p_test - (target == 1)) * phi[0]
    solved = cho_solve(cho_factor(hessian), grad_test)
    return np.asarray(C * grad_train @ solved)
