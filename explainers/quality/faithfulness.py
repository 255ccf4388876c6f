"""Does the explanation point at features that move the model? Deletion, insertion, correlation.

Removing a feature means replacing it with its background value: the mean of a numeric
feature, the most common category of a categorical one (never a value the model never saw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explainers._common import class_probability, log_odds
from explainers.base import Classifier, TabularDataset


@dataclass(frozen=True)
class DeletionCurves:
    """Probability of the explained class as features are removed / inserted by importance.

    ``deletion[k]``: x with its k most important features replaced by the background value;
    ``insertion[k]``: the background row with x's k most important features put back. AUCs use
    a [0, 1] axis (share of features), so a faithful explanation has a low deletion AUC and a
    high insertion AUC.
    """

    deletion: list[float]
    insertion: list[float]
    deletion_auc: float
    insertion_auc: float


def baseline_row(dataset: TabularDataset) -> np.ndarray:
    """Per feature: the background mean (numeric) or the most common category (categorical)."""
    X = np.asarray(dataset.X, dtype=float)
    row = X.mean(axis=0)
    for j in dataset.categorical_indices:
        codes, counts = np.unique(np.round(X[:, j]), return_counts=True)
        row[j] = codes[np.argmax(counts)]
    return row


def importance_order(attributions: np.ndarray) -> np.ndarray:
    """Feature indices by decreasing |attribution| (ties broken by feature order)."""
    return np.argsort(-np.abs(attributions), kind="stable")


def model_output(model: Classifier, X: np.ndarray, target: int, output_space: str) -> np.ndarray:
    """The explained class's probability, or its log-odds, for each row."""
    p = class_probability(model, X, target)
    return p if output_space == "probability" else np.asarray(log_odds(p))


def _auc(curve: np.ndarray) -> float:
    steps = np.linspace(0.0, 1.0, len(curve))
    return float(np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(steps)))


def deletion_insertion(
    model: Classifier,
    x: np.ndarray,
    attributions: np.ndarray,
    dataset: TabularDataset,
    *,
    target: int,
) -> DeletionCurves:
    """Deletion and insertion curves (Petsiuk et al. 2018, tabular form), one model call."""
    order = importance_order(attributions)
    base = baseline_row(dataset)
    d = len(x)
    deleted = np.tile(x, (d + 1, 1))
    inserted = np.tile(base, (d + 1, 1))
    for k in range(1, d + 1):
        chosen = order[:k]
        deleted[k:, chosen[-1]] = base[chosen[-1]]
        inserted[k:, chosen[-1]] = x[chosen[-1]]
    p = class_probability(model, np.vstack([deleted, inserted]), target)
    deletion, insertion = p[: d + 1], p[d + 1 :]
    return DeletionCurves(deletion.tolist(), insertion.tolist(), _auc(deletion), _auc(insertion))


def faithfulness_correlation(
    model: Classifier,
    x: np.ndarray,
    attributions: np.ndarray,
    dataset: TabularDataset,
    *,
    target: int,
    output_space: str,
    rng: np.random.Generator,
    subset_size: int | None = None,
    n_subsets: int = 50,
) -> float:
    """Bhatt et al. (2020): Pearson correlation, over random feature subsets S, between the
    sum of the attributions in S and the drop in output when S is set to the background.

    ``subset_size`` defaults to a quarter of the features (at least one). Returns 0.0 when
    either side does not vary (the correlation is undefined).
    """
    d = len(x)
    k = subset_size or max(1, round(d / 4))
    base = baseline_row(dataset)
    masks = np.zeros((n_subsets, d), dtype=bool)
    for i in range(n_subsets):
        masks[i, rng.choice(d, size=k, replace=False)] = True
    rows = np.where(masks, base, x)
    outputs = model_output(model, np.vstack([x[None, :], rows]), target, output_space)
    drops = outputs[0] - outputs[1:]
    sums = masks @ attributions
    return _pearson(sums, drops)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) < 1e-12 or np.std(b) < 1e-12:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
