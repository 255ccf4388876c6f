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
