"""Penalised least squares: the joint solve for (u, β) given a factor of Λ'Z'WZΛ + I.

For a weighted linear model in the spherical random effects u (Bates et al. 2015, eq. 18)

    [ Λ'Z'WZΛ + I   Λ'Z'WX ] [u]   [Λ'Z'W r]
    [ X'WZΛ         X'WX   ] [β] = [X'W r  ]

the random-effects block is eliminated with the blocked factor L, leaving the p x p system
RX'RX β = X'W r - RZX' cu with RZX = L^-1 Λ'Z'WX and cu = L^-1 Λ'Z'W r.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.mixed.factor import BlockedFactor, cholesky_lower, solve_triangular

__all__ = ["PlsSolution", "solve_pls"]


@dataclass
class PlsSolution:
    """Solution of the penalised least-squares system and the pieces the deviance needs."""

    u: np.ndarray
    beta: np.ndarray
    RX: np.ndarray  # upper-triangular Cholesky factor of X'WX - RZX'RZX
    cu: np.ndarray
    fitted_penalty: float  # cu'cu + rhs'β: the part of r'Wr explained by the fit

    def logdet_rx(self) -> float:
        """log |RX|^2 (enters the REML criterion)."""
        return 2.0 * float(np.sum(np.log(np.abs(np.diag(self.RX)))))


def solve_pls(factor: BlockedFactor, lam_ztwx: np.ndarray, xtwx: np.ndarray,
              lam_ztwr: np.ndarray, xtwr: np.ndarray) -> PlsSolution:
    """Solve the PLS system for (u, β); ``lam_ztwx`` is Λ'Z'WX and ``lam_ztwr`` is Λ'Z'Wr."""
    cu = factor.solve_lower(lam_ztwr.reshape(-1, 1))[:, 0]
    if xtwx.shape[0] == 0:
        u = factor.solve_upper(cu.reshape(-1, 1))[:, 0]
        return PlsSolution(u, np.zeros(0), np.zeros((0, 0)), cu, float(cu @ cu))
    RZX = factor.solve_lower(lam_ztwx)
    RX = cholesky_lower(xtwx - RZX.T @ RZX).T
    rhs = xtwr - RZX.T @ cu
    beta = solve_triangular(RX.T, solve_triangular(RX.T, rhs), transpose=True)
    u = factor.solve_upper((cu - RZX @ beta).reshape(-1, 1))[:, 0]
    return PlsSolution(u, beta, RX, cu, float(cu @ cu + rhs @ beta))
