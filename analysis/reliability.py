"""Internal consistency of a scale: Cronbach's alpha and McDonald's ω (total, one factor).

Report these before summing items into a score. alpha assumes tau-equivalent items (equal
loadings); ω relaxes that to a congeneric one-factor model, which is fitted here by maximum
likelihood on the item covariance matrix:

    Σ = λλᵀ + diag(ψ),   ω = (Σλ)² / ((Σλ)² + Σψ)

For tau-equivalent items ω equals alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize

if TYPE_CHECKING:
    from analysis.questionnaires import Questionnaire


@dataclass(frozen=True)
class OneFactorFit:
    """A one-factor model fitted by maximum likelihood.

    ``discrepancy`` is the ML fit function F = log|Σ| + tr(SΣ⁻¹) - log|S| - k at the optimum
    (0 for a perfect fit); ``heywood`` flags uniquenesses stuck at their lower bound.
    """

    loadings: np.ndarray
    uniquenesses: np.ndarray
    discrepancy: float
    converged: bool
    heywood: bool

    @property
    def omega(self) -> float:
        """McDonald's ω total of the unit-weighted sum of the items."""
        common = float(self.loadings.sum()) ** 2
        return common / (common + float(self.uniquenesses.sum()))


def cronbach_alpha(items: pd.DataFrame | np.ndarray) -> float:
    """Cronbach's alpha = k/(k-1) · (1 - Σ var(item) / var(sum)), complete rows only."""
    return alpha_from_covariance(_covariance(items))


def alpha_from_covariance(covariance: np.ndarray) -> float:
    """alpha from an item covariance matrix: k/(k-1) · (1 - tr(S) / 1ᵀS1)."""
    s = np.asarray(covariance, dtype=float)
    k = s.shape[0]
    if k < 2:
        raise ValueError("Cronbach's alpha needs at least two items")
    return float(k / (k - 1) * (1 - np.trace(s) / s.sum()))


def mcdonald_omega(items: pd.DataFrame | np.ndarray) -> float:
    """McDonald's ω total from a one-factor ML model of the items (complete rows only)."""
    return fit_one_factor(_covariance(items)).omega


def fit_one_factor(covariance: np.ndarray) -> OneFactorFit:
    """Fit Σ = λλᵀ + diag(ψ) to the covariance matrix by maximum likelihood.

    Uses Jöreskog's concentration: for given uniquenesses ψ the ML loadings are the scaled
    leading eigenvector of Ψ^{-1/2} S Ψ^{-1/2}, so only ψ is optimised (on the log scale,
    bounded below at 0.5% of each item's variance to stop Heywood cases running to zero).
    """
    s = np.asarray(covariance, dtype=float)
    k = s.shape[0]
    if k < 3:
        raise ValueError("a one-factor model needs at least three items to be identified")
    variances = np.diag(s)
    if np.any(variances <= 0):
        raise ValueError("every item needs a positive variance")
    start = np.clip((1 - 0.5 / k) / np.diag(np.linalg.inv(s)), 0.01 * variances, variances)
    lower = np.log(0.005 * variances)
    bounds = list(zip(lower, np.log(variances), strict=True))
    result = optimize.minimize(
        _concentrated_discrepancy,
        np.log(start),
        args=(s,),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000},
    )
    psi = np.exp(result.x)
    loadings = _loadings(s, psi)
    implied = np.outer(loadings, loadings) + np.diag(psi)
    return OneFactorFit(
        loadings=loadings,
        uniquenesses=psi,
        discrepancy=_ml_discrepancy(s, implied),
        converged=bool(result.success),
        heywood=bool(np.any(result.x <= lower + 1e-6)),
    )


def reliability_table(
    participants: pd.DataFrame, questionnaires: list[Questionnaire] | None = None
) -> pd.DataFrame:
    """alpha and ω of each questionnaire present in ``participants`` (items reverse-scored).

    Columns: ``scale, k, n, alpha, omega`` (``n`` complete respondents).
    """
    # Imported here: questionnaires depends on nothing in this module, and keeping the
    # reliability formulas free of questionnaire knowledge keeps them reusable.
    from analysis import questionnaires as q

    chosen = questionnaires if questionnaires is not None else q.present(participants)
    rows = []
    for questionnaire in chosen:
        items = q.item_responses(participants, questionnaire).dropna()
        k = items.shape[1]
        alpha = cronbach_alpha(items) if len(items) > 1 else float("nan")
        omega = mcdonald_omega(items) if len(items) > k and k >= 3 else float("nan")
        rows.append((questionnaire.name, k, len(items), alpha, omega))
    return pd.DataFrame(rows, columns=["scale", "k", "n", "alpha", "omega"])


def _covariance(items: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Sample covariance (n - 1) of the complete rows."""
    matrix = pd.DataFrame(np.asarray(items, dtype=float)).dropna().to_numpy()
    if matrix.shape[0] < 2:
        raise ValueError("need at least two complete responses")
    return np.cov(matrix, rowvar=False, ddof=1)


def _loadings(s: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """ML loadings given uniquenesses: Ψ^{1/2} u₁ √max(θ₁ - 1, 0), sign made positive."""
    root = np.sqrt(psi)
    scaled = s / np.outer(root, root)
    eigenvalues, eigenvectors = np.linalg.eigh(scaled)
    theta, u = eigenvalues[-1], eigenvectors[:, -1]
    loadings = root * u * np.sqrt(max(theta - 1.0, 0.0))
    return loadings if loadings.sum() >= 0 else -loadings


def _concentrated_discrepancy(log_psi: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray]:
    """F(ψ) = Σ_{j≥2} (θ_j - log θ_j - 1) and its gradient with respect to log ψ.

    θ are the eigenvalues of Ψ^{-1/2} S Ψ^{-1/2}; the gradient is
    diag(Ψ⁻¹(Σ - S)Ψ⁻¹) · ψ with Σ the implied covariance at the ML loadings.
    """
    psi = np.exp(log_psi)
    root = np.sqrt(psi)
    theta = np.linalg.eigvalsh(s / np.outer(root, root))[:-1]
    value = float(np.sum(theta - np.log(theta) - 1.0))
    loadings = _loadings(s, psi)
    residual = np.outer(loadings, loadings) + np.diag(psi) - s
    gradient = np.diag(residual) / psi**2 * psi
    return value, gradient


def _ml_discrepancy(s: np.ndarray, implied: np.ndarray) -> float:
    """F_ML = log|Σ| + tr(SΣ⁻¹) - log|S| - k."""
    k = s.shape[0]
    _, logdet_implied = np.linalg.slogdet(implied)
    _, logdet_s = np.linalg.slogdet(s)
    return float(logdet_implied + np.trace(np.linalg.solve(implied, s)) - logdet_s - k)
