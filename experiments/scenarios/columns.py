"""Column specifications: how a raw CSV column becomes a model input and a participant's words.

A :class:`ColumnSpec` pairs an explainers :class:`~explainers.base.Feature` with the mapping from
raw values (``"Married-civ-spouse"``) to the words participants read (``"Married"``). Categories
are coded ``0..k-1`` in the order given, so ordinal categories (education, savings) keep their
order in the numeric matrix that trees and recourse methods see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explainers.base import Direction, Feature


@dataclass(frozen=True)
class ColumnSpec:
    """One raw column and the feature it becomes.

    ``mapping`` (categorical only) sends raw values to display words; several raw values may share
    one word (collapsing rare levels). Raw values missing from ``mapping`` go to ``default``.
    """

    feature: Feature
    column: str
    mapping: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None

    def encode(self, values: pd.Series) -> np.ndarray:
        """Raw column -> float codes (categorical) or floats (numeric)."""
        if self.feature.kind == "numeric":
            return values.to_numpy(dtype=float)
        words = values.astype(str).str.strip().map(lambda v: self.mapping.get(v, self.default))
        if words.isna().any():
            unknown = sorted(set(values[words.isna()].astype(str)))
            raise ValueError(f"column {self.column!r} has unmapped values {unknown[:5]}")
        code = {word: i for i, word in enumerate(self.feature.categories)}
        return words.map(code).to_numpy(dtype=float)


def numeric(
    column: str,
    label: str,
    *,
    unit: str = "",
    unit_one: str = "",
    integer: bool = True,
    immutable: bool = False,
    direction: Direction = "any",
    lower: float | None = None,
    upper: float | None = None,
) -> ColumnSpec:
    """A numeric column shown with its unit; integer by default (counts, years, money)."""
    feature = Feature(
        name=column,
        kind="numeric",
        label=label,
        unit=unit,
        unit_one=unit_one,
        integer=integer,
        immutable=immutable,
        direction=direction,
        lower=lower,
        upper=upper,
    )
    return ColumnSpec(feature=feature, column=column)


def categorical(
    column: str,
    label: str,
    mapping: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    immutable: bool = False,
    direction: Direction = "any",
    default: str | None = None,
) -> ColumnSpec:
    """A categorical column; category order is the order of first appearance in ``mapping``."""
    pairs = dict(mapping)
    categories = tuple(dict.fromkeys([*pairs.values(), *([default] if default else [])]))
    feature = Feature(
        name=column,
        kind="categorical",
        categories=categories,
        label=label,
        immutable=immutable,
        direction=direction,
        lower=0,
        upper=len(categories) - 1,
    )
    return ColumnSpec(feature=feature, column=column, mapping=pairs, default=default)


def encode_frame(frame: pd.DataFrame, specs: Sequence[ColumnSpec]) -> np.ndarray:
    """The numeric matrix (one column per spec, in order) a model is trained on."""
    return np.column_stack([spec.encode(frame[spec.column]) for spec in specs])


def select_specs(
    specs: Sequence[ColumnSpec], names: Sequence[str] | None
) -> tuple[ColumnSpec, ...]:
    """Keep only the named columns (in the order asked for); ``None`` keeps them all."""
    if names is None:
        return tuple(specs)
    by_name = {spec.feature.name: spec for spec in specs}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"unknown features {unknown}; choose from {sorted(by_name)}")
    if len(set(names)) != len(names):
        raise ValueError(f"features listed twice in {list(names)}")
    return tuple(by_name[name] for name in names)
