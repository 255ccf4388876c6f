"""Fits reach the optimum, or say loudly that they did not.

Oracles: closed-form minima of simple functions; lme4 / ordinal log-likelihoods (hard-coded
figures produced by R, and R run live in the tests marked ``r``); and the package's own
criterion evaluated at R's θ, which cannot be lower than at our optimum if ours is one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.tools.sm_exceptions as sm_exceptions

from analysis.mixed import ConvergenceWarning, clmm, glmer, lmer
from analysis.mixed.design import build_model_data
from analysis.mixed.lmm import LinearMixedProblem
from analysis.mixed.optimize import Optimum, convergence_problems, minimize_bounded
from tests.analysis.data.crossed import simulate_clmm, simulate_glmm, simulate_lmm

LMM = "y ~ 1 + (1 | participant) + (1 | item)"
GLMM = "y ~ condition + (1 | participant) + (1 | item)"

# Produced with R 4.x, lme4 1.1 and ordinal 2023.12 on the CSVs these seeds simulate
# (``simulate_*(seed).to_csv(...)``): lmer(y ~ 1 + (1|participant) + (1|item)) (REML),
# glmer(y ~ condition + (1|participant) + (1|item), family = binomial) and
# clmm(factor(y, ordered = TRUE) ~ condition + (1|participant) + (1|item)); as.numeric(logLik).
# The old optimiser stopped at -419.8684 (θ = 0, 0), -527.0026 and -471.5233 respectively.
R_LOGLIK = {"lmm": (1003, -419.8359351838), "glmm": (1000, -526.9776572490),
            "clmm": (1000, -471.3172086756)}


def _quiet(fit, *args):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args)


def test_the_optimiser_leaves_a_stationary_point_on_the_bound() -> None:
    # f is even in x, so x = 0 (the bound) is stationary; the minimum is at x = 0.5.
    result = minimize_bounded(lambda x: float((x[0] ** 2 - 0.25) ** 2), np.array([0.0]),
                              np.array([0.0]))
    assert result.converged
    assert result.x[0] == pytest.approx(0.5, abs=1e-5)


def test_the_check_flags_a_large_scaled_gradient_and_a_flat_direction() -> None:
    free = np.array([True, True])
    assert convergence_problems(np.array([1e-6, 0.0]), np.eye(2), free) == []
    assert "scaled gradient" in convergence_problems(np.array([12.0, 0.0]), np.eye(2), free)[0]
    flat = np.diag([1.0, 0.0])
    assert "not positive definite" in convergence_problems(np.zeros(2), flat, free)[0]


def test_a_criterion_flat_in_one_direction_is_not_called_converged() -> None:
    result = minimize_bounded(lambda x: float(x[0] ** 2), np.array([1.0, 1.0]),
                              np.array([-np.inf, -np.inf]))
    assert not result.converged and "not positive definite" in result.message


@pytest.mark.parametrize("family", ["lmm", "glmm", "clmm"])
def test_it_reaches_lmes_optimum_where_it_used_to_stop_short(family: str) -> None:
    seed, r_loglik = R_LOGLIK[family]
    if family == "lmm":
        fit = _quiet(lmer, LMM, simulate_lmm(seed))
    elif family == "glmm":
        fit = _quiet(glmer, GLMM, simulate_glmm(seed))
    else:
        fit = _quiet(clmm, GLMM, simulate_clmm(seed))
    assert fit.converged
    # At least as good as R, and R's PIRLS / optimiser tolerances are about 1e-5 here.
    assert fit.llf >= r_loglik - 1e-6
    assert fit.llf == pytest.approx(r_loglik, abs=1e-4)


def test_a_singular_fit_warns_with_a_statsmodels_convergence_warning() -> None:
    data = simulate_lmm(1003)  # item SD estimate 0, in lme4 too
    with pytest.warns(sm_exceptions.ConvergenceWarning, match="singular"):
        fit = lmer(LMM, data)
    assert fit.singular and fit.converged
    assert "SINGULAR FIT" in fit.summary()
    assert fit.to_dict()["singular"] is True


def test_a_fit_that_did_not_converge_warns_and_says_so_everywhere(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.mixed.lmm as lmm_module

    def stops_early(fun, x0, lower, **_):  # type: ignore[no-untyped-def]
        x = np.array([0.5, 0.5])
        return Optimum(x, fun(x), 1, False, "the optimizer stopped where the scaled "
                       "gradient is 12 (tolerance 0.002)")

    monkeypatch.setattr(lmm_module, "minimize_bounded", stops_early)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = lmer(LMM, simulate_lmm(1000))
    assert not fit.converged
    assert "NOT CONVERGED" in fit.summary()
    out = fit.to_dict()
    assert out["converged"] is False
    assert any("did not converge" in w for w in out["warnings"])


def test_a_clean_fit_raises_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = lmer(LMM, simulate_lmm(1000))  # both SDs well away from 0 (lme4 agrees)
    assert fit.converged and not fit.singular


# ----- R run live -------------------------------------------------------------------------
R_SCRIPT = """
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
out <- lapply(split(d, d$sim), function(s) {
  f <- suppressMessages(lmer(y ~ 1 + (1 | participant) + (1 | item), s))
  list(loglik = as.numeric(logLik(f)), theta = unname(getME(f, "theta")))
})
cat(toJSON(unname(out), digits = NA, auto_unbox = TRUE))
"""


def _rscript_with_lme4() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(lme4); library(jsonlite)"],
                           capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.r
@pytest.mark.skipif(not _rscript_with_lme4(), reason="needs Rscript with lme4 and jsonlite")
def test_our_deviance_at_our_optimum_is_no_worse_than_at_lmes_theta(tmp_path: Path) -> None:
    # Seeds 1000-1011 include four on which the old optimiser stopped short of lme4.
    seeds = list(range(1000, 1012))
    frames = [simulate_lmm(seed) for seed in seeds]
    csv = tmp_path / "sims.csv"
    pd.concat([f.assign(sim=k) for k, f in enumerate(frames)]).to_csv(csv, index=False)
    script = tmp_path / "fit.R"
    script.write_text(R_SCRIPT)
    run = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True,
                         check=True)
    for frame, ref in zip(frames, json.loads(run.stdout), strict=True):
        fit = _quiet(lmer, LMM, frame)
        problem = LinearMixedProblem(build_model_data(LMM, frame, "gaussian"), reml=True)
        ours = problem.deviance(fit.theta)
        at_r = problem.deviance(np.asarray(ref["theta"], dtype=float))
        assert ours <= at_r + 1e-8
        assert fit.llf >= ref["loglik"] - 1e-6


def test_a_response_the_fixed_effects_reproduce_exactly_is_refused() -> None:
    # rt is exactly 1 + condition: the residual SD is 0 (closed form), so there is no
    # variance to estimate and any t statistic would be infinite.
    data = simulate_lmm(1000)
    data["rt"] = np.where(data["condition"] == "ai", 2.0, 1.0)
    with pytest.raises(ValueError, match="reproduce the response exactly"):
        lmer("rt ~ condition + (1 | participant)", data)
