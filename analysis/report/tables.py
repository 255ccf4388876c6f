"""Numbers as a results section prints them: intervals that say when they cannot be
computed, fixed-effect tables with odds ratios, and the checks that make a fit trustworthy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from analysis.mixed.inference import fixed_effects_table as satterthwaite_table

# Fewer participants per condition than this: no interval, no test and no model. With 2-4
# people a t interval exists but is so wide (t_{0.975,1} = 12.7) that printing it invites
# reading it; a mixed model cannot separate participants' variance from the effects.
MIN_PARTICIPANTS = 5
# On the logit scale a random-effect SD or a coefficient this large means probabilities of
# 0 or 1 (separation), not an estimate: e^10 is an odds ratio of 22,000.
IMPLAUSIBLE_LOGIT = 10.0


def interval_text(row: pd.Series | dict[str, Any], *, percent: bool = False,
                  min_n: int = MIN_PARTICIPANTS) -> str:
    """``"0.62 [0.48, 0.76]"`` for a summary row, or why there is no interval (short, to fit
    a table cell).

    Rows with fewer than ``min_n`` participants get "no CI: n too small"; a zero-width
    interval (every participant scored the same) gets "no CI: all equal", since a t interval
    of width 0 is not a statement of certainty.
    """
    estimate, low, high, n = (float(row["estimate"]), float(row["ci_low"]),
                              float(row["ci_high"]), int(row["n"]))
    if math.isnan(estimate):
        return "—"
    shown = _number(estimate, percent)
    if n < min_n:
        return f"{shown} (n = {n}, no CI: n too small)"
    if math.isnan(low) or math.isnan(high):
        return f"{shown} (no interval)"
    if high - low <= 1e-12:
        return f"{shown} (no CI: all equal)"
    return f"{shown} [{_number(low, percent)}, {_number(high, percent)}]"


def p_text(p: float) -> str:
    """A p-value as APA style prints it: ``.047``, ``< .001`` (no leading zero)."""
    if math.isnan(p):
        return "not available"
    return "< .001" if p < 0.001 else f"{p:.3f}".replace("0.", ".", 1)


def _number(value: float, percent: bool) -> str:
    return f"{100 * value:.0f}%" if percent else f"{value:.2f}"


def fixed_effects_table(fit: Any) -> pd.DataFrame:
    """The fixed effects of a mixed-model fit as a paper reports them: ``term, estimate,
    std_error, statistic, df, p_value, ci_low, ci_high`` and, for logistic models,
    ``odds_ratio, or_low, or_high``; ``test`` names the method.

    The one place the report asks for inference: linear mixed models get t tests on
    Satterthwaite degrees of freedom (as lmerTest, through ``analysis.mixed.inference``),
    which hold their size with few participants where Wald z over-rejects; logistic and
    ordinal models keep lme4's Wald z.
    """
    table = _inference_table(fit)
    if getattr(fit, "family", "") == "binomial":
        table["odds_ratio"] = np.exp(table["estimate"])
        table["or_low"] = np.exp(table["ci_low"])
        table["or_high"] = np.exp(table["ci_high"])
    return table


def _inference_table(fit: Any) -> pd.DataFrame:
    if getattr(fit, "family", "") == "gaussian":
        return _normalise(satterthwaite_table(fit, ddf="satterthwaite"), "Satterthwaite t")
    return _wald_table(fit)


def _wald_table(fit: Any) -> pd.DataFrame:
    estimate = fit.params.astype(float)
    se = fit.bse.astype(float)
    z = scipy.stats.norm.ppf(0.975)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / se
    return pd.DataFrame({
        "term": [str(t) for t in estimate.index], "estimate": estimate.to_numpy(),
        "std_error": se.to_numpy(), "statistic": statistic.to_numpy(), "df": np.inf,
        "p_value": 2 * scipy.stats.norm.sf(np.abs(statistic.to_numpy())),
        "ci_low": (estimate - z * se).to_numpy(), "ci_high": (estimate + z * se).to_numpy(),
        "test": "Wald z",
    })


def _normalise(table: pd.DataFrame, test: str) -> pd.DataFrame:
    """The inference module's table (indexed by term; ``estimate, se, df, statistic,
    p_value, lower, upper``) in this module's columns."""
    table = table.rename_axis("term").reset_index().rename(
        columns={"se": "std_error", "lower": "ci_low", "upper": "ci_high"})
    missing = set(_COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"the inference table lacks {sorted(missing)}")
    return table[list(_COLUMNS)].assign(test=test)


_COLUMNS = ("term", "estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")


def fit_problems(fit: Any) -> list[str]:
    """Why a fit's numbers should not be trusted, in words; empty when none is known.

    Reads ``converged`` and the fit's own ``warnings``, a ``singular`` flag when the fitter
    sets one, and checks the variance table itself: a (near-)zero SD or a correlation of ±1
    is a singular fit, and on the logit scale an SD or a coefficient beyond
    :data:`IMPLAUSIBLE_LOGIT` is separation.
    """
    problems: list[str] = []
    if not getattr(fit, "converged", True):
        problems.append("the optimizer did not converge: the estimates are not the maximum "
                        "likelihood and must not be reported")
    warnings = [str(w) for w in getattr(fit, "warnings", [])]
    singular = getattr(fit, "singular", False) or any("singular" in w for w in warnings)
    table = getattr(fit, "var_corr", None)
    if isinstance(table, pd.DataFrame) and not table.empty:
        groups = table[table["group"] != "Residual"]
        sds = groups[groups["term2"].isna()]["sd_or_cor"].astype(float)
        cors = groups[groups["term2"].notna()]["sd_or_cor"].astype(float)
        singular = singular or bool((sds < 1e-4).any()) or bool((cors.abs() > 0.999).any())
        if getattr(fit, "family", "") == "binomial" and (sds > IMPLAUSIBLE_LOGIT).any():
            problems.append(f"a random-effect SD of {sds.max():.1f} on the logit scale means "
                            "the model cannot be estimated from these data (separation)")
    if singular:
        problems.append("singular fit: a random-effect variance is zero or a correlation is "
                        "±1, so the random-effects structure is too rich for these data; "
                        "simplify it before reporting")
    if getattr(fit, "family", "") == "binomial":
        params = getattr(fit, "params", pd.Series(dtype=float)).astype(float)
        if (params.abs() > IMPLAUSIBLE_LOGIT).any():
            problems.append("a coefficient beyond ±10 on the logit scale: complete or "
                            "quasi-complete separation")
    known = ("singular", "did not converge")
    problems.extend(w for w in warnings if not any(k in w for k in known))
    return problems
