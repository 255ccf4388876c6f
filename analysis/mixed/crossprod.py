"""Weighted cross-products Z'WZ in the blocked layout the factorisation uses.

Z'WZ keeps one sparsity pattern whatever the weights, so it is refreshed with one
``bincount`` per entry type over the rows: cheap enough to redo at every PIRLS iteration.
Layout: the first term's diagonal blocks (levels x p1 x p1), the first-by-rest block
(dense or CSR, whichever the Schur complement will use) and the rest (dense).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import scipy.sparse as sp

from analysis.mixed.model import RandomTerm

__all__ = ["CrossProducts", "RowPairs", "ZtWZ"]

DENSE_CROSS_MAX = 4_000_000  # entries of a dense first-by-rest block


@dataclass
class ZtWZ:
    """Z'WZ in blocks: first term's diagonal blocks, first-by-rest, rest (dense)."""

    block: np.ndarray
    cross: np.ndarray | sp.csr_matrix
    rest: np.ndarray


@dataclass
class _Pairs:
    """Distinct (level of term a, level of term b) pairs and each row's pair index."""

    row_pair: np.ndarray
    level_a: np.ndarray
    level_b: np.ndarray


def _pairs(codes_a: np.ndarray, codes_b: np.ndarray, n_levels_b: int) -> _Pairs:
    """Index the level combinations of two terms that occur in the data."""
    unique, row_pair = np.unique(codes_a * n_levels_b + codes_b, return_inverse=True)
    return _Pairs(row_pair, unique // n_levels_b, unique % n_levels_b)


@lru_cache(maxsize=16)
def _upper_pairs(p: int) -> list[tuple[int, int]]:
    """(i, j) with i <= j for a p x p block."""
    return [(int(i), int(j)) for i, j in zip(*np.triu_indices(p), strict=True)]


class RowPairs:
    """Ordered pairs (later, earlier) of stored entries within each row of a fixed CSR pattern.

    With them, the lower triangle of B'diag(v)B for a CSR matrix B (q1 x q2) and row
    weights v is one ``bincount`` into a dense q2 x q2 array, which beats a general sparse
    product when q2 is large. Only the lower triangle is formed: the Cholesky factorisation
    that consumes it reads nothing else, and it halves the work.
    """

    LIMIT = 4_000_000  # pairs; above this the memory is better spent on a sparse product

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, q2: int) -> None:
        counts = np.diff(indptr)
        sizes = counts * (counts + 1) // 2  # pairs (a, b) with b <= a within a row
        row = np.repeat(np.arange(len(counts)), sizes)
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        # Invert k = a (a + 1) / 2 + b for the position (a, b) in the row's triangle.
        a = ((np.sqrt(8.0 * within + 1.0) - 1.0) // 2).astype(np.int64)
        a -= (a * (a + 1) // 2 > within).astype(np.int64)  # guard against rounding
        b = within - a * (a + 1) // 2
        first = indptr[row] + a
        second = indptr[row] + b
        # int32 halves the memory of these millions of indices when the sizes allow it.
        small = max(len(indices), q2 * q2) < np.iinfo(np.int32).max
        index_type = np.int32 if small else np.int64
        self.row = row.astype(index_type)
        self.first, self.second = first.astype(index_type), second.astype(index_type)
        # CSR indices are sorted within a row, so a >= b puts each pair in the lower triangle.
        self.flat = (indices[first] * q2 + indices[second]).astype(index_type)
        self.q2 = q2
        self._products: tuple[np.ndarray, np.ndarray] | None = None

    def _entry_products(self, data: np.ndarray) -> np.ndarray:
        """data[first] * data[second], kept for the last ``data``: a linear model's Z'Z
        never changes, and these gathers were half the cost of each evaluation."""
        if self._products is None or self._products[0] is not data:
            self._products = (data, data[self.first] * data[self.second])
        return self._products[1]

    def weighted_gram(self, data: np.ndarray, row_weight: np.ndarray) -> np.ndarray:
        """The lower triangle of B'diag(row_weight)B as a dense array (zeros above the
        diagonal), B given by its CSR ``data``."""
        values = self._entry_products(data) * row_weight[self.row]
        gram = np.bincount(self.flat, values, minlength=self.q2 * self.q2)
        return gram.reshape(self.q2, self.q2)


class CrossProducts:
    """Computes Z'WZ for a fixed set of terms; ``terms`` in the internal (elimination) order."""

    def __init__(self, terms: list[RandomTerm], offsets: np.ndarray) -> None:
        self.terms = terms
        self.offsets = offsets
        self.q1 = terms[0].q
        self.q2 = int(offsets[-1]) - self.q1
        self.pairs = {(a, b): _pairs(terms[a].codes, terms[b].codes, terms[b].n_levels)
                      for a in range(len(terms)) for b in range(a + 1, len(terms))}
        self._rest_block_index = [self._block_index(a) for a in range(1, len(terms))]
        rows, cols = self._cross_coordinates()
        order = np.lexsort((cols, rows))
        self.cols, self.order = cols[order], order
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=self.q1))])
        self.dense_flat = rows * self.q2 + cols
        pair_count = int((np.diff(self.indptr) ** 2).sum())  # ordered pairs, both ways
        # A dense C pays when its BLAS product q1*q2^2 is small next to a sparse route.
        self.dense_cross = bool(self.q2) and self.q1 * self.q2 <= DENSE_CROSS_MAX and (
            self.q1 * self.q2**2 <= 50 * pair_count * terms[0].p ** 2)
        self._pairs_fit = terms[0].p == 1 and bool(self.q2) and pair_count <= RowPairs.LIMIT

    @cached_property
    def row_pairs(self) -> RowPairs | None:
        """Row pairs for the sparse route, built on first use: they cost a tenth of a second
        on a large model, and a model on the dense route never needs them."""
        return RowPairs(self.indptr, self.cols, self.q2) if self._pairs_fit else None

    def _block_index(self, a: int) -> tuple[np.ndarray, np.ndarray]:
        """Where term a's diagonal blocks sit in the dense rest."""
        term = self.terms[a]
        start = self.offsets[a] - self.q1
        idx = start + np.arange(term.n_levels)[:, None] * term.p + np.arange(term.p)
        return idx[:, :, None], idx[:, None, :]

    def _cross_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (within the rest) of each entry of Z1'WZ2, in computation order."""
        rows: list[np.ndarray] = [np.empty(0, np.int64)]
        cols: list[np.ndarray] = [np.empty(0, np.int64)]
        p1 = self.terms[0].p
        for b in range(1, len(self.terms)):
            pairs, term = self.pairs[(0, b)], self.terms[b]
            for i in range(p1):
                for j in range(term.p):
                    rows.append(pairs.level_a * p1 + i)
                    cols.append(self.offsets[b] - self.q1 + pairs.level_b * term.p + j)
        return np.concatenate(rows), np.concatenate(cols)

    def _cross_values(self, w: np.ndarray) -> np.ndarray:
        """Values of Z1'WZ2 in computation order."""
        vals: list[np.ndarray] = [np.empty(0)]
        first = self.terms[0]
        for b in range(1, len(self.terms)):
            pairs, term = self.pairs[(0, b)], self.terms[b]
            for i in range(first.p):
                for j in range(term.p):
                    vals.append(np.bincount(pairs.row_pair, w * first.matrix[:, i]
                                            * term.matrix[:, j], minlength=len(pairs.level_a)))
        return np.concatenate(vals)

    @staticmethod
    def block_values(term: RandomTerm, w: np.ndarray) -> np.ndarray:
        """Diagonal blocks Z_k'WZ_k of one term: (levels, p, p)."""
        if term.p == 1:  # one bincount, no index bookkeeping
            x = term.matrix[:, 0]
            return np.bincount(term.codes, w * x * x, minlength=term.n_levels).reshape(-1, 1, 1)
        out = np.empty((term.n_levels, term.p, term.p))
        for i, j in _upper_pairs(term.p):
            vals = np.bincount(term.codes, w * term.matrix[:, i] * term.matrix[:, j],
                               minlength=term.n_levels)
            out[:, i, j] = vals
            out[:, j, i] = vals
        return out

    def _rest_dense(self, w: np.ndarray) -> np.ndarray:
        """Dense Z2'WZ2 over all terms but the first."""
        M = np.zeros((self.q2, self.q2))
        for a in range(1, len(self.terms)):
            rows, cols = self._rest_block_index[a - 1]
            M[rows, cols] = self.block_values(self.terms[a], w)
            for b in range(a + 1, len(self.terms)):
                self._fill_rest_pair(M, a, b, w)
        return M

    def _fill_rest_pair(self, M: np.ndarray, a: int, b: int, w: np.ndarray) -> None:
        """Off-diagonal block Z_a'WZ_b (and its transpose) of the dense rest."""
        pairs = self.pairs[(a, b)]
        term_a, term_b = self.terms[a], self.terms[b]
        for i in range(term_a.p):
            for j in range(term_b.p):
                vals = np.bincount(pairs.row_pair, w * term_a.matrix[:, i] * term_b.matrix[:, j],
                                   minlength=len(pairs.level_a))
                r = self.offsets[a] - self.q1 + pairs.level_a * term_a.p + i
                c = self.offsets[b] - self.q1 + pairs.level_b * term_b.p + j
                M[r, c] = vals
                M[c, r] = vals

    def compute(self, w: np.ndarray) -> ZtWZ:
        """Z'WZ for row weights w."""
        values = self._cross_values(w)
        cross: np.ndarray | sp.csr_matrix
        if self.dense_cross:
            cross = np.bincount(self.dense_flat, values, minlength=self.q1 * self.q2).reshape(
                self.q1, self.q2)
        else:
            cross = sp.csr_matrix((values[self.order], self.cols, self.indptr),
                                  shape=(self.q1, self.q2))
        rest = self._rest_dense(w) if self.q2 else np.zeros((0, 0))
        return ZtWZ(self.block_values(self.terms[0], w), cross, rest)
