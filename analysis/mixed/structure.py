"""Random-effects structure: sparse Z, the relative covariance factor Λθ and the blocked
Cholesky factor of Λ'Z'WZΛ + I (Bates et al. 2015, JSS 67(1), sections 3.2-3.6).

lme4 factors that matrix with a general sparse Cholesky. Here the term with the most columns
is eliminated first: its part of the matrix is block-diagonal (one p x p block per level), so
its factor is a stack of small Cholesky factors. The remaining terms, usually far fewer
columns (items, say), form a dense Schur complement with its own dense Cholesky factor:

    L = [[L1, 0], [C', L2]],   L1 L1' = A11,   C = L1^-1 A12,   L2 L2' = A22 - C'C.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from analysis.mixed.crossprod import CrossProducts, ZtWZ
from analysis.mixed.factor import BlockedFactor, cholesky_lower
from analysis.mixed.model import RandomTerm, term_factors, theta_lower, theta_slices, theta_start

__all__ = ["RandomStructure"]


class RandomStructure:
    """Z and Λθ of a model's random-effect terms, and the factorisation of Λ'Z'WZΛ + I.

    ``theta`` is ordered like the terms of the formula, each term's lower-triangular factor
    column by column (as lme4). Internally the term with the most columns comes first.
    """

    def __init__(self, terms: list[RandomTerm]) -> None:
        self.terms = terms
        self.n = len(terms[0].codes)
        self.order = [int(np.argmax([t.q for t in terms]))]
        self.order += [k for k in range(len(terms)) if k != self.order[0]]
        sizes = [terms[k].q for k in self.order]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.q = int(self.offsets[-1])
        self.q1 = sizes[0]
        self.theta_slices = theta_slices(terms)
        self.Z = self._build_z()
        self.crossproducts = CrossProducts([terms[k] for k in self.order], self.offsets)
        self.scalar = all(term.p == 1 for term in terms)
        self._ones = [np.all(term.matrix == 1.0, axis=0) for term in terms]
        self._cached_theta = np.full(self.n_theta, np.nan)
        self._cached_factors: list[np.ndarray] = []
        self._cached_diagonal = np.empty(0)

    # ----- theta ------------------------------------------------------------------------------
    @property
    def n_theta(self) -> int:
        """Length of theta."""
        return self.theta_slices[-1].stop

    def theta_start(self) -> np.ndarray:
        """lme4's starting value: identity factors."""
        return theta_start(self.terms)

    def theta_lower(self) -> np.ndarray:
        """Bounds: diagonal elements of each factor are non-negative, the others are free."""
        return theta_lower(self.terms)

    def factors(self, theta: np.ndarray) -> list[np.ndarray]:
        """Each term's p x p lower-triangular factor T_k (formula order)."""
        if not np.array_equal(theta, self._cached_theta):
            out = term_factors(self.terms, theta)
            self._cached_factors = out
            self._cached_diagonal = (np.concatenate([
                np.full(self.terms[k].n_levels, out[k][0, 0]) for k in self.order])
                if self.scalar else np.empty(0))
            self._cached_theta = np.array(theta, dtype=float)
        return self._cached_factors

    # ----- Z and Λ ----------------------------------------------------------------------------
    def _build_z(self) -> sp.csc_matrix:
        """The sparse n x q model matrix of the random effects (internal column order)."""
        rows, cols, vals = [], [], []
        for position, k in enumerate(self.order):
            term = self.terms[k]
            for j in range(term.p):
                rows.append(np.arange(self.n))
                cols.append(self.offsets[position] + term.codes * term.p + j)
                vals.append(term.matrix[:, j])
        return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.n, self.q))

    def lambda_apply(self, theta: np.ndarray, u: np.ndarray, transpose: bool = False) -> np.ndarray:
        """Λθ u (or Λθ' u) for u of shape (q,) or (q, m)."""
        factors = self.factors(theta)
        if self.scalar:  # Λ is diagonal
            diagonal = self._cached_diagonal
            return u * diagonal if u.ndim == 1 else u * diagonal[:, None]
        flat = u.ndim == 1
        u2 = u.reshape(self.q, -1)
        out = np.empty_like(u2)
        for position, k in enumerate(self.order):
            term, T = self.terms[k], factors[k]
            block = u2[self.offsets[position] : self.offsets[position + 1]]
            block = block.reshape(term.n_levels, term.p, -1)
            M = T.T if transpose else T
            out[self.offsets[position] : self.offsets[position + 1]] = (M @ block).reshape(
                term.q, -1)
        return out.ravel() if flat else out

    def z_dot(self, b: np.ndarray) -> np.ndarray:
        """Z b for a vector b (internal order), by gathering each row's levels."""
        out = np.zeros(self.n)
        for position, k in enumerate(self.order):
            term = self.terms[k]
            block = b[self.offsets[position] : self.offsets[position + 1]].reshape(-1, term.p)
            for j in range(term.p):
                values = block[term.codes, j]
                out += values if self._ones[k][j] else values * term.matrix[:, j]
        return out

    def zt_dot(self, r: np.ndarray) -> np.ndarray:
        """Z'r for a vector r over rows, by summing within levels."""
        out = np.empty(self.q)
        for position, k in enumerate(self.order):
            term = self.terms[k]
            block = out[self.offsets[position] : self.offsets[position + 1]].reshape(-1, term.p)
            for j in range(term.p):
                weights = r if self._ones[k][j] else r * term.matrix[:, j]
                block[:, j] = np.bincount(term.codes, weights, minlength=term.n_levels)
        return out

    def split_by_term(self, b: np.ndarray) -> list[np.ndarray]:
        """Random effects (internal order, length q) as one (levels x p) array per term."""
        out: list[np.ndarray] = [np.empty(0)] * len(self.terms)
        for position, k in enumerate(self.order):
            term = self.terms[k]
            out[k] = b[self.offsets[position] : self.offsets[position + 1]].reshape(
                term.n_levels, term.p)
        return out

    # ----- factorisation ----------------------------------------------------------------------
    def _rest_lambda(self, factors: list[np.ndarray]) -> np.ndarray | None:
        """Diagonal of Λ2 when every rest term is scalar, else None."""
        if any(self.terms[k].p > 1 for k in self.order[1:]):
            return None
        return np.concatenate([np.full(self.terms[k].n_levels, factors[k][0, 0])
                               for k in self.order[1:]])

    def _scale_rest(self, M: np.ndarray, factors: list[np.ndarray]) -> np.ndarray:
        """M Λ2 for the rest terms (columns of M are the rest's q2 coordinates)."""
        lam = self._rest_lambda(factors)
        if lam is not None:
            return M * lam
        out = np.empty_like(M)
        for a in range(1, len(self.order)):
            term, T = self.terms[self.order[a]], factors[self.order[a]]
            sl = slice(self.offsets[a] - self.q1, self.offsets[a + 1] - self.q1)
            block = M[:, sl].reshape(M.shape[0], term.n_levels, term.p)
            out[:, sl] = (block @ T).reshape(M.shape[0], -1)
        return out

    def _rest_lambda_sparse(self, factors: list[np.ndarray]) -> sp.csr_matrix:
        """Λ2 as a sparse block-diagonal matrix."""
        blocks = [sp.kron(sp.identity(self.terms[k].n_levels), sp.csr_matrix(factors[k]))
                  for k in self.order[1:]]
        return sp.csr_matrix(sp.block_diag(blocks, format="csr"))

    def crossprod(self, w: np.ndarray) -> ZtWZ:
        """Z'WZ for row weights w, in the blocked form used by ``factorize``."""
        return self.crossproducts.compute(w)

    def factorize(self, theta: np.ndarray, ztwz: ZtWZ) -> BlockedFactor:
        """Blocked Cholesky factor of Λ'Z'WZΛ + I."""
        factors = self.factors(theta)
        T1 = factors[self.order[0]]
        A11 = T1.T @ ztwz.block @ T1
        A11 += np.eye(T1.shape[0])
        if T1.shape[0] == 1:
            L1 = np.sqrt(A11)
            L1_inv = 1.0 / L1
        else:
            L1 = np.linalg.cholesky(A11)
            L1_inv = np.linalg.inv(L1)
        q2 = self.q - self.q1
        if q2 == 0:
            return BlockedFactor(L1, L1_inv, np.zeros((self.q1, 0)), np.zeros((0, 0)))
        K1 = L1_inv @ T1.T
        C, S = self._schur(K1, ztwz, factors)
        S[np.diag_indices(q2)] += 1.0
        L2 = cholesky_lower(S)
        return BlockedFactor(L1, L1_inv, C, L2)

    def _schur(self, K1: np.ndarray, ztwz: ZtWZ, factors: list[np.ndarray],
               ) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray]:
        """C = L1^-1 Λ1'(Z1'WZ2)Λ2 and Λ2'(Z2'WZ2)Λ2 - C'C, by the cheapest of three routes."""
        if isinstance(ztwz.cross, np.ndarray):
            # Few columns in the rest (items, say): dense C and one BLAS product.
            n1, p1 = K1.shape[:2]
            if p1 == 1:
                C = self._scale_rest(ztwz.cross * K1[:, 0, :], factors)
            else:
                B = ztwz.cross.reshape(n1, p1, -1)
                C = self._scale_rest((K1 @ B).reshape(n1 * p1, -1), factors)
            return C, self._sandwich_rest(ztwz.rest, factors) - C.T @ C
        C = self._schur_cross(K1, ztwz.cross, factors)
        row_pairs = self.crossproducts.row_pairs
        if row_pairs is not None:
            # B'diag(k^2)B summed over pairs of entries within each row: no sparse product.
            # Only its lower triangle is formed. With a diagonal Λ2 the sandwich keeps the
            # triangles apart, and the lower Cholesky factorisation reads nothing else;
            # blocks of Λ2 mix them, so then the upper triangle is filled in.
            gram = row_pairs.weighted_gram(ztwz.cross.data, K1[:, 0, 0] ** 2)
            if self._rest_lambda(factors) is None:
                gram += np.tril(gram, -1).T
            return C, self._sandwich_rest(ztwz.rest - gram, factors)
        return C, self._sandwich_rest(ztwz.rest, factors) - (C.T @ C).toarray()

    def _sandwich_rest(self, M: np.ndarray, factors: list[np.ndarray]) -> np.ndarray:
        """Λ2' M Λ2 for a symmetric M over the rest's coordinates (with a diagonal Λ2, for
        M's lower triangle alone: each triangle maps to itself)."""
        lam = self._rest_lambda(factors)
        if lam is not None:
            return (M * lam[:, None]) * lam
        return self._scale_rest(self._scale_rest(M, factors).T, factors)

    def _schur_cross(self, K1: np.ndarray, cross: sp.csr_matrix,
                     factors: list[np.ndarray]) -> sp.csr_matrix:
        """C = L1^-1 Λ1' (Z1'WZ2) Λ2, by scaling when every block is 1 x 1."""
        n1, p1 = K1.shape[:2]
        lam2 = self._rest_lambda(factors)
        if p1 == 1 and lam2 is not None:
            row_scale = np.repeat(K1[:, 0, 0], np.diff(cross.indptr))
            data = cross.data * row_scale * lam2[cross.indices]
            return sp.csr_matrix((data, cross.indices, cross.indptr), shape=cross.shape)
        K = sp.bsr_matrix((K1, np.arange(n1), np.arange(n1 + 1)), shape=(n1 * p1, n1 * p1))
        return sp.csr_matrix(K @ cross @ self._rest_lambda_sparse(factors))
