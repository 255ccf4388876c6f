"""Plain-text summary of a fitted mixed model (the library never prints it itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from analysis.mixed.results import MixedResults

__all__ = ["format_summary"]

_TITLES = {
    "gaussian": "Linear mixed model",
    "binomial": "Binomial (logit) GLMM",
    "ordinal": "Cumulative-logit mixed model",
}


def _header(results: MixedResults) -> list[str]:
    """Model, method, fit statistics and group sizes."""
    groups = ", ".join(f"{name}: {n}" for name, n in results.ngroups.items())
    return [
        f"{_TITLES.get(results.family, results.family)} fit by {results.method}",
        f"Formula: {results.formula}",
        f"No. observations: {results.nobs}    Groups: {groups}",
        f"Log-likelihood: {results.llf:.4f}    AIC: {results.aic:.2f}    "
        f"BIC: {results.bic:.2f}    Converged: {results.converged}    "
        f"Singular: {results.singular}",
        *_alarm(results),
    ]


def _alarm(results: MixedResults) -> list[str]:
    """A line nobody can miss when the estimates may not be the optimum or are singular."""
    if not results.converged:
        return ["*** NOT CONVERGED: these estimates may not be the maximum-likelihood "
                "estimates; see the warnings below ***"]
    if results.singular:
        return ["*** SINGULAR FIT: a random-effect variance is (near) zero; see the warnings "
                "below ***"]
    return []


def _random_block(results: MixedResults) -> list[str]:
    """Random-effect SDs and correlations."""
    table = results.var_corr.copy()
    table = table.fillna("").rename(columns={"sd_or_cor": "sd / cor"})
    return ["", "Random effects:", table.to_string(index=False)]


def _fixed_block(results: MixedResults) -> list[str]:
    """Coefficient table with Wald statistics."""
    stat = "z" if results.family != "gaussian" else "t"
    ci = results.conf_int()
    table = pd.DataFrame({
        "estimate": results.params, "std.err": results.bse, stat: results.tvalues,
        "P>|z|": results.pvalues, "[0.025": ci["lower"], "0.975]": ci["upper"],
    })
    lines = ["", "Fixed effects:", table.to_string(float_format=lambda v: f"{v:.4f}")]
    if results.family == "gaussian":
        lines.append("(p-values and intervals use the normal approximation to t)")
    return lines


def _threshold_block(results: MixedResults) -> list[str]:
    """Thresholds of a cumulative-link model."""
    if results.thresholds is None:
        return []
    table = pd.DataFrame({"estimate": results.thresholds, "std.err": results.threshold_bse})
    return ["", "Thresholds:", table.to_string(float_format=lambda v: f"{v:.4f}")]


def format_summary(results: MixedResults) -> str:
    """Header, random effects, fixed effects, thresholds and warnings as one string."""
    lines = _header(results) + _random_block(results) + _fixed_block(results)
    lines += _threshold_block(results)
    if results.residual_sd is not None:
        lines += ["", f"Residual SD: {results.residual_sd:.4f}"]
    lines += ["", *(f"Warning: {w}" for w in results.warnings)] if results.warnings else []
    return "\n".join(lines)
