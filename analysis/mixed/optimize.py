"""Bounded minimisation of a smooth criterion, a convergence check like lme4's ``checkConv``,
and finite-difference derivatives.

L-BFGS-B alone is not enough for mixed models. Their criteria depend on the diagonal of
each relative covariance factor through its square, so every point with such a θ component
at its bound of 0 is a stationary point: an optimiser that lands there (a first step clipped
to the box does that easily) reports success with a zero projected gradient, possibly far
from the optimum. Its "relative reduction" stopping rule can also stop on a stalled line
search with a sizeable gradient. So a search here (1) moves each component stuck at its bound
to a few positive values and restarts from any that is better, and (2) checks the end point
with finite-difference derivatives: the gradient scaled by the Hessian must be small
(lme4's ``check.conv.grad``, tolerance 2e-3) and the Hessian over the components off the
bound positive definite. A failed check gets a Newton step (or, where the Hessian has a
negative eigenvalue, a step along that direction) and a restart before it is reported as
non-convergence.

Two descents share those restarts and checks: L-BFGS-B (scipy's, the default) and a projected
Newton method on the same finite-difference derivatives that needs numpy alone. Newton costs
1 + 2k + k(k-1)/2 evaluations a step for k parameters, so it suits the few θ of a small model;
the command line uses it there because importing scipy.optimize takes longer than such a fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import scipy.optimize

__all__ = ["Optimum", "descent_for", "minimize_bounded", "numerical_derivatives",
           "numerical_hessian"]

Objective = Callable[[np.ndarray], float]
_PENALTY = 1e300  # stands in for an undefined criterion (a failed factorisation)
GRADIENT_TOL = 2e-3  # lme4's check.conv.grad tolerance on the scaled gradient of the deviance
# Values tried for a component stuck at its bound of 0: θ are SDs (relative to the residual
# SD in an LMM), so these span a negligible to a large random effect.
BOUNDARY_PROBES = (0.02, 0.1, 0.3, 1.0)
MAX_RESTARTS = 5
# A component this close to its bound counts as on it (lme4's isSingular() tolerance).
BOUNDARY_TOL = 1e-4


@dataclass
class Optimum:
    """Where a minimisation ended, and what the final check found there."""

    x: np.ndarray
    fun: float
    n_evaluations: int
    converged: bool
    message: str
    gradient: np.ndarray | None = None  # finite-difference derivatives at x (when checked)
    hessian: np.ndarray | None = None
    problems: list[str] = field(default_factory=list)


class _Counted:
    """Wrap an objective to count calls and turn non-finite values into a large penalty."""

    def __init__(self, fun: Objective) -> None:
        self.fun = fun
        self.calls = 0

    def __call__(self, x: np.ndarray) -> float:
        self.calls += 1
        value = self.fun(x)
        # A failed factorisation far from the optimum must not stop the search.
        return value if np.isfinite(value) else _PENALTY


Descent = Literal["L-BFGS-B", "newton"]
# Armijo's sufficient-decrease constant and the shortest step tried in a Newton line search.
_ARMIJO = 1e-4
_MIN_STEP = 1e-10


@dataclass
class _Descent:
    """One L-BFGS-B run (with its own restart on a stalled line search)."""

    x: np.ndarray
    fun: float
    success: bool
    message: str


class _Search:
    """L-BFGS-B over a box with the restarts described in the module docstring."""

    def __init__(self, fun: _Counted, lower: np.ndarray, upper: np.ndarray, *, tol: float,
                 max_iter: int, gradient: str, method: Descent = "L-BFGS-B") -> None:
        self.fun, self.lower, self.upper = fun, lower, upper
        self.method, self.tol, self.max_iter = method, tol, max_iter
        self.bounds = [(float(lo) if np.isfinite(lo) else None,
                        float(hi) if np.isfinite(hi) else None)
                       for lo, hi in zip(lower, upper, strict=True)]
        self.options = {"ftol": tol, "gtol": 1e-7, "maxiter": max_iter}
        self.gradient = gradient

    def _run(self, start: np.ndarray) -> scipy.optimize.OptimizeResult | _Descent:
        if self.method == "newton":
            return self._newton(start)
        import scipy.optimize  # here: a Newton search must not pay for importing it

        return scipy.optimize.minimize(self.fun, start, method="L-BFGS-B", jac=self.gradient,
                                       bounds=self.bounds, options=self.options)

    def _newton_direction(self, x: np.ndarray, gradient: np.ndarray,
                          hessian: np.ndarray) -> np.ndarray:
        """Newton's step over the components not held at a bound by their gradient, with
        the Hessian's eigenvalues made positive (so far from the optimum, where the
        criterion is not convex, the step still goes downhill)."""
        held = (((x <= self.lower) & (gradient > 0)) | ((x >= self.upper) & (gradient < 0)))
        free = ~held
        step = np.zeros_like(x)
        H = hessian[np.ix_(free, free)]
        if not free.any() or not np.all(np.isfinite(H)) or not np.all(np.isfinite(gradient)):
            return step
        eigenvalues, vectors = np.linalg.eigh(0.5 * (H + H.T))
        floor = 1e-8 * max(float(np.max(np.abs(eigenvalues))), 1.0)
        eigenvalues = np.maximum(np.abs(eigenvalues), floor)
        step[free] = -vectors @ ((vectors.T @ gradient[free]) / eigenvalues)
        return step

    def _newton(self, start: np.ndarray) -> _Descent:
        """Projected Newton with a backtracking (Armijo) line search; it stops when a step
        changes the criterion by less than ``tol`` relative, or no step along the direction
        lowers it (then the verification in ``_verify`` judges the point)."""
        x = np.clip(start, self.lower, self.upper)
        fun = self.fun(x)
        for _ in range(self.max_iter):
            _, gradient, hessian = numerical_derivatives(self.fun, x)
            direction = self._newton_direction(x, gradient, hessian)
            step = 1.0
            while step >= _MIN_STEP:
                candidate = np.clip(x + step * direction, self.lower, self.upper)
                value = self.fun(candidate)
                if value <= fun + _ARMIJO * float(gradient @ (candidate - x)):
                    break
                step /= 2
            else:
                return _Descent(x, fun, True, "no step along Newton's direction lowers the "
                                "criterion")
            change = fun - value
            x, fun = candidate, value
            if change <= self.tol * (1.0 + abs(fun)):
                return _Descent(x, fun, True, "relative reduction of the criterion <= tol")
        return _Descent(x, fun, False, f"no convergence in {self.max_iter} Newton steps")

    def descend(self, start: np.ndarray) -> _Descent:
        """One descent from ``start``; a stalled line search gets one fresh start."""
        result = self._run(start)
        success, message = bool(result.success), str(result.message)
        if not success:
            # Line searches can stall on finite-difference noise, typically at a bound. A
            # fresh start from there that cannot improve the criterion confirms an optimum.
            retry = self._run(result.x)
            stalled = retry.fun >= result.fun - 1e-8 * (1.0 + abs(result.fun))
            success = bool(retry.success) or stalled
            message = str(retry.message) if retry.success else f"{message} (restart: no progress)"
            if retry.fun < result.fun:
                result = retry
        return _Descent(np.asarray(result.x, dtype=float), float(result.fun), success, message)

    def off_the_boundary(self, x: np.ndarray, fun: float) -> np.ndarray | None:
        """The best point with one bound component moved to a positive value, if any is
        better than ``x``."""
        best, best_fun = None, fun - 1e-10 * (1.0 + abs(fun))
        for i in np.flatnonzero(np.isfinite(self.lower) & (x <= self.lower + BOUNDARY_TOL)):
            for step in BOUNDARY_PROBES:
                probe = x.copy()
                probe[i] = min(self.lower[i] + step, self.upper[i])
                value = self.fun(probe)
                if value < best_fun:
                    best, best_fun = probe, value
        return best

    def downhill(self, x: np.ndarray, fun: float, hessian: np.ndarray) -> np.ndarray | None:
        """The best point along the Hessian's most negative-curvature direction (a saddle
        or a maximum along some direction), if any is better than ``x``."""
        free = self.free(x)
        H = hessian[np.ix_(free, free)]
        if not np.all(np.isfinite(H)):
            return None
        eigenvalues, vectors = np.linalg.eigh(0.5 * (H + H.T))
        if eigenvalues[0] >= 0:
            return None
        direction = np.zeros_like(x)
        direction[free] = vectors[:, 0]
        best, best_fun = None, fun - 1e-10 * (1.0 + abs(fun))
        for step in BOUNDARY_PROBES:
            for sign in (1.0, -1.0):
                probe = np.clip(x + sign * step * direction, self.lower, self.upper)
                value = self.fun(probe)
                if value < best_fun:
                    best, best_fun = probe, value
        return best

    def minimize(self, start: np.ndarray) -> _Descent:
        """Descend, then leave any bound where a move off it helps, and descend again."""
        best = self.descend(start)
        for _ in range(MAX_RESTARTS):
            moved = self.off_the_boundary(best.x, best.fun)
            if moved is None:
                break
            candidate = self.descend(moved)
            if candidate.fun < best.fun:
                best = candidate
        return best

    def free(self, x: np.ndarray) -> np.ndarray:
        """Components that are not at a bound."""
        return (x > self.lower) & (x < self.upper)

    def newton_step(self, x: np.ndarray, gradient: np.ndarray,
                    hessian: np.ndarray) -> np.ndarray | None:
        """A Newton step over the free components, kept inside the box; None if the
        Hessian there is not positive definite."""
        free = self.free(x)
        try:
            L = np.linalg.cholesky(hessian[np.ix_(free, free)])
        except np.linalg.LinAlgError:
            return None
        step = np.zeros_like(x)
        step[free] = np.linalg.solve(L.T, np.linalg.solve(L, gradient[free]))
        return np.clip(x - step, self.lower, self.upper)


def convergence_problems(gradient: np.ndarray, hessian: np.ndarray,
                         free: np.ndarray) -> list[str]:
    """lme4's checkConv on the components off the bound: a small scaled gradient and a
    positive-definite Hessian."""
    g, H = gradient[free], hessian[np.ix_(free, free)]
    if len(g) == 0:
        return []
    if not np.all(np.isfinite(H)) or not np.all(np.isfinite(g)):
        return ["the criterion is not finite next to the optimum"]
    eigenvalues = np.linalg.eigvalsh(0.5 * (H + H.T))
    if eigenvalues[0] <= 1e-10 * max(abs(eigenvalues[-1]), 1.0):
        n_bad = int(np.sum(eigenvalues <= 1e-10 * max(abs(eigenvalues[-1]), 1.0)))
        return [f"the Hessian at the optimum is not positive definite ({n_bad} non-positive "
                "eigenvalue(s)): the model is nearly unidentifiable or not at a minimum"]
    R = np.linalg.cholesky(H).T  # H = R'R, as R's chol()
    scaled = np.linalg.solve(R, g)
    worst = float(np.max(np.minimum(np.abs(scaled), np.abs(g))))
    if worst > GRADIENT_TOL:
        return [f"the optimizer stopped where the scaled gradient is {worst:.2g} "
                f"(tolerance {GRADIENT_TOL:g})"]
    return []


def _verify(search: _Search, best: _Descent) -> tuple[_Descent, np.ndarray, np.ndarray,
                                                      list[str]]:
    """Check the end point; on failure try a Newton step, then a restart, and check again."""
    fun = search.fun
    for _ in range(3):
        _, gradient, hessian = numerical_derivatives(fun, best.x)
        problems = convergence_problems(gradient, hessian, search.free(best.x))
        if not problems:
            return best, gradient, hessian, problems
        candidate = None
        target = search.newton_step(best.x, gradient, hessian)
        if target is not None:
            value = fun(target)
            if value < best.fun:
                candidate = _Descent(target, value, True, best.message)
        if candidate is None:
            moved = search.downhill(best.x, best.fun, hessian)
            candidate = search.minimize(best.x if moved is None else moved)
            if candidate.fun >= best.fun - 1e-12 * (1.0 + abs(best.fun)):
                return best, gradient, hessian, problems
        best = candidate
    _, gradient, hessian = numerical_derivatives(fun, best.x)
    return best, gradient, hessian, convergence_problems(gradient, hessian, search.free(best.x))


def descent_for(n_parameters: int, n_rows: int) -> Descent:
    """Newton for a few parameters, L-BFGS-B beyond. A Newton step costs 1 + 2k + k(k-1)/2
    evaluations against L-BFGS-B's k + 1 a gradient, but needs far fewer steps; measured on
    the benchmark's GLMMs and CLMMs it fits as fast or faster up to 5 parameters on 40,000
    rows and 7 on 4,000, reaching the same optimum (to 1e-7 in the log-likelihood), and it
    spares the 0.27 s of importing scipy.optimize that a command-line fit waits for."""
    if n_parameters <= 5 or (n_parameters <= 7 and n_rows <= 10_000):
        return "newton"
    return "L-BFGS-B"


def minimize_bounded(fun: Objective, x0: np.ndarray, lower: np.ndarray,
                     upper: np.ndarray | None = None, *, tol: float = 1e-10,
                     max_iter: int = 1000, gradient: str = "3-point",
                     check: bool = True, method: Descent = "L-BFGS-B") -> Optimum:
    """Minimise ``fun`` subject to ``lower <= x <= upper``; see the module docstring.

    Gradients come from finite differences (central by default), which keeps the criterion's
    own code free of derivatives while giving the optimum to about 1e-7 relative on these
    smooth surfaces; "2-point" halves the cost per gradient. With ``check`` (the default) the
    end point's gradient and Hessian are computed, returned and checked; ``converged`` is
    then the check's verdict. ``method="newton"`` descends by projected Newton steps instead
    of L-BFGS-B (numpy alone; for a handful of parameters).
    """
    counted = _Counted(fun)
    upper = np.full_like(lower, np.inf) if upper is None else upper
    search = _Search(counted, lower, upper, tol=tol, max_iter=max_iter, gradient=gradient,
                     method=method)
    best = search.minimize(np.clip(np.asarray(x0, dtype=float), lower, upper))
    if best.fun >= _PENALTY:
        return Optimum(best.x, best.fun, counted.calls, False,
                       "the criterion is undefined everywhere the optimiser looked")
    if not check:
        return Optimum(best.x, best.fun, counted.calls, best.success, best.message)
    best, grad, hessian, problems = _verify(search, best)
    message = "; ".join(problems) if problems else "converged (gradient and Hessian checked)"
    return Optimum(best.x, best.fun, counted.calls, not problems, message, grad, hessian,
                   problems)


def numerical_derivatives(fun: Objective, x: np.ndarray,
                          step: float = 1e-4) -> tuple[float, np.ndarray, np.ndarray]:
    """Value, central finite-difference gradient and Hessian with relative steps (like
    lme4's ``deriv12``). Off-diagonal terms use the one-sided stencil
    (f(x+hi+hj) - f(x+hi) - f(x+hj) + f(x)) / (hi hj), which reuses the diagonal's
    evaluations: 1 + 2k + k(k-1)/2 evaluations instead of 1 + 2k^2, at an error of order h
    (1e-4 relative) that moves standard errors by far less than their own uncertainty."""
    k = len(x)
    h = step * np.maximum(np.abs(x), 1.0)
    f0 = fun(x)
    grad = np.empty(k)
    H = np.empty((k, k))
    up = np.empty(k)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        up[i], down = fun(x + ei), fun(x - ei)
        grad[i] = (up[i] - down) / (2 * h[i])
        H[i, i] = (up[i] - 2 * f0 + down) / h[i] ** 2
    for i in range(k):
        for j in range(i):
            shifted = x.copy()
            shifted[i] += h[i]
            shifted[j] += h[j]
            H[i, j] = H[j, i] = (fun(shifted) - up[i] - up[j] + f0) / (h[i] * h[j])
    return f0, grad, H


def numerical_hessian(fun: Objective, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian with relative steps (like lme4's ``deriv12``)."""
    return numerical_derivatives(fun, x, step)[2]
