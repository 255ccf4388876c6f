"""The arrays every mixed-model fitter works on, and lme4's θ layout, with numpy alone.

Nothing here imports pandas, scipy or formulaic: the command line's path for small linear
mixed models (``analysis.mixed.dense``) builds and fits a model from these pieces in less
time than those imports take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np

__all__ = [
    "SINGULAR_MESSAGE",
    "SINGULAR_TOL",
    "Family",
    "ModelData",
    "RandomTerm",
    "convergence_alarms",
    "full_rank",
    "is_singular",
    "json_row",
    "random_effects_rows",
    "term_factors",
    "theta_lower",
    "theta_slices",
    "theta_start",
    "tril_indices",
]

Family = Literal["gaussian", "binomial", "ordinal"]

SINGULAR_TOL = 1e-4  # lme4's isSingular() tolerance on the diagonal of each factor
SINGULAR_MESSAGE = ("singular fit: a random-effect variance is (near) zero or a correlation "
                    "is +/-1; consider simplifying the random-effects structure")
RANK_TOL = 1e-7  # |R_jj| of the column-scaled QR below which a fixed-effect column is aliased


@dataclass
class RandomTerm:
    """A random-effect term: one ``p``-vector of effects per level of its grouping factor."""

    group: str
    names: list[str]
    levels: np.ndarray
    codes: np.ndarray  # level index of each row
    matrix: np.ndarray  # n x p model rows of the term

    @property
    def p(self) -> int:
        """Number of effects per level (1 for a random intercept)."""
        return self.matrix.shape[1]

    @property
    def n_levels(self) -> int:
        """Number of levels of the grouping factor."""
        return len(self.levels)

    @property
    def q(self) -> int:
        """Number of columns the term contributes to Z."""
        return self.n_levels * self.p


@dataclass
class ModelData:
    """Arrays that every fitter needs, with rows holding missing values already dropped."""

    y: np.ndarray
    X: np.ndarray
    fixed_names: list[str]
    terms: list[RandomTerm]
    trials: np.ndarray | None = None  # binomial: number of trials per row
    categories: list[str] = field(default_factory=list)  # ordinal: response levels, low to high
    warnings: list[str] = field(default_factory=list)

    @property
    def nobs(self) -> int:
        """Number of rows used in the fit."""
        return len(self.y)


def full_rank(X: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop columns that earlier columns alias, keeping the earlier ones (as R's qr does);
    returns the kept matrix, its names and a warning naming what was dropped."""
    if X.shape[1] == 0:
        return X, names, []
    r = np.linalg.qr(X / np.maximum(np.linalg.norm(X, axis=0), 1e-300), mode="r")
    keep = np.abs(np.diag(r)) > RANK_TOL
    if keep.all():
        return X, names, []
    dropped = [name for name, k in zip(names, keep, strict=True) if not k]
    warning = f"fixed-effect model matrix is rank deficient; dropped columns {dropped}"
    return X[:, keep], [n for n, k in zip(names, keep, strict=True) if k], [warning]


@lru_cache(maxsize=32)
def tril_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a lower triangle in column-major order (lme4's theta order)."""
    upper_rows, upper_cols = np.triu_indices(p)
    return upper_cols, upper_rows


def theta_slices(terms: list[RandomTerm]) -> list[slice]:
    """Where each term's lower-triangular factor lives in θ (formula order)."""
    slices, start = [], 0
    for term in terms:
        size = term.p * (term.p + 1) // 2
        slices.append(slice(start, start + size))
        start += size
    return slices


def _diagonal_mask(terms: list[RandomTerm]) -> np.ndarray:
    """True where θ holds a diagonal element of its term's factor."""
    return np.concatenate([np.equal(*tril_indices(term.p)) for term in terms])


def theta_start(terms: list[RandomTerm]) -> np.ndarray:
    """lme4's starting value: identity factors."""
    return _diagonal_mask(terms).astype(float)


def theta_lower(terms: list[RandomTerm]) -> np.ndarray:
    """Bounds: diagonal elements of each factor are non-negative, the others are free."""
    return np.where(_diagonal_mask(terms), 0.0, -np.inf)


def term_factors(terms: list[RandomTerm], theta: np.ndarray) -> list[np.ndarray]:
    """Each term's p x p lower-triangular factor T_k (formula order)."""
    out = []
    for term, sl in zip(terms, theta_slices(terms), strict=True):
        T = np.zeros((term.p, term.p))
        T[tril_indices(term.p)] = theta[sl]
        out.append(T)
    return out


def is_singular(theta: np.ndarray, lower: np.ndarray) -> bool:
    """lme4's isSingular(): a factor with a (near-)zero diagonal element."""
    return bool(np.any(theta[lower == 0] < SINGULAR_TOL))


def convergence_alarms(singular: bool, converged: bool, message: str) -> list[str]:
    """What a fit warns about (as ``ConvergenceWarning``) and lists in its ``warnings``."""
    alarms = [SINGULAR_MESSAGE] if singular else []
    if not converged:
        alarms.append(f"optimizer did not converge: {message}")
    return alarms


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A results row with NaN/None turned into JSON null."""
    return {key: (None if value is None or (isinstance(value, float) and np.isnan(value))
                  else value) for key, value in row.items()}


def random_effects_rows(terms: list[RandomTerm], factors: list[np.ndarray],
                        scale: float) -> list[dict[str, Any]]:
    """Rows of SDs and correlations per term, like ``as.data.frame(VarCorr(fit))`` in lme4."""
    rows: list[dict[str, Any]] = []
    for term, T in zip(terms, factors, strict=True):
        cov = scale**2 * (T @ T.T)
        sd = np.sqrt(np.diag(cov))
        for name, value in zip(term.names, sd, strict=True):
            rows.append({"group": term.group, "term": name, "term2": None,
                         "sd_or_cor": float(value)})
        for j in range(term.p):
            for i in range(j + 1, term.p):
                cor = cov[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan
                rows.append({"group": term.group, "term": term.names[j],
                             "term2": term.names[i], "sd_or_cor": float(cor)})
    return rows
