"""One-feature edits of an input, for counterfactual simulation (Hase & Bansal 2020).

A participant sees an input and the model's output, then the same input with one feature
changed ("Sex: Male -> Female"), and predicts the model's output on the edited input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explainers.base import TabularDataset


@dataclass(frozen=True)
class Edit:
    """The edited row and which feature changed, from what to what (display values)."""

    row: np.ndarray
    feature: int
    label: str
    before: str
    after: str


def one_feature_edit(x: np.ndarray, dataset: TabularDataset, *,
                     rng: np.random.Generator) -> Edit:
    """Change one randomly chosen feature to a value other people in the data really have.

    Categorical features take another category; numeric ones a training value at least half
    an interquartile range away, so the change is noticeable (a plausible, not an arbitrary,
    person).
    """
    x = np.asarray(x, dtype=float)
    for j in rng.permutation(len(dataset.features)):
        candidates = _alternatives(x[j], dataset.X[:, j], dataset.features[j].kind)
        if candidates.size:
            row = x.copy()
            row[j] = float(rng.choice(candidates))
            feature = dataset.features[j]
            return Edit(row=row, feature=int(j), label=feature.display_name,
                        before=feature.display_value(x[j]), after=feature.display_value(row[j]))
    raise ValueError("no feature of this input can be changed to another observed value")


def _alternatives(value: float, column: np.ndarray, kind: str) -> np.ndarray:
    observed = np.unique(column)
    if kind == "categorical":
        return observed[observed != value]
    q1, q3 = np.percentile(column, [25, 75])
    gap = max((q3 - q1) / 2, 1e-9)
    return observed[np.abs(observed - value) >= gap]
