"""Profile-likelihood and parametric-bootstrap intervals for linear mixed models (lme4's
``confint(fit, method = "profile" | "boot")``).

Profiles follow lme4: the model is refitted by ML, and for a parameter ψ fixed at v the ML
deviance is minimised over everything else; ζ(v) = sign(v - ψ̂) √(D(v) - D(ψ̂)) and the
interval is where ζ = ±z. lme4 interpolates ζ on a grid with splines; here each end is a
root found by Brent's method, so the two agree to the spline's accuracy.

The bootstrap simulates from the fitted model (random effects and residuals drawn from their
estimated distributions), refits each simulated response as the original was fitted, and
takes percentile intervals, as ``bootMer`` with ``type = "perc"``; for binomial GLMMs too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.special
import scipy.stats

from analysis.mixed.ddf import linear_model_data
from analysis.mixed.design import ModelData
from analysis.mixed.glmm import fit_binomial_model_data
from analysis.mixed.lmm import LinearMixedProblem, fit_model_data
from analysis.mixed.model import tril_indices
from analysis.mixed.optimize import minimize_bounded
from analysis.mixed.structure import RandomStructure
from analysis.mixed.threads import single_threaded_blas

if TYPE_CHECKING:
    from analysis.mixed.results import MixedResults

__all__ = ["bootstrap_intervals", "profile_intervals"]

MIN_SIGMA = 1e-10


def _ml_fit(fit: MixedResults) -> MixedResults:
    """The fit itself when ML, else its ML refit (profiles are of the ML deviance, as lme4)."""
    model = linear_model_data(fit, "profile intervals")
    if fit.method == "ML":
        return fit
    return fit_model_data(model, fit.formula, reml=False, theta_start=fit.theta)


def _minimum(fun: Callable[[np.ndarray], float], start: np.ndarray,
             lower: np.ndarray) -> tuple[float, np.ndarray]:
    """Minimum of a criterion over a box (the optimiser the fits use)."""
    optimum = minimize_bounded(fun, start, lower)
    return optimum.fun, optimum.x


def _interval_ends(zeta: Callable[[float], float], estimate: float, scale: float, z: float,
                   bounds: tuple[float, float] = (-np.inf, np.inf)) -> tuple[float, float]:
    """Where ζ crosses -z and +z, bracketing outwards from the estimate in steps of ``scale``
    (an end is the parameter's bound when ζ there has not reached ∓z, as lme4 reports)."""
    ends = []
    for direction, bound in ((-1.0, bounds[0]), (1.0, bounds[1])):
        step, near = scale, estimate
        for _ in range(60):
            far = float(np.clip(estimate + direction * step, *bounds))
            value = zeta(far)
            if direction * value >= z or far == bound:
                break
            near, step = far, step * 2
        else:
            raise ValueError("the profile did not reach the interval's end; the likelihood "
                             "is too flat to bound this parameter")
        if direction * value < z:
            ends.append(bound)
            continue
        ends.append(scipy.optimize.brentq(lambda v, d=direction: zeta(v) - d * z, near, far,
                                          xtol=1e-10 * max(1.0, abs(estimate)) + 1e-12))
    return ends[0], ends[1]


def _profile_fixed(model: ModelData, ml: MixedResults, j: int, z: float) -> tuple[float, float]:
    """Profile interval of fixed effect j: refit with x_j β_j as an offset."""
    deviance0 = -2 * ml.llf
    x_j = model.X[:, j]
    rest = np.delete(model.X, j, axis=1)
    names = [name for k, name in enumerate(model.fixed_names) if k != j]
    estimate = float(ml.params.iloc[j])
    structure = RandomStructure(model.terms)
    lower = structure.theta_lower()

    def zeta(value: float) -> float:
        offset = replace(model, y=model.y - value * x_j, X=rest, fixed_names=names)
        problem = LinearMixedProblem(offset, reml=False)
        deviance, _ = _minimum(problem.deviance, ml.theta, lower)
        return float(np.sign(value - estimate) * np.sqrt(max(deviance - deviance0, 0.0)))

    return _interval_ends(zeta, estimate, float(ml.bse.iloc[j]), z)


def _ml_deviance(problem: LinearMixedProblem, theta: np.ndarray, sigma: float) -> float:
    """ML deviance at (θ, sigma), sigma not profiled out (lme4's devfun2)."""
    evaluation = problem.evaluate(theta)
    s2 = sigma**2
    n = problem.model.nobs
    return float(evaluation.factor.logdet() + evaluation.r2 / s2 + n * np.log(2 * np.pi * s2))


def _psd_cholesky(C: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a positive semi-definite matrix (a zero pivot gives a zero
    column, so an SD of 0 or a correlation of ±1 stays representable)."""
    p = C.shape[0]
    T = np.zeros_like(C)
    for j in range(p):
        pivot = C[j, j] - T[j, :j] @ T[j, :j]
        if pivot <= 1e-14 * max(C[j, j], 1e-300):
            continue
        T[j, j] = np.sqrt(pivot)
        T[j + 1:, j] = (C[j + 1:, j] - T[j + 1:, :j] @ T[j, :j]) / T[j, j]
    return T


class _VarianceScale:
    """The deviance over lme4's profiling scale: per term its SDs then its correlations (the
    order of the variance table), then sigma."""

    def __init__(self, model: ModelData) -> None:
        self.problem = LinearMixedProblem(model, reml=False)
        self.structure = self.problem.structure
        self.terms = model.terms
        sizes = [t.p + t.p * (t.p - 1) // 2 for t in model.terms]
        self.edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """SDs at least 0, correlations in [-1, 1], sigma positive."""
        lower, upper = [], []
        for term in self.terms:
            lower += [0.0] * term.p + [-1.0] * (term.p * (term.p - 1) // 2)
            upper += [np.inf] * term.p + [1.0] * (term.p * (term.p - 1) // 2)
        return np.array([*lower, MIN_SIGMA]), np.array([*upper, np.inf])

    def theta(self, psi: np.ndarray) -> np.ndarray:
        """θ of the SDs/correlations ``psi[:-1]`` relative to sigma = ``psi[-1]``."""
        theta = np.empty(self.structure.n_theta)
        for k, (term, sl) in enumerate(zip(self.terms, self.structure.theta_slices,
                                           strict=True)):
            values = psi[self.edges[k]:self.edges[k + 1]]
            sd, cors = values[:term.p], iter(values[term.p:])
            R = np.eye(term.p)
            for j in range(term.p):
                for i in range(j + 1, term.p):
                    R[i, j] = R[j, i] = next(cors)
            T = _psd_cholesky(R * np.outer(sd, sd) / psi[-1] ** 2)
            theta[sl] = T[tril_indices(term.p)]
        return theta

    def deviance(self, psi: np.ndarray) -> float:
        """ML deviance with β profiled out (lme4's devfun2), inf where undefined."""
        try:
            return _ml_deviance(self.problem, self.theta(psi), float(psi[-1]))
        except np.linalg.LinAlgError:
            return np.inf


def _profile_variance(scale: _VarianceScale, ml: MixedResults, index: int,
                      z: float) -> tuple[float, float]:
    """Profile interval of one SD, correlation or sigma (the ``index``-th of the scale)."""
    psi_hat = ml.var_corr["sd_or_cor"].to_numpy(dtype=float)
    deviance0 = -2 * ml.llf
    lower, upper = scale.bounds()
    free = np.arange(len(psi_hat)) != index

    def zeta(value: float) -> float:
        def criterion(rest: np.ndarray) -> float:
            psi = psi_hat.copy()
            psi[free], psi[index] = rest, value
            return scale.deviance(psi)

        start = np.clip(psi_hat[free], lower[free], upper[free])
        optimum = minimize_bounded(criterion, start, lower[free], upper[free])
        return float(np.sign(value - psi_hat[index])
                     * np.sqrt(max(optimum.fun - deviance0, 0.0)))

    estimate = float(psi_hat[index])
    step = 0.1 if np.isfinite(upper[index]) else 0.1 * max(estimate, psi_hat[-1])
    return _interval_ends(zeta, estimate, step, z, (float(lower[index]), float(upper[index])))


def profile_intervals(fit: MixedResults, *, level: float = 0.95) -> pd.DataFrame:
    """Profile-likelihood intervals of the fixed effects, every SD and correlation of the
    random effects, and sigma (the rows of lme4's ``confint(fit, oldNames = FALSE)``, fixed
    effects first)."""
    model = linear_model_data(fit, "profile intervals")
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    with single_threaded_blas():
        ml = _ml_fit(fit)
        rows = {name: _profile_fixed(model, ml, j, z)
                for j, name in enumerate(model.fixed_names)}
        scale = _VarianceScale(model)
        for index, name in enumerate(_variance_names(ml)):
            rows[name] = _profile_variance(scale, ml, index, z)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])


def _variance_names(fit: MixedResults) -> list[str]:
    """lme4-style names of the rows of the variance table (``oldNames = FALSE``)."""
    names = []
    for row in fit.var_corr.to_dict("records"):
        if row["group"] == "Residual":
            names.append("sigma")
        elif row["term2"] is None:
            names.append(f"sd_{row['term']}|{row['group']}")
        else:
            names.append(f"cor_{row['term2']}.{row['term']}|{row['group']}")
    return names


def _bootstrap_model_data(fit: MixedResults) -> ModelData:
    """The fitted arrays of a linear or binomial mixed model, or a ValueError."""
    if fit.family not in ("gaussian", "binomial"):
        raise ValueError(f"bootstrap intervals are for lmer and glmer fits, not {fit.family}")
    if fit.model_data is None:
        raise ValueError("bootstrap intervals need the fitted arrays; this results object "
                         "has none")
    return fit.model_data


def simulate_response(fit: MixedResults, rng: np.random.Generator,
                      structure: RandomStructure | None = None) -> np.ndarray:
    """One response drawn from the fitted model, as lme4's ``simulate``: random effects
    b ~ N(0, s²ΛΛ') (s = sigma for an LMM, 1 for a GLMM), then Xβ̂ + Zb + ε with
    ε ~ N(0, sigma²) (LMM) or successes ~ Binomial(trials, logistic(Xβ̂ + Zb)) (GLMM)."""
    model = _bootstrap_model_data(fit)
    structure = structure or RandomStructure(model.terms)
    scale = fit.residual_sd if fit.family == "gaussian" else 1.0
    assert scale is not None
    b = structure.lambda_apply(fit.theta, scale * rng.standard_normal(structure.q))
    eta = model.X @ fit.params.to_numpy() + structure.z_dot(b)
    if fit.family == "gaussian":
        return np.asarray(eta + scale * rng.standard_normal(model.nobs))
    assert model.trials is not None
    return rng.binomial(model.trials.astype(np.int64), scipy.special.expit(eta)).astype(float)


def _refit(fit: MixedResults, model: ModelData) -> MixedResults:
    """Fit simulated arrays the way ``fit`` was fitted."""
    if fit.family == "binomial":
        return fit_binomial_model_data(model, fit.formula)
    return fit_model_data(model, fit.formula, reml=fit.method == "REML", theta_start=fit.theta)


def bootstrap_intervals(fit: MixedResults, *, level: float = 0.95, n_boot: int = 500,
                        random_state: int | np.random.Generator | None = None,
                        ) -> pd.DataFrame:
    """Parametric-bootstrap percentile intervals of the fixed effects and the variance table
    (linear and binomial mixed models). A simulated binomial response with no variation
    cannot be fitted; such draws are redrawn, as long as they are rare."""
    model = _bootstrap_model_data(fit)
    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer of at least 10, got {n_boot!r}")
    rng = np.random.default_rng(random_state)
    structure = RandomStructure(model.terms)
    draws: list[np.ndarray] = []
    failures = 0
    with single_threaded_blas():
        while len(draws) < n_boot:
            simulated = replace(model, y=simulate_response(fit, rng, structure))
            try:
                with warnings.catch_warnings():
                    # Singular refits are expected (a variance near 0 is drawn near 0 half
                    # the time); lme4's bootMer likewise only tallies them.
                    warnings.simplefilter("ignore")
                    refit = _refit(fit, simulated)
            except (ValueError, np.linalg.LinAlgError):
                failures += 1
                if failures > n_boot // 10:
                    raise ValueError(f"{failures} simulated data sets could not be fitted "
                                     "(no variation in the response, say): the bootstrap "
                                     "cannot be trusted for this model") from None
                continue
            draws.append(np.concatenate([refit.params.to_numpy(),
                                         refit.var_corr["sd_or_cor"].to_numpy()]))
    values = np.array(draws)
    tail = (1 - level) / 2
    bounds = np.nanquantile(values, [tail, 1 - tail], axis=0)
    index = list(fit.params.index) + _variance_names(fit)
    return pd.DataFrame({"lower": bounds[0], "upper": bounds[1]}, index=index)
