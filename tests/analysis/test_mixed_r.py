"""Fits compared with R run live on fresh simulated data (skips without Rscript + lme4).

Oracle: lme4 and ordinal called through ``Rscript`` on the very CSV written here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.mixed import glmer, lmer
from tests.analysis.rscript import r_has_packages, run_r_json

pytestmark = pytest.mark.r

R_SCRIPT = """
suppressMessages({library(lme4); library(jsonlite)})
d <- read.csv(commandArgs(TRUE)[1], stringsAsFactors = TRUE)
# Tight optimiser tolerances: lme4's defaults stop ~2e-4 short on this flat likelihood.
tight <- lmerControl(optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, xtol_rel = 0,
                                    ftol_rel = 0))
f1 <- lmer(rt ~ condition + (1 + condition | participant) + (1 | item), d, control = tight)
f2 <- glmer(correct ~ condition + (1 | participant) + (1 | item), d, family = binomial,
            control = glmerControl(tolPwrss = 1e-10))
out <- lapply(list(lmm = f1, glmm = f2), function(f) list(fixed = unname(fixef(f)),
  se = unname(sqrt(diag(as.matrix(vcov(f))))), sdcor = as.data.frame(VarCorr(f))$sdcor,
  loglik = as.numeric(logLik(f))))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def _simulated(rng: np.random.Generator) -> pd.DataFrame:
    n_p, n_i = 30, 16
    p = np.repeat(np.arange(n_p), n_i)
    i = np.tile(np.arange(n_i), n_p)
    within = (p + i) % 2
    u = rng.multivariate_normal([0, 0], [[0.09, 0.01], [0.01, 0.04]], n_p)
    eta_rt = 6.2 + 0.15 * within + u[p, 0] + u[p, 1] * within + rng.normal(0, 0.2, n_i)[i]
    rt = eta_rt + rng.normal(0, 0.3, len(p))
    eta = 0.3 + 0.6 * within + rng.normal(0, 0.9, n_p)[p] + rng.normal(0, 0.5, n_i)[i]
    correct = (rng.random(len(p)) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"rt": rt, "correct": correct,
                         "condition": np.where(within == 1, "ai", "baseline"),
                         "participant": [f"p{k}" for k in p], "item": [f"i{k}" for k in i]})


@pytest.mark.skipif(not r_has_packages("lme4", "jsonlite"),
                    reason="needs Rscript with lme4 and jsonlite")
def test_it_agrees_with_lme4_run_live_on_fresh_data(tmp_path: Path) -> None:
    data = _simulated(np.random.default_rng(7))
    ref = run_r_json(R_SCRIPT, data, tmp_path)
    lmm = lmer("rt ~ condition + (1 + condition | participant) + (1 | item)", data)
    glmm = glmer("correct ~ condition + (1 | participant) + (1 | item)", data)
    for fit, key, rtol in [(lmm, "lmm", 1e-4), (glmm, "glmm", 1e-3)]:
        np.testing.assert_allclose(fit.params.to_numpy(), ref[key]["fixed"], rtol=rtol)
        np.testing.assert_allclose(fit.bse.to_numpy(), ref[key]["se"], rtol=rtol)
        np.testing.assert_allclose(fit.var_corr["sd_or_cor"].to_numpy(),
                                   ref[key]["sdcor"], rtol=rtol, atol=1e-6)
        assert fit.llf == pytest.approx(ref[key]["loglik"], rel=rtol)
