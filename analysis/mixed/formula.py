"""Parse lme4-style formulas: ``y ~ fixed + (expr | group) + (1 | group2)``.

The random-effect bars are parsed here; formulaic builds the fixed-effect model matrix and
the matrix of each random-effect term, so term names follow formulaic (``condition[T.ai]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ParsedFormula", "RandomSpec", "parse_formula", "split_top_level"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
# a*b*... expands to 2^k - 1 terms: beyond this many factors a formula is a mistake or an
# attack, and expanding it would hang the fit.
MAX_CROSSED = 10


@dataclass(frozen=True)
class RandomSpec:
    """One random-effect term ``(expr | group)``; ``group`` lists the factors crossed by ``:``."""

    expr: str
    group: tuple[str, ...]

    @property
    def group_name(self) -> str:
        """The grouping factor's display name, ``a:b`` for an interaction of factors."""
        return ":".join(self.group)


@dataclass(frozen=True)
class ParsedFormula:
    """A formula split into its response, fixed-effect part and random-effect terms."""

    response: str
    cbind: tuple[str, str] | None
    fixed: str
    random: tuple[RandomSpec, ...]


def split_top_level(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` where it is not inside parentheses."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parentheses in {text!r}")
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    if depth != 0:
        raise ValueError(f"unbalanced parentheses in {text!r}")
    parts.append(text[start:])
    return parts


def _strip_outer_parens(text: str) -> str | None:
    """Return the inside of ``(...)`` when the parentheses enclose all of ``text``."""
    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return None
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and i < len(text) - 1:
            return None
    return text[1:-1]


def _group_factors(group: str) -> list[tuple[str, ...]]:
    """Expand a grouping expression: ``a:b`` crosses factors, ``a/b`` nests ``b`` in ``a``."""
    nested = [part.strip() for part in group.split("/")]
    groups: list[tuple[str, ...]] = []
    for depth in range(1, len(nested) + 1):
        factors: list[str] = []
        for part in nested[:depth]:
            factors.extend(name.strip() for name in part.split(":"))
        for name in factors:
            if not _NAME.match(name):
                raise ValueError(f"grouping factor {name!r} must be a plain column name")
        groups.append(tuple(factors))
    return groups


def _random_specs(inner: str) -> list[RandomSpec]:
    """Turn the inside of ``(expr | group)`` or ``(expr || group)`` into random terms."""
    double = split_top_level(inner, "||")
    uncorrelated = len(double) == 2
    pieces = double if uncorrelated else split_top_level(inner, "|")
    if len(pieces) != 2:
        raise ValueError(f"random-effect term ({inner}) needs exactly one '|'")
    expr, group = pieces[0].strip() or "1", pieces[1].strip()
    if not group:
        raise ValueError(f"random-effect term ({inner}) has no grouping factor")
    for part in split_top_level(expr, "+"):
        _refuse_runaway_product(part)
    exprs = _uncorrelated_parts(expr) if uncorrelated else [expr]
    return [RandomSpec(e, g) for g in _group_factors(group) for e in exprs]


def _uncorrelated_parts(expr: str) -> list[str]:
    """``(1 + x || g)`` means ``(1 | g) + (0 + x | g)``, as in lme4."""
    terms = [t.strip() for t in split_top_level(expr, "+") if t.strip()]
    has_intercept = not any(t in ("0", "-1") for t in terms)
    slopes = [t for t in terms if t not in ("0", "1", "-1")]
    parts = ["1"] if has_intercept else []
    return parts + [f"0 + {t}" for t in slopes]


def _parse_response(lhs: str) -> tuple[str, tuple[str, str] | None]:
    """Recognise ``cbind(successes, failures)`` on the left-hand side."""
    match = re.fullmatch(r"\s*cbind\s*\((.*)\)\s*", lhs)
    if match is None:
        return lhs.strip(), None
    args = [a.strip() for a in split_top_level(match.group(1), ",")]
    if len(args) != 2 or not all(args):
        raise ValueError("cbind() needs two arguments: cbind(successes, failures)")
    return lhs.strip(), (args[0], args[1])


def _fixed_term(term: str, formula: str) -> str:
    """One ``+``-separated fixed-effect term, refused when it is empty or holds a bar."""
    term = term.strip()
    if not term:
        raise ValueError(f"formula {formula!r} has an empty term: a '+' with nothing before "
                         "or after it")
    if "|" in term:
        raise ValueError(f"'|' in {term!r} is outside a random-effect term; write random "
                         "effects in parentheses, e.g. (1 + condition | participant)")
    _refuse_runaway_product(term)
    return term


def _refuse_runaway_product(term: str) -> None:
    """A ``*`` product of more than MAX_CROSSED factors (2^k - 1 terms) is refused."""
    k = len(split_top_level(term, "*"))
    if k > MAX_CROSSED:
        raise ValueError(f"term {term.strip()!r} crosses {k} factors with '*', which expands "
                         f"to {2**k - 1:,} terms; at most {MAX_CROSSED} factors are allowed")


def parse_formula(formula: str) -> ParsedFormula:
    """Split an lme4-style formula; raise ValueError when it has no random-effect term."""
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"formula must look like 'y ~ x + (1 | group)', got {formula!r}")
    sides = split_top_level(formula, "~")
    if len(sides) != 2 or not sides[0].strip():
        raise ValueError(f"formula needs one response before '~', got {formula!r}")
    response, cbind = _parse_response(sides[0])
    fixed_terms: list[str] = []
    random: list[RandomSpec] = []
    for term in split_top_level(sides[1], "+"):
        inner = _strip_outer_parens(term)
        if inner is not None and len(split_top_level(inner, "|")) > 1:
            random.extend(_random_specs(inner))
        else:
            fixed_terms.append(_fixed_term(term, formula))
    if not random:
        raise ValueError(
            f"formula {formula!r} has no random-effect term such as (1 | participant)"
        )
    fixed = " + ".join(fixed_terms) if fixed_terms else "1"
    return ParsedFormula(response=response, cbind=cbind, fixed=fixed, random=tuple(random))
