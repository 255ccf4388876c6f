"""Predicates of anchor rules: building them from x's bins, testing rows, and wording them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from explainers.base import Feature, TabularDataset


@dataclass(frozen=True)
class Predicate:
    """``feature op value``; op is ">", ">=", "<=" (numeric) or "==" (category code)."""

    feature: int
    op: str
    value: float

    @property
    def slot(self) -> tuple[int, str]:
        """(feature, side): a rule holds at most one predicate per slot."""
        side = "low" if self.op in (">", ">=") else "high" if self.op == "<=" else "is"
        return self.feature, side

    def holds(self, column: np.ndarray) -> np.ndarray:
        if self.op == ">":
            return column > self.value
        if self.op == ">=":
            return column >= self.value
        if self.op == "<=":
            return column <= self.value
        return np.round(column) == self.value


def build_predicates(x: np.ndarray, dataset: TabularDataset) -> list[Predicate]:
    """Per numeric feature, the bounds of x's quartile bin and of x's quartile bin *within*
    that bin (a finer level, which matters for skewed features: "capital gain > 0" covers
    most gains, "capital gain > 7,298" is what makes a prediction); per categorical feature,
    x's category."""
    X = np.asarray(dataset.X, dtype=float)
    predicates = []
    for j, feature in enumerate(dataset.features):
        if feature.kind == "categorical":
            predicates.append(Predicate(j, "==", float(round(x[j]))))
            continue
        bounds: set[tuple[str, float]] = set()
        column = X[:, j]
        for _level in range(2):
            low, high = _bin_around(column, x[j])
            if low is not None:
                bounds.add(("low", low))
            if high is not None:
                bounds.add(("high", high))
            column = column[(column > (low if low is not None else -np.inf))
                            & (column <= (high if high is not None else np.inf))]
            if len(column) < 4:
                break
        for side, edge in sorted(bounds):
            make = _lower_bound if side == "low" else _upper_bound
            predicates.append(make(j, feature, edge))
    return list(dict.fromkeys(predicates))


def _bin_around(column: np.ndarray, value: float) -> tuple[float | None, float | None]:
    """The quartile bin (low, high] of ``column`` that holds ``value`` (None = unbounded)."""
    edges = np.unique(np.percentile(column, [25, 50, 75]))
    b = int(np.searchsorted(edges, value, side="left"))
    low = float(edges[b - 1]) if b > 0 else None
    high = float(edges[b]) if b < len(edges) else None
    return low, high


def _lower_bound(j: int, feature: Feature, edge: float) -> Predicate:
    # On an integer feature "> 37.5" and ">= 38" select the same rows; the latter reads better.
    if feature.integer:
        return Predicate(j, ">=", float(math.floor(edge) + 1))
    return Predicate(j, ">", edge)


def _upper_bound(j: int, feature: Feature, edge: float) -> Predicate:
    if feature.integer:
        return Predicate(j, "<=", float(math.floor(edge)))
    return Predicate(j, "<=", edge)


def satisfies(X: np.ndarray, predicates: list[Predicate]) -> np.ndarray:
    """Boolean mask of the rows of ``X`` that satisfy every predicate."""
    mask = np.ones(len(X), dtype=bool)
    for p in predicates:
        mask &= p.holds(X[:, p.feature])
    return mask


OP_WORDS = {">": "is more than", ">=": "is at least", "<=": "is at most", "==": "is"}


def describe(predicate: Predicate, feature: Feature) -> str:
    """The predicate in words, with the feature's display value ("Education is Degree")."""
    return f"{feature.display_name} {_words(predicate, feature)}"


def _words(predicate: Predicate, feature: Feature) -> str:
    """"is at most 45 years"; a bound at the feature's own limit reads as equality ("Capital
    gains is 0 dollars", not "is at most 0 dollars", which suggests that less were possible)."""
    op = "==" if _at_limit(predicate, feature) else predicate.op
    return f"{OP_WORDS[op]} {feature.display_value(predicate.value)}"


def _at_limit(predicate: Predicate, feature: Feature) -> bool:
    """Whether a numeric bound sits at the least (<=) or greatest (>=) value the feature has."""
    if feature.kind != "numeric":
        return False
    if predicate.op == "<=" and feature.lower is not None:
        return predicate.value <= feature.lower
    if predicate.op == ">=" and feature.upper is not None:
        return predicate.value >= feature.upper
    return False


def _clause(feature: Feature, predicates: list[Predicate]) -> str:
    """All predicates on one feature as one clause: "Age is at least 38 and at most 45 years"."""
    if (len(predicates) == 2 and feature.kind == "numeric"
            and not any(_at_limit(p, feature) for p in predicates)):
        low, high = sorted(predicates, key=lambda p: p.op == "<=")
        unit = f" {feature.unit}" if feature.unit else ""
        low_text = feature.display_value(low.value).removesuffix(unit)
        return (f"{feature.display_name} {OP_WORDS[low.op]} {low_text} and "
                f"{OP_WORDS[high.op].removeprefix('is ')} {feature.display_value(high.value)}")
    return " and ".join(describe(p, feature) for p in predicates)


def rule_content(
    rule: list[Predicate],
    dataset: TabularDataset,
    *,
    precision: float,
    coverage: float,
    found: bool,
    predicted_class_name: str,
) -> dict[str, Any]:
    """The ``rule`` payload (see :class:`explainers.payloads.RuleContent`)."""
    rule = sorted(rule, key=lambda p: (p.feature, p.op != ">" and p.op != ">="))
    conditions = [
        {
            "feature": dataset.features[p.feature].name,
            "label": dataset.features[p.feature].display_name,
            "op": p.op,
            "value": p.value,
            "display": describe(p, dataset.features[p.feature]),
        }
        for p in rule
    ]
    by_feature: dict[int, list[Predicate]] = {}
    for p in rule:
        by_feature.setdefault(p.feature, []).append(p)
    clauses = [_clause(dataset.features[j], ps) for j, ps in by_feature.items()]
    premise = " AND ".join(clauses) if clauses else "any values"
    return {
        "conditions": conditions,
        "rule_text": f"IF {premise} THEN the AI predicts {predicted_class_name}",
        "precision": precision,
        "coverage": coverage,
        "found": found,
        "predicted_class_name": predicted_class_name,
    }
