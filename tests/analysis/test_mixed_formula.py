"""Formula parsing and input checking of the mixed-model entry points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.mixed import clmm, glmer, lmer
from analysis.mixed.formula import RandomSpec, parse_formula


def test_it_splits_fixed_terms_from_random_bars() -> None:
    parsed = parse_formula("correct ~ condition * ai_correct + (1 + ai_correct | participant)"
                           " + (1 | item)")
    assert parsed.fixed == "condition * ai_correct"
    assert parsed.random == (RandomSpec("1 + ai_correct", ("participant",)),
                             RandomSpec("1", ("item",)))


def test_it_reads_cbind_as_successes_and_failures() -> None:
    parsed = parse_formula("cbind(k, n - k) ~ period + (1 | herd)")
    assert parsed.cbind == ("k", "n - k")


def test_it_expands_double_bars_into_uncorrelated_terms() -> None:
    parsed = parse_formula("y ~ x + (1 + x || g)")
    assert parsed.random == (RandomSpec("1", ("g",)), RandomSpec("0 + x", ("g",)))


def test_it_expands_nesting_into_group_and_group_within_group() -> None:
    parsed = parse_formula("y ~ 1 + (1 | school/class)")
    assert [spec.group_name for spec in parsed.random] == ["school", "school:class"]


def test_an_intercept_only_fixed_part_is_implied() -> None:
    assert parse_formula("y ~ (1 | g)").fixed == "1"


@pytest.mark.parametrize("formula", ["y ~ x", "y ~ x + (1 + g)", "y x", "~ (1 | g)"])
def test_it_rejects_a_formula_without_a_random_term(formula: str) -> None:
    with pytest.raises(ValueError, match="formula"):
        parse_formula(formula)


def _tiny(n_groups: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 6 * n_groups
    return pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n),
                         "ok": rng.integers(0, 2, n), "g": np.repeat(np.arange(n_groups), 6)})


def test_an_unknown_column_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="nonexistent"):
        lmer("y ~ nonexistent + (1 | g)", _tiny())


def test_empty_data_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        lmer("y ~ x + (1 | g)", _tiny().iloc[:0])


def test_a_grouping_factor_needs_two_levels() -> None:
    data = _tiny().assign(g=1)
    with pytest.raises(ValueError, match="fewer than 2 levels"):
        lmer("y ~ x + (1 | g)", data)


def test_binomial_needs_a_binary_response() -> None:
    with pytest.raises(ValueError, match="0/1"):
        glmer("y ~ x + (1 | g)", _tiny())


def test_binomial_refuses_other_families() -> None:
    with pytest.raises(ValueError, match="family"):
        glmer("ok ~ x + (1 | g)", _tiny(), family="poisson")


def test_clmm_refuses_random_slopes() -> None:
    with pytest.raises(ValueError, match="random intercepts"):
        clmm("ok ~ x + (1 + x | g)", _tiny())


def test_rows_with_missing_values_are_dropped() -> None:
    data = _tiny(8)
    data.loc[[0, 5], "x"] = np.nan
    fit = lmer("y ~ x + (1 | g)", data)
    assert fit.nobs == len(data) - 2


def test_aliased_fixed_columns_are_dropped_with_a_warning() -> None:
    data = _tiny(8).assign(x2=lambda d: 2 * d.x)
    fit = lmer("y ~ x + x2 + (1 | g)", data)
    assert list(fit.params.index) == ["Intercept", "x"]
    assert any("rank deficient" in w for w in fit.warnings)
