"""The bounded optimiser and finite-difference Hessian used by every fitter.

Oracle: closed-form minima and Hessians of simple functions.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.mixed.optimize import minimize_bounded, numerical_hessian


def test_it_finds_a_minimum_on_the_bound() -> None:
    result = minimize_bounded(lambda x: float((x[0] + 1) ** 2 + (x[1] - 2) ** 2),
                              np.array([1.0, 0.0]), np.array([0.0, -np.inf]))
    assert result.converged
    np.testing.assert_allclose(result.x, [0.0, 2.0], atol=1e-6)


def test_an_everywhere_undefined_criterion_does_not_count_as_converged() -> None:
    result = minimize_bounded(lambda x: float("inf"), np.array([1.0]), np.array([0.0]))
    assert not result.converged


def test_the_hessian_of_a_quadratic_is_exact() -> None:
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    H = numerical_hessian(lambda x: float(x @ A @ x), np.array([0.3, -1.2]))
    np.testing.assert_allclose(H, 2 * A, rtol=1e-6)
    assert H[0, 1] == pytest.approx(H[1, 0])


# ----- the projected Newton descent (the command line's small-model path) ---------------------
def test_newton_finds_a_minimum_on_the_bound() -> None:
    # Oracle: the closed-form minimiser of a separable quadratic over the box, (0, 2).
    result = minimize_bounded(lambda x: float((x[0] + 1) ** 2 + (x[1] - 2) ** 2),
                              np.array([1.0, 0.0]), np.array([0.0, -np.inf]), method="newton")
    assert result.converged
    np.testing.assert_allclose(result.x, [0.0, 2.0], atol=1e-6)


def test_newton_follows_rosenbrocks_valley() -> None:
    # Oracle: Rosenbrock's minimum at (1, 1); the Hessian is indefinite on the way there.
    def rosenbrock(x: np.ndarray) -> float:
        return float(100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2)

    result = minimize_bounded(rosenbrock, np.array([-1.2, 1.0]), np.full(2, -np.inf),
                              method="newton")
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)


def test_newton_leaves_the_stationary_point_at_zero() -> None:
    # Like a deviance in θ²: (θ² - 1)² has zero slope at its bound θ = 0, a maximum there,
    # and its minimum at θ = 1 (closed form). Newton alone would stop where it starts.
    result = minimize_bounded(lambda x: float((x[0] ** 2 - 1) ** 2), np.array([0.0]),
                              np.array([0.0]), method="newton")
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0], atol=1e-6)
