"""Turn a parsed formula and a data frame into response, fixed-effect and random-effect arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix
from formulaic.errors import FormulaicError

from analysis.mixed.formula import ParsedFormula, RandomSpec, parse_formula
from analysis.mixed.model import Family, ModelData, RandomTerm, full_rank

__all__ = ["Family", "ModelData", "RandomTerm", "build_model_data"]

def _syntax_error(part: str, error: Exception) -> ValueError:
    """A plain one-line message for formulaic's parser errors (which carry colour codes and
    an annotated copy of the formula on further lines)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ValueError(f"formula syntax error in {part!r}: {first}")


def _formula(part: str) -> Formula:
    """formulaic's parse of one part of the formula; ValueError on a syntax error."""
    try:
        return Formula(part)
    except FormulaicError as error:
        raise _syntax_error(part, error) from error


def _model_matrix(part: str, data: pd.DataFrame) -> pd.DataFrame:
    """Model matrix of one part of the formula; ValueError on a syntax error."""
    try:
        return model_matrix(part, data)
    except FormulaicError as error:
        raise _syntax_error(part, error) from error


def _eval_column(expr: str, data: pd.DataFrame) -> pd.Series:
    """Evaluate a response expression: a column name or arithmetic such as ``size - k``."""
    if expr in data.columns:
        return data[expr]
    try:
        return pd.Series(data.eval(expr), index=data.index)
    except Exception as error:  # pandas raises several types for a bad expression
        raise ValueError(f"cannot evaluate response {expr!r}: unknown column or bad "
                         f"expression ({error})") from error


def _required_columns(parsed: ParsedFormula, data: pd.DataFrame) -> list[str]:
    """All data columns the right-hand side needs; ValueError names any that are missing."""
    needed: set[str] = set(_formula(parsed.fixed).required_variables)
    for spec in parsed.random:
        needed |= set(_formula(spec.expr).required_variables)
        needed |= set(spec.group)
    missing = sorted(needed - set(data.columns))
    if missing:
        raise ValueError(f"unknown column(s) {missing} in formula; data has {list(data.columns)}")
    return sorted(needed)


def _responses(parsed: ParsedFormula, data: pd.DataFrame) -> list[pd.Series]:
    """The response series (two for cbind)."""
    if parsed.cbind is not None:
        return [_eval_column(parsed.cbind[0], data), _eval_column(parsed.cbind[1], data)]
    return [_eval_column(parsed.response, data)]


def _drop_missing(parsed: ParsedFormula,
                  data: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.Series]]:
    """Keep complete rows (lme4's na.omit) and return them with the evaluated response(s)."""
    columns = _required_columns(parsed, data)
    responses = _responses(parsed, data)
    keep = data[columns].notna().all(axis=1)
    for series in responses:
        keep &= series.notna()
    if not keep.any():
        raise ValueError("no complete rows: the data are empty or every row has a missing value")
    return data.loc[keep], [series.loc[keep] for series in responses]


def _random_term(spec: RandomSpec, data: pd.DataFrame) -> RandomTerm:
    """Level codes and model rows of one ``(expr | group)`` term."""
    keys = data[spec.group[0]]
    for name in spec.group[1:]:  # an interaction of factors: one level per combination
        keys = keys.astype(str) + ":" + data[name].astype(str)
    codes, levels = pd.factorize(keys, sort=True)
    if len(levels) < 2:
        raise ValueError(f"grouping factor {spec.group_name!r} has fewer than 2 levels")
    matrix = _model_matrix(spec.expr, data)
    if matrix.shape[1] == 0:
        raise ValueError(f"random-effect term ({spec.expr} | {spec.group_name}) has no columns")
    return RandomTerm(
        group=spec.group_name,
        names=[str(name) for name in matrix.columns],
        levels=np.asarray(levels),
        codes=np.asarray(codes, dtype=np.int64),
        matrix=np.asarray(matrix, dtype=float),
    )


def _binomial_response(responses: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Successes and trials, from ``cbind(successes, failures)`` or a 0/1 (or boolean) column."""
    if len(responses) == 2:
        successes, failures = (np.asarray(s, dtype=float) for s in responses)
        if np.any(successes < 0) or np.any(failures < 0):
            raise ValueError("cbind(successes, failures) needs non-negative counts")
        if np.any(successes % 1 != 0) or np.any(failures % 1 != 0):
            raise ValueError("cbind(successes, failures) needs whole-number counts")
        return successes, successes + failures
    values = responses[0]
    if values.dtype == bool:
        values = values.astype(float)
    try:
        numeric = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError("binomial response must be 0/1 or boolean") from error
    if not np.all(np.isin(numeric, (0.0, 1.0))):
        raise ValueError("binomial response must be 0/1 or boolean (or use cbind(successes, "
                         "failures))")
    return numeric, np.ones_like(numeric)


def _ordinal_response(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Category index (0-based, low to high) of an ordered response."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = [c for c in series.cat.categories if (series == c).any()]
    else:
        categories = sorted(series.unique().tolist())
    if len(categories) < 2:
        raise ValueError("ordinal response needs at least 2 observed categories")
    codes = pd.Categorical(series, categories=categories).codes.astype(float)
    return codes, [str(c) for c in categories]


def _refuse_infinite(what: str, matrix: np.ndarray, names: list[str]) -> None:
    """Infinite numbers (pandas reads "inf" or 1e400 as infinity) would make every estimate
    NaN: name the columns instead."""
    bad = [name for name, column in zip(names, matrix.T, strict=True)
           if not np.all(np.isfinite(column))]
    if bad:
        raise ValueError(f"infinite values in {what} {bad}: correct or remove those rows")


def build_model_data(formula: str, data: pd.DataFrame, family: Family) -> ModelData:
    """Parse ``formula`` and build the arrays a fitter needs; ValueError on bad input."""
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise ValueError("data must be a non-empty pandas DataFrame")
    parsed = parse_formula(formula)
    if parsed.cbind is not None and family != "binomial":
        raise ValueError("cbind(successes, failures) is only for family='binomial'")
    frame, responses = _drop_missing(parsed, data)
    X_frame = _model_matrix(parsed.fixed, frame)
    X_names = [str(c) for c in X_frame.columns]
    _refuse_infinite("the fixed-effect columns", np.asarray(X_frame, dtype=float), X_names)
    X, names, warnings = full_rank(np.asarray(X_frame, dtype=float), X_names)
    terms = [_random_term(spec, frame) for spec in parsed.random]
    for term in terms:
        _refuse_infinite(f"the random-effect columns of {term.group!r}", term.matrix, term.names)
    model = ModelData(y=np.empty(0), X=X, fixed_names=names, terms=terms, warnings=warnings)
    if family == "binomial":
        model.y, model.trials = _binomial_response(responses)
    elif family == "ordinal":
        model.y, model.categories = _ordinal_response(responses[0])
    else:
        try:
            model.y = np.asarray(responses[0], dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"response {parsed.response!r} must be numeric") from error
        _refuse_infinite("the response", model.y[:, None], [parsed.response])
    return model
