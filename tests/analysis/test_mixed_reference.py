"""Mixed models against R's lme4 and ordinal fits of the same data.

Oracles: tests/analysis/fixtures/reference.json (lme4 1.1-31 / ordinal 2022.11.16 fits of R's
own data sets, as shipped with the project docs) and fixtures/r_fixtures.json (the same R, made
by fixtures/make_r_fixtures.R on the seeded data of fixtures/make_simulated.py; each entry
records its R call).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.mixed import MixedResults, clmm, glmer, lmer

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
R_FITS = json.loads((FIXTURES / "r_fixtures.json").read_text())


def _data(name: str, **dtypes: Any) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name, dtype=dtypes or None)


def _r_name(name: str | None) -> str | None:
    return "Intercept" if name == "(Intercept)" else name


def assert_matches_r(fit: MixedResults, ref: dict[str, Any], names: dict[str, str],
                     rtol: float, se_rtol: float | None = None) -> None:
    """Fixed effects, SEs, variance components and loglik of ``fit`` equal R's ``ref``."""
    for r_name, ours in names.items():
        assert fit.params[ours] == pytest.approx(ref["fixed"][r_name], rel=rtol, abs=1e-8)
        assert fit.bse[ours] == pytest.approx(ref["se"][r_name], rel=se_rtol or rtol)
    expected = [(v["grp"], _r_name(v["var1"]), _r_name(v["var2"]), v["sdcor"]) for v in ref["vc"]]
    got = [tuple(row) for row in fit.var_corr.itertuples(index=False)]
    assert [e[:3] for e in expected] == [g[:3] for g in got]
    for e, g in zip(expected, got, strict=True):
        assert g[3] == pytest.approx(e[3], rel=rtol, abs=1e-8)
    assert fit.llf == pytest.approx(ref["loglik"], rel=rtol)


SLEEP_NAMES = {"(Intercept)": "Intercept", "Days": "Days"}


@pytest.mark.parametrize("reml", [True, False])
def test_it_matches_lme4_on_sleepstudy(reml: bool) -> None:
    fit = lmer("Reaction ~ Days + (Days | Subject)", _data("sleepstudy.csv"), reml=reml)
    ref = REFERENCE["sleepstudy_reml" if reml else "sleepstudy_ml"]
    assert_matches_r(fit, ref, SLEEP_NAMES, rtol=1e-4)
    assert fit.converged and not fit.warnings


def test_it_matches_lme4_on_penicillin_crossed_intercepts() -> None:
    fit = lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", _data("penicillin.csv"))
    assert_matches_r(fit, REFERENCE["penicillin"], {"(Intercept)": "Intercept"}, rtol=1e-4)
    assert fit.ngroups == {"plate": 24, "sample": 6}


GAUSS_NAMES = {"(Intercept)": "Intercept", "x": "x", "conditioncontrol": "condition[T.control]",
               "x:conditioncontrol": "x:condition[T.control]"}


@pytest.mark.parametrize("reml", [True, False])
def test_it_matches_lme4_on_a_crossed_design_with_correlated_slopes(reml: bool) -> None:
    fit = lmer("y ~ x * condition + (1 + x | participant) + (1 | item)",
               _data("sim_crossed_gaussian.csv"), reml=reml)
    assert_matches_r(fit, R_FITS["gauss_reml" if reml else "gauss_ml"], GAUSS_NAMES, rtol=1e-4)


CBPP_NAMES = {"(Intercept)": "Intercept", "period2": "period[T.2]", "period3": "period[T.3]",
              "period4": "period[T.4]"}
CBPP_FORMULA = "cbind(incidence, size - incidence) ~ period + (1 | herd)"


def _cbpp() -> pd.DataFrame:
    return _data("cbpp.csv", herd=str, period=str)


def test_it_matches_glmer_on_cbpp_with_converged_pirls() -> None:
    # lme4 with glmerControl(tolPwrss = 1e-10): its conditional modes fully converged.
    fit = glmer(CBPP_FORMULA, _cbpp())
    assert_matches_r(fit, R_FITS["cbpp_tight"], CBPP_NAMES, rtol=1e-4)


def test_it_is_within_lme4s_own_tolerance_of_default_glmer_on_cbpp() -> None:
    # lme4's default PIRLS tolerance (relative 1e-7 on the penalised deviance) moves its
    # estimates by ~4e-4 and its Hessian-based SEs by up to 1.3% (compare cbpp_tight).
    fit = glmer(CBPP_FORMULA, _cbpp())
    assert_matches_r(fit, REFERENCE["cbpp"], CBPP_NAMES, rtol=1e-3, se_rtol=2e-2)


LOGIT_NAMES = {"(Intercept)": "Intercept", "conditioncontrol": "condition[T.control]",
               "ai_correct": "ai_correct",
               "conditioncontrol:ai_correct": "condition[T.control]:ai_correct"}


def test_it_matches_glmer_on_crossed_logistic_data_with_a_random_slope() -> None:
    fit = glmer("correct ~ condition * ai_correct + (1 + ai_correct | participant) + (1 | item)",
                _data("sim_crossed_logistic.csv"))
    assert_matches_r(fit, R_FITS["logit_slopes"], LOGIT_NAMES, rtol=1e-3)
    assert fit.residual_sd is None


def _assert_matches_clmm(fit: MixedResults, ref: dict[str, Any], names: dict[str, str]) -> None:
    for r_name, ours in names.items():
        assert fit.params[ours] == pytest.approx(ref["beta"][r_name], rel=1e-3)
    assert fit.thresholds is not None
    np.testing.assert_allclose(fit.thresholds.to_numpy(), ref["theta"], rtol=1e-3)
    sds = fit.var_corr.set_index("group")["sd_or_cor"]
    for group, sd in ref["sd"].items():
        assert sds[group] == pytest.approx(sd, rel=1e-3)
    assert fit.llf == pytest.approx(ref["loglik"], rel=1e-3)


def test_it_matches_ordinal_clmm_on_wine() -> None:
    fit = clmm("rating ~ temp + contact + (1 | judge)", _data("wine.csv", judge=str))
    ref = REFERENCE["wine_clmm"]
    _assert_matches_clmm(fit, {**ref, "sd": {"judge": ref["sd"]["judge"]}},
                         {"tempwarm": "temp[T.warm]", "contactyes": "contact[T.yes]"})
    assert list(fit.thresholds.index) == ["1|2", "2|3", "3|4", "4|5"]  # type: ignore[union-attr]


def test_it_matches_ordinal_clmm_with_crossed_random_intercepts() -> None:
    fit = clmm("rating ~ condition + (1 | participant) + (1 | item)", _data("sim_likert.csv"))
    ref = R_FITS["likert_clmm"]
    _assert_matches_clmm(fit, ref, {"conditioncontrol": "condition[T.control]"})
    assert fit.bse["condition[T.control]"] == pytest.approx(ref["se"]["conditioncontrol"],
                                                           rel=1e-3)
    assert fit.threshold_bse is not None
    np.testing.assert_allclose(fit.threshold_bse.to_numpy(),
                               [ref["se"][k] for k in ["1|2", "2|3", "3|4", "4|5"]], rtol=2e-3)
