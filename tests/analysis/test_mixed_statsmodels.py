"""A second, independent oracle: statsmodels' MixedLM on a single grouping factor.

MixedLM maximises the same (RE)ML likelihood by a different route (no Λθ, no PLS), so
agreement checks the likelihood itself rather than a shared implementation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis.mixed import lmer

SLEEPSTUDY = Path(__file__).parent / "fixtures" / "sleepstudy.csv"


@pytest.mark.parametrize("reml", [True, False])
def test_it_matches_statsmodels_mixedlm_with_a_correlated_random_slope(reml: bool) -> None:
    data = pd.read_csv(SLEEPSTUDY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MixedLM's convergence chatter
        oracle = smf.mixedlm("Reaction ~ Days", data, groups="Subject",
                             re_formula="~Days").fit(reml=reml)
    fit = lmer("Reaction ~ Days + (Days | Subject)", data, reml=reml)
    np.testing.assert_allclose(fit.params.to_numpy(), oracle.fe_params.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.bse.to_numpy(), oracle.bse_fe.to_numpy(), rtol=1e-4)
    assert fit.llf == pytest.approx(oracle.llf, rel=1e-8)
    assert fit.residual_sd == pytest.approx(np.sqrt(oracle.scale), rel=1e-4)
    sds = fit.var_corr["sd_or_cor"].to_numpy()[:2]
    np.testing.assert_allclose(sds, np.sqrt(np.diag(oracle.cov_re)), rtol=1e-4)


def test_its_results_use_the_names_statsmodels_users_expect() -> None:
    # random_effects are the conditional modes, cov_re their covariance, llf the
    # log-likelihood: the same quantities under the same names as in MixedLMResults.
    data = pd.read_csv(SLEEPSTUDY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = smf.mixedlm("Reaction ~ Days", data, groups="Subject",
                             re_formula="~Days").fit(reml=True)
    fit = lmer("Reaction ~ Days + (Days | Subject)", data)
    np.testing.assert_allclose(fit.cov_re["Subject"].to_numpy(), oracle.cov_re.to_numpy(),
                               rtol=1e-3)
    modes = fit.random_effects["Subject"]
    for subject, effects in oracle.random_effects.items():
        np.testing.assert_allclose(modes.loc[subject].to_numpy(), effects.to_numpy(),
                                   rtol=1e-3, atol=1e-3)
    assert fit.llf == pytest.approx(oracle.llf, rel=1e-8)
    assert fit.converged and not fit.singular and fit.warnings == []
