"""Satterthwaite, Kenward-Roger, likelihood-ratio tests and profile intervals compared with R
run live on a fresh simulated XAI study (skips without Rscript + lmerTest + pbkrtest).

Oracle: lmerTest (``summary(fit, ddf = ...)``, which calls pbkrtest for Kenward-Roger), lme4's
``anova`` and ``confint(method = "profile")`` through ``Rscript`` on the very CSV written here.
Tolerances: SEs 1e-4 relative; df and p-values 2e-3 relative (both sides differentiate
numerically at optima that agree to ~1e-5); χ² 1e-5 absolute; profile bounds 1e-4 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.mixed import lmer
from analysis.mixed.inference import confint, lrt
from tests.analysis.rscript import r_has_packages, run_r_json

pytestmark = [pytest.mark.r, pytest.mark.slow]

FULL = "rating ~ condition * ai_correct + (1 + ai_correct | participant) + (1 | item)"
REDUCED = "rating ~ condition + ai_correct + (1 + ai_correct | participant) + (1 | item)"
SCALAR = "rating ~ condition * ai_correct + (1 | participant) + (1 | item)"

R_SCRIPT = f"""
suppressMessages({{library(lmerTest); library(pbkrtest); library(jsonlite)}})
d <- read.csv(commandArgs(TRUE)[1], stringsAsFactors = TRUE)
tight <- lmerControl(optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, xtol_rel = 0,
                                    ftol_rel = 0))
full <- lmer({FULL}, d, control = tight)
reduced <- lmer({REDUCED}, d, control = tight)
scalar <- lmer({SCALAR}, d, control = tight)
tab <- function(f, ddf) {{
  x <- coef(summary(f, ddf = ddf))
  list(se = unname(x[, 2]), df = unname(x[, 3]), p = unname(x[, 5]))
}}
a <- suppressMessages(anova(reduced, full))
ci <- suppressMessages(confint(scalar, method = "profile", oldNames = FALSE))
out <- list(satt = tab(full, "Satterthwaite"), kr = tab(full, "Kenward-Roger"),
            chisq = a$Chisq[2], lrt_df = a$Df[2], lrt_p = a[["Pr(>Chisq)"]][2],
            ci_names = rownames(ci), ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def _xai_study(rng: np.random.Generator) -> pd.DataFrame:
    """60 participants (half see explanations) x 16 items (the AI is right on 10 of them)."""
    n_p, n_i = 60, 16
    p = np.repeat(np.arange(n_p), n_i)
    i = np.tile(np.arange(n_i), n_p)
    xai = (p % 2).astype(float)
    ai_correct = (i % 8 < 5).astype(float)
    u = rng.multivariate_normal([0, 0], [[0.5, 0.1], [0.1, 0.3]], n_p)
    rating = (4.0 + 0.3 * xai + 0.6 * ai_correct - 0.25 * xai * ai_correct + u[p, 0]
              + u[p, 1] * ai_correct + rng.normal(0, 0.4, n_i)[i] + rng.normal(0, 1, len(p)))
    return pd.DataFrame({"rating": rating.round(4), "condition": np.where(xai == 1, "xai",
                                                                          "control"),
                         "ai_correct": ai_correct.astype(int),
                         "participant": [f"p{k:02d}" for k in p],
                         "item": [f"i{k:02d}" for k in i]})


@pytest.mark.skipif(not r_has_packages("lmerTest", "pbkrtest", "jsonlite"),
                    reason="needs Rscript with lmerTest, pbkrtest and jsonlite")
def test_it_agrees_with_lmertest_pbkrtest_and_lme4_on_fresh_data(tmp_path: Path) -> None:
    data = _xai_study(np.random.default_rng(2026))
    ref = run_r_json(R_SCRIPT, data, tmp_path)
    full = lmer(FULL, data)
    for ddf, key in [("satterthwaite", "satt"), ("kenward-roger", "kr")]:
        table = full.fixed_effects_table(ddf=ddf)
        np.testing.assert_allclose(table["se"], ref[key]["se"], rtol=1e-4)
        np.testing.assert_allclose(table["df"], ref[key]["df"], rtol=2e-3)
        np.testing.assert_allclose(table["p_value"], ref[key]["p"], rtol=2e-3)
    result = lrt(lmer(REDUCED, data), full)
    assert result.df == ref["lrt_df"]
    assert result.chisq == pytest.approx(ref["chisq"], abs=1e-5)
    assert result.p_value == pytest.approx(ref["lrt_p"], rel=1e-4)
    ci = confint(lmer(SCALAR, data), method="profile")
    # R lists the variance parameters first, then the fixed effects; here fixed effects lead.
    n_variance = 3
    order = [*range(n_variance, len(ref["ci_names"])), *range(n_variance)]
    np.testing.assert_allclose(ci["lower"], np.asarray(ref["ci_lower"])[order], rtol=1e-4)
    np.testing.assert_allclose(ci["upper"], np.asarray(ref["ci_upper"])[order], rtol=1e-4)
