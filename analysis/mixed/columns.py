"""A CSV file and a plain formula turned into model arrays with the standard library and numpy.

The command line fits small models in less time than importing pandas and formulaic takes, so
for the common case it reads and codes the data itself, exactly as the full path would:

- values are parsed as ``pandas.read_csv`` does by default: its missing-value strings, and a
  column is numeric when every other value is a plain decimal number (``--factor`` columns
  stay strings);
- fixed and random terms are column names joined by ``:`` or ``*``, with ``1`` and ``0``;
  categorical columns get treatment coding against their first level in sorted order and
  columns are named as formulaic names them (``Intercept``, ``x``, ``f[T.b]``, ``x:f[T.b]``);
- rows with a missing value in a column the model uses are dropped (lme4's ``na.omit``).

Anything outside that — an expression, a function call, a categorical term without its
margins, a value pandas would read as a boolean or an infinity, a ragged row — raises
:class:`NotSimple`, and the caller takes the full path, whose messages are the canonical ones.
"""

from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.mixed.formula import parse_formula, split_top_level
from analysis.mixed.model import ModelData, RandomTerm, full_rank

__all__ = ["NA_STRINGS", "NotSimple", "Table", "read_table", "simple_model_data"]

# pandas' default na_values (pandas._libs.parsers.STR_NA_VALUES, pandas 2.x).
NA_STRINGS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                        "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                        "nan", "null"})
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Values pandas turns into booleans or infinities: the full path decides what they mean.
_SPECIAL = frozenset({"true", "false", "inf", "+inf", "-inf", "infinity", "+infinity",
                      "-infinity"})


MAX_CROSSED = 6  # variables in one a*b*... term (63 terms)


class NotSimple(Exception):
    """The data or the formula need the full path (pandas and formulaic)."""


@dataclass
class Column:
    """One column: its raw strings, which are missing, and its numbers when it is numeric."""

    raw: list[str]
    missing: np.ndarray
    numbers: np.ndarray | None  # None for a categorical (string) column


Table = dict[str, Column]


def _column(raw: list[str], as_factor: bool) -> Column:
    """Classify one column as pandas' default parser would."""
    missing = np.fromiter((value in NA_STRINGS for value in raw), bool, len(raw))
    present = [value for value, gone in zip(raw, missing, strict=True) if not gone]
    for value in present:
        if value != value.strip() or value.lower() in _SPECIAL:
            raise NotSimple(f"value {value!r} needs pandas' parser")
    if as_factor or not all(_NUMBER.fullmatch(value) for value in present):
        return Column(raw, missing, None)
    numbers = np.array([np.nan if gone else float(value)
                        for value, gone in zip(raw, missing, strict=True)])
    if np.isinf(numbers).any():  # 1e400: the full path names the column
        raise NotSimple("an infinite number")
    return Column(raw, missing, numbers)


def read_table(path: str, factors: list[str]) -> Table:
    """The columns of a CSV file (NotSimple when any part of it needs pandas' parser)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise NotSimple(str(error)) from error
    if len(rows) < 2:
        raise NotSimple("no data rows")
    header, body = rows[0], rows[1:]
    if (len(set(header)) != len(header) or any(not _NAME.fullmatch(name) for name in header)
            or any(len(row) != len(header) for row in body)
            or not set(factors) <= set(header)):
        raise NotSimple("the header or the row lengths need pandas' parser")
    return {name: _column([row[j] for row in body], name in factors)
            for j, name in enumerate(header)}


# ----- the formula ----------------------------------------------------------------------------
Term = tuple[str, ...]  # the variables of one term, in the order written (() = intercept)


def _expand(term: str) -> list[Term]:
    """``a*b`` into ``a, b, a:b``; ``a:b`` into itself (``*`` and ``:`` are not mixed)."""
    if "*" in term and ":" in term:
        raise NotSimple(f"term {term!r} mixes '*' and ':'")
    sep = "*" if "*" in term else ":"
    names = [name.strip() for name in term.split(sep)]
    if not all(_NAME.fullmatch(name) for name in names) or len(set(names)) < len(names):
        raise NotSimple(f"term {term!r} is not a product of distinct column names")
    if sep == ":":
        return [tuple(names)]
    if len(names) > MAX_CROSSED:  # 2^k - 1 terms: leave a runaway product to the full path
        raise NotSimple(f"term {term!r} crosses {len(names)} variables")
    terms: list[Term] = []
    for name in names:
        terms = terms + [(name,)] + [(*t, name) for t in terms]
    return terms


def _terms(expr: str) -> tuple[bool, list[Term]]:
    """Whether ``expr`` has an intercept, and its terms deduplicated and sorted by degree
    (stably, as formulaic orders them)."""
    intercept, seen, terms = True, set(), []
    for part in (p.strip() for p in split_top_level(expr, "+")):
        if part == "1":
            continue
        if part == "0":
            intercept = False
            continue
        for term in _expand(part):
            if frozenset(term) not in seen:
                seen.add(frozenset(term))
                terms.append(term)
    return intercept, sorted(terms, key=len)


# ----- coding ---------------------------------------------------------------------------------
def _levels(column: Column, rows: np.ndarray) -> list[str]:
    """Sorted levels of a categorical column among the rows kept."""
    return sorted({column.raw[i] for i in rows})


def _term_columns(term: Term, table: Table, rows: np.ndarray,
                  ) -> tuple[list[str], list[np.ndarray]]:
    """Names and values of one term's columns: numeric variables multiply, categorical ones
    contribute one indicator per non-reference level, the first variable varying fastest."""
    names, values = [""], [np.ones(len(rows))]
    for variable in term:
        column = table[variable]
        if column.numbers is not None:
            parts = [(variable, column.numbers[rows])]
        else:
            raw = np.array([column.raw[i] for i in rows], dtype=object)
            levels = _levels(column, rows)
            if len(levels) < 2:
                raise NotSimple(f"{variable} has one level")
            parts = [(f"{variable}[T.{level}]", (raw == level).astype(float))
                     for level in levels[1:]]
        names = [f"{old}:{new}" if old else new for new, _ in parts for old in names]
        values = [old * new for _, new in parts for old in values]
    return names, values


def _check_margins(intercept: bool, terms: list[Term], table: Table) -> None:
    """Treatment coding throughout needs every term's margins over its categorical variables
    in the model; otherwise formulaic codes some of them in full (not done here)."""
    present: set[frozenset[str]] = {frozenset(term) for term in terms}
    if intercept:
        present.add(frozenset())
    for term in terms:
        categorical = [v for v in term if table[v].numbers is None]
        numeric = frozenset(v for v in term if table[v].numbers is not None)
        for size in range(len(categorical)):
            for subset in itertools.combinations(categorical, size):
                if numeric | frozenset(subset) not in present:
                    raise NotSimple(f"term {':'.join(term)} lacks a margin")


def _design(expr: str, table: Table, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Names and n x k matrix of a fixed or random-effect expression."""
    intercept, terms = _terms(expr)
    _check_margins(intercept, terms, table)
    names = ["Intercept"] if intercept else []
    values = [np.ones(len(rows))] if intercept else []
    for term in terms:
        term_names, term_values = _term_columns(term, table, rows)
        names += term_names
        values += term_values
    if not names:
        raise NotSimple(f"{expr!r} has no columns")
    return names, np.column_stack(values)


def _variables(expr: str) -> set[str]:
    """Column names an expression uses."""
    _, terms = _terms(expr)
    return {name for term in terms for name in term}


def _values(column: Column) -> list[Any]:
    """A column's numbers when it is numeric, else its strings."""
    return column.raw if column.numbers is None else column.numbers.tolist()


def _group(names: tuple[str, ...], table: Table, rows: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Levels and row codes of a grouping factor (``a:b``: one level per combination)."""
    # A numeric column groups by value, as pandas reads it ("1" and "1.0" are one level).
    columns = [_values(table[name]) for name in names]
    keys = [tuple(column[i] for column in columns) for i in rows]
    levels = sorted(set(keys))
    index = {key: code for code, key in enumerate(levels)}
    codes = np.fromiter((index[key] for key in keys), np.int64, len(keys))
    return np.array([":".join(map(str, key)) for key in levels], dtype=object), codes


def simple_model_data(formula: str, table: Table) -> ModelData:
    """Gaussian model arrays for ``formula`` (NotSimple when the full path is needed)."""
    parsed = parse_formula(formula)
    response = table.get(parsed.response)
    if parsed.cbind is not None or response is None or response.numbers is None:
        raise NotSimple("the response is not a numeric column")
    needed = {parsed.response} | _variables(parsed.fixed)
    for spec in parsed.random:
        needed |= _variables(spec.expr) | set(spec.group)
    if not needed <= set(table):
        raise NotSimple("a column is missing")
    keep = ~np.any([table[name].missing for name in sorted(needed)], axis=0)
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise NotSimple("no complete rows")
    fixed_names, X = _design(parsed.fixed, table, rows)
    X, fixed_names, notes = full_rank(X, fixed_names)
    terms = []
    for spec in parsed.random:
        names, matrix = _design(spec.expr, table, rows)
        levels, codes = _group(spec.group, table, rows)
        terms.append(RandomTerm(spec.group_name, names, levels, codes, matrix))
    return ModelData(y=response.numbers[rows], X=X, fixed_names=fixed_names, terms=terms,
                     warnings=notes)
