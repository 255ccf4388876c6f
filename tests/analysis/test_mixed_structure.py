"""The blocked factorisation of Λ'Z'WZΛ + I against its definition.

Oracle: the same matrix built densely from Z, Λθ and W with numpy, and numpy's own Cholesky
and solve; every route of the Schur complement (dense, row pairs, sparse) must agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.mixed.crossprod import RowPairs
from analysis.mixed.design import build_model_data
from analysis.mixed.structure import RandomStructure

RANDOM_PARTS = [
    "(1 | g) + (1 | h)",
    "(1 + x | g) + (1 | h)",
    "(1 | g) + (0 + x | h)",
    "(1 | g) + (1 + x | h) + (1 | k)",
    "(x || g)",
    "(1 + x | g)",
]


def _data(rng: np.random.Generator) -> pd.DataFrame:
    n = 300
    return pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n),
                         "g": rng.integers(0, 25, n).astype(str),
                         "h": rng.integers(0, 9, n).astype(str),
                         "k": rng.integers(0, 4, n).astype(str)})


def _dense_lambda(structure: RandomStructure, theta: np.ndarray) -> np.ndarray:
    return structure.lambda_apply(theta, np.eye(structure.q))


def _routes(structure: RandomStructure) -> list[tuple[bool, bool]]:
    """(dense cross, row pairs) settings the structure can take."""
    routes = [(False, False)]
    if structure.q > structure.q1:
        routes.append((True, False))
    if structure.crossproducts.row_pairs is not None:
        routes.append((False, True))
    return routes


@pytest.mark.parametrize("random_part", RANDOM_PARTS)
def test_the_blocked_factor_matches_a_dense_cholesky(random_part: str) -> None:
    rng = np.random.default_rng(len(random_part))
    model = build_model_data(f"y ~ x + {random_part}", _data(rng), "gaussian")
    structure = RandomStructure(model.terms)
    theta = structure.theta_start() + rng.uniform(0.1, 0.9, structure.n_theta)
    w = rng.uniform(0.2, 2.0, model.nobs)
    Z = structure.Z.toarray()
    lam = _dense_lambda(structure, theta)
    A = lam.T @ Z.T @ (w[:, None] * Z) @ lam + np.eye(structure.q)
    b = rng.normal(size=structure.q)
    pairs = structure.crossproducts.row_pairs
    for dense, use_pairs in _routes(structure):
        structure.crossproducts.dense_cross = dense
        structure.crossproducts.row_pairs = pairs if use_pairs else None
        factor = structure.factorize(theta, structure.crossprod(w))
        assert factor.logdet() == pytest.approx(np.linalg.slogdet(A)[1], rel=1e-10)
        np.testing.assert_allclose(factor.solve(b), np.linalg.solve(A, b), rtol=1e-8)


@pytest.mark.parametrize("random_part", RANDOM_PARTS)
def test_z_products_match_the_sparse_matrix(random_part: str) -> None:
    rng = np.random.default_rng(3)
    model = build_model_data(f"y ~ x + {random_part}", _data(rng), "gaussian")
    structure = RandomStructure(model.terms)
    b, r = rng.normal(size=structure.q), rng.normal(size=model.nobs)
    np.testing.assert_allclose(structure.z_dot(b), structure.Z @ b, rtol=1e-12)
    np.testing.assert_allclose(structure.zt_dot(r), structure.Z.T @ r, rtol=1e-12, atol=1e-12)


def test_row_pairs_give_the_weighted_gram_matrix() -> None:
    rng = np.random.default_rng(5)
    dense = (rng.random((30, 12)) < 0.3) * rng.normal(size=(30, 12))
    B = sp.csr_matrix(dense)
    weights = rng.uniform(size=30)
    gram = RowPairs(B.indptr, B.indices, 12).weighted_gram(B.data, weights)
    # Only the lower triangle is formed (the Cholesky factorisation reads nothing else).
    np.testing.assert_allclose(gram, np.tril(dense.T @ (weights[:, None] * dense)), atol=1e-12)
