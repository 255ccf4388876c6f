"""Random-effects structure: sparse Z, the relative covariance factor Λθ and the blocked
Cholesky factor of Λ'Z'WZΛ + I (Bates et al. 2015, JSS 67(1), sections 3.2-3.6).

lme4 factors that matrix with a general sparse Cholesky. Here the term with the most columns
is eliminated first: its part of the matrix is block-diagonal (one p x p block per level), so
its factor is a stack of small Cholesky factors. The remaining terms, usually far fewer
columns (items, say), form a dense Schur complement with its own dense Cholesky factor:

    L = [[L1, 0], [C', L2]],   L1 L1' = A11,   C = L1^-1 A12,   L2 L2' = A22 - C'C.

The weighted cross-products Z'WZ keep a fixed sparsity pattern, so they are refreshed with
one ``bincount`` per entry type, which makes every PIRLS iteration of a GLMM cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from analysis.mixed.design import RandomTerm

__all__ = ["BlockedFactor", "RandomStructure"]


def tril_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a lower triangle in column-major order (lme4's theta order)."""
    upper_rows, upper_cols = np.triu_indices(p)
    return upper_cols, upper_rows


@dataclass
class _Pairs:
    """Distinct (level of term k, level of term l) pairs and each row's pair index."""

    row_pair: np.ndarray
    level_k: np.ndarray
    level_l: np.ndarray


def _pairs(codes_k: np.ndarray, codes_l: np.ndarray, n_levels_l: int) -> _Pairs:
    """Index the level combinations of two terms that occur in the data."""
    combined = codes_k * n_levels_l + codes_l
    unique, row_pair = np.unique(combined, return_inverse=True)
    return _Pairs(row_pair, unique // n_levels_l, unique % n_levels_l)


@dataclass
class BlockedFactor:
    """Cholesky factor L of Λ'Z'WZΛ + I in the blocked form described in the module doc."""

    L1: np.ndarray  # (n1, p1, p1) lower-triangular blocks
    L1_inv: np.ndarray  # their inverses
    C: np.ndarray | sp.csr_matrix  # q1 x q2
    L2: np.ndarray  # q2 x q2 dense lower-triangular

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
        v2 = scipy.linalg.solve_triangular(self.L2, b2 - self.C.T @ v1, lower=True,
                                           check_finite=False)
        return np.vstack([v1, v2])

    def solve_upper(self, v: np.ndarray) -> np.ndarray:
        """L'^-1 v for v of shape (q, m)."""
        v1, v2 = self._split(v)
        n1, p1 = self.L1.shape[:2]
        if v2.shape[0]:
            w2 = scipy.linalg.solve_triangular(self.L2, v2, lower=True, trans="T",
                                               check_finite=False)
            v1 = v1 - (self.C @ w2).reshape(n1, p1, -1)
        else:
            w2 = v2
        w1 = (np.swapaxes(self.L1_inv, 1, 2) @ v1).reshape(-1, v.shape[1])
        return np.vstack([w1, w2])


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
        self.theta_slices = self._theta_slices()
        self.Z = self._build_z()
        self._first = terms[self.order[0]]
        self._pairs = {
            (a, b): _pairs(terms[self.order[a]].codes, terms[self.order[b]].codes,
                           terms[self.order[b]].n_levels)
            for a in range(len(terms)) for b in range(a + 1, len(terms))
        }
        self._cross_pattern = self._build_cross_pattern()
        cols, indptr, _, q2 = self._cross_pattern
        self._row_pairs = (_RowPairs.build(indptr, cols, q2)
                           if self._first.p == 1 and q2 > 0 else None)
        # Dense C pays when its BLAS product q1*q2^2 is small next to a sparse route.
        sparse_cost = (np.diff(indptr) ** 2).sum() * self._first.p ** 2
        self._dense_cross = q2 > 0 and self.q1 * q2 <= 4_000_000 and (
            self.q1 * q2 * q2 <= 50 * sparse_cost)

    # ----- theta ------------------------------------------------------------------------------
    def _theta_slices(self) -> list[slice]:
        """Where each term's lower-triangular factor lives in theta (formula order)."""
        slices, start = [], 0
        for term in self.terms:
            size = term.p * (term.p + 1) // 2
            slices.append(slice(start, start + size))
            start += size
        return slices

    @property
    def n_theta(self) -> int:
        """Length of theta."""
        return self.theta_slices[-1].stop

    def theta_start(self) -> np.ndarray:
        """lme4's starting value: identity factors."""
        theta = np.zeros(self.n_theta)
        for term, sl in zip(self.terms, self.theta_slices, strict=True):
            rows, cols = tril_indices(term.p)
            theta[sl] = (rows == cols).astype(float)
        return theta

    def theta_lower(self) -> np.ndarray:
        """Bounds: diagonal elements of each factor are non-negative, the others are free."""
        lower = np.full(self.n_theta, -np.inf)
        for term, sl in zip(self.terms, self.theta_slices, strict=True):
            rows, cols = tril_indices(term.p)
            lower[sl] = np.where(rows == cols, 0.0, -np.inf)
        return lower

    def factors(self, theta: np.ndarray) -> list[np.ndarray]:
        """Each term's p x p lower-triangular factor T_k (formula order)."""
        out = []
        for term, sl in zip(self.terms, self.theta_slices, strict=True):
            T = np.zeros((term.p, term.p))
            T[tril_indices(term.p)] = theta[sl]
            out.append(T)
        return out

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

    def split_by_term(self, b: np.ndarray) -> list[np.ndarray]:
        """Random effects (internal order, length q) as one (levels x p) array per term."""
        out: list[np.ndarray] = [np.empty(0)] * len(self.terms)
        for position, k in enumerate(self.order):
            term = self.terms[k]
            out[k] = b[self.offsets[position] : self.offsets[position + 1]].reshape(
                term.n_levels, term.p)
        return out

    # ----- weighted cross-products ------------------------------------------------------------
    def _build_cross_pattern(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Fixed CSR pattern of Z1'WZ2: column indices, row pointers and the data permutation."""
        rows, cols = self._cross_coordinates()
        q2 = self.q - self.q1
        order = np.lexsort((cols, rows))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=self.q1))])
        return cols[order], indptr, order, q2

    def _cross_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (within the rest) of each entry of Z1'WZ2, in computation order."""
        rows, cols = [], []
        p1 = self._first.p
        for b in range(1, len(self.order)):
            pairs, term = self._pairs[(0, b)], self.terms[self.order[b]]
            for i in range(p1):
                for j in range(term.p):
                    rows.append(pairs.level_k * p1 + i)
                    cols.append(self.offsets[b] - self.q1 + pairs.level_l * term.p + j)
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _cross_values(self, w: np.ndarray) -> np.ndarray:
        """Values of Z1'WZ2 in computation order."""
        vals = []
        x1 = self._first.matrix
        for b in range(1, len(self.order)):
            pairs, term = self._pairs[(0, b)], self.terms[self.order[b]]
            n_pairs = len(pairs.level_k)
            for i in range(x1.shape[1]):
                for j in range(term.p):
                    vals.append(np.bincount(pairs.row_pair, w * x1[:, i] * term.matrix[:, j],
                                            minlength=n_pairs))
        return np.concatenate(vals) if vals else np.empty(0)

    def _block_values(self, term: RandomTerm, w: np.ndarray) -> np.ndarray:
        """Diagonal blocks Z_k'WZ_k of one term: (levels, p, p)."""
        out = np.empty((term.n_levels, term.p, term.p))
        for i, j in zip(*np.triu_indices(term.p), strict=True):
            vals = np.bincount(term.codes, w * term.matrix[:, i] * term.matrix[:, j],
                               minlength=term.n_levels)
            out[:, i, j] = vals
            out[:, j, i] = vals
        return out

    def _rest_dense(self, w: np.ndarray) -> np.ndarray:
        """Dense Z2'WZ2 over all terms but the first."""
        q2 = self.q - self.q1
        M = np.zeros((q2, q2))
        for a in range(1, len(self.order)):
            term = self.terms[self.order[a]]
            start = self.offsets[a] - self.q1
            blocks = self._block_values(term, w)
            idx = start + np.arange(term.n_levels)[:, None] * term.p + np.arange(term.p)
            M[idx[:, :, None], idx[:, None, :]] = blocks
            for b in range(a + 1, len(self.order)):
                self._fill_rest_pair(M, a, b, w)
        return M

    def _fill_rest_pair(self, M: np.ndarray, a: int, b: int, w: np.ndarray) -> None:
        """Off-diagonal block Z_a'WZ_b (and its transpose) of the dense rest."""
        pairs = self._pairs[(a, b)]
        term_a, term_b = self.terms[self.order[a]], self.terms[self.order[b]]
        n_pairs = len(pairs.level_k)
        for i in range(term_a.p):
            for j in range(term_b.p):
                vals = np.bincount(pairs.row_pair, w * term_a.matrix[:, i] * term_b.matrix[:, j],
                                   minlength=n_pairs)
                r = self.offsets[a] - self.q1 + pairs.level_k * term_a.p + i
                c = self.offsets[b] - self.q1 + pairs.level_l * term_b.p + j
                M[r, c] = vals
                M[c, r] = vals

    def crossprod(self, w: np.ndarray) -> ZtWZ:
        """Z'WZ for row weights w, in the blocked form used by ``factorize``."""
        cols, indptr, order, q2 = self._cross_pattern
        cross = sp.csr_matrix((self._cross_values(w)[order], cols, indptr), shape=(self.q1, q2))
        return ZtWZ(self._block_values(self._first, w), cross, self._rest_dense(w))

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
            return BlockedFactor(L1, L1_inv, sp.csr_matrix((self.q1, 0)), np.zeros((0, 0)))
        K1 = L1_inv @ T1.T
        C, S = self._schur(K1, ztwz, factors)
        S[np.diag_indices(q2)] += 1.0
        L2 = scipy.linalg.cholesky(S, lower=True, check_finite=False)
        return BlockedFactor(L1, L1_inv, C, L2)

    def _schur(self, K1: np.ndarray, ztwz: ZtWZ, factors: list[np.ndarray],
               ) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray]:
        """C = L1^-1 Λ1'(Z1'WZ2)Λ2 and Λ2'(Z2'WZ2)Λ2 - C'C, by the cheapest of three routes."""
        if self._dense_cross:
            # Few columns in the rest (items, say): dense C and one BLAS product.
            n1, p1 = K1.shape[:2]
            B = ztwz.cross.toarray().reshape(n1, p1, -1)
            C = self._scale_rest((K1 @ B).reshape(n1 * p1, -1), factors)
            return C, self._sandwich_rest(ztwz.rest, factors) - C.T @ C
        C = self._schur_cross(K1, ztwz.cross, factors)
        if self._row_pairs is not None:
            # B'diag(k^2)B summed over pairs of entries within each row: no sparse product.
            gram = self._row_pairs.weighted_gram(ztwz.cross.data, K1[:, 0, 0] ** 2)
            return C, self._sandwich_rest(ztwz.rest - gram, factors)
        return C, self._sandwich_rest(ztwz.rest, factors) - (C.T @ C).toarray()

    def _sandwich_rest(self, M: np.ndarray, factors: list[np.ndarray]) -> np.ndarray:
        """Λ2' M Λ2 for a symmetric M over the rest's coordinates."""
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


class _RowPairs:
    """All ordered pairs of stored entries within each row of a fixed CSR pattern.

    With them, B'diag(v)B for a CSR matrix B (q1 x q2) and row weights v is one ``bincount``
    into a dense q2 x q2 array, which beats a general sparse product when q2 is large.
    """

    LIMIT = 4_000_000  # pairs; above this the memory is better spent on a sparse product

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, q2: int) -> None:
        counts = np.diff(indptr)
        squares = counts**2
        total = int(squares.sum())
        self.row = np.repeat(np.arange(len(counts)), squares)
        within = np.arange(total) - np.repeat(np.cumsum(squares) - squares, squares)
        n_row = counts[self.row]
        self.first = indptr[self.row] + within // n_row
        self.second = indptr[self.row] + within % n_row
        self.flat = indices[self.first] * q2 + indices[self.second]
        self.q2 = q2

    @classmethod
    def build(cls, indptr: np.ndarray, indices: np.ndarray, q2: int) -> _RowPairs | None:
        """The pair index, or None when it would be too large."""
        if int((np.diff(indptr) ** 2).sum()) > cls.LIMIT:
            return None
        return cls(indptr, indices, q2)

    def weighted_gram(self, data: np.ndarray, row_weight: np.ndarray) -> np.ndarray:
        """B'diag(row_weight)B as a dense array, B given by its CSR ``data``."""
        values = data[self.first] * data[self.second] * row_weight[self.row]
        gram = np.bincount(self.flat, values, minlength=self.q2 * self.q2)
        return gram.reshape(self.q2, self.q2)


@dataclass
class ZtWZ:
    """Z'WZ in blocks: first term's diagonal blocks, first-by-rest (sparse), rest (dense)."""

    block: np.ndarray
    cross: sp.csr_matrix
    rest: np.ndarray
