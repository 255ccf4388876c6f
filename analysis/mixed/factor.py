"""The blocked Cholesky factor of Λ'Z'WZΛ + I and thin LAPACK helpers.

The helpers call LAPACK directly: the fits factor thousands of small matrices, and the
argument checking of ``scipy.linalg.cholesky`` costs 40 times the work on a 5 x 5 matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

__all__ = ["BlockedFactor", "cholesky_lower", "solve_triangular"]


def cholesky_lower(S: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor; LinAlgError when S is not positive definite."""
    L, info = lapack.dpotrf(S, lower=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError("matrix is not positive definite")
    return np.asarray(L)


def solve_triangular(L: np.ndarray, b: np.ndarray, *, transpose: bool = False) -> np.ndarray:
    """L^-1 b (or L'^-1 b) for a lower-triangular L."""
    x, info = lapack.dtrtrs(L, b, lower=1, trans=int(transpose))
    if info != 0:
        raise np.linalg.LinAlgError("singular triangular matrix")
    return np.asarray(x)


@dataclass
class BlockedFactor:
    """L = [[L1, 0], [C', L2]] with L1 block-diagonal (one p1 x p1 block per level of the
    first term) and L2 dense, so that L L' = Λ'Z'WZΛ + I."""

    L1: np.ndarray  # (n1, p1, p1) lower-triangular blocks
    L1_inv: np.ndarray  # their inverses
    C: np.ndarray | sp.csr_matrix  # q1 x q2
    L2: np.ndarray  # q2 x q2 lower-triangular

    def logdet(self) -> float:
        """log |L|^2, the log-determinant of Λ'Z'WZΛ + I."""
        diag1 = np.diagonal(self.L1, axis1=1, axis2=2)
        return 2.0 * float(np.sum(np.log(diag1)) + np.sum(np.log(np.diag(self.L2))))

    def _split(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split a (q, m) array into the block-diagonal part, reshaped by level, and the rest."""
        n1, p1 = self.L1.shape[:2]
        return b[: n1 * p1].reshape(n1, p1, -1), b[n1 * p1 :]

    def solve_lower(self, b: np.ndarray) -> np.ndarray:
        """L^-1 b for b of shape (q, m)."""
        b1, b2 = self._split(b)
        v1 = (self.L1_inv @ b1).reshape(-1, b.shape[1])
        if b2.shape[0] == 0:
            return v1
        v2 = solve_triangular(self.L2, b2 - self.C.T @ v1)
        return np.vstack([v1, v2])

    def solve_upper(self, v: np.ndarray) -> np.ndarray:
        """L'^-1 v for v of shape (q, m)."""
        v1, v2 = self._split(v)
        n1, p1 = self.L1.shape[:2]
        if v2.shape[0]:
            w2 = solve_triangular(self.L2, v2, transpose=True)
            v1 = v1 - (self.C @ w2).reshape(n1, p1, -1)
        else:
            w2 = v2
        w1 = (np.swapaxes(self.L1_inv, 1, 2) @ v1).reshape(-1, v.shape[1])
        return np.vstack([w1, w2])

    def solve(self, b: np.ndarray) -> np.ndarray:
        """(L L')^-1 b for a vector b."""
        return self.solve_upper(self.solve_lower(b[:, None]))[:, 0]
