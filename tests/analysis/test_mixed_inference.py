"""Satterthwaite / Kenward-Roger t tests, likelihood-ratio tests, profile and bootstrap
intervals for linear mixed models.

Oracles: figures printed by R (lme4 1.1-31, lmerTest 3.1-3, pbkrtest 0.5-2) on the fixture
CSVs, each with the R call that produced it; a closed form for the bootstrap. The live
comparison on fresh data is in test_mixed_inference_r.py. The R fits used

    tight <- lmerControl(optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, xtol_rel = 0,
                                        ftol_rel = 0))
    s <- read.csv("sleepstudy.csv"); s$Subject <- factor(s$Subject)
    g <- read.csv("sim_crossed_gaussian.csv", stringsAsFactors = TRUE)
    f1 <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), s, control = tight)
    f2 <- lmerTest::lmer(y ~ condition + x + (1 + x | participant) + (1 | item), g,
                         control = tight)
    f3 <- lmerTest::lmer(y ~ condition + x + (1 | participant) + (1 | item), g, control = tight)

Tolerances: SEs 1e-4 relative, df and p-values 1e-3 relative (the optimum agrees with lme4 to
~1e-5 in θ, and both sides differentiate numerically), LRT χ² 1e-6 absolute, profile bounds
1e-4 relative (lme4 interpolates the profile with splines; here it is root-found).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis.mixed import glmer, lmer
from analysis.mixed.inference import confint, f_test, fixed_effects_table, lrt

FIXTURES = Path(__file__).parent / "fixtures"
SLEEP = "Reaction ~ Days + (Days | Subject)"
SLOPES = "y ~ condition + x + (1 + x | participant) + (1 | item)"
CROSSED = "y ~ condition + x + (1 | participant) + (1 | item)"


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sleepstudy.csv", dtype={"Subject": str})


@pytest.fixture(scope="module")
def crossed() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sim_crossed_gaussian.csv")


def _check(table: pd.DataFrame, se: list[float], df: list[float], p: list[float]) -> None:
    np.testing.assert_allclose(table["se"], se, rtol=1e-4)
    np.testing.assert_allclose(table["df"], df, rtol=1e-3)
    # Tail p-values (1e-17 on sleepstudy) amplify the t statistic's last digits: compare
    # them as -log10 p, which is what agreement of the test means there.
    np.testing.assert_allclose(-np.log10(table["p_value"]), -np.log10(p), rtol=1e-3)


def test_satterthwaite_matches_lmertest_on_sleepstudy(sleepstudy: pd.DataFrame) -> None:
    # R: coef(summary(f1, ddf = "Satterthwaite"))
    table = fixed_effects_table(lmer(SLEEP, sleepstudy), ddf="satterthwaite")
    _check(table, [6.82455626155296, 1.54578889288849], [17.0000017391946, 17.0000001667997],
           [1.17088323710678e-17, 3.26378781183324e-06])


def test_satterthwaite_matches_lmertest_on_an_ml_fit(sleepstudy: pd.DataFrame) -> None:
    # R: coef(summary(lmerTest::lmer(Reaction ~ Days + (Days | Subject), s, REML = FALSE,
    #                                control = tight)))  -- the ML deviance's Hessian
    table = fixed_effects_table(lmer(SLEEP, sleepstudy, reml=False), ddf="satterthwaite")
    _check(table, [6.63227718551932, 1.5022367467222], [17.9999967832107, 18.0000013324589],
           [1.26676556506903e-18, 1.65241350177537e-06])


def test_kenward_roger_matches_pbkrtest_on_sleepstudy(sleepstudy: pd.DataFrame) -> None:
    # R: coef(summary(f1, ddf = "Kenward-Roger"))
    table = fixed_effects_table(lmer(SLEEP, sleepstudy), ddf="kenward-roger")
    _check(table, [6.82455626155297, 1.54578889288849], [17.0000000000002, 17.0000000000001],
           [1.1708867611534e-17, 3.26378798044936e-06])


def test_satterthwaite_matches_lmertest_with_correlated_slopes(crossed: pd.DataFrame) -> None:
    # R: coef(summary(f2, ddf = "Satterthwaite"))
    table = fixed_effects_table(lmer(SLOPES, crossed), ddf="satterthwaite")
    _check(table, [0.602945741033824, 0.623023438561787, 0.193367293562823],
           [35.8119680077995, 37.5056368653287, 40.3395010627475],
           [4.76947955563574e-19, 0.223486425795307, 2.40619305128283e-15])


def test_kenward_roger_adjusts_ses_and_df_as_pbkrtest(crossed: pd.DataFrame) -> None:
    # R: coef(summary(f2, ddf = "Kenward-Roger")) -- the adjusted SEs exceed the model's
    fit = lmer(SLOPES, crossed)
    table = fixed_effects_table(fit, ddf="kenward-roger")
    _check(table, [0.607316658885211, 0.639644079406091, 0.1936823905412],
           [35.968834017852, 37.8916511774124, 38.5166280457843],
           [5.40419586920245e-19, 0.235435821864714, 5.3111780965926e-15])
    assert (table["se"] > fit.bse).all()


def test_both_approximations_match_r_with_crossed_intercepts(crossed: pd.DataFrame) -> None:
    # R: coef(summary(f3, ddf = "Satterthwaite")); coef(summary(f3, ddf = "Kenward-Roger"))
    fit = lmer(CROSSED, crossed)
    satterthwaite = fixed_effects_table(fit, ddf="satterthwaite")
    np.testing.assert_allclose(satterthwaite["df"], [38.396706223601, 37.9992466629607,
                                                     439.40577772711], rtol=1e-3)
    kenward_roger = fixed_effects_table(fit, ddf="kenward-roger")
    _check(kenward_roger, [0.590764446524718, 0.655439444458794, 0.114649279174326],
           [38.4012246429249, 37.9792765381162, 439.389584443404],
           [4.64726523908636e-20, 0.227414891590277, 6.81712630294519e-65])


def test_the_table_is_the_t_distribution_on_those_df(crossed: pd.DataFrame) -> None:
    # Oracle: the t distribution itself, applied to the table's own estimate, SE and df.
    table = lmer(CROSSED, crossed).fixed_effects_table(ddf="satterthwaite")
    assert list(table.columns) == ["estimate", "se", "df", "statistic", "p_value", "lower",
                                   "upper"]
    t = scipy.stats.t.ppf(0.975, table["df"])
    np.testing.assert_allclose(table["lower"], table["estimate"] - t * table["se"])
    np.testing.assert_allclose(table["statistic"], table["estimate"] / table["se"])


def test_wald_is_the_normal_reference(sleepstudy: pd.DataFrame) -> None:
    fit = lmer(SLEEP, sleepstudy)
    table = fit.fixed_effects_table(ddf="wald")
    np.testing.assert_allclose(table["p_value"], fit.pvalues)
    np.testing.assert_allclose(table[["lower", "upper"]], fit.conf_int())
    assert np.isinf(table["df"]).all()


@pytest.mark.parametrize(("ddf", "expected"), [
    # R: contest(f2, rbind(c(0, 1, 0), c(0, 0, 1)), joint = TRUE, ddf = ...) and the same
    # with rbind(c(1, 1, 0), c(0, 1, -1)): F value, DenDF, Pr(>F)
    ("satterthwaite", [(77.6306478161555, 38.8681091682472, 2.66289171705998e-14),
                       (219.802220135355, 41.241459129342, 1.01029296632347e-22)]),
    ("kenward-roger", [(76.3366738075474, 50.1624020440686, 6.04749537945063e-16),
                       (217.109088364308, 40.3877203979503, 2.459674057134e-22)]),
])
def test_joint_f_tests_match_lmertest_contest(crossed: pd.DataFrame, ddf: str,
                                              expected: list[tuple[float, float, float]]
                                              ) -> None:
    fit = lmer(SLOPES, crossed)
    by_name = f_test(fit, ["condition[T.control]", "x"], ddf=ddf)
    by_matrix = f_test(fit, np.array([[1.0, 1.0, 0.0], [0.0, 1.0, -1.0]]), ddf=ddf)
    for result, (statistic, den_df, p_value) in zip([by_name, by_matrix], expected,
                                                    strict=True):
        assert result.num_df == 2
        assert result.statistic == pytest.approx(statistic, rel=1e-4)
        assert result.den_df == pytest.approx(den_df, rel=1e-3)
        assert result.p_value == pytest.approx(p_value, rel=2e-3)


def test_likelihood_ratio_tests_refit_by_ml_as_anova(sleepstudy: pd.DataFrame,
                                                     crossed: pd.DataFrame) -> None:
    # R: anova(lmer(Reaction ~ 1 + (Days | Subject), s, control = tight), f1)
    result = lrt(lmer("Reaction ~ 1 + (Days | Subject)", sleepstudy), lmer(SLEEP, sleepstudy))
    assert result.refitted and result.df == 1
    assert result.chisq == pytest.approx(23.5365374977805, abs=1e-6)
    assert result.p_value == pytest.approx(1.22563995725137e-06, rel=1e-5)
    # R: anova(lmer(y ~ x + (1 | participant) + (1 | item), g, control = tight), f3)
    small = lmer("y ~ x + (1 | participant) + (1 | item)", crossed)
    assert lrt(small, lmer(CROSSED, crossed)).chisq == pytest.approx(1.53320530583915,
                                                                     abs=1e-6)
    # R: anova(f3, f2): a random slope and its correlation, 2 df
    random = lrt(lmer(CROSSED, crossed), lmer(SLOPES, crossed))
    assert random.df == 2
    assert random.chisq == pytest.approx(51.1981524921262, abs=1e-6)
    assert random.p_value == pytest.approx(7.62890917544468e-12, rel=1e-5)


def test_profile_intervals_match_lme4_confint(sleepstudy: pd.DataFrame,
                                              crossed: pd.DataFrame) -> None:
    # R: confint(f1, method = "profile", oldNames = FALSE), rows reordered as here
    sleep = confint(lmer(SLEEP, sleepstudy), method="profile")
    expected_sleep = {
        "Intercept": (237.680695488043, 265.129514590614),
        "Days": (7.3586532616443, 13.5759187522839),
        "sd_Intercept|Subject": (14.3814120960194, 37.715997595019),
        "sd_Days|Subject": (3.80116406738213, 8.75338311454954),
        "cor_Days.Intercept|Subject": (-0.4815007551026, 0.684986082470613),
        "sigma": (22.8982668528314, 28.8579965655886),
    }
    assert list(sleep.index) == list(expected_sleep)
    np.testing.assert_allclose(sleep.to_numpy(), list(expected_sleep.values()), rtol=1e-4)
    fixed_only = lmer(SLEEP, sleepstudy).conf_int(method="profile")
    assert fixed_only.equals(sleep.loc[["Intercept", "Days"]])
    # R: confint(f3, method = "profile", oldNames = FALSE)
    full = confint(lmer(CROSSED, crossed), method="profile")
    expected = {
        "Intercept": (9.29412933852052, 11.613302246381),
        "condition[T.control]": (-2.09592029058775, 0.487574927261294),
        "x": (2.09655620155206, 2.54618801089603),
        "sd_Intercept|participant": (1.49753836758752, 2.47971202257845),
        "sd_Intercept|item": (0.817003119641649, 2.01699568527149),
        "sigma": (2.29497982430306, 2.62382566733927),
    }
    assert list(full.index) == list(expected)
    np.testing.assert_allclose(full.to_numpy(), list(expected.values()), rtol=1e-4)


def test_the_bootstrap_matches_the_closed_form_of_a_balanced_design() -> None:
    # Oracle: in a balanced one-way design the intercept's estimate is the grand mean
    # whatever θ, normal with variance (sd_g² + sigma²/m) / k exactly, so simulating from the
    # fit its 2.5% and 97.5% percentiles are β̂ ∓ 1.96 sqrt(that). 300 draws put each
    # percentile within ~0.16 of those SDs (Monte Carlo s.e.); the bound is 0.5.
    rng = np.random.default_rng(3)
    k, m = 20, 6
    group = np.repeat(np.arange(k), m)
    y = 5 + rng.normal(0, 1.0, k)[group] + rng.normal(0, 2.0, k * m)
    fit = lmer("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": [f"g{i}" for i in group]}))
    sd_g = float(fit.var_corr["sd_or_cor"].iloc[0])
    assert fit.residual_sd is not None
    sd = np.sqrt((sd_g**2 + fit.residual_sd**2 / m) / k)
    ci = fit.conf_int(method="boot", n_boot=300, random_state=11)
    z = scipy.stats.norm.ppf(0.975)
    estimate = float(fit.params.iloc[0])
    assert ci.loc["Intercept", "lower"] == pytest.approx(estimate - z * sd, abs=0.5 * sd)
    assert ci.loc["Intercept", "upper"] == pytest.approx(estimate + z * sd, abs=0.5 * sd)


def test_the_bootstrap_is_reproducible_with_a_seed(sleepstudy: pd.DataFrame) -> None:
    fit = lmer("Reaction ~ Days + (1 | Subject)", sleepstudy)
    first = confint(fit, method="boot", n_boot=20, random_state=4)
    assert first.equals(confint(fit, method="boot", n_boot=20, random_state=4))
    assert list(first.index) == ["Intercept", "Days", "sd_Intercept|Subject", "sigma"]
    assert (first["lower"] < first["upper"]).all()


def test_a_glmm_bootstrap_agrees_with_wald_in_a_large_sample() -> None:
    # Oracle: with 50 groups of 16 trials the sampling distribution of β̂ is close to its
    # normal approximation, so percentile ends sit near β̂ ∓ 1.96 SE. 120 draws put each end
    # within ~0.25 SE of its limit (Monte Carlo s.e.); the bound is 0.6 SE. Simulating
    # without the random effects would move the intercept's ends by ~0.8 SE.
    rng = np.random.default_rng(8)
    k, m = 50, 16
    group = np.repeat(np.arange(k), m)
    x = np.tile(np.arange(m) % 2, k).astype(float)
    eta = -0.2 + 0.8 * x + rng.normal(0, 0.7, k)[group]
    y = (rng.random(k * m) < 1 / (1 + np.exp(-eta))).astype(int)
    fit = glmer("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x,
                                                "g": [f"g{i}" for i in group]}))
    boot = fit.conf_int(method="boot", n_boot=120, random_state=2)
    distance = (boot - fit.conf_int()).abs().div(fit.bse, axis=0)
    assert (distance.to_numpy() < 0.6).all(), distance


def test_glmms_only_offer_wald_and_lrt() -> None:
    data = pd.read_csv(FIXTURES / "sim_crossed_logistic.csv")
    fit = glmer("correct ~ condition + (1 | participant) + (1 | item)", data)
    with pytest.raises(ValueError, match="linear mixed models"):
        fixed_effects_table(fit, ddf="satterthwaite")
    with pytest.raises(ValueError, match="linear mixed models"):
        fit.conf_int(method="profile")
    small = glmer("correct ~ 1 + (1 | participant) + (1 | item)", data)
    result = lrt(small, fit)
    assert not result.refitted and result.df == 1
    assert result.chisq == pytest.approx(2 * (fit.llf - small.llf))


def test_bad_requests_are_refused_clearly(sleepstudy: pd.DataFrame,
                                          crossed: pd.DataFrame) -> None:
    fit = lmer(SLEEP, sleepstudy)
    with pytest.raises(ValueError, match="ddf must be"):
        fixed_effects_table(fit, ddf="containment")
    with pytest.raises(ValueError, match="REML"):
        fixed_effects_table(lmer(SLEEP, sleepstudy, reml=False), ddf="kenward-roger")
    with pytest.raises(ValueError, match="method must be"):
        confint(fit, method="jackknife")
    with pytest.raises(ValueError, match="swap the arguments"):
        lrt(fit, lmer("Reaction ~ 1 + (Days | Subject)", sleepstudy))
    with pytest.raises(ValueError, match="different rows"):
        lrt(lmer("y ~ 1 + (1 | item)", crossed), fit)
    with pytest.raises(ValueError, match="not comparable"):
        lrt(lmer("Reaction ~ 1 + (Days | Subject)", sleepstudy), fit, refit=False)
    with pytest.raises(ValueError, match="unknown fixed effect"):
        f_test(fit, ["Nights"])
    with pytest.raises(ValueError, match="finite columns"):
        f_test(fit, np.ones((1, 3)))
    with pytest.raises(ValueError, match="n_boot"):
        confint(fit, method="boot", n_boot=3)


def test_kenward_roger_refuses_a_model_too_large_for_memory(sleepstudy: pd.DataFrame,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr("analysis.mixed.ddf.KR_MAX_ENTRIES", 1000)
    with pytest.raises(ValueError, match="use ddf='satterthwaite'"):
        fixed_effects_table(lmer(SLEEP, sleepstudy), ddf="kenward-roger")
